"""M2 contract-liability roll-forward: per period and currency, the opening balance, each
movement by what caused it, and the closing balance.

Read from the ledger totals (M6), which the journal's triggers keep equal to the journal.

Identity (tested against ``revenue_export journal``): closing = the CL balance booked
through the period, and a period's opening = the closing of the one before.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Q

from core.exceptions import BusinessRuleRefused

from ..models.choices import EntryType, TranType
from ..services.splits import period_add
from .base import AMOUNT, PERIOD, Column, Report, Totals, minor
from .ledger import basis_accounts, check_options, report_period, total_nets

MOVEMENTS = ["billed", "credited", "released", "reversed", "contra", "other"]
AMOUNT_KEYS = ["opening", *MOVEMENTS, "closing"]
CREDIT_SOURCES = (TranType.CM, TranType.CM_R, TranType.CM_RO)
# movement → sign that turns the CL net (Cr − Dr) into the movement as close.md defines it
SIGNS = {"billed": 1, "credited": -1, "released": -1, "reversed": 1, "contra": -1, "other": 1}


def movement_of(entry_type: str, source_type: str) -> str:
    """Which column of the roll-forward an entry of this type and source moves."""
    if entry_type == EntryType.INITIAL and source_type == TranType.INV:
        return "billed"
    if entry_type == EntryType.INITIAL and source_type in CREDIT_SOURCES:
        return "credited"
    if entry_type in (EntryType.RELEASE, EntryType.CATCH_UP):
        return "released"
    if entry_type == EntryType.REVERSAL:
        return "reversed"
    if entry_type in (EntryType.CONTRA, EntryType.CONTRA_REVERSAL):
        return "contra"
    return "other"


def rollforward_report(
    *,
    period: int | None = None,
    through: int | None = None,
    currency: str | None = None,
    basis: str = "asc606",
) -> Report:
    check_options(basis=basis)
    p = report_period(period)
    q = through if through is not None else p
    if q < p:
        raise BusinessRuleRefused(
            rule="M2", field="through", message=f"--through {q} is before --period {p}"
        )
    if (q // 100 - p // 100) * 12 + q % 100 - p % 100 > 600:
        raise BusinessRuleRefused(
            rule="M2", field="through", message="a roll-forward spans at most 50 years"
        )
    accounts = basis_accounts(basis).liability
    # per period, currency and type: the ledger totals answer it (M6), however long the
    # journal
    opening: dict[str, Decimal] = defaultdict(Decimal)
    for item in total_nets(accounts=accounts, where=Q(period__lt=p), currency=currency):
        opening[item["amount_currency"]] += minor(item["net"] or 0)
    moves: dict[tuple[int, str], dict[str, Decimal]] = {}
    for item in total_nets(
        accounts=accounts,
        dims=["period", "entry_type", "source_type"],
        where=Q(period__gte=p, period__lte=q),
        currency=currency,
    ):
        key = (item["period"], item["amount_currency"])
        column = movement_of(item["entry_type"], item["source_type"])
        target = moves.setdefault(key, dict.fromkeys(MOVEMENTS, Decimal(0)))
        target[column] += SIGNS[column] * minor(item["net"] or 0)
    totals = RollforwardTotals(MOVEMENTS)
    columns = [
        Column("period", "Period", PERIOD),
        Column("currency", "Currency"),
        *[Column(key, key.replace("_", " ").capitalize(), AMOUNT) for key in AMOUNT_KEYS],
    ]
    return Report(
        kind="rollforward",
        title="Contract-liability roll-forward",
        period=p,
        columns=columns,
        rows=_rows(p, q, opening, moves, totals),
        totals=totals.rows,
        params={"through": str(q), "currency": currency or "all", "basis": basis},
        identity=(
            "closing = opening + billed − credited − released + reversed − contra + other "
            "= the contract-liability balance booked through the period; each opening = "
            "the closing before it."
        ),
    )


def _rows(p: int, q: int, opening: dict, moves: dict, totals: Totals):
    """Period by period, each currency's closing becomes the next opening."""
    balance = dict(opening)
    currencies = set(balance) | {c for _, c in moves}
    period = p
    while period <= q:
        for currency in sorted(currencies):
            start = balance.get(currency, Decimal(0))
            move = moves.get((period, currency), dict.fromkeys(MOVEMENTS, Decimal(0)))
            closing = start + sum(SIGNS[k] * move[k] for k in MOVEMENTS)
            balance[currency] = closing
            if not (start or closing or any(move.values())):
                continue
            row = {"period": period, "currency": currency, "opening": start, **move}
            row["closing"] = closing
            totals.add(row)
            yield row
        period = period_add(period, 1)


class RollforwardTotals(Totals):
    """Movements add up over the periods; the opening is the first period's, the closing
    the last period's (so opening + movements = closing holds for the totals too)."""

    def add(self, row: dict) -> dict:
        first = row["currency"] not in self.by_currency
        super().add(row)
        total = self.by_currency[row["currency"]]
        if first:
            total["opening"] = row["opening"]
        total["closing"] = row["closing"]
        return row
