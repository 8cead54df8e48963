"""Demo data, part 2: invoices, reductions, a cancellation and their credit memos.

Built through the services after the demo orders exist, so every document has its
history and its inbound lines in revenue. Idempotent: each step checks what exists.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from .demo import demo_today
from .models import BillingRun, Order, OrderKind, OrderStatus
from .services import order_activate
from .services.billing import billing_run_execute
from .services.cancellations import cancellation_create
from .services.reductions import ReductionLine, reduction_order_create

D = dt.date


def _demo_order(reference: str) -> Order | None:
    return Order.objects.filter(reference=reference, kind=OrderKind.STANDARD).first()


def _has_reductions(order: Order) -> bool:
    return Order.objects.filter(original_order=order, kind=OrderKind.REDUCTION).exists()


def _item(order: Order, sku: str):
    return order.items.select_related("product").get(product__sku=sku)


def _reduce(order, sku, qty, start=None, end=None, activate=True, comment=""):
    item = _item(order, sku)
    reduction = reduction_order_create(
        original=order,
        lines=[
            ReductionLine(item_id=item.pk, quantity=Decimal(qty), start_date=start, end_date=end)
        ],
        user=None,
        comment=comment,
    )
    if activate:
        reduction = order_activate(order=reduction, user=None, comment=comment)
    return reduction


@demo_today()
def billing_demo_load() -> dict[str, int]:
    """Bill what is due today, then reduce and cancel: the credit memos follow (R9, C4)."""
    created = {"billing runs": 0, "reduction orders": 0}
    if not BillingRun.objects.exists():
        billing_run_execute(run_date=timezone.localdate(), trigger=BillingRun.Trigger.COMMAND)
        created["billing runs"] += 1

    # OV2 on DEMO-02: 25 of 100 licences from July (billed monthly in advance: a credit
    # memo for July to the current month follows)
    licences = _demo_order("DEMO-02")
    if licences and licences.status != OrderStatus.DRAFT and not _has_reductions(licences):
        _reduce(
            licences,
            "CLOUD-LIC",
            25,
            D(2026, 7, 1),
            D(2026, 12, 31),
            comment="Demo: downgrade mid-term from 100 to 75 licences",
        )
        created["reduction orders"] += 1

    # DEMO-03: premium support cancelled after September (annual, billed in advance)
    support = _demo_order("DEMO-03")
    if support and support.status != OrderStatus.DRAFT and not _has_reductions(support):
        cancellation_create(
            original_item=_item(support, "SUP-PREM"),
            terminated_date=D(2026, 9, 30),
            user=None,
            comment="Demo: customer cancels premium support",
        )
        # and a reduction still in Draft: 3 analytics seats from December
        _reduce(
            support,
            "ANL-ADD",
            3,
            D(2026, 12, 1),
            D(2027, 2, 28),
            activate=False,
            comment="Demo: pending downgrade, waiting for approval",
        )
        created["reduction orders"] += 2

    # DEMO-04: two of twelve routers sent back (one-time, already billed)
    hardware = _demo_order("DEMO-04")
    if hardware and hardware.status != OrderStatus.DRAFT and not _has_reductions(hardware):
        _reduce(hardware, "HW-X1", 2, comment="Demo: two routers returned unused")
        created["reduction orders"] += 1
    return {k: v for k, v in created.items() if v}
