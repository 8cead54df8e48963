"""M1 revenue waterfall: per group and currency, what is recognized through P and what
each of the next N periods (then all later ones) will recognize.

Identity (tested): per currency Σ total = REVENUE Cr − Dr over the whole journal, and
Σ recognized = the same through P.
"""

from __future__ import annotations

from decimal import Decimal

from core.exceptions import BusinessRuleRefused

from ..services.splits import period_add
from .base import AMOUNT, PERIODS, Column, Report, Totals, minor, period_key
from .ledger import (
    GROUP_LABELS,
    basis_accounts,
    check_options,
    credit_net,
    grouped_nets,
    period_buckets,
    report_period,
)

RECOGNIZED, LATER = 0, 999999
AMOUNT_KEYS = ["recognized", "later", "deferred", "total"]


def waterfall_report(
    *,
    period: int | None = None,
    periods: int = 12,
    by: str = "contract",
    currency: str | None = None,
    basis: str = "asc606",
    groups: list[str] | None = None,
) -> Report:
    check_options(by=by, basis=basis)
    check_periods(periods)
    p = report_period(period)
    ahead = [period_add(p, i) for i in range(1, periods + 1)]
    keys = [period_key(x) for x in ahead]
    accounts = basis_accounts(basis).revenue
    edges = [(p, RECOGNIZED)] + [(x, x) for x in ahead]
    rows = grouped_nets(
        nets={"net": credit_net(accounts)},
        accounts=accounts,
        by=by,
        dims=["bucket"],
        annotations={"bucket": period_buckets(edges, last=LATER)},
        currency=currency,
        groups=groups,
    )
    totals = Totals(AMOUNT_KEYS, periods=keys)
    columns = [
        Column("group", GROUP_LABELS[by]),
        Column("currency", "Currency"),
        Column("recognized", f"Recognized ≤ {p}", AMOUNT),
        Column("periods", "Periods", PERIODS, subkeys=tuple(keys)),
        Column("later", "Later", AMOUNT),
        Column("deferred", "Deferred", AMOUNT),
        Column("total", "Total", AMOUNT),
    ]
    return Report(
        kind="waterfall",
        title="Revenue waterfall",
        period=p,
        columns=columns,
        rows=totals.stream(_pivot(rows, keys)),
        totals=totals.rows,
        params={"periods": str(periods), "by": by, "currency": currency or "all", "basis": basis},
        identity=(
            "Per currency, Σ total = revenue (Cr − Dr) over the whole journal and "
            f"Σ recognized = revenue booked in periods ≤ {p}."
        ),
    )


def check_periods(periods: int) -> None:
    if not 1 <= periods <= 120:
        raise BusinessRuleRefused(
            rule="M1", field="periods", message="--periods must be a number from 1 to 120"
        )


def _pivot(rows, keys: list[str]):
    """The database answers one row per (group, currency, bucket); a report row per
    (group, currency) gathers them."""
    current = None
    row: dict | None = None
    for item in rows:
        key = (item["group"], item["amount_currency"])
        if key != current:
            if row is not None:
                yield _finish(row)
            current = key
            row = {
                "group": key[0],
                "currency": key[1],
                "recognized": Decimal(0),
                "periods": dict.fromkeys(keys, Decimal(0)),
                "later": Decimal(0),
            }
        amount = minor(item["net"] or 0)
        bucket = item["bucket"]
        if bucket == RECOGNIZED:
            row["recognized"] += amount
        elif bucket == LATER:
            row["later"] += amount
        else:
            row["periods"][period_key(bucket)] += amount
    if row is not None:
        yield _finish(row)


def _finish(row: dict) -> dict:
    row["deferred"] = sum(row["periods"].values(), Decimal(0)) + row["later"]
    row["total"] = row["recognized"] + row["deferred"]
    return row
