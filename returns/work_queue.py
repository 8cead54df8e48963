"""The returns' part of the home page's work queue (``core.work_queue``): RMAs to approve
and to receive, refunds to settle and refunds that failed. Indexed counts by status."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse

from core.work_queue import ALERT, QueueItem

from .models import Refund, RefundStatus, ReturnOrder, ReturnStatus

AREA = "Returns"


def _url(name: str, status: str) -> str:
    return f"{reverse(f'admin:returns_{name}_changelist')}?status__exact={status}"


def _counts(model, statuses) -> dict[str, int]:
    rows = model.objects.filter(status__in=statuses).values_list("status").annotate(n=Count("pk"))
    return dict(rows.order_by())


def returns_work_queue(request) -> list[QueueItem]:
    user = request.user
    items = []
    if user.has_perm("returns.view_returnorder"):
        rmas = _counts(ReturnOrder, [ReturnStatus.SUBMITTED, ReturnStatus.APPROVED])
        items += [
            QueueItem(
                area=AREA,
                label="RMAs to approve",
                count=rmas.get(ReturnStatus.SUBMITTED, 0),
                url=_url("returnorder", ReturnStatus.SUBMITTED),
                detail="submitted, waiting for approval",
            ),
            QueueItem(
                area=AREA,
                label="RMAs to receive",
                count=rmas.get(ReturnStatus.APPROVED, 0),
                url=_url("returnorder", ReturnStatus.APPROVED),
                detail="approved: return or cancel their items",
            ),
        ]
    if user.has_perm("returns.view_refund"):
        refunds = _counts(Refund, [RefundStatus.PENDING, RefundStatus.FAILED])
        items += [
            QueueItem(
                area=AREA,
                label="Refunds to settle",
                count=refunds.get(RefundStatus.PENDING, 0),
                url=_url("refund", RefundStatus.PENDING),
                detail="pending: record the gateway's answer",
            ),
            QueueItem(
                area=AREA,
                label="Refunds that failed",
                count=refunds.get(RefundStatus.FAILED, 0),
                url=_url("refund", RefundStatus.FAILED),
                tone=ALERT,
                detail="retry them or settle another way",
            ),
        ]
    return items
