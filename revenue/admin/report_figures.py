"""What a month-end report's figures link to and how they are drawn (close.md M1–M4).

Every amount of the waterfall, the roll-forward and the balances links to the journal list
filtered to the entries it sums: the group (RC_KEY, customer, item or SO line), the
currency, the account(s) of the basis, the period or range of periods, and for a
roll-forward movement the entry and source types that make it (``reports.rollforward``).
The net of the linked list on those accounts (Cr − Dr; Dr − Cr for AR) is the figure.
On the ASC 606 basis a revenue's contractual and carve parts link to the revenue and the
adjustment revenue account, a roll-forward's carve to the adjustment liability, its other
movements to the contract liability alone (carve.md K9).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from ..models.choices import Account, EntryType, TranType
from ..reports.ledger import basis_accounts
from ..reports.rollforward import CREDIT_SOURCES
from ..services.splits import period_add
from .chartjs import chart_bar, chart_bridge

JOURNAL = "admin:revenue_journalentry_changelist"
GROUP_PARAMS = {"contract": "contract", "customer": "customer", "item": "item", "line": "so_line"}
OTHER_SOURCES = [t for t in TranType.values if t != TranType.INV and t not in CREDIT_SOURCES]
# roll-forward movement → the journal lookups of the entries that make it
MOVEMENT_ENTRIES = {
    "billed": {"entry_type__exact": EntryType.INITIAL, "source_type": TranType.INV},
    "credited": {"entry_type__exact": EntryType.INITIAL, "source_type": ",".join(CREDIT_SOURCES)},
    "released": {"entry_type__exact": f"{EntryType.RELEASE},{EntryType.CATCH_UP}"},
    "reversed": {"entry_type__exact": EntryType.REVERSAL},
    "contra": {"entry_type__exact": f"{EntryType.CONTRA},{EntryType.CONTRA_REVERSAL}"},
    "other": {"entry_type__exact": EntryType.INITIAL, "source_type": ",".join(OTHER_SOURCES)},
}


class Journal:
    """Journal list URLs for one table of a report (the list's URL reversed once)."""

    def __init__(self, options: dict):
        self.base = reverse(JOURNAL)
        self.by = options.get("by") or "contract"
        self.accounts = basis_accounts(options.get("basis") or "asc606")

    def url(self, row: dict, accounts, **lookups) -> str:
        params = {}
        if "group" in row:
            params[GROUP_PARAMS[self.by]] = row["group"]
        params["currency"] = row["currency"]
        params["account"] = ",".join(accounts)
        params.update({k: str(v) for k, v in lookups.items() if v is not None})
        return f"{self.base}?{urlencode(params)}"


def _revenue_parts(accounts) -> dict:
    """ASC 606: the accounts of ``recognized``'s contractual and carve parts."""
    if not accounts.carve_revenue:
        return {}
    contractual = tuple(a for a in accounts.revenue if a not in accounts.carve_revenue)
    return {"contractual": contractual, "carve": accounts.carve_revenue}


def waterfall_links(rows, options):
    """M1: recognized ≤ P (and its contractual and carve parts), each next period, later,
    deferred (> P), total (all periods)."""
    journal = Journal(options)
    p, n = options["period"], options.get("periods") or 12
    lookups = {
        "recognized": {"period__lte": p},
        "later": {"period__gte": period_add(p, n + 1)},
        "deferred": {"period__gte": period_add(p, 1)},
        "total": {},
    }
    parts = _revenue_parts(journal.accounts)

    def link(row, key, sub):
        if key == "periods" and sub:
            return journal.url(row, journal.accounts.revenue, period=sub)
        if key in parts:
            return journal.url(row, parts[key], period__lte=p)
        if key in lookups:
            return journal.url(row, journal.accounts.revenue, **lookups[key])
        return ""

    return link


def balances_links(rows, options):
    """M3: AR, revenue and CL through P; RPO buckets after P."""
    journal = Journal(options)
    p = options["period"]
    through = {"period__lte": p}
    revenue, liability = journal.accounts.revenue, journal.accounts.liability
    lookups = {
        "billed": ((Account.AR,), through),
        "recognized": (revenue, through),
        "cl_balance": (liability, through),
        "contract_liability": (liability, through),
        "contract_asset": (liability, through),
        "rpo": (revenue, {"period__gte": period_add(p, 1)}),
        "rpo_12": (revenue, {"period__gte": period_add(p, 1), "period__lte": period_add(p, 12)}),
        "rpo_24": (revenue, {"period__gte": period_add(p, 13), "period__lte": period_add(p, 24)}),
        "rpo_later": (revenue, {"period__gte": period_add(p, 25)}),
    }
    lookups |= {key: (accts, through) for key, accts in _revenue_parts(journal.accounts).items()}

    def link(row, key, sub):
        if key not in lookups:
            return ""
        accounts, periods = lookups[key]
        return journal.url(row, accounts, **periods)

    return link


def rollforward_links(rows, options):
    """M2: a row's period (a totals row: P through Q); opening = before it, closing =
    through it. ASC 606: the carve is every adjustment-liability entry of the period(s),
    the other movements the contract liability's."""
    journal = Journal(options)
    first = options["period"]
    last = options.get("through") or first
    liability = journal.accounts.liability
    moved = journal.accounts.contractual_liability
    carve = journal.accounts.carve_liability

    def link(row, key, sub):
        start, end = (row["period"], row["period"]) if "period" in row else (first, last)
        if key == "opening":
            return journal.url(row, liability, period__lte=period_add(start, -1))
        if key == "closing":
            return journal.url(row, liability, period__lte=end)
        if key == "carve" and carve:
            return journal.url(row, carve, period__gte=start, period__lte=end)
        if key in MOVEMENT_ENTRIES:
            return journal.url(
                row, moved, period__gte=start, period__lte=end, **MOVEMENT_ENTRIES[key]
            )
        return ""

    return link


def checklist_links(rows, options):
    """M4: a check links to the filtered list it counts."""

    def link(row, key, sub):
        return row.get("url") or "" if key in ("check", "detail") else ""

    return link


# --- charts ---------------------------------------------------------------------------------


def _label(period: int | str) -> str:
    period = int(period)
    return f"{period // 100:04d}-{period % 100:02d}"


def waterfall_chart(page):
    """M1 per currency: recognized through P, then what each next period (and every later
    one) adds, up to the total: a bridge, each bar linked to its entries."""
    link = waterfall_links(page.totals, page.options)
    p = page.options["period"]
    charts = []
    for total in page.totals:
        currency = total["currency"]
        steps = [(_label(k), v, link(total, "periods", k)) for k, v in total["periods"].items()]
        steps.append(("Later", total["later"], link(total, "later", None)))
        charts.append(
            chart_bridge(
                id=f"waterfall-{currency}",
                title=f"Revenue {currency}: recognized through {_label(p)}, then by period",
                opening=total["recognized"],
                opening_label=["Recognized", f"≤ {_label(p)}"],
                opening_url=link(total, "recognized", None),
                steps=steps,
                closing=total["total"],
                closing_label="Total",
                closing_url=link(total, "total", None),
                currency=currency,
                height=260,
            )
        )
    return charts


def rollforward_chart(page):
    """M2 per currency: opening → billed, credited, released, reversed, contra (other if
    any, the carve on the ASC 606 basis) → closing, over the report's periods."""
    link = rollforward_links(page.totals, page.options)
    first = page.options["period"]
    last = page.options.get("through") or first
    span = _label(first) if first == last else f"{_label(first)} – {_label(last)}"
    signs = {"billed": 1, "credited": -1, "released": -1, "reversed": 1, "contra": -1, "other": 1}
    signs["carve"] = -1  # ASC 606 basis only: Dr − Cr of the adjustment liability
    charts = []
    for total in page.totals:
        currency = total["currency"]
        steps = [
            (key.capitalize(), sign * total[key], link(total, key, None))
            for key, sign in signs.items()
            if key in total and (key != "other" or total[key])
        ]
        charts.append(
            chart_bridge(
                id=f"rollforward-{currency}",
                title=f"Contract liability {currency}, {span}",
                opening=total["opening"],
                opening_url=link(total, "opening", None),
                steps=steps,
                closing=total["closing"],
                closing_url=link(total, "closing", None),
                currency=currency,
                height=260,
            )
        )
    return charts


def balances_chart(page):
    """M3 per currency: contract liability against contract asset, and the RPO by when it
    will be recognized (stacked)."""
    link = balances_links(page.totals, page.options)
    charts = []
    labels = ["Contract liability", "Contract asset", "RPO"]
    parts = [
        ("Contract liability", "contract_liability", 0, "#2f7dc1"),
        ("Contract asset", "contract_asset", 1, "#d48a00"),
        ("RPO ≤ 12 months", "rpo_12", 2, "#2e8b57"),
        ("RPO 13–24 months", "rpo_24", 2, "#5fb98a"),
        ("RPO later", "rpo_later", 2, "#a7d8bd"),
    ]
    for total in page.totals:
        currency = total["currency"]
        datasets, links = [], []
        for name, key, at, color in parts:
            data = [total[key] if i == at else None for i in range(len(labels))]
            datasets.append({"label": name, "data": data, "stack": "s", "color": color})
            links.append([link(total, key, None) if i == at else None for i in range(3)])
        charts.append(
            chart_bar(
                id=f"balances-{currency}",
                title=f"Contract balances and RPO {currency}",
                labels=labels,
                datasets=datasets,
                links=links,
                currency=currency,
                stacked=True,
                height=260,
            )
        )
    return charts
