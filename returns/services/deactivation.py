"""O5 for returns: an order with return orders cannot go back to Draft."""

from __future__ import annotations

from orders.models import CreditMemo, Order

from ..models import Refund, RefundStatus, ReturnOrder


def rma_deactivation_block(order: Order) -> str | None:
    numbers = list(
        ReturnOrder.objects.filter(order=order).order_by("id").values_list("number", flat=True)[:6]
    )
    if not numbers:
        return None
    more = " and more" if len(numbers) > 5 else ""
    return f"it has return order(s) {', '.join(numbers[:5])}{more}"


def refund_void_block(document) -> str | None:
    """B5, B6 with T9: a credit memo or fee invoice a live refund (pending or refunded)
    was computed from cannot be voided."""
    refunds = Refund.objects.exclude(status=RefundStatus.FAILED)
    if isinstance(document, CreditMemo):
        refunds = refunds.filter(credit_memo=document)
    else:
        refunds = refunds.filter(fee_invoices=document)
    numbers = list(refunds.order_by("id").values_list("number", flat=True)[:5])
    if not numbers:
        return None
    return f"refund(s) {', '.join(numbers)} pay it out (mark them failed first)"
