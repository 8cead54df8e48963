"""The one read every month-end report makes: credit-normal nets of account sets.

``journal_entries()`` (``revenue.selectors``) is the journal as ``revenue_export journal``
reads it; these functions only group and sum it, in integer minor units (×100, exact on
SQLite and PostgreSQL alike), so a report always ties out to the export.

A *net* of an account set S is Σ Cr − Σ Dr of the sides of entries that touch S (an entry
between two accounts of S nets to zero). Debit-normal figures (AR) are its negation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import BigIntegerField, Case, F, Q, Sum, Value, When
from django.db.models.functions import Cast, Round

from core.exceptions import BusinessRuleRefused

from ..models.choices import Account
from ..models.totals import LIABILITY_ACCOUNTS
from ..selectors import journal_entries, open_period_id
from .base import BASES, GROUPINGS

# the value of --by for each grouping (close.md: RC_KEY, customer, item, SO_LINE_ID)
GROUP_FIELDS = {
    "contract": "line__contract__rc_key",
    "customer": "line__customer",
    "item": "line__item",
    "line": "line__so_line_id",
}
# the same groupings read on the SO line itself
SO_LINE_GROUPS = {"customer": "customer", "item": "item", "line": "so_line_id"}
GROUP_LABELS = {"contract": "RC_KEY", "customer": "Customer", "item": "Item", "line": "SO line"}
CENTS = Cast(Round(F("amount") * 100), BigIntegerField())


@dataclass(frozen=True)
class Accounts:
    """The accounts a basis reads (carve.md K9): ASC 606 counts the adjustment accounts.

    ``carve_revenue`` / ``carve_liability``: the part of ``revenue`` / ``liability`` that is
    carve (empty on the contractual basis): M1 and M3 show revenue's contractual and carve
    parts, M2 the carve as a movement of its own."""

    revenue: tuple[str, ...]
    liability: tuple[str, ...]
    receivable: tuple[str, ...] = (Account.AR,)
    carve_revenue: tuple[str, ...] = ()
    carve_liability: tuple[str, ...] = ()

    @property
    def contractual_liability(self) -> tuple[str, ...]:
        """The liability accounts without the carve's: what M2's other movements move."""
        return tuple(a for a in self.liability if a not in self.carve_liability)


def basis_accounts(basis: str) -> Accounts:
    if basis == "contractual":
        return Accounts(revenue=(Account.REVENUE,), liability=(Account.CONTRACT_LIABILITY,))
    return Accounts(
        revenue=(Account.REVENUE, Account.ADJ_REVENUE),
        liability=tuple(LIABILITY_ACCOUNTS),  # ledger_total_liability serves M3's netting
        carve_revenue=(Account.ADJ_REVENUE,),
        carve_liability=(Account.ADJ_LIABILITY,),
    )


def credit_net(accounts: Iterable[str], value=CENTS):
    """Σ Cr − Σ Dr of the entries' sides on ``accounts``, in minor units (``value``: the
    entry's amount in minor units; a ledger total's ``amount_minor``)."""
    accounts = list(accounts)
    credit = Sum(Case(When(cr_account__in=accounts, then=value), default=Value(0)))
    debit = Sum(Case(When(dr_account__in=accounts, then=value), default=Value(0)))
    return credit - debit


TOTAL_MINOR = F("amount_minor")  # a ledger total's amount (M6), already in minor units


def touching(accounts: Iterable[str]) -> Q:
    accounts = list(accounts)
    return Q(dr_account__in=accounts) | Q(cr_account__in=accounts)


def period_buckets(edges: list[tuple[int, int]], *, last: int) -> Case:
    """A bucket number per period: the first edge (upper bound, inclusive) it falls under,
    else ``last``."""
    return Case(
        *[When(period__lte=upto, then=Value(number)) for upto, number in edges],
        default=Value(last),
    )


def grouped_nets(
    *,
    nets: dict[str, object],
    accounts: Iterable[str],
    by: str | None,
    dims: Iterable[str] = (),
    annotations: dict | None = None,
    where: Q | None = None,
    currency: str | None = None,
    groups: list[str] | None = None,
) -> Iterator[dict]:
    """One dict per (group, currency, *dims) with each of ``nets`` summed, ordered by them.

    ``groups`` limits the read to some groups (an admin page); the rows stream."""
    entries = journal_entries().filter(touching(accounts))
    if where is not None:
        entries = entries.filter(where)
    if currency:
        entries = entries.filter(amount_currency=currency)
    keys: list[str] = []
    if by:
        field = GROUP_FIELDS[by]
        entries = entries.annotate(group=F(field))
        keys.append("group")
        if groups is not None:
            entries = entries.filter(**{f"{field}__in": groups})
    if annotations:
        entries = entries.annotate(**annotations)
    keys += ["amount_currency", *dims]
    rows = entries.values(*keys).annotate(**nets).order_by(*keys)
    yield from rows.iterator(chunk_size=5000)


def total_nets(
    *,
    accounts: Iterable[str],
    nets: dict[str, Iterable[str]] | None = None,
    dims: Iterable[str] = (),
    annotations: dict | None = None,
    where: Q | None = None,
    currency: str | None = None,
) -> list[dict]:
    """``grouped_nets`` without a group, answered from the ledger totals the journal's
    triggers maintain (M6: per period, accounts, types, currency and contract) instead of
    every entry: the same rows (keys ``amount_currency`` and ``dims``), fast at any size.

    ``nets`` maps a name to the account set it nets (default ``{"net": accounts}``)."""
    from ..models import LedgerTotal

    accounts = list(accounts)
    totals = LedgerTotal.objects.filter(touching(accounts))
    if where is not None:
        totals = totals.filter(where)
    if currency:
        totals = totals.filter(currency=currency)
    if annotations:
        totals = totals.annotate(**annotations)
    keys = ["amount_currency", *dims]
    sums = {
        name: credit_net(accts, TOTAL_MINOR) for name, accts in (nets or {"net": accounts}).items()
    }
    rows = (
        totals.annotate(amount_currency=F("currency"))
        .values(*keys)
        .annotate(**sums, _entries=Sum("entries"))
        .order_by(*keys)
    )
    # a key whose entries were all removed again (P8) keeps deltas adding up to nothing:
    # the journal has no such group
    return [row for row in rows if row.pop("_entries")]


def report_period(period: int | None) -> int:
    """P: the given period, else the open one (close.md)."""
    if period is not None:
        return period
    current = open_period_id()
    if current is None:
        raise BusinessRuleRefused(
            rule="S1", field="period", message="no open period: give --period YYYYMM"
        )
    return current


def check_options(*, by: str | None = None, basis: str = "asc606") -> None:
    if by is not None and by not in GROUPINGS:
        raise BusinessRuleRefused(
            rule="M1",
            field="by",
            message=f"'{by}' is not a grouping: use one of {', '.join(GROUPINGS)}",
        )
    if basis not in BASES:
        raise BusinessRuleRefused(
            rule="K9",
            field="basis",
            message=f"'{str(basis)[:30]}' is not a basis: use asc606 or contractual",
        )
