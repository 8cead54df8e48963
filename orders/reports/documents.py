"""The billing documents of a period as M5 reads them: the lines of the invoices and
credit memos dated in it that revenue was sent (posted or issued; void ones that had been),
streamed by document number and line number (close.md M5)."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import BigIntegerField, Case, CharField, F, IntegerField, Q, Value, When
from django.db.models.functions import Cast, Concat, Round

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


def _sources(first: date, last: date, currency: str | None):
    """(line model, its document field, the documents, their void status, credit?)."""
    return (
        (InvoiceLine, "invoice", _invoices(first, last, currency), InvoiceStatus.VOID, False),
        (
            CreditMemoLine,
            "credit_memo",
            _credit_memos(first, last, currency),
            CreditMemoStatus.VOID,
            True,
        ),
    )


def _lines_of(model, parent: str, documents):
    return model.objects.filter(**{f"{parent}__in": documents})


def _ordered_lines(model, parent: str, documents):
    return _lines_of(model, parent, documents).order_by(f"{parent}__number", "line_number")


def document_lines(
    *,
    first: date,
    last: date,
    currency: str | None = None,
    unbatched: bool = False,
    keys: list[tuple[bool, int]] | None = None,
) -> Iterator[DocumentLine]:
    """Invoice lines, then credit memo lines, of the documents dated in [first, last],
    by document number and line number. ``unbatched``: only documents without a batch;
    ``keys``: only these lines (``DocumentLineKeys``: (credit?, line id))."""
    for model, parent, documents, void, credit in _sources(first, last, currency):
        if unbatched:
            documents = documents.filter(revenue_batch_id__isnull=True)
        lines = _ordered_lines(model, parent, documents)
        if keys is not None:
            lines = lines.filter(pk__in=[pk for is_credit, pk in keys if is_credit == credit])
        lines = lines.values_list(
            f"{parent}__number",
            "line_number",
            f"{parent}__currency",
            "net",
            f"{parent}__status",
            "is_void",
            f"{parent}__revenue_batch_id",
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


class DocumentLineKeys:
    """The period's document lines in ``document_lines`` order as (credit?, line id)
    keys, counted and sliced by the database: an admin page reads only its own lines."""

    def __init__(self, *, first: date, last: date, currency: str | None = None):
        self.parts = [
            (credit, _ordered_lines(model, parent, documents).values_list("pk", flat=True))
            for model, parent, documents, _void, credit in _sources(first, last, currency)
        ]
        self._counts: list[int] | None = None

    def _sizes(self) -> list[int]:
        if self._counts is None:
            self._counts = [lines.count() for _credit, lines in self.parts]
        return self._counts

    def count(self) -> int:
        return sum(self._sizes())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[tuple[bool, int]]:
        start, stop = item.start or 0, item.stop
        found: list[tuple[bool, int]] = []
        offset = 0
        for (credit, lines), size in zip(self.parts, self._sizes(), strict=True):
            low, high = max(start - offset, 0), min(stop - offset, size)
            if low < high:
                found += [(credit, pk) for pk in lines[low:high]]
            offset += size
        return found


def document_line_figures(*, first: date, last: date, currency: str | None = None) -> list:
    """The period's document lines as M5's set-based totals read them: one values
    queryset per kind (invoice lines, credit memo lines) with ``d_id``, ``d_credit``,
    ``d_currency``, ``d_void``, ``d_batch``, ``d_key`` (INV_LINE_ID) and ``d_billed``:
    the amount revenue should receive, in cents, signed (credit memos negative, void 0)."""
    found = []
    for model, parent, documents, void, credit in _sources(first, last, currency):
        is_void = Q(**{f"{parent}__status": void}) | Q(is_void=True)
        cents = Cast(Round(F("net") * 100), BigIntegerField())
        found.append(
            _lines_of(model, parent, documents)
            .annotate(
                d_id=F("pk"),
                d_credit=Value(int(credit), output_field=IntegerField()),
                d_currency=F(f"{parent}__currency"),
                d_void=Case(When(is_void, then=Value(1)), default=Value(0)),
                d_batch=F(f"{parent}__revenue_batch_id"),
                d_key=Concat(
                    F(f"{parent}__number"),
                    Value("-"),
                    Cast("line_number", CharField()),
                    output_field=CharField(),
                ),
                d_billed=Case(
                    When(is_void, then=Value(0)),
                    default=-cents if credit else cents,
                    output_field=BigIntegerField(),
                ),
            )
            .values("d_id", "d_credit", "d_currency", "d_void", "d_batch", "d_key", "d_billed")
        )
    return found


def documents_batches(first: date, last: date) -> list:
    """The batches the period's documents staged, as subqueries (never null: NOT IN)."""
    return [
        documents.filter(revenue_batch_id__isnull=False).values("revenue_batch_id")
        for documents in (_invoices(first, last, None), _credit_memos(first, last, None))
    ]
