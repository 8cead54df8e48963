"""O5 for returns: an order with return orders cannot go back to Draft."""

from __future__ import annotations

from orders.models import Order

from ..models import ReturnOrder


def rma_deactivation_block(order: Order) -> str | None:
    numbers = list(
        ReturnOrder.objects.filter(order=order).order_by("id").values_list("number", flat=True)[:6]
    )
    if not numbers:
        return None
    more = " and more" if len(numbers) > 5 else ""
    return f"it has return order(s) {', '.join(numbers[:5])}{more}"
