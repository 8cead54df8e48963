"""M1 revenue waterfall: per group and currency, what is recognized through P and what
each of the next N periods (then all later ones) will recognize.

Identity (tested): per currency Σ total = REVENUE Cr − Dr over the whole journal, and
Σ recognized = the same through P.

On the ASC 606 basis (carve.md K9) revenue is REVENUE + ADJ_REVENUE, and a row also shows
the two parts of ``recognized``: ``contractual`` (REVENUE) and ``carve`` (ADJ_REVENUE). The
contractual basis reads REVENUE alone, with the columns it always had.
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
CARVE_KEYS = ["contractual", "carve"]  # the parts of `recognized` on the ASC 606 basis


def amount_keys(basis: str) -> list[str]:
    return AMOUNT_KEYS + (CARVE_KEYS if basis_accounts(basis).carve_revenue else [])


def revenue_nets(accounts) -> dict:
    """``net``: the basis's revenue; ``carve``: its carve part (ASC 606 only)."""
    nets = {"net": credit_net(accounts.revenue)}
    if accounts.carve_revenue:
        nets["carve"] = credit_net(accounts.carve_revenue)
    return nets


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
    accounts = basis_accounts(basis)
    carve = bool(accounts.carve_revenue)
    edges = [(p, RECOGNIZED)] + [(x, x) for x in ahead]
    rows = grouped_nets(
        nets=revenue_nets(accounts),
        accounts=accounts.revenue,
        by=by,
        dims=["bucket"],
        annotations={"bucket": period_buckets(edges, last=LATER)},
        currency=currency,
        groups=groups,
    )
    totals = Totals(amount_keys(basis), periods=keys)
    parts = [
        Column("contractual", f"Contractual ≤ {p}", AMOUNT),
        Column("carve", f"Carve ≤ {p}", AMOUNT),
    ]
    columns = [
        Column("group", GROUP_LABELS[by]),
        Column("currency", "Currency"),
        Column("recognized", f"Recognized ≤ {p}", AMOUNT),
        *(parts if carve else []),
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
        rows=totals.stream(_pivot(rows, keys, carve=carve)),
        totals=totals.rows,
        params={"periods": str(periods), "by": by, "currency": currency or "all", "basis": basis},
        identity=(
            "Per currency, Σ total = revenue (Cr − Dr) over the whole journal and "
            f"Σ recognized = revenue booked in periods ≤ {p}"
            + (" (contractual + carve)." if carve else ".")
        ),
        basis=basis,
    )


def check_periods(periods: int) -> None:
    if not 1 <= periods <= 120:
        raise BusinessRuleRefused(
            rule="M1", field="periods", message="--periods must be a number from 1 to 120"
        )


def _pivot(rows, keys: list[str], *, carve: bool = False):
    """The database answers one row per (group, currency, bucket); a report row per
    (group, currency) gathers them. ``carve``: split ``recognized`` into its contractual
    and carve parts (the rows carry the carve net as ``carve``)."""
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
            if carve:
                row["carve"] = Decimal(0)
        amount = minor(item["net"] or 0)
        bucket = item["bucket"]
        if bucket == RECOGNIZED:
            row["recognized"] += amount
            if carve:
                row["carve"] += minor(item["carve"] or 0)
        elif bucket == LATER:
            row["later"] += amount
        else:
            row["periods"][period_key(bucket)] += amount
    if row is not None:
        yield _finish(row)


def _finish(row: dict) -> dict:
    row["deferred"] = sum(row["periods"].values(), Decimal(0)) + row["later"]
    row["total"] = row["recognized"] + row["deferred"]
    if "carve" in row:
        row["contractual"] = row["recognized"] - row["carve"]
    return row
