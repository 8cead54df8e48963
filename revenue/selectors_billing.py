"""Billing-type staging lines as the billing ↔ revenue reconciliation reads them (close.md M5).

The orders app owns the reconciliation (it knows the documents); it reads revenue's lines
only through these functions, a few set-based queries for a whole period, never one per
document. Revenue still knows nothing of orders: the caller passes batch ids (a list, or a
values queryset that the database runs as a subquery) and INV_LINE_IDs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import BigIntegerField, Case, CharField, F, IntegerField, Q, Value, When
from django.db.models.functions import Cast, Coalesce, Round

from .models import InboundBatch, InboundLine
from .models.choices import BILLING_TYPES, LineStatus, TranType

CHUNK = 2000
FIELDS = (
    "id",
    "batch_id",
    "tran_type",
    "inv_line_id",
    "so_line_id",
    "inv_date",
    "curr",
    "ext_sll_prc",
    "status",
    "waiting",
    "error_codes",
    "withdrawn_reason",
    "batch__source",
    "batch__filename",
    "revenue_status",
)

# Where a billing line stands, in M5's words: one definition, read by the rows and by the
# set-based totals alike. An error line waiting for its SO line (V12) is "waiting", any
# other error (or an unknown status) "stopped".
REVENUE_STATUS = Case(
    When(Q(status=LineStatus.ERROR, waiting=True), then=Value("waiting")),
    When(status=LineStatus.NEW, then=Value("new")),
    When(status=LineStatus.COLLECTED, then=Value("collected")),
    When(status=LineStatus.WITHDRAWN, then=Value("withdrawn")),
    default=Value("stopped"),
    output_field=CharField(),
)
MICRO = 1_000_000  # EXT_SLL_PRC holds six decimals: millionths are exact integers


@dataclass(frozen=True)
class BillingLine:
    """One staged INV, CM, CM-R or CM-RO line: what it says and where it stands."""

    id: int
    batch_id: int
    tran_type: str
    inv_line_id: str
    so_line_id: str
    inv_date: date | None
    currency: str
    esp: Decimal | None
    status: str
    waiting: bool
    error_codes: str
    withdrawn_reason: str
    source: str
    filename: str
    revenue_status: str  # REVENUE_STATUS

    @property
    def is_collected(self) -> bool:
        return self.status == LineStatus.COLLECTED


def _values(queryset):
    return queryset.annotate(revenue_status=REVENUE_STATUS).values_list(*FIELDS)


def _lines(queryset) -> Iterator[BillingLine]:
    """Streamed (a server-side cursor on PostgreSQL): for reads of any size."""
    for values in _values(queryset).iterator(chunk_size=CHUNK):
        yield BillingLine(*values)


def _lines_bounded(queryset) -> list[BillingLine]:
    """A read bounded by its keys (a chunk of batches or line ids), fetched at once: as a
    cursor PostgreSQL plans it for its first rows (by id over the whole table, 0.8 s at
    1M lines) instead of by the keys' index (8 ms)."""
    return [BillingLine(*values) for values in _values(queryset)]


def inbound_lines_for_batches(*, batch_ids: Iterable[int]) -> dict[tuple[int, str], list]:
    """(batch id, INV_LINE_ID) → the billing-type lines of these batches (withdrawn ones
    too: a voided document's lines stay recorded, I4). One query per call."""
    ids = sorted({b for b in batch_ids if b})
    found: dict[tuple[int, str], list[BillingLine]] = {}
    if not ids:
        return found
    lines = InboundLine.objects.filter(batch_id__any=ids, tran_type__in=BILLING_TYPES)
    for line in _lines_bounded(lines.order_by("id")):
        found.setdefault((line.batch_id, line.inv_line_id), []).append(line)
    return found


def service_lines_for_keys(*, keys: Iterable[str]) -> dict[str, list[BillingLine]]:
    """INV_LINE_ID → the billing-type lines the order and returns services staged with it.

    For a document that no longer names its batch (a voided one): its lines are still
    recorded, withdrawn or, when revenue had collected them, collected."""
    wanted = sorted({k for k in keys if k})
    found: dict[str, list[BillingLine]] = {}
    if not wanted:
        return found
    lines = InboundLine.objects.filter(
        tran_type__in=BILLING_TYPES,
        line_key__any=wanted,  # the line key of a billing line is its INV_LINE_ID
        batch__source=InboundBatch.SourceKind.SERVICE,
    )
    for line in _lines_bounded(lines.order_by("id")):
        found.setdefault(line.inv_line_id, []).append(line)
    return found


def billing_lines_outside(
    *,
    batch_ids: Iterable,
    period_start: date,
    period_end: date,
    currency: str | None = None,
    exclude_ids: Iterable[int] = (),
) -> Iterator[BillingLine]:
    """Billing-type lines dated (INV_DATE) in the period, collected or still staged (not
    withdrawn), that are in none of ``batch_ids``: lines no billing document of the
    period explains, such as another system's files. Streamed, ordered by content.

    ``batch_ids``: lists of ids or values querysets (each becomes a subquery, so no list
    of a month's batches travels to the database)."""
    lines = InboundLine.objects.filter(
        tran_type__in=BILLING_TYPES, inv_date__range=(period_start, period_end)
    ).exclude(status=LineStatus.WITHDRAWN)
    if currency:
        lines = lines.filter(curr=currency)
    for ids in batch_ids:
        lines = lines.exclude(batch_id__in=ids)
    excluded = sorted(set(exclude_ids))
    if excluded:
        lines = lines.exclude(id__any=excluded)
    yield from _lines(lines.order_by("inv_date", "inv_line_id", "tran_type", "id"))


def billing_line_figures(*, service_only: bool = False):
    """Every billing-type line as M5's set-based totals join it to a document line: a
    values queryset (its SQL is a subquery of the orders app's join) with ``m_batch``,
    ``m_key`` (INV_LINE_ID), ``m_credit`` (1 for CM, CM-R, CM-RO), ``m_status``
    (REVENUE_STATUS) and ``m_collected``: its ESP in millionths when collected, else 0.
    ``service_only``: the lines the order and returns services staged (for documents that
    no longer name their batch)."""
    lines = InboundLine.objects.filter(tran_type__in=BILLING_TYPES)
    if service_only:
        lines = lines.filter(batch__source=InboundBatch.SourceKind.SERVICE)
    micro = Cast(Round(Coalesce(F("ext_sll_prc"), Value(Decimal(0))) * MICRO), BigIntegerField())
    return lines.annotate(
        m_batch=F("batch_id"),
        m_key=F("line_key"),  # the line key of a billing line is its INV_LINE_ID
        m_credit=Case(
            When(tran_type=TranType.INV, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        m_status=REVENUE_STATUS,
        m_collected=Case(
            When(status=LineStatus.COLLECTED, then=micro),
            default=Value(0),
            output_field=BigIntegerField(),
        ),
    ).values("m_batch", "m_key", "m_credit", "m_status", "m_collected")
