"""Accounting periods (S1, S2): calendar months with id YYYYMM, exactly one open."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition


def period_label(period: int) -> str:
    return f"{period // 100:04d}-{period % 100:02d}"


class Period(FSMModelMixin, models.Model):
    class Status(models.TextChoices):
        OPEN = "OPEN", "Open"
        CLOSED = "CLOSED", "Closed"

    id = models.PositiveIntegerField(primary_key=True, help_text="YYYYMM")
    status = FSMField(default=Status.OPEN, choices=Status.choices, protected=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    gl_file = models.FileField("GL transfer file", upload_to="gl/", blank=True)
    trial_balance = models.JSONField(
        default=list, blank=True, help_text="Posted totals per account and currency at close."
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="OPEN"), name="one_open_period"
            ),
            models.CheckConstraint(
                condition=Q(id__gte=190001, id__lte=299912), name="period_is_yyyymm"
            ),
        ]
        permissions = [("close_period", "Can close the open period")]

    def __str__(self) -> str:
        return f"{self.id} ({self.get_status_display().lower()})"

    @property
    def label(self) -> str:
        return period_label(self.id)

    @transition(
        field=status,
        source=Status.OPEN,
        target=Status.CLOSED,
        permission="revenue.close_period",
        custom={"label": "Close period", "button_name": "Close period"},
    )
    def close(self):
        """S2: the service posts the entries and writes the GL file first."""
