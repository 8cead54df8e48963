"""M5's totals and M4's billing check without building the rows (close.md M6): the
database joins the period's document lines to the revenue lines emitted for them, as
``reconcile_rows`` matches them, and adds them up per currency and revenue status.

Amounts travel in integer units so that SQLite and PostgreSQL round alike: a document's
net in cents, a revenue line's ESP in millionths; each document line's figures are
rounded half up to its currency's minor unit, as ``reconcile_row`` rounds them, before
they are added. Tested: equal to the totals and the counts of the rows on every M5 case,
on both databases.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from django.db import connection
from moneyed import CURRENCIES

from core.services import currency_exponent
from revenue.selectors_billing import MICRO, billing_line_figures

from .documents import document_line_figures, period_dates
from .reconcile import (
    _PRIORITY,
    needs_attention,
    reconcile_currency,
    reconcile_period,
    status_without_lines,
)

# a document line's revenue status: the first of _PRIORITY among its lines' (``_status``)
_RANKS = {status: len(_PRIORITY) - i for i, status in enumerate(_PRIORITY)}
_STATUS_OF_RANK = {rank: status for status, rank in _RANKS.items()}
_RANK = (
    "MAX(CASE l.m_status "
    + " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in _RANKS.items())
    + " END)"
)


@cache
def _unit() -> str:
    """SQL: millionths in a minor unit of the document line's currency (``d.d_currency``):
    a CASE over the ISO 4217 currencies whose minor unit is not a hundredth."""
    exponents = ((code, currency_exponent(code)) for code in CURRENCIES)
    odd = sorted((code, e) for code, e in exponents if e != 2 and 0 <= e <= 6)
    return (
        "CASE d.d_currency "
        + " ".join(f"WHEN '{code}' THEN {10 ** (6 - e)}" for code, e in odd)
        + f" ELSE {10**4} END"
    )


def _minor_units(column: str) -> str:
    """SQL: ``column`` (millionths) rounded half up (away from zero) to minor units of the
    row's currency (``unit``: millionths in one, computed once a document line)."""
    return (
        f"CASE WHEN {column} >= 0 THEN ({column} + unit / 2) / unit "
        f"ELSE -((-{column} + unit / 2) / unit) END"
    )


def _per_line(docs, lines, *, batched: bool, unit: str) -> tuple[str, list]:
    """SQL: one row per document line, its figures and the rank of its revenue status."""
    d_sql, d_params = docs.order_by().query.sql_with_params()
    l_sql, l_params = lines.order_by().query.sql_with_params()
    if batched:  # inside the batch the document names (its INV_LINE_ID)
        on, where = "l.m_batch = d.d_batch AND l.m_key = d.d_key", "d.d_batch IS NOT NULL"
    else:  # a voided document: among every line the services staged
        on, where = "l.m_key = d.d_key", "d.d_batch IS NULL"
    sql = (
        "SELECT d.d_currency AS currency, d.d_void AS void, "
        f"d.d_billed * {MICRO // 100} AS billed, {_RANK} AS rank, "
        "CAST(COALESCE(SUM(l.m_collected), 0) AS BIGINT) AS collected, "
        f"{unit} AS unit "
        f"FROM ({d_sql}) d LEFT JOIN ({l_sql}) l ON {on} AND l.m_credit = d.d_credit "
        f"WHERE {where} GROUP BY d.d_credit, d.d_id, d.d_currency, d.d_void, d.d_billed"
    )
    return sql, list(d_params) + list(l_params)


@dataclass
class ReconcileSummary:
    """Per currency: ``billing_total``, ``revenue_total``, ``difference`` (M5's totals);
    ``attention``: document lines per revenue status that ``row_needs_attention``."""

    totals: list[dict] = field(default_factory=list)
    attention: Counter = field(default_factory=Counter)


def reconcile_summary(*, period: int | None = None, currency: str | None = None):
    period = reconcile_period(period)
    currency = reconcile_currency(currency)
    first, last = period_dates(period)
    parts, params = [], []
    for docs in document_line_figures(first=first, last=last, currency=currency):
        for batched in (True, False):
            lines = billing_line_figures(service_only=not batched)
            sql, more = _per_line(docs, lines, batched=batched, unit=_unit())
            parts.append(sql)
            params += more
    billed, revenue = _minor_units("billed"), _minor_units("collected")
    sql = (
        "SELECT currency, rank, void, COUNT(*), SUM(billed_minor), SUM(revenue_minor), "
        "SUM(CASE WHEN billed_minor <> revenue_minor THEN 1 ELSE 0 END) "
        f"FROM (SELECT currency, rank, void, {billed} AS billed_minor, "
        f"{revenue} AS revenue_minor FROM ({' UNION ALL '.join(parts)}) per_line) q "
        "GROUP BY currency, rank, void"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        grouped = cursor.fetchall()
    return _summary(grouped)


def _summary(grouped) -> ReconcileSummary:
    summary = ReconcileSummary()
    minor: dict[str, list[int]] = {}
    for cur, rank, void, count, billed, revenue, differing in grouped:
        cur = str(cur)
        if rank is None:
            status = status_without_lines(void=bool(void))
        else:
            status = _STATUS_OF_RANK[int(rank)]
        sums = minor.setdefault(cur, [0, 0])
        sums[0] += int(billed or 0)
        sums[1] += int(revenue or 0)
        if needs_attention(status, differs=False):
            summary.attention[status] += int(count)
        elif differing and needs_attention(status, differs=True):
            summary.attention[status] += int(differing)
    for cur in sorted(minor):
        billed, revenue = (Decimal(v).scaleb(-currency_exponent(cur)) for v in minor[cur])
        summary.totals.append(
            {
                "currency": cur,
                "billing_total": billed,
                "revenue_total": revenue,
                "difference": billed - revenue,
            }
        )
    return summary


def billing_reconcile_totals(*, period=None, currency=None, **_) -> list[dict]:
    """M5's per-currency totals, as the admin page shows them above one page of rows."""
    return reconcile_summary(period=period, currency=currency).totals
