"""M3 contract balances and remaining performance obligations, as of P.

Per contract and currency: net billed (AR), recognized revenue and the contract-liability
balance through P, presented as one net figure (a liability when billing ran ahead of
revenue, an asset when revenue ran ahead of billing), and the revenue still to be
recognized after P (RPO) in 12 / 24 / later buckets. With another ``--by`` the net
figure is taken per contract inside each group, then summed over the group's contracts.

Identity (tested): per currency Σ contract_liability − Σ contract_asset = the CL balance
through P; Σ rpo = M1's Σ deferred when P is the open period.

On the ASC 606 basis (carve.md K9) revenue is REVENUE + ADJ_REVENUE and the contract
balance CONTRACT_LIABILITY + ADJ_LIABILITY; a row also shows the parts of ``recognized``:
``contractual`` (REVENUE) and ``carve`` (ADJ_REVENUE).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F

from ..services.splits import period_add
from .base import AMOUNT, TEXT, Column, Report, Totals, minor
from .ledger import (
    GROUP_LABELS,
    basis_accounts,
    check_options,
    credit_net,
    grouped_nets,
    period_buckets,
    report_period,
)

THROUGH, RPO_12, RPO_24, RPO_LATER = 0, 1, 2, 3
AMOUNT_KEYS = [
    "billed",
    "recognized",
    "cl_balance",
    "contract_liability",
    "contract_asset",
    "rpo",
    "rpo_12",
    "rpo_24",
    "rpo_later",
]
CARVE_KEYS = ["contractual", "carve"]  # the parts of `recognized` on the ASC 606 basis


def amount_keys(basis: str) -> list[str]:
    return AMOUNT_KEYS + (CARVE_KEYS if basis_accounts(basis).carve_revenue else [])


def balances_report(
    *,
    period: int | None = None,
    by: str = "contract",
    currency: str | None = None,
    basis: str = "asc606",
    groups: list[str] | None = None,
) -> Report:
    check_options(by=by, basis=basis)
    p = report_period(period)
    accounts = basis_accounts(basis)
    edges = [(p, THROUGH), (period_add(p, 12), RPO_12), (period_add(p, 24), RPO_24)]
    dims = ["bucket"] if by == "contract" else ["contract", "bucket"]
    annotations = {"bucket": period_buckets(edges, last=RPO_LATER)}
    if by != "contract":
        annotations["contract"] = F("line__contract_id")
    carve = bool(accounts.carve_revenue)
    nets = {
        "ar": credit_net(accounts.receivable),
        "revenue": credit_net(accounts.revenue),
        "cl": credit_net(accounts.liability),
    }
    if carve:
        nets["carve"] = credit_net(accounts.carve_revenue)
    rows = grouped_nets(
        nets=nets,
        accounts=accounts.receivable + accounts.revenue + accounts.liability,
        by=by,
        dims=dims,
        annotations=annotations,
        currency=currency,
        groups=groups,
    )
    totals = Totals(amount_keys(basis))
    parts = [
        Column("contractual", f"Contractual ≤ {p}", AMOUNT),
        Column("carve", f"Carve ≤ {p}", AMOUNT),
    ]
    columns = [
        Column("group", GROUP_LABELS[by], TEXT),
        Column("currency", "Currency"),
        Column("billed", f"Billed ≤ {p}", AMOUNT),
        Column("recognized", f"Recognized ≤ {p}", AMOUNT),
        *(parts if carve else []),
        Column("cl_balance", "CL balance", AMOUNT),
        Column("contract_liability", "Contract liability", AMOUNT),
        Column("contract_asset", "Contract asset", AMOUNT),
        Column("rpo", "RPO", AMOUNT),
        Column("rpo_12", "RPO ≤ 12 months", AMOUNT),
        Column("rpo_24", "RPO 13–24 months", AMOUNT),
        Column("rpo_later", "RPO later", AMOUNT),
    ]
    return Report(
        kind="balances",
        title="Contract balances and RPO",
        period=p,
        columns=columns,
        rows=totals.stream(_pivot(rows, per_contract=by != "contract", carve=carve)),
        totals=totals.rows,
        params={"by": by, "currency": currency or "all", "basis": basis},
        identity=(
            "Per currency, Σ contract liability − Σ contract asset = the contract-liability "
            f"balance booked through {p}"
            + (" (with the adjustment liability)" if carve else "")
            + "; Σ RPO = the waterfall's Σ deferred."
        ),
        basis=basis,
    )


def _empty(group, currency, *, carve: bool = False) -> dict:
    keys = AMOUNT_KEYS + (CARVE_KEYS if carve else [])
    return {"group": group, "currency": currency, **dict.fromkeys(keys, Decimal(0))}


def _pivot(rows, *, per_contract: bool, carve: bool = False):
    """Rows come ordered by (group, currency[, contract], bucket). Each contract's CL
    balance is netted on its own (ASC 606 presents one figure per contract), then added
    into its group's row. ``carve``: split ``recognized`` into its contractual and carve
    parts (the rows carry the carve net as ``carve``)."""
    current = None
    row: dict | None = None
    contract = None
    cl = Decimal(0)

    def settle():
        row["cl_balance"] += cl
        row["contract_liability"] += max(Decimal(0), cl)
        row["contract_asset"] += max(Decimal(0), -cl)

    for item in rows:
        key = (item["group"], item["amount_currency"])
        this_contract = item.get("contract")
        if key != current:
            if row is not None:
                settle()
                yield _finish(row)
            current, row, contract, cl = key, _empty(*key, carve=carve), this_contract, Decimal(0)
        elif per_contract and this_contract != contract:
            settle()
            contract, cl = this_contract, Decimal(0)
        bucket = item["bucket"]
        revenue = minor(item["revenue"] or 0)
        if bucket == THROUGH:
            row["billed"] -= minor(item["ar"] or 0)  # AR is debit-normal
            row["recognized"] += revenue
            cl += minor(item["cl"] or 0)
            if carve:
                row["carve"] += minor(item["carve"] or 0)
        elif bucket == RPO_12:
            row["rpo_12"] += revenue
        elif bucket == RPO_24:
            row["rpo_24"] += revenue
        else:
            row["rpo_later"] += revenue
    if row is not None:
        settle()
        yield _finish(row)


def _finish(row: dict) -> dict:
    row["rpo"] = row["rpo_12"] + row["rpo_24"] + row["rpo_later"]
    if "carve" in row:
        row["contractual"] = row["recognized"] - row["carve"]
    return row
