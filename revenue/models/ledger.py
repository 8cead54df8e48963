"""The sub-ledger: revenue contracts, SO lines, their schedules and the journal (S rules).

Schedule rows and journal entries are append-only: a change books new rows (deltas,
reversals, catch-ups), never rewrites old ones. The high-volume link columns to staging
have no database constraint: they are for drill-down, and a per-row foreign-key check
would cost more than the insert itself.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from djmoney.models.fields import MoneyField

from .choices import EntryType, RevMethod, RowKind, Source, YesNo

MONEY = {"max_digits": 18, "decimal_places": 2, "default_currency": settings.DEFAULT_CURRENCY}
QTY = {"max_digits": 20, "decimal_places": 6}
AMT = {"max_digits": 18, "decimal_places": 2}


class RevenueContract(models.Model):
    """A1: the lines grouped by RC_KEY. Its row is the lock two runs never share (I10)."""

    rc_key = models.CharField("RC_KEY", max_length=100, unique=True)
    treatment = models.CharField(
        max_length=13,
        blank=True,
        help_text="How its allocation was last placed (carve.md K6, K7): retrospective or "
        "prospective; empty until it has a carve.",
    )
    carve_period = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Prospective: the last closed period its remaining carve is spread from.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "revenue contract"

    def __str__(self) -> str:
        return self.rc_key


class SoLine(models.Model):
    """A sales-order line in the sub-ledger: the values of its latest SO (update)."""

    so_line_id = models.CharField("SO_LINE_ID", max_length=100, unique=True)
    contract = models.ForeignKey(RevenueContract, on_delete=models.PROTECT, related_name="lines")
    so_num = models.CharField("SO_NUM", max_length=100, blank=True)
    so_date = models.DateField("SO_DATE", null=True, blank=True)
    customer = models.CharField(max_length=200, blank=True)
    item = models.CharField(max_length=200, blank=True)
    f_cur = models.CharField("functional currency", max_length=3)
    quantity = models.DecimalField("ORD_QTY", **QTY)
    ext_lst_prc = MoneyField("EXT_LST_PRC", **MONEY)
    ext_sll_prc = MoneyField("EXT_SLL_PRC", **MONEY)
    rev_method = models.CharField(max_length=16, choices=RevMethod.choices)
    start_date = models.DateField("START_DATE")
    end_date = models.DateField("END_DATE")
    rev_start_date = models.DateField(
        "revenue start", help_text="START_DATE unless changed by hand."
    )
    rev_end_date = models.DateField("revenue end")
    ssp_pct = models.DecimalField("SSP_PCT", null=True, blank=True, **QTY)
    ssp_price = models.DecimalField("SSP_PRICE", null=True, blank=True, **QTY)
    ext_ssp = MoneyField("EXT_SSP", null=True, blank=True, **MONEY)
    allocated = MoneyField("ALLOCATED", null=True, blank=True, **MONEY)
    carve = MoneyField("CARVE", null=True, blank=True, **MONEY)
    return_flag = models.CharField(max_length=1, choices=YesNo.choices, default=YesNo.NO)
    # what reductions did to the line (P1–P5), in the line's currency: running totals kept
    # by collection, so that validation (V9), contra AR (P7) and allocation (A2) read no
    # other table
    rord_sll_prc = models.DecimalField(
        "Σ RORD ESP", default=0, help_text="Sum of the collected RORDs' EXT_SLL_PRC (≤ 0).", **AMT
    )
    cmr_sll_prc = models.DecimalField(
        "Σ CM-R ESP", default=0, help_text="What CM-R lines took off the line (≤ 0).", **AMT
    )
    reduced_lst_prc = models.DecimalField(
        "Σ reduced ELP", default=0, help_text="EXT_LST_PRC of RORDs and CM-Rs (≤ 0).", **AMT
    )
    reduced_qty_months = models.DecimalField(
        "reduced quantity × months",
        default=0,
        help_text="Σ quantity × term months of RORDs and CM-Rs.",
        **QTY,
    )
    returned_qty = models.DecimalField(
        "returned quantity", default=0, help_text="Σ CM-R quantity.", **QTY
    )
    contra_balance = models.DecimalField(
        "contra AR outstanding",
        default=0,
        help_text="Contra booked less removed / reversed.",
        **AMT,
    )
    carve_residual = models.DecimalField(
        "carve residual",
        default=0,
        help_text="Carve a prospective reduction could not place on the remaining lines, "
        "booked at once (carve.md K7 step 5).",
        **AMT,
    )
    hold = models.BooleanField(default=False, help_text="Manual deferral: releases nothing.")
    hold_period = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The open period when the line was put on hold (held again in the period "
        "it was released in: the period of that earlier hold, as the new hold takes the "
        "release back); empty when not on hold.",
    )
    dates_changed = models.BooleanField(
        default=False,
        help_text="Revenue dates changed by hand (its RORDs are checked by RPRO-00356).",
    )
    manually_released = models.BooleanField(
        default=False, help_text="Held or released by hand (its RORDs are checked by RPRO-00356)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SO line"
        ordering = ["so_line_id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="so_dates"),
            models.CheckConstraint(
                condition=Q(rev_end_date__gte=F("rev_start_date")), name="so_rev_dates"
            ),
        ]
        permissions = [("manage_schedule", "Can hold, release and re-date SO lines")]

    def __str__(self) -> str:
        return self.so_line_id

    @property
    def currency(self) -> str:
        # the currency column as stored, without building the Money of ext_sll_prc
        currency = self.__dict__.get("ext_sll_prc_currency")
        return currency if type(currency) is str else str(self.ext_sll_prc.currency)

    @property
    def marked_for_v7(self) -> bool:
        return self.dates_changed or self.manually_released

    @property
    def net_sll_prc(self) -> Decimal:
        """N: what the line still sells after RORDs and CM-Rs (its schedule's total). The
        amount as stored, like ``currency``: no Money built for it (A4 reads every line of
        each contract a batch changes)."""
        amount = self.__dict__.get("ext_sll_prc")
        if type(amount) is not Decimal:
            amount = self.ext_sll_prc.amount
        return amount + self.rord_sll_prc + self.cmr_sll_prc

    @property
    def is_returned(self) -> bool:
        return self.return_flag == YesNo.YES


class ScheduleRow(models.Model):
    """One signed amount of a line's revenue in one period from one source (S6–S11).

    Positive = released revenue. ``held`` rows belong to a line on hold: they book
    nothing until released and roll forward when their period closes (S10).
    """

    # No database constraint on the two high-volume tables: the rows are written with
    # their SO line in one transaction and SO lines are never deleted (PROTECT still holds
    # in the ORM); a per-row deferred FK check cost a quarter of collection time.
    line = models.ForeignKey(
        SoLine, on_delete=models.PROTECT, related_name="schedule", db_constraint=False
    )
    period = models.PositiveIntegerField()
    source = models.CharField(max_length=3, choices=Source.choices)
    amount = MoneyField(**MONEY)
    kind = models.CharField(max_length=12, choices=RowKind.choices)
    held = models.BooleanField(default=False)
    # S5, releases stored once: the journal entry the row books, read through the journal
    # view (``revenue.models.journal``) instead of being written a second time
    entry = models.CharField(
        max_length=16,
        choices=EntryType.choices,
        null=True,
        blank=True,
        help_text="The journal entry the row books (release, catch-up or reversal); empty "
        "when it books none: a billing conversion, a row booked while its line was on hold "
        "or rolling a held amount forward, or a row written before releases were stored "
        "once (its entry is stored).",
    )
    inbound_line = models.ForeignKey(
        "revenue.InboundLine",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )

    class Meta:
        ordering = ["line", "period", "id"]
        # Only held rows are looked up by period (they roll forward when it closes, S10);
        # a full period index would cost every one of millions of inserts a second btree
        # insert, and tempts the planner away from the line index when loading states.
        indexes = [
            models.Index(fields=["period"], name="schedule_held_period", condition=Q(held=True)),
            # the journal view's order for the rows that book an entry: a period's entries
            # (close, trial balance, the admin's period filter) and the admin list's page
            # (newest period first, by id), as journal_period for the stored entries
            models.Index(
                fields=["period", "id"],
                name="schedule_entry_period",
                condition=Q(entry__isnull=False),
            ),
        ]
        # a row that books an entry books an amount (S3: no entry of zero, as the stored
        # entries' journal_amount_positive): a part that rounds to nothing in the column
        # refuses the transaction as it did when the entry was written a second time
        constraints = [
            models.CheckConstraint(
                condition=Q(entry__isnull=True) | ~Q(amount=0), name="schedule_entry_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.period} {self.source} {self.amount}"


class ContraEntry(models.Model):
    """P7–P8: the contra AR schedule of a line. A ``CONTRA`` row is booked when a RORD
    leaves more billed than sold (CL Dr / Contra AR Cr); a CM-RO removes what is not posted
    yet (``removed``) and answers what is posted with a ``CONTRA_REVERSAL`` row (Contra AR
    Dr / CL Cr). Its journal entry is the one of the same line, type and inbound line."""

    class Kind(models.TextChoices):
        CONTRA = "CONTRA", "Contra"
        CONTRA_REVERSAL = "CONTRA_REVERSAL", "Contra reversal"

    line = models.ForeignKey(SoLine, on_delete=models.PROTECT, related_name="contra_entries")
    period = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = MoneyField(**MONEY)
    removed = models.DecimalField(
        default=0, help_text="Removed by CM-ROs before it was posted.", **AMT
    )
    reversed = models.DecimalField(
        default=0, help_text="Answered by contra reversals after it was posted.", **AMT
    )
    inbound_line = models.ForeignKey(
        "revenue.InboundLine",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The RORD (contra) or CM-RO (reversal) that booked it.",
    )
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    removed_by = models.ForeignKey(
        "revenue.InboundLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The last CM-RO that removed (part of) it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "contra AR entry"
        verbose_name_plural = "contra AR entries"
        ordering = ["line", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="contra_amount_positive"),
            models.CheckConstraint(
                condition=Q(removed__gte=0, reversed__gte=0, removed__lte=F("amount")),
                name="contra_removed_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.period} {self.kind} {self.amount}"

    @property
    def outstanding(self) -> Decimal:
        """What is left of a CONTRA row: its amount less what was removed or reversed."""
        return self.amount.amount - self.removed - self.reversed
