"""Independent arithmetic for the month-end report tests (close.md M1–M3).

The expected figures are recomputed from ``revenue_export journal`` rows (one per account
side), never through the reports' own selectors, so a test compares two paths."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal

from django.core.management import call_command

REVENUE = ("REVENUE", "ADJ_REVENUE")
LIABILITY = ("CONTRACT_LIABILITY", "ADJ_LIABILITY")

M1_ROW_KEYS = {"group", "currency", "recognized", "periods", "later", "deferred", "total"}
M2_ROW_KEYS = {
    "period",
    "currency",
    "opening",
    "billed",
    "credited",
    "released",
    "reversed",
    "contra",
    "other",
    "closing",
}
# the ASC 606 basis (the default) adds recognized's contractual and carve parts to M1 and
# M3 rows and the carve movement to M2 rows (carve.md K9); the contractual basis has the
# keys above
CARVE_KEYS = {"contractual", "carve"}
M3_ROW_KEYS = {
    "group",
    "currency",
    "billed",
    "recognized",
    "cl_balance",
    "contract_liability",
    "contract_asset",
    "rpo",
    "rpo_12",
    "rpo_24",
    "rpo_later",
}


def report(kind: str, *args) -> dict:
    out = io.StringIO()
    call_command("revenue_report", kind, "--format", "json", *args, stdout=out)
    return json.loads(out.getvalue())


def journal_sides() -> list[dict]:
    out = io.StringIO()
    call_command("revenue_export", "journal", stdout=out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def credit_nets(sides: list[dict], accounts) -> dict[tuple[str, int], Decimal]:
    """(currency, period) → Σ Cr − Σ Dr of ``accounts``."""
    nets: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for side in sides:
        if side["ACCOUNT"] in accounts:
            key = (side["CURRENCY"], int(side["PERIOD"]))
            nets[key] += Decimal(side["CR"]) - Decimal(side["DR"])
    return nets


def through(nets: dict, currency: str, period: int) -> Decimal:
    return sum((v for (c, p), v in nets.items() if c == currency and p <= period), Decimal(0))


def after(nets: dict, currency: str, period: int) -> Decimal:
    return sum((v for (c, p), v in nets.items() if c == currency and p > period), Decimal(0))


def totals_by_currency(data: dict) -> dict[str, dict]:
    return {t["currency"]: t for t in data["totals"]}


def dec(text: str) -> Decimal:
    return Decimal(text)


def assert_fast_totals(kind: str, data: dict, **options) -> None:
    """M6: the totals an admin page shows without the rows (``report_totals``, from the
    maintained ledger totals where it can) are the JSON's totals of the whole report."""
    from revenue.reports import report_totals

    def plain(total: dict) -> dict:
        out = {}
        for key, value in total.items():
            if key == "currency":
                out[key] = value
            elif isinstance(value, dict):
                out[key] = {k: Decimal(v) for k, v in value.items()}
            else:
                out[key] = Decimal(value)
        return out

    fast = [plain(t) for t in report_totals(kind, **options)]
    assert fast == [plain(t) for t in data["totals"]], (kind, options)
