"""The per-currency totals of M1 and M3 without their rows (close.md M6): an admin page
shows them above one page of rows, so they must not cost a pass over the whole journal.

They come from the ledger totals the journal's triggers maintain (per period, accounts,
types, currency and contract), through the reports' own pivots, so each figure is the one
the rows would add up to (tested: equal to the totals of the whole report on the spec's
vectors and on generated days, on both databases). M3's contract liability and contract
asset net each contract's balance on its own (ASC 606): one more grouped read of the
ledger totals, per contract, summed by the database.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import F, Max, Min, Q

from ..models import LedgerTotal, SoLine
from ..services.splits import period_add
from .base import minor, period_key
from .ledger import (
    SO_LINE_GROUPS,
    TOTAL_MINOR,
    basis_accounts,
    credit_net,
    grouped_nets,
    period_buckets,
    report_period,
    total_nets,
    touching,
)


def waterfall_totals(
    *, period=None, periods: int = 12, currency=None, basis: str = "asc606", **_
) -> list[dict]:
    """M1's totals: Σ over every group is the revenue of every entry, whatever --by."""
    from .waterfall import LATER, RECOGNIZED, _pivot, amount_keys, check_periods

    check_periods(periods)
    p = report_period(period)
    ahead = [period_add(p, i) for i in range(1, periods + 1)]
    edges = [(p, RECOGNIZED)] + [(x, x) for x in ahead]
    accounts = basis_accounts(basis)
    nets = {"net": accounts.revenue}
    if accounts.carve_revenue:
        nets["carve"] = accounts.carve_revenue
    rows = total_nets(
        accounts=accounts.revenue,
        nets=nets,
        dims=["bucket"],
        annotations={"bucket": period_buckets(edges, last=LATER)},
        currency=currency,
    )
    keys = [period_key(x) for x in ahead]
    pivoted = _pivot(_ungrouped(rows), keys, carve=bool(accounts.carve_revenue))
    return [_shaped(row, amount_keys(basis)) for row in pivoted]


def balances_totals(
    *, period=None, currency=None, basis: str = "asc606", by: str = "contract", **_
) -> list[dict] | None:
    """M3's totals. Only the contract liability and asset depend on --by: each contract is
    netted inside each group, so a contract whose SO lines fall in several groups (two
    customers, items or lines) is netted per group; those few are read from the journal.
    None when there are too many of them (``SPLIT_LIMIT``): the caller adds the rows."""
    from .balances import RPO_12, RPO_24, RPO_LATER, THROUGH, _pivot, amount_keys

    p = report_period(period)
    accounts = basis_accounts(basis)
    edges = [(p, THROUGH), (period_add(p, 12), RPO_12), (period_add(p, 24), RPO_24)]
    nets = {"ar": accounts.receivable, "revenue": accounts.revenue, "cl": accounts.liability}
    if accounts.carve_revenue:
        nets["carve"] = accounts.carve_revenue
    rows = total_nets(
        accounts=accounts.receivable + accounts.revenue + accounts.liability,
        nets=nets,
        dims=["bucket"],
        annotations={"bucket": period_buckets(edges, last=RPO_LATER)},
        currency=currency,
    )
    pivoted = _pivot(_ungrouped(rows), per_contract=False, carve=bool(accounts.carve_revenue))
    totals = [_shaped(row, amount_keys(basis)) for row in pivoted]
    netted = _contract_netting(p, accounts.liability, currency)
    if by != "contract":
        split = _split_contracts(by)
        if len(split) > SPLIT_LIMIT:
            return None
        if split:
            _split_netting(netted, split, by, p, accounts.liability, currency)
    for row in totals:
        liability, asset = netted.get(row["currency"], (0, 0))
        row["contract_liability"], row["contract_asset"] = minor(liability), minor(asset)
    return totals


def _contract_netting(p: int, liability, currency) -> dict[str, list[int]]:
    """Per currency: [Σ max(0, cl), Σ max(0, −cl)] over the contracts' CL balances
    through P, in minor units, the database adding the contracts up."""
    per_contract = LedgerTotal.objects.filter(touching(liability), period__lte=p)
    if currency:
        per_contract = per_contract.filter(currency=currency)
    per_contract = (
        per_contract.values("currency", "contract_id")
        .annotate(cl=credit_net(liability, TOTAL_MINOR))
        .order_by()
    )
    inner, params = per_contract.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT currency, "
            "SUM(CASE WHEN cl > 0 THEN cl ELSE 0 END), SUM(CASE WHEN cl < 0 THEN -cl ELSE 0 END) "
            f"FROM ({inner}) AS per_contract GROUP BY currency",
            params,
        )
        return {c: [int(lia or 0), int(asset or 0)] for c, lia, asset in cursor.fetchall()}


SPLIT_LIMIT = 5000


def _split_contracts(by: str) -> list[int]:
    """Contracts whose SO lines fall in more than one group of ``by`` (at most
    SPLIT_LIMIT + 1 of them)."""
    field = SO_LINE_GROUPS[by]
    split = (
        SoLine.objects.values("contract_id")
        .annotate(low=Min(field), high=Max(field))  # never null: cheaper than COUNT DISTINCT
        .filter(low__lt=F("high"))
        .order_by()
        .values_list("contract_id", flat=True)
    )
    return list(split[: SPLIT_LIMIT + 1])


def _split_netting(netted, split: list[int], by: str, p: int, liability, currency) -> None:
    """Change ``netted`` (minor units) so the split contracts are netted per group instead
    of once: each one's figure out, its groups' figures in (from the journal)."""
    whole: dict[tuple[str, int], int] = {}
    for row in grouped_nets(
        nets={"cl": credit_net(liability)},
        accounts=liability,
        by=by,
        dims=["contract"],
        annotations={"contract": F("line__contract_id")},
        where=Q(period__lte=p, line__contract_id__in=split),
        currency=currency,
    ):
        cl, cur = int(row["cl"] or 0), row["amount_currency"]
        sums = netted.setdefault(cur, [0, 0])
        sums[0] += max(0, cl)
        sums[1] += max(0, -cl)
        key = (cur, row["contract"])
        whole[key] = whole.get(key, 0) + cl
    for (cur, _contract), cl in whole.items():
        netted[cur][0] -= max(0, cl)
        netted[cur][1] -= max(0, -cl)


def _ungrouped(rows):
    for row in rows:
        yield {"group": None, **row}


def _shaped(row: dict, keys) -> dict:
    """A pivoted row as ``base.Totals`` shapes a total: currency, the amount keys, periods."""
    shaped = {"currency": row["currency"], **{key: row[key] for key in keys}}
    if "periods" in row:
        shaped["periods"] = row["periods"]
    return shaped
