"""Carve accounting (carve.md K1–K11): the carve booked as adjustment revenue.

``CarveEntry`` is a line's carve schedule: one signed amount per line, period and entry
type (K3: positive = Adjustment liability Dr / Adjustment revenue Cr), with the trigger
that caused it (K9). Each row *is* its journal pair (source type ``ADJ``): the journal view
derives it, as it derives a release from its schedule row (``revenue.models.journal``), so
it is written once. Rows are append-only: a rebuild books differences (K4). ``CarveVersion``
records how a contract's allocation was last placed (K6 retrospective, K7 prospective).
"""

from django.db import models
from djmoney.models.fields import MoneyField

from .journal import CARVE_FROM, STORED_FROM
from .ledger import MONEY, RevenueContract, SoLine


class Treatment(models.TextChoices):
    RETROSPECTIVE = "RETROSPECTIVE", "Retrospective (cumulative catch-up)"
    PROSPECTIVE = "PROSPECTIVE", "Prospective"


class CarveEntryType(models.TextChoices):
    RELEASE = "RELEASE", "Release"
    CATCH_UP = "CATCH_UP", "Catch-up"


class CarveVersion(models.Model):
    """K6 / K7 step 7: one placement of a contract's allocation, with what triggered it."""

    contract = models.ForeignKey(
        RevenueContract, on_delete=models.PROTECT, related_name="carve_versions"
    )
    treatment = models.CharField(max_length=13, choices=Treatment.choices)
    closed_period = models.PositiveIntegerField(
        null=True, blank=True, help_text="The last closed period when it was placed (P)."
    )
    open_period = models.PositiveIntegerField(help_text="The open period when it was placed.")
    trigger = models.CharField(max_length=160, help_text="The line or action that caused it.")
    inbound_line = models.ForeignKey(
        "revenue.InboundLine",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "allocation version"
        ordering = ["contract", "id"]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.treatment} {self.trigger}"


class CarveEntry(models.Model):
    """K3: a line's carve in one period: ``amount`` > 0 credits adjustment revenue."""

    # no index of its own: carve_line_period (line, period) serves every lookup by line
    line = models.ForeignKey(
        SoLine,
        on_delete=models.PROTECT,
        related_name="carve_entries",
        db_constraint=False,
        db_index=False,
    )
    # no index either: the carve step reads a contract's carve through its lines
    # (carve_line_period), and every carve row written would pay for one
    contract = models.ForeignKey(
        RevenueContract,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    period = models.PositiveIntegerField()
    # the journal's entry_type exactly (varchar 16): the view's carve branch is the table's
    # own column (revenue.models.journal)
    entry_type = models.CharField(max_length=16, choices=CarveEntryType.choices)
    amount = MoneyField(**MONEY)
    trigger = models.CharField(max_length=160, help_text="The line or action that caused it.")
    inbound_line = models.ForeignKey(
        "revenue.InboundLine",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "carve entry"
        verbose_name_plural = "carve entries"
        ordering = ["line", "period", "id"]
        indexes = [
            models.Index(fields=["line", "period"], name="carve_line_period"),
            # the journal's order within a period (the view's carve branch, as the
            # schedule's schedule_entry_period and the stored journal_period)
            models.Index(fields=["period", "id"], name="carve_period"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="carve_amount_nonzero"),
            # a carve row's id is its journal entry's: apart from schedule rows and stored
            # entries (journal_ids_apart)
            models.CheckConstraint(
                condition=models.Q(id__gte=CARVE_FROM, id__lt=STORED_FROM),
                name="carve_ids_apart",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.period} {self.entry_type} {self.amount}"
