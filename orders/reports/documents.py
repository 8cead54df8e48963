"""The billing documents of a period as M5 reads them: the lines of the invoices and
credit memos dated in it that revenue was sent (posted or issued; void ones that had been),
streamed by document number and line number (close.md M5)."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q

from revenue.models.choices import TranType

from ..models import (
    CreditMemo,
    CreditMemoLine,
    CreditMemoStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)

CHUNK = 2000


@dataclass(frozen=True)
class DocumentLine:
    document: str
    line: int
    currency: str
    net: Decimal  # as the document holds it: positive
    credit: bool  # a credit memo's line: revenue receives it negative
    void: bool
    batch_id: int | None

    @property
    def key(self) -> str:
        return f"{self.document}-{self.line}"  # INV_LINE_ID (emission.py)

    @property
    def tran_types(self) -> tuple[str, ...]:
        if self.credit:
            return (TranType.CM, TranType.CM_R, TranType.CM_RO)
        return (TranType.INV,)


def period_dates(period: int) -> tuple[date, date]:
    year, month = divmod(period, 100)
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _sent(*, live: str, void: str, stamp: str) -> Q:
    """Documents revenue was sent: live ones, and void ones that had been posted or
    issued (a draft voided before never staged anything)."""
    return Q(status=live) | Q(status=void, **{f"{stamp}__isnull": False})


def _invoices(first: date, last: date, currency: str | None):
    documents = Invoice.objects.filter(invoice_date__range=(first, last)).filter(
        _sent(live=InvoiceStatus.POSTED, void=InvoiceStatus.VOID, stamp="posted_at")
    )
    return documents.filter(currency=currency) if currency else documents


def _credit_memos(first: date, last: date, currency: str | None):
    documents = CreditMemo.objects.filter(memo_date__range=(first, last)).filter(
        _sent(live=CreditMemoStatus.ISSUED, void=CreditMemoStatus.VOID, stamp="issued_at")
    )
    return documents.filter(currency=currency) if currency else documents


def document_lines(
    *, first: date, last: date, currency: str | None = None, unbatched: bool = False
) -> Iterator[DocumentLine]:
    """Invoice lines, then credit memo lines, of the documents dated in [first, last],
    by document number and line number. ``unbatched``: only documents without a batch."""
    sources = (
        (InvoiceLine, "invoice", _invoices(first, last, currency), InvoiceStatus.VOID, False),
        (
            CreditMemoLine,
            "credit_memo",
            _credit_memos(first, last, currency),
            CreditMemoStatus.VOID,
            True,
        ),
    )
    for model, parent, documents, void, credit in sources:
        if unbatched:
            documents = documents.filter(revenue_batch_id__isnull=True)
        lines = (
            model.objects.filter(**{f"{parent}__in": documents})
            .order_by(f"{parent}__number", "line_number")
            .values_list(
                f"{parent}__number",
                "line_number",
                f"{parent}__currency",
                "net",
                f"{parent}__status",
                "is_void",
                f"{parent}__revenue_batch_id",
            )
        )
        for number, line, cur, net, status, line_void, batch in lines.iterator(CHUNK):
            yield DocumentLine(
                document=number,
                line=line,
                currency=str(cur),
                net=net,
                credit=credit,
                void=status == void or line_void,
                batch_id=batch,
            )


def documents_batches(first: date, last: date) -> list:
    """The batches the period's documents staged, as subqueries (never null: NOT IN)."""
    return [
        documents.filter(revenue_batch_id__isnull=False).values("revenue_batch_id")
        for documents in (_invoices(first, last, None), _credit_memos(first, last, None))
    ]
