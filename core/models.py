"""Audit events every document writes, and gap-free document number sequences."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One thing that happened to one document (O8): who, when, what, from, to, why.

    Append-only. Any document (order, invoice, return, revenue line) points at it through
    its content type and primary key, so every later document reuses this table.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField("document", max_length=200)
    action = models.CharField(max_length=50)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(
        "actor", max_length=150, help_text="User name at the time, or the job that acted."
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"])]

    def __str__(self) -> str:
        arrow = f" {self.from_state} → {self.to_state}" if self.to_state else ""
        return f"{self.object_repr}: {self.action}{arrow} by {self.actor_label}"


class DocumentSequence(models.Model):
    """Next number of a human document series (ORD-000123). Incremented under a row lock."""

    name = models.CharField(max_length=20, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"
