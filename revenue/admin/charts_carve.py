"""Contractual against ASC 606 revenue per period (carve.md K9, Chart.js through
admin/revenue/includes/chart.html), for a revenue contract or one SO line.

Contractual revenue is the credits less the debits of ``REVENUE``; ASC 606 revenue adds
those of ``ADJ_REVENUE`` (the carve). Both come from the journal in one grouped query per
page, whatever the number of lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from core.services import sum_exact

from ..models import JournalEntry, SoLine
from ..models.choices import Account
from ..models.periods import period_label
from .chartjs import chart_bar
from .charts import period_axis_labels
from .common import amount_text

ZERO = Decimal("0")
CONTRACTUAL_COLOR, ASC606_COLOR = "#a9cdee", "#2e8b57"
ACCOUNTS = (Account.REVENUE, Account.ADJ_REVENUE)


@dataclass
class BasisPeriod:
    """One period of one currency: revenue and adjustment revenue credited (net)."""

    period: int
    contractual: Decimal = ZERO
    carve: Decimal = ZERO

    @property
    def asc606(self) -> Decimal:
        return self.contractual + self.carve

    @property
    def label(self) -> str:
        return period_label(self.period)


def _money(value) -> Decimal:
    return sum_exact(getattr(value, "amount", value))


def _next(period: int) -> int:
    return period + 1 if period % 100 < 12 else (period // 100 + 1) * 100 + 1


def revenue_bases(entries) -> dict[str, list[BasisPeriod]]:
    """Per currency, every period from the first to the last that books revenue or carve
    (months between them included, at zero): contractual and carve credited, net. One
    query over ``entries`` (a JournalEntry queryset: a contract's or a line's)."""
    credit = {a: Sum("amount", filter=Q(cr_account=a)) for a in ACCOUNTS}
    debit = {a: Sum("amount", filter=Q(dr_account=a)) for a in ACCOUNTS}
    rows = (
        entries.filter(Q(cr_account__in=ACCOUNTS) | Q(dr_account__in=ACCOUNTS))
        .values_list("amount_currency", "period")
        .annotate(
            rev_cr=credit[Account.REVENUE],
            rev_dr=debit[Account.REVENUE],
            adj_cr=credit[Account.ADJ_REVENUE],
            adj_dr=debit[Account.ADJ_REVENUE],
        )
        .order_by("amount_currency", "period")
    )
    found: dict[str, dict[int, BasisPeriod]] = {}
    for currency, period, rev_cr, rev_dr, adj_cr, adj_dr in rows:
        found.setdefault(currency, {})[period] = BasisPeriod(
            period=period,
            contractual=_money(rev_cr) - _money(rev_dr),
            carve=_money(adj_cr) - _money(adj_dr),
        )
    out: dict[str, list[BasisPeriod]] = {}
    for currency, periods in found.items():
        months, period, last = [], min(periods), max(periods)
        while period <= last:
            months.append(periods.get(period) or BasisPeriod(period=period))
            period = _next(period)
        out[currency] = months
    return out


def contract_revenue_bases(contract_id: int) -> dict[str, list[BasisPeriod]]:
    lines = SoLine.objects.filter(contract_id=contract_id).values("pk")
    return revenue_bases(JournalEntry.objects.filter(line_id__in=lines))


def line_revenue_bases(line_id: int) -> dict[str, list[BasisPeriod]]:
    return revenue_bases(JournalEntry.objects.filter(line_id=line_id))


def _signed(value: Decimal, currency: str) -> str:
    return ("+" if value > 0 else "") + amount_text(value, currency)


def basis_chart(
    rows: list[BasisPeriod], currency: str, *, open_period: int | None, id: str, title: str
) -> dict | None:
    """Per period, contractual revenue (light blue) beside ASC 606 revenue (green); the
    tooltip gives the period's carve and both cumulative totals."""
    if not rows:
        return None
    contractual = [row.contractual for row in rows]
    asc606 = [row.asc606 for row in rows]
    notes, running_c, running_a = [], ZERO, ZERO
    for row in rows:
        running_c += row.contractual
        running_a += row.asc606
        notes.append(
            [
                f"Carve {_signed(row.carve, currency)}" if row.carve else "No carve",
                f"Cumulative: contractual {amount_text(running_c, currency)}, "
                f"ASC 606 {amount_text(running_a, currency)}",
            ]
        )
    open_index = next((i for i, row in enumerate(rows) if row.period == open_period), None)
    carve = sum((row.carve for row in rows), ZERO)
    return chart_bar(
        id=id,
        title=title,
        labels=period_axis_labels([row.label for row in rows]),
        datasets=[
            {"label": "Contractual revenue", "data": contractual, "color": CONTRACTUAL_COLOR},
            {"label": "ASC 606 revenue", "data": asc606, "color": ASC606_COLOR},
        ],
        currency=currency,
        y_label=f"Revenue per period ({currency})",
        highlight=None if open_index is None else {"index": open_index, "label": "open"},
        notes=notes,
        height=280,
        label_head="Period",
        aria_label=(
            f"Contractual and ASC 606 revenue per period in {currency}, {rows[0].label} to "
            f"{rows[-1].label}: contractual {amount_text(running_c, currency)}, ASC 606 "
            f"{amount_text(running_a, currency)}, carve {_signed(carve, currency)}."
        ),
    )
