"""M6: the journal's totals per period, currency, account pair, entry type and source type
(and contract): ``ledger_totals`` from the maintained deltas (``LedgerTotal``), fast at any
size; ``journal_totals`` straight from the journal, the ground truth the first must equal.

Amounts are integer minor units as stored (amount × 100, every currency), added by the
database as integers: exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import BigIntegerField, Count, F, Q, Sum
from django.db.models.functions import Cast, Round

from .models import JournalEntry, LedgerTotal

KEY = ("period", "currency", "dr_account", "cr_account", "entry_type", "source_type")


@dataclass(frozen=True)
class TotalRow:
    period: int
    currency: str
    dr_account: str
    cr_account: str
    entry_type: str
    source_type: str
    amount_minor: int
    entries: int
    contract_id: int | None = None


def ledger_totals(
    *,
    period_from: int | None = None,
    period_to: int | None = None,
    currency: str | None = None,
    contract_ids: Iterable[int] | None = None,
    by_contract: bool = False,
) -> list[TotalRow]:
    """M6: Σ of the deltas per key (and contract with ``by_contract``); keys with no entry
    left are dropped. Ordered by period, currency, accounts, types (, contract)."""
    rows = LedgerTotal.objects.filter(
        _filters(period_from, period_to, currency, contract_ids, "contract_id", "currency")
    )
    key = [*KEY, "contract_id"] if by_contract else list(KEY)
    rows = (
        rows.values(*key)
        .annotate(total=Sum("amount_minor"), n=Sum("entries"))
        .exclude(total=0, n=0)
        .order_by(*key)
    )
    return [_row(row, "currency", by_contract) for row in rows]


def journal_totals(
    *,
    period_from: int | None = None,
    period_to: int | None = None,
    currency: str | None = None,
    contract_ids: Iterable[int] | None = None,
    by_contract: bool = False,
) -> list[TotalRow]:
    """The same answer as ``ledger_totals``, read from every journal entry (set-based)."""
    entries = JournalEntry.objects.filter(
        _filters(
            period_from, period_to, currency, contract_ids, "line__contract_id", "amount_currency"
        )
    )
    key = [k if k != "currency" else "amount_currency" for k in KEY]
    if by_contract:
        key.append("line__contract_id")
    minor = Cast(Round(F("amount") * 100), BigIntegerField())
    rows = entries.values(*key).annotate(total=Sum(minor), n=Count("id")).order_by(*key)
    return [_row(row, "amount_currency", by_contract, contract="line__contract_id") for row in rows]


def _filters(period_from, period_to, currency, contract_ids, contract: str, cur: str) -> Q:
    q = Q()
    if period_from is not None:
        q &= Q(period__gte=period_from)
    if period_to is not None:
        q &= Q(period__lte=period_to)
    if currency:
        q &= Q(**{cur: currency})
    if contract_ids is not None:
        q &= Q(**{f"{contract}__in": list(contract_ids)})
    return q


def _row(row: dict, currency: str, by_contract: bool, contract: str = "contract_id") -> TotalRow:
    return TotalRow(
        period=row["period"],
        currency=row[currency],
        dr_account=row["dr_account"],
        cr_account=row["cr_account"],
        entry_type=row["entry_type"],
        source_type=row["source_type"],
        amount_minor=int(row["total"]),
        entries=int(row["n"]),
        contract_id=row[contract] if by_contract else None,
    )
