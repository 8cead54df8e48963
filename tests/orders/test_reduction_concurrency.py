"""R7 under row locks: two connections reducing the same product (PostgreSQL only, OV1)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from orders.models import Order, OrderItem, OrderKind, OrderStatus
from orders.services.reductions import (
    ReductionLine,
    reduction_order_activate,
    reduction_order_create,
)
from tests.factories import make_order

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks (CI runs it)"
    ),
]


def race(*fns):
    barrier = threading.Barrier(len(fns))
    results = []

    def run(fn):
        try:
            barrier.wait()
            results.append(("ok", fn()))
        except BusinessRuleRefused as refusal:
            results.append(("refused", refusal))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.fixture
def last_20():
    """OV1: ORD-1 with 30 × 10.00, RO-1 of 10 activated: 20 left."""
    order = make_order(lines=[(30, "10.00")], activate=True)
    item = order.items.get()
    first = reduction_order_create(
        original=order, lines=[ReductionLine(item_id=item.pk, quantity=Decimal(10))], user=None
    )
    reduction_order_activate(reduction=first, user=None)
    return order, item


def test_ov1_r7_two_requests_reducing_15_of_the_last_20_at_once_one_succeeds(last_20):
    order, item = last_20

    def reduce_15():
        return reduction_order_create(
            original=Order.objects.get(pk=order.pk),
            lines=[ReductionLine(item_id=item.pk, quantity=Decimal(15))],
            user=None,
        )

    results = race(reduce_15, reduce_15)
    assert sorted(kind for kind, _ in results) == ["ok", "refused"]
    refusal = next(r for kind, r in results if kind == "refused")
    assert refusal.rule == "R7" and "only 5 of 30 can still be reduced" in str(refusal)
    drafts = Order.objects.filter(original_order=order, status=OrderStatus.DRAFT)
    assert drafts.count() == 1


def test_r7_two_drafts_exceeding_availability_activated_at_once_one_succeeds(last_20):
    """Two draft reductions of 15 made past the save check (direct ORM): activated at the
    same moment, exactly one goes through and available quantity never drops below 0."""
    order, item = last_20
    drafts = []
    for _ in range(2):
        draft = Order.objects.create(
            kind=OrderKind.REDUCTION,
            number=f"RO-RACE-{len(drafts)}",
            original_order=order,
            account=order.account,
            price_book=order.price_book,
            currency=order.currency,
        )
        OrderItem.objects.create(
            order=draft,
            line_number=1,
            product=item.product,
            price_book_entry=item.price_book_entry,
            quantity=Decimal(-15),
            unit_price=item.unit_price,
            list_price=item.list_price,
            total=Money("-150.00", "USD"),
            charge_type=item.charge_type,
            revenue_method=item.revenue_method,
            service_start_date=item.service_start_date,
            original_order_item=item,
        )
        drafts.append(draft)

    results = race(
        *[
            lambda d=d: reduction_order_activate(reduction=Order.objects.get(pk=d.pk), user=None)
            for d in drafts
        ]
    )
    assert sorted(kind for kind, _ in results) == ["ok", "refused"]
    refusal = next(r for kind, r in results if kind == "refused")
    assert refusal.rule == "R7" and "only 5 of 30 can still be reduced" in str(refusal)
    assert OrderItem.objects.get(pk=item.pk).available_quantity == 5
    statuses = sorted(
        Order.objects.filter(pk__in=[d.pk for d in drafts]).values_list("status", flat=True)
    )
    assert statuses == [OrderStatus.ACTIVATED, OrderStatus.DRAFT]
