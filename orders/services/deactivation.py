"""O5 and R10: what keeps an activated order from going back to Draft, and why."""

from __future__ import annotations

from collections.abc import Callable

from ..models import Invoice, InvoiceStatus, Order, OrderItem, OrderKind, OrderStatus
from .emission import emission_collected

# O5: each blocker returns why an order cannot go back to Draft, or None. Billing and
# revenue append theirs (invoices, collected revenue lines) when they are built.
DEACTIVATION_BLOCKERS: list[Callable[[Order], str | None]] = []


def _derived_orders_block(order: Order) -> str | None:
    """R10: name the reduction that touched each product, e.g. "order product
    ORD-000001-1 has been reduced by RO-000042"; other derived orders by number."""
    derived = list(
        Order.objects.filter(original_order=order)
        .exclude(kind=OrderKind.REDUCTION)
        .order_by("id")
        .values_list("number", "kind")
    )
    reduced = list(
        OrderItem.objects.filter(
            order__original_order=order,
            order__kind=OrderKind.REDUCTION,
            order__status__in=[OrderStatus.ACTIVATED, OrderStatus.FULFILLED],
        )
        .order_by("original_order_item__line_number", "order_id")
        .values_list("original_order_item__line_number", "order__number")
        .distinct()
    )
    drafts = list(
        Order.objects.filter(
            original_order=order, kind=OrderKind.REDUCTION, status=OrderStatus.DRAFT
        )
        .order_by("id")
        .values_list("number", flat=True)
    )
    reasons = [
        f"order product {order.number}-{line} has been reduced by {number}"
        for line, number in reduced[:5]
    ]
    if len(reduced) > 5:
        reasons.append(f"and {len(reduced) - 5} more reductions")
    if drafts:
        reasons.append(f"it has draft reduction order(s) {', '.join(drafts[:5])}")
    if derived:
        names = ", ".join(number for number, _kind in derived[:5])
        more = f" and {len(derived) - 5} more" if len(derived) > 5 else ""
        kinds = sorted({OrderKind(kind).label.lower() for _n, kind in derived})
        reasons.append(f"it has {' and '.join(kinds)} order(s) {names}{more}")
    return "; ".join(reasons) or None


def _invoices_block(order: Order) -> str | None:
    numbers = list(
        Invoice.objects.filter(order=order)
        .exclude(status=InvoiceStatus.VOID)
        .order_by("id")
        .values_list("number", flat=True)[:6]
    )
    if not numbers:
        return None
    more = " and more" if len(numbers) > 5 else ""
    return f"it has invoice(s) {', '.join(numbers[:5])}{more}"


def _collected_revenue_block(order: Order) -> str | None:
    collected = emission_collected(batch_ids=[order.revenue_batch_id])
    if not collected:
        return None
    return f"revenue has already collected {collected} of its transaction line(s)"


DEACTIVATION_BLOCKERS.extend([_derived_orders_block, _invoices_block, _collected_revenue_block])
