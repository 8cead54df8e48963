"""Row locks: two connections racing for the same order (PostgreSQL only)."""

import threading

import pytest
from django.db import connection, connections

from core.exceptions import BusinessRuleRefused
from core.models import AuditEvent
from core.services import sequence_next
from orders.models import Order, OrderStatus
from orders.services import order_activate
from tests.factories import make_order

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks (CI runs it)"
    ),
]


def race(fn, n=2):
    barrier = threading.Barrier(n)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(("ok", fn()))
        except BusinessRuleRefused as refusal:
            results.append(("refused", refusal))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_o1_o8_two_users_activating_at_once_activate_once():
    order = make_order()
    results = race(lambda: order_activate(order=Order.objects.get(pk=order.pk), user=None))
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["ok", "refused"]
    refusal = next(r for kind, r in results if kind == "refused")
    assert refusal.rule == "O1"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ACTIVATED
    assert AuditEvent.objects.filter(object_id=str(order.pk), action="activate").count() == 1


def test_document_numbers_never_repeat_under_concurrency():
    results = race(lambda: [sequence_next(name="RACE") for _ in range(20)], n=4)
    numbers = [n for _kind, values in results for n in values]
    assert sorted(numbers) == list(range(1, 81))
