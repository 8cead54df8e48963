"""The orders' part of the home page's work queue (``core.work_queue``): drafts to finish
and reductions waiting for activation. Two indexed counts."""

from __future__ import annotations

from django.urls import reverse

from core.work_queue import QueueItem

from .models import Order, OrderKind, OrderStatus, ReductionOrder

AREA = "Orders"


def _url(name: str, query: str) -> str:
    return f"{reverse(f'admin:orders_{name}_changelist')}?{query}"


def orders_work_queue(request) -> list[QueueItem]:
    user = request.user
    items = []
    if user.has_perm("orders.view_order"):
        drafts = Order.objects.filter(status=OrderStatus.DRAFT).exclude(kind=OrderKind.REDUCTION)
        items.append(
            QueueItem(
                area=AREA,
                label="Draft orders",
                count=drafts.count(),
                url=_url("order", f"status__exact={OrderStatus.DRAFT}"),
                detail="to complete and activate",
            )
        )
    if user.has_perm("orders.view_reductionorder") or user.has_perm("orders.view_order"):
        waiting = ReductionOrder.objects.filter(status=OrderStatus.DRAFT)
        items.append(
            QueueItem(
                area=AREA,
                label="Reductions awaiting activation",
                count=waiting.count(),
                url=_url("reductionorder", f"status__exact={OrderStatus.DRAFT}"),
                detail="reduction orders and cancellations still in Draft",
            )
        )
    return items
