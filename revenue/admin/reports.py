"""The month-end reports of the revenue app in the admin's "Reports" (close.md M1–M4):
their filters, the groups a page reads, and where their figures link (report_figures)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from core.admin_reports import ReportFilters, admin_report_register

from ..models import Period, RevenueContract, SoLine
from ..reports import report_build, report_totals
from .report_figures import (
    balances_chart,
    balances_links,
    checklist_links,
    rollforward_chart,
    rollforward_links,
    waterfall_chart,
    waterfall_links,
)

PERMISSION = "revenue.view_journalentry"  # the reports are pivots of the journal
BASIS_LABELS = {"asc606": "ASC 606 (with carve adjustments)", "contractual": "Contractual"}
BY_LABELS = {"contract": "Contract", "customer": "Customer", "item": "Item", "line": "SO line"}
BY_ERRORS = {"invalid_choice": "By: group by contract, customer, item or SO line."}


def report_currencies() -> list[str]:
    """The currencies the SO lines are in (the journal books in the line's currency)."""
    return list(
        SoLine.objects.order_by("ext_sll_prc_currency")
        .values_list("ext_sll_prc_currency", flat=True)
        .distinct()
    )


def _period_text(period: int) -> str:
    return f"{period // 100:04d}-{period % 100:02d}"


class PeriodFilters(ReportFilters):
    """Period (the opened periods, default the open one), currency and basis."""

    period = forms.TypedChoiceField(
        coerce=int,
        required=False,
        label="Period",
        error_messages={
            "invalid_choice": "Period: %(value)s is not an opened period; choose one (YYYYMM)."
        },
    )
    currency = forms.ChoiceField(
        required=False,
        label="Currency",
        error_messages={"invalid_choice": "Currency: no SO line is in %(value)s; choose one."},
    )
    basis = forms.ChoiceField(
        choices=list(BASIS_LABELS.items()),
        initial="asc606",
        label="Basis",
        error_messages={"invalid_choice": "Basis: use ASC 606 or contractual."},
    )

    def prepare(self) -> None:
        periods = list(Period.objects.order_by("-id").values_list("id", "status"))
        choices = [
            (str(p), _period_text(p) + (" (open)" if s == Period.Status.OPEN else ""))
            for p, s in periods
        ]
        self.fields["period"].choices = choices
        self.fields["period"].initial = next(
            (str(p) for p, s in periods if s == Period.Status.OPEN), None
        )
        self.fields["currency"].choices = [("", "All currencies")] + [
            (c, c) for c in report_currencies()
        ]
        if "through" in self.fields:
            self.fields["through"].choices = [("", "The same period")] + choices


class GroupedFilters(PeriodFilters):
    """The filters of a report with a row per group (contract, customer, item, SO line)."""

    by = forms.ChoiceField(
        choices=list(BY_LABELS.items()), initial="contract", label="By", error_messages=BY_ERRORS
    )


class WaterfallFilters(GroupedFilters):
    periods = forms.IntegerField(
        min_value=1,
        max_value=120,
        initial=12,
        label="Periods ahead",
        help_text="1 to 120",
        error_messages={
            key: "Periods ahead: a whole number from 1 to 120."
            for key in ("invalid", "min_value", "max_value", "required")
        },
    )
    field_order = ["period", "periods", "by", "currency", "basis"]


class BalancesFilters(GroupedFilters):
    field_order = ["period", "by", "currency", "basis"]


class RollforwardFilters(PeriodFilters):
    through = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Through")
    field_order = ["period", "through", "currency", "basis"]

    def clean(self):
        data = super().clean()
        period, through = data.get("period"), data.get("through")
        if period and through and through < period:
            raise ValidationError({"through": "Through: the period itself or a later one."})
        return data


class ChecklistFilters(ReportFilters):
    """The checklist is the open period's, now: no filters."""


def report_groups(*, by: str = "contract", currency: str | None = None, **_):
    """The groups a waterfall or balances page reads, in the report's order: RC_KEYs, or
    the distinct customers, items or SO_LINE_IDs (of the currency's SO lines)."""
    lines = SoLine.objects.all()
    if currency:
        lines = lines.filter(ext_sll_prc_currency=currency)
    if by == "contract":
        contracts = RevenueContract.objects.all()
        if currency:
            contracts = contracts.filter(pk__in=lines.values("contract_id"))
        return contracts.order_by("rc_key").values_list("rc_key", flat=True)
    field = {"customer": "customer", "item": "item", "line": "so_line_id"}[by]
    return lines.order_by(field).values_list(field, flat=True).distinct()


def report_estimate(*, by: str = "contract", **_) -> int:
    """About how many rows a full waterfall or balances download has (one per group and
    currency): the contracts, or the SO lines (at most one group each)."""
    if by == "contract":
        return RevenueContract.objects.count()
    return SoLine.objects.count()


def _builder(kind: str):
    def build(**options):
        return report_build(kind, **options)

    return build


def _totals(kind: str):
    def totals(**options):
        return report_totals(kind, **options)

    return totals


def rollforward_estimate(*, period=None, through=None, **_) -> int:
    """A row per period and currency: a few per period."""
    if not period or not through:
        return 0
    months = (through // 100 - period // 100) * 12 + through % 100 - period % 100
    return (months + 1) * 8


admin_report_register(
    "waterfall",
    title="Revenue waterfall",
    builder=_builder("waterfall"),
    permission=PERMISSION,
    filters=WaterfallFilters,
    chart=waterfall_chart,
    totals=_totals("waterfall"),
    groups=report_groups,
    links=waterfall_links,
    estimate=report_estimate,
    description="Recognized through the period (contractual and carve on the ASC 606 "
    "basis), then what each next period will recognize, per contract, customer, item or SO "
    "line.",
    order=10,
)
admin_report_register(
    "rollforward",
    title="Contract-liability roll-forward",
    builder=_builder("rollforward"),
    permission=PERMISSION,
    filters=RollforwardFilters,
    chart=rollforward_chart,
    links=rollforward_links,
    estimate=rollforward_estimate,
    description="Opening balance, billed, credited, released, reversed, contra, "
    "the carve (ASC 606 basis), closing balance, period by period.",
    order=20,
)
admin_report_register(
    "balances",
    title="Contract balances and RPO",
    builder=_builder("balances"),
    permission=PERMISSION,
    filters=BalancesFilters,
    chart=balances_chart,
    totals=_totals("balances"),
    groups=report_groups,
    links=balances_links,
    estimate=report_estimate,
    description="Contract liability or asset per contract, and the remaining "
    "performance obligations in 12 / 24 / later buckets.",
    order=30,
)
admin_report_register(
    "checklist",
    title="Pre-close checklist",
    builder=_builder("checklist"),
    permission=PERMISSION,
    filters=ChecklistFilters,
    links=checklist_links,
    description="What blocks or needs a look before the open period closes.",
    order=40,
)
