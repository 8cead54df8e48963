"""M5 billing ↔ revenue reconciliation: every line of the billing documents dated in a
period against the revenue lines emitted for it (close.md M5).

A document names the inbound batch that staged its lines (``revenue_batch_id``); inside it
a line is found by its INV_LINE_ID (``<document number>-<line number>``, emission.py). A
voided document no longer names its batch: its lines, withdrawn or collected, are found by
INV_LINE_ID among the lines the services staged. Revenue is read through
``revenue.selectors_billing``: one query per chunk of document lines, streamed.

Identity, per currency: ``billing_total`` = ``revenue_total`` + Σ ``difference``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from itertools import islice

from moneyed import CurrencyDoesNotExist

from core.exceptions import BusinessRuleRefused
from core.services import currency_exponent, money_round
from revenue.reports.base import AMOUNT, COUNT, Column, Report, Section, amount_text
from revenue.selectors import open_period_id
from revenue.selectors_billing import (
    BillingLine,
    billing_lines_outside,
    inbound_lines_for_batches,
    service_lines_for_keys,
)

from .documents import CHUNK, DocumentLine, document_lines, documents_batches, period_dates

KIND = "billing_reconcile"
ZERO = Decimal(0)

COLLECTED, NEW, STOPPED, WAITING, MISSING, WITHDRAWN = (
    "collected",
    "new",
    "stopped",
    "waiting",
    "missing",
    "withdrawn",
)
REVENUE_STATUSES = (COLLECTED, NEW, STOPPED, WAITING, MISSING, WITHDRAWN)
# several lines for one document line (never from the services): the one to look at first
_PRIORITY = (STOPPED, WAITING, NEW, COLLECTED, WITHDRAWN)

COLUMNS = [
    Column("document", "Document"),
    Column("line", "Line", COUNT),
    Column("currency", "Currency"),
    Column("billing_amount", "Billing amount", AMOUNT, total_key="billing_total"),
    Column("revenue_status", "Revenue status"),
    Column("revenue_amount", "Revenue amount", AMOUNT, total_key="revenue_total"),
    Column("difference", "Difference", AMOUNT),
    Column("reason", "Reason"),
]
UNEXPLAINED_COLUMNS = [
    Column("id", "Staging id", COUNT),
    Column("tran_type", "TRAN_TYPE"),
    Column("inv_line_id", "INV_LINE_ID"),
    Column("so_line_id", "SO_LINE_ID"),
    Column("inv_date", "INV_DATE"),
    Column("currency", "Currency"),
    Column("amount", "EXT_SLL_PRC", AMOUNT),
    Column("revenue_status", "Revenue status"),
    Column("batch", "Batch"),
]
IDENTITY = "per currency, billing_total = revenue_total + Σ difference"


# --- one row per document line ------------------------------------------------------------


def _money(amount: Decimal, currency: str) -> str:
    return format(Decimal(amount_text(amount, currency)), ",f")


def status_without_lines(*, void: bool) -> str:
    """A document line no revenue line was found for: withdrawn when void, else missing."""
    return WITHDRAWN if void else MISSING


def _status(doc: DocumentLine, lines: list[BillingLine]) -> str:
    if not lines:
        return status_without_lines(void=doc.void)
    present = {line.revenue_status for line in lines}
    return next(s for s in _PRIORITY if s in present)


def _reason(doc: DocumentLine, status: str, lines: list[BillingLine], billed, revenue) -> str:
    cur = doc.currency
    ids = ", ".join(f"#{line.id}" for line in lines)
    if doc.void:
        if status == WITHDRAWN and not revenue:
            return "Void: its revenue line was withdrawn before collection."
        if revenue:
            return (
                f"Void, but revenue had collected {_money(revenue, cur)} for it ({ids}): "
                "that revenue stays booked."
            )
        return f"Void, but its revenue line ({ids}) is still staged: withdraw it."
    if status == MISSING:
        if doc.batch_id:
            return f"No revenue line for it in batch {doc.batch_id}."
        return "No revenue line was staged for it."
    if status == COLLECTED:
        if revenue == billed:
            return "Collected as billed."
        return f"Revenue collected {_money(revenue, cur)} for {_money(billed, cur)} billed ({ids})."
    if status == STOPPED:
        codes = ", ".join(sorted({c for line in lines for c in line.error_codes.split(";") if c}))
        return (
            f"Stopped in staging ({codes or 'no error code'}, {ids}): revenue has none of it "
            "until it is fixed and collected."
        )
    if status == WAITING:
        return f"Waiting for its SO line {lines[0].so_line_id} to be collected ({ids})."
    if status == NEW:
        return f"Staged ({ids}), not collected yet: the next collection takes it."
    reasons = "; ".join(sorted({line.withdrawn_reason for line in lines if line.withdrawn_reason}))
    return (
        f"Its revenue line was withdrawn ({reasons or 'by its source'}) although the "
        "document is not void."
    )


def reconcile_row(doc: DocumentLine, lines: list[BillingLine]) -> dict:
    """M5: one document line against the revenue lines emitted for it."""
    lines = [line for line in lines if line.tran_type in doc.tran_types]
    billed = ZERO if doc.void else (-doc.net if doc.credit else doc.net)
    collected = sum((line.esp or ZERO for line in lines if line.is_collected), ZERO)
    revenue = money_round(amount=collected, currency=doc.currency)
    billed = money_round(amount=billed, currency=doc.currency)
    status = _status(doc, lines)
    return {
        "document": doc.document,
        "line": doc.line,
        "currency": doc.currency,
        "billing_amount": billed,
        "revenue_status": status,
        "revenue_amount": revenue,
        "difference": billed - revenue,
        "reason": _reason(doc, status, lines, billed, revenue),
    }


def needs_attention(status: str, differs: bool) -> bool:
    """M4: a document line whose revenue is missing, stopped, or collected (or withdrawn)
    for a different amount. New and waiting lines have checks of their own."""
    if status in (MISSING, STOPPED):
        return True
    return status in (COLLECTED, WITHDRAWN) and differs


def row_needs_attention(row: dict) -> bool:
    return needs_attention(row["revenue_status"], row["difference"] != 0)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def reconcile_rows(docs: Iterable[DocumentLine]) -> Iterator[dict]:
    """Rows for a stream of document lines: two reads of revenue per chunk."""
    for chunk in _chunks(docs, CHUNK):
        by_batch = inbound_lines_for_batches(batch_ids=[d.batch_id for d in chunk])
        by_key = service_lines_for_keys(keys=[d.key for d in chunk if not d.batch_id])
        for doc in chunk:
            if doc.batch_id:
                lines = by_batch.get((doc.batch_id, doc.key), [])
            else:
                lines = by_key.get(doc.key, [])
            yield reconcile_row(doc, lines)


class _Totals:
    """Per-currency totals of the rows as they stream past."""

    def __init__(self):
        self.by_currency: dict[str, dict] = {}

    def stream(self, rows: Iterable[dict]) -> Iterator[dict]:
        for row in rows:
            total = self.by_currency.setdefault(
                row["currency"],
                {
                    "currency": row["currency"],
                    "billing_total": ZERO,
                    "revenue_total": ZERO,
                    "difference": ZERO,
                },
            )
            total["billing_total"] += row["billing_amount"]
            total["revenue_total"] += row["revenue_amount"]
            total["difference"] += row["difference"]
            yield row

    def rows(self) -> list[dict]:
        return [self.by_currency[c] for c in sorted(self.by_currency)]


# --- revenue lines no document explains --------------------------------------------------


def _unexplained_row(line: BillingLine) -> dict:
    try:
        currency_exponent(line.currency)
        amount = line.esp
    except CurrencyDoesNotExist:  # no valid CURR: stopped, its amount has no currency
        amount = None
    return {
        "id": line.id,
        "tran_type": line.tran_type,
        "inv_line_id": line.inv_line_id,
        "so_line_id": line.so_line_id,
        "inv_date": line.inv_date.isoformat() if line.inv_date else "",
        "currency": line.currency,
        "amount": amount,
        "revenue_status": line.revenue_status,
        "batch": f"{line.batch_id} {line.filename or line.source}".strip(),
    }


def unexplained_rows(*, first: date, last: date, currency: str | None) -> Iterator[dict]:
    """Billing-type revenue lines dated in the period that no billing document of the
    period staged (another system's lines): listed apart, not in rows or totals."""
    unbatched = document_lines(first=first, last=last, unbatched=True)
    explained: set[int] = set()
    for chunk in _chunks(unbatched, CHUNK):
        found = service_lines_for_keys(keys=[d.key for d in chunk])
        explained.update(line.id for lines in found.values() for line in lines)
    lines = billing_lines_outside(
        batch_ids=documents_batches(first, last),
        period_start=first,
        period_end=last,
        currency=currency,
        exclude_ids=explained,
    )
    for line in lines:
        yield _unexplained_row(line)


# --- the report ---------------------------------------------------------------------------


def reconcile_period(period: int | None) -> int:
    """P: the given period (YYYYMM), else the open one."""
    if period is None:
        current = open_period_id()
        if current is None:
            raise BusinessRuleRefused(
                rule="S1", field="period", message="there is no open period: give a period"
            )
        return current
    if not (190001 <= period <= 299912 and 1 <= period % 100 <= 12):
        raise BusinessRuleRefused(
            rule="S1", field="period", message=f"'{period}' is not a period: use YYYYMM"
        )
    return period


def reconcile_currency(currency: str | None) -> str | None:
    if not currency:
        return None
    code = str(currency).strip().upper()
    try:
        currency_exponent(code)
    except CurrencyDoesNotExist:
        raise BusinessRuleRefused(
            rule="M5",
            field="currency",
            message=f"currency '{currency}' is not an ISO 4217 currency code",
        ) from None
    return code


def billing_reconcile_report(
    *, period: int | None = None, currency: str | None = None, groups: list | None = None
) -> Report:
    """M5: one row per line of the billing documents dated in P (default: the open period),
    totals per currency, and the period's revenue lines no document explains.

    ``groups``: only these document lines (``documents.DocumentLineKeys``, an admin page);
    the totals are then those of these rows alone."""
    period = reconcile_period(period)
    currency = reconcile_currency(currency)
    first, last = period_dates(period)
    totals = _Totals()
    docs = document_lines(first=first, last=last, currency=currency, keys=groups)
    rows = totals.stream(reconcile_rows(docs))
    return Report(
        kind=KIND,
        title="Billing ↔ revenue reconciliation",
        period=period,
        columns=COLUMNS,
        rows=rows,
        totals=totals.rows,
        params={"currency": currency or "all"},
        sections=[
            Section(
                key="unexplained",
                title="Unexplained revenue lines",
                columns=UNEXPLAINED_COLUMNS,
                rows=unexplained_rows(first=first, last=last, currency=currency),
            )
        ],
        identity=IDENTITY,
    )
