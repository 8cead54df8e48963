"""Reads that the admin pages, exports and tests share (R12)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from core.services import sum_exact

from .models import ContractAction, Order, OrderItem, OrderKind, OrderStatus

ZERO = Decimal("0")


@dataclass(frozen=True)
class NetRow:
    """R12: one product of an order, net of its reductions (quantities positive)."""

    item: OrderItem
    sold: Decimal
    reduced: Decimal  # activated reductions
    pending: Decimal  # draft reductions
    net: Decimal  # sold − reduced
    available: Decimal  # what can still be reduced


def order_net_quantities(*, order: Order) -> list[NetRow]:
    """R12: sold, reduced, pending and net quantity per product, in one query."""
    reductions = Q(reduction_items__order__kind=OrderKind.REDUCTION)
    items = (
        OrderItem.objects.filter(order_id=order.pk)
        .select_related("product")
        .annotate(
            reduced_sum=Sum(
                "reduction_items__quantity",
                filter=reductions & Q(reduction_items__order__status=OrderStatus.ACTIVATED),
            ),
            pending_sum=Sum(
                "reduction_items__quantity",
                filter=reductions & Q(reduction_items__order__status=OrderStatus.DRAFT),
            ),
        )
        .order_by("line_number")
    )
    rows = []
    for item in items:
        reduced = ZERO - sum_exact(item.reduced_sum)
        pending = ZERO - sum_exact(item.pending_sum)
        rows.append(
            NetRow(
                item=item,
                sold=item.quantity,
                reduced=reduced,
                pending=pending,
                net=item.quantity - reduced,
                available=item.reducible_quantity,  # R7 with T2, T13
            )
        )
    return rows


def order_reductions(*, order: Order) -> QuerySet[Order]:
    """R12: the reduction orders (and cancellations) of ``order``, oldest first, with their
    totals (net_total, tax_total, gross_total), item_count, reduced_quantity (positive)
    and is_cancellation."""
    return (
        Order.objects.filter(original_order_id=order.pk, kind=OrderKind.REDUCTION)
        .annotate(
            item_count=Count("items"),
            quantity_sum=Sum("items__quantity"),
            is_cancellation=Exists(
                OrderItem.objects.filter(
                    order_id=OuterRef("pk"), contract_action=ContractAction.CANCEL
                )
            ),
        )
        .order_by("id")
    )


def reduced_quantity(order: Order) -> Decimal:
    """The positive reduced quantity of an annotated ``order_reductions`` row."""
    return ZERO - sum_exact(getattr(order, "quantity_sum", None))
