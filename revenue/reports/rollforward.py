"""M2 contract-liability roll-forward: per period and currency, the opening balance, each
movement by what caused it, and the closing balance.

Read from the ledger totals (M6), which the journal's triggers keep equal to the journal.

Identity (tested against ``revenue_export journal``): closing = the CL balance booked
through the period, and a period's opening = the closing of the one before.

On the ASC 606 basis (carve.md K9) the balance is CONTRACT_LIABILITY + ADJ_LIABILITY and
the carve is a movement of its own, ``carve`` = Dr − Cr of ADJ_LIABILITY, so
closing = … + other − carve; the other movements are the CONTRACT_LIABILITY entries' as on
the contractual basis.
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
CREDIT_SOURCES = (TranType.CM, TranType.CM_R, TranType.CM_RO)
# movement → sign that turns the CL net (Cr − Dr) into the movement as close.md defines it
SIGNS = {
    "billed": 1,
    "credited": -1,
    "released": -1,
    "reversed": 1,
    "contra": -1,
    "other": 1,
    "carve": -1,  # Dr − Cr of ADJ_LIABILITY (ASC 606 basis)
}


def movements(basis: str) -> list[str]:
    """The movement columns of a basis: ASC 606 adds ``carve`` (carve.md K9)."""
    return MOVEMENTS + (["carve"] if basis_accounts(basis).carve_liability else [])


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
    accounts = basis_accounts(basis)
    names = movements(basis)
    # per period, currency and type: the ledger totals answer it (M6), however long the
    # journal
    opening: dict[str, Decimal] = defaultdict(Decimal)
    for item in total_nets(accounts=accounts.liability, where=Q(period__lt=p), currency=currency):
        opening[item["amount_currency"]] += minor(item["net"] or 0)
    moves: dict[tuple[int, str], dict[str, Decimal]] = {}
    nets = {"net": accounts.contractual_liability}
    if accounts.carve_liability:
        nets["carve"] = accounts.carve_liability
    for item in total_nets(
        accounts=accounts.liability,
        nets=nets,
        dims=["period", "entry_type", "source_type"],
        where=Q(period__gte=p, period__lte=q),
        currency=currency,
    ):
        key = (item["period"], item["amount_currency"])
        column = movement_of(item["entry_type"], item["source_type"])
        target = moves.setdefault(key, dict.fromkeys(names, Decimal(0)))
        target[column] += SIGNS[column] * minor(item["net"] or 0)
        if "carve" in item:
            target["carve"] += SIGNS["carve"] * minor(item["carve"] or 0)
    totals = RollforwardTotals(names)
    columns = [
        Column("period", "Period", PERIOD),
        Column("currency", "Currency"),
        *[
            Column(key, key.replace("_", " ").capitalize(), AMOUNT)
            for key in ["opening", *names, "closing"]
        ],
    ]
    carve = " − carve" if accounts.carve_liability else ""
    return Report(
        kind="rollforward",
        title="Contract-liability roll-forward",
        period=p,
        columns=columns,
        rows=_rows(p, q, opening, moves, totals, names),
        totals=totals.rows,
        params={"through": str(q), "currency": currency or "all", "basis": basis},
        identity=(
            "closing = opening + billed − credited − released + reversed − contra + other"
            f"{carve} = the contract-liability balance"
            + (" (with the adjustment liability)" if carve else "")
            + " booked through the period; each opening = the closing before it."
        ),
        basis=basis,
    )


def _rows(p: int, q: int, opening: dict, moves: dict, totals: Totals, names: list[str]):
    """Period by period, each currency's closing becomes the next opening."""
    balance = dict(opening)
    currencies = set(balance) | {c for _, c in moves}
    period = p
    while period <= q:
        for currency in sorted(currencies):
            start = balance.get(currency, Decimal(0))
            move = moves.get((period, currency), dict.fromkeys(names, Decimal(0)))
            closing = start + sum(SIGNS[k] * move[k] for k in names)
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
