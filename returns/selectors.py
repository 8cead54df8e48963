"""Reads of the returns app that the admin pages (and tests) share. Read only: every
write is a service. Each selector runs a fixed number of queries whatever the number of
lines, processings or refunds it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from core.models import AuditEvent
from core.queries import correlated_count

from .models import (
    LineStatus,
    LineType,
    Refund,
    ReturnOrder,
    ReturnOrderLine,
    ReturnProcessing,
    ReturnStatus,
)

ZERO = Decimal("0")
QTY_OUT = DecimalField(max_digits=18, decimal_places=4)


def return_orders_with_summary(queryset: QuerySet[ReturnOrder]) -> QuerySet[ReturnOrder]:
    """The RMA list's figures per row: product lines (open ones), units expected and
    returned. Correlated subqueries, not a GROUP BY over the join, so the database works
    them out for the rows of the page only."""
    products = (
        ReturnOrderLine.objects.filter(return_order=OuterRef("pk"))
        .exclude(type=LineType.FEE)
        .order_by()
        .values("return_order")
    )

    def count_of(condition=None):
        return correlated_count(products.filter(condition) if condition is not None else products)

    def total_of(name):
        return Coalesce(
            Subquery(products.annotate(t=Sum(name)).values("t"), output_field=QTY_OUT),
            Value(ZERO),
            output_field=QTY_OUT,
        )

    return queryset.annotate(
        _lines=count_of(),
        _open_lines=count_of(Q(status=LineStatus.OPEN)),
        _expected=total_of("quantity_expected"),
        _returned=total_of("quantity_returned"),
    )


def return_orders_with_reason(queryset: QuerySet[ReturnOrder], reason: str) -> QuerySet:
    """RMAs whose header reason, or the reason of any of their lines, is ``reason``."""
    lines = ReturnOrderLine.objects.filter(return_order=OuterRef("pk"), reason=reason)
    return queryset.filter(Q(reason=reason) | Exists(lines))


@dataclass
class ProductLineGroup:
    """A product (or delivery charge) line and the fee lines that belong to it."""

    line: ReturnOrderLine
    fees: list[ReturnOrderLine] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.line.status == LineStatus.OPEN

    @property
    def open_fees(self) -> list[ReturnOrderLine]:
        return [fee for fee in self.fees if fee.status == LineStatus.OPEN]


def return_order_line_groups(*, return_order: ReturnOrder) -> list[ProductLineGroup]:
    """Every line of the RMA, product lines in line order, each followed by its fees.
    One query."""
    lines = list(
        ReturnOrderLine.objects.filter(return_order=return_order)
        .select_related(
            "product",
            "order_item__order",
            "split_from",
            "processing",
            "processed_by",
        )
        .order_by("line_number", "pk")
    )
    groups: dict[int, ProductLineGroup] = {}
    orphans: list[ReturnOrderLine] = []
    for line in lines:
        line.return_order = return_order  # str(line) without a query
        if line.type != LineType.FEE:
            groups[line.pk] = ProductLineGroup(line=line)
    for line in lines:
        if line.type == LineType.FEE:
            group = groups.get(line.product_line_id)
            if group is None:  # the constraint forbids it; shown rather than hidden
                orphans.append(line)
            else:
                group.fees.append(line)
    result = list(groups.values())
    result += [ProductLineGroup(line=line) for line in orphans]
    return result


def return_order_open_groups(*, return_order: ReturnOrder) -> list[ProductLineGroup]:
    """*Return items*: the open product lines and their open fees (T6, T7)."""
    return [
        ProductLineGroup(line=group.line, fees=group.open_fees)
        for group in return_order_line_groups(return_order=return_order)
        if group.is_open and group.line.type != LineType.FEE
    ]


def return_order_processings(*, return_order: ReturnOrder) -> list[ReturnProcessing]:
    """The RMA's processings, oldest first, with their documents and refund (``the_refund``,
    None when none was ensured yet). One query."""
    processings = list(
        ReturnProcessing.objects.filter(return_order=return_order)
        .select_related(
            "change_order",
            "fee_change_order",
            "credit_memo",
            "fee_invoice",
            "refund",
            "created_by",
        )
        .order_by("created_at", "pk")
    )
    for processing in processings:
        processing.return_order = return_order
        processing.the_refund = getattr(processing, "refund", None)
    return processings


def return_order_units(groups: list[ProductLineGroup]) -> dict[str, Decimal]:
    """Units over the product lines: expected (as first asked: processed + split + canceled
    lines add up to it), received, returned, rejected, canceled and still open."""
    totals = dict.fromkeys(
        ("expected", "received", "returned", "rejected", "canceled", "open"), ZERO
    )
    for group in groups:
        line = group.line
        if line.type == LineType.FEE:
            continue
        totals["expected"] += line.quantity_expected
        totals["received"] += line.quantity_received
        totals["returned"] += line.quantity_returned
        totals["rejected"] += line.quantity_rejected
        totals["canceled"] += line.quantity_canceled
        if line.status == LineStatus.OPEN:
            totals["open"] += line.quantity_expected
    return totals


def can_return_items(return_order: ReturnOrder, groups: list[ProductLineGroup]) -> bool:
    """*Return items* makes sense: Approved, with an open product line (T6)."""
    return return_order.status == ReturnStatus.APPROVED and any(
        group.is_open and group.line.type != LineType.FEE for group in groups
    )


def return_order_history(*, return_order: ReturnOrder, refund_ids: list[int]) -> list[AuditEvent]:
    """The RMA's audit events (T15) and those of its refunds, oldest first; a refund's
    event reads "RF-000001: marked failed" (``action_label``, its action's label after the
    refund's number; ``action`` stays the stored value). One query."""
    types = ContentType.objects.get_for_models(ReturnOrder, Refund)
    events = list(
        AuditEvent.objects.filter(
            Q(content_type=types[ReturnOrder], object_id=str(return_order.pk))
            | Q(content_type=types[Refund], object_id__in=[str(pk) for pk in refund_ids])
        ).order_by("at", "id")
    )
    for event in events:
        if event.content_type_id == types[Refund].pk:
            label = event.get_action_display()
            event.action_label = f"{event.object_repr}: {label[:1].lower()}{label[1:]}"
    return events
