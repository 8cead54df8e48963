"""T2, T6, T12 under row locks: two connections returning the same units at once
(PostgreSQL only: SQLite has no row locks and one writer)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from orders.models import CreditMemo, OrderItem
from returns.models import (
    LineStatus,
    LineType,
    Refund,
    ReturnOrder,
    ReturnOrderLine,
    ReturnProcessing,
)
from returns.services import (
    ReturnLineInput,
    SimpleLineInput,
    refund_ensure,
    return_order_create,
    return_order_transition,
    simple_return_submit,
)
from tests.factories import ProductFactory
from tests.returns.conftest import create_rma, fee, open_line, process, rma_for, tv_order

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks (CI runs it)"
    ),
]
D = Decimal


def race(*fns):
    """Run ``fns`` at the same moment, one connection each: ("ok", result),
    ("refused", refusal) or ("error", exception) per call (a deadlock shows as an error)."""
    barrier = threading.Barrier(len(fns))
    results = []

    def run(fn):
        try:
            barrier.wait()
            results.append(("ok", fn()))
        except BusinessRuleRefused as refusal:
            results.append(("refused", refusal))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion
            results.append(("error", exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == len(fns), "a racer did not finish"
    return results


def one_ok_one_refused(results):
    assert sorted(kind for kind, _ in results) == ["ok", "refused"], results
    return next(r for kind, r in results if kind == "refused")


def item_of(item) -> OrderItem:
    return OrderItem.objects.get(pk=item.pk)


@pytest.fixture
def tv1(db):
    """TV1's order product: 4 × 25.00 + 8 %, billed and fulfilled."""
    return tv_order().items.get()


def test_t6_two_return_items_on_the_same_line_one_succeeds(tv1):
    """T6: two *Return items* of the same RMA line at once: one processes it, the other
    finds it Processed (read-only); the returned quantity never exceeds the expected 3."""
    fee_product = ProductFactory(name="Restocking fee", is_fee=True)
    rma = rma_for(tv1, 3, fees=[fee(fee_product, 10, "PERCENTAGE")])
    line = open_line(rma)

    def return_2():
        return process(ReturnOrder.objects.get(pk=rma.pk), ReturnOrderLine(pk=line.pk), 2)

    def return_3():
        return process(ReturnOrder.objects.get(pk=rma.pk), ReturnOrderLine(pk=line.pk), 3)

    refusal = one_ok_one_refused(race(return_2, return_3))
    assert refusal.rule == "T6"
    assert f"line {rma}-1 is Processed: it is read-only" in str(refusal)
    line.refresh_from_db()
    assert line.status == LineStatus.PROCESSED and line.quantity_returned in (2, 3)
    product_lines = ReturnOrderLine.objects.filter(return_order=rma, type=LineType.ORDER_PRODUCT)
    assert sum(row.quantity_returned for row in product_lines) == line.quantity_returned <= 3
    item = item_of(tv1)
    assert item.returned_quantity == line.quantity_returned
    assert item.return_initiated_quantity == 3
    assert ReturnProcessing.objects.count() == CreditMemo.objects.count() == 1
    assert Refund.objects.count() == 1


def test_t2_two_rmas_for_more_than_available_one_is_refused(tv1):
    """T2: two RMAs of 3 each for the same 4 units at once: one is created, the other is
    refused with what is left; return initiated ends at 3."""

    def rma_of_3(reason):
        return lambda: return_order_create(
            order=tv1.order,
            lines=[ReturnLineInput(order_item=tv1.pk, quantity=D(3), reason=reason)],
            user=None,
        )

    refusal = one_ok_one_refused(race(rma_of_3("DAMAGED"), rma_of_3("DEFECTIVE")))
    assert refusal.rule == "T2"
    assert "3 expected but only 1 available to return (fulfilled 4 − return initiated 3)" in str(
        refusal
    )
    assert ReturnOrder.objects.count() == 1
    assert item_of(tv1).return_initiated_quantity == 3


def test_t12_t2_simple_return_racing_an_rma_for_the_last_units(tv1):
    """T12, T2: 2 left to return; a simple return of 2 and an RMA of 2 at once: exactly
    one takes them; nothing is ever returned twice."""
    rma_for(tv1, 2, approve=False)

    def simple_2():
        return simple_return_submit(
            order=tv1.order,
            lines=[SimpleLineInput(order_item=tv1.pk, quantity=D(2), reason="OTHER")],
            user=None,
        )

    def rma_2():
        return return_order_create(
            order=tv1.order,
            lines=[ReturnLineInput(order_item=tv1.pk, quantity=D(2), reason="WRONG_ITEM")],
            user=None,
        )

    refusal = one_ok_one_refused(race(simple_2, rma_2))
    assert refusal.rule in ("T2", "T12") and "only 0 available to return" in str(refusal)
    item = item_of(tv1)
    assert (item.return_initiated_quantity, item.available_to_return) == (4, 0)
    assert item.returned_quantity in (0, 2)


def test_t11_t6_cancel_racing_return_items_keeps_quantities_consistent(tv1):
    """T11, T6, T10: canceling an RMA while its line is being returned: either the return
    goes first (2 returned, the split canceled) or the cancel does (the return is refused,
    the RMA is no longer Approved); return initiated always equals returned + open."""
    rma = rma_for(tv1, 3)
    line = open_line(rma)

    def return_2():
        return process(ReturnOrder.objects.get(pk=rma.pk), ReturnOrderLine(pk=line.pk), 2)

    def cancel():
        return return_order_transition(
            return_order=ReturnOrder.objects.get(pk=rma.pk), name="cancel", user=None
        )

    results = race(return_2, cancel)
    assert all(kind in ("ok", "refused") for kind, _ in results), results
    assert [kind for kind, _ in results].count("ok") >= 1
    assert ReturnOrder.objects.get(pk=rma.pk).status == "CANCELED"
    item = item_of(tv1)
    assert item.return_initiated_quantity == item.returned_quantity
    assert item.returned_quantity in (0, 2)
    refused = [r for kind, r in results if kind == "refused"]
    assert all(r.rule == "T6" and "Canceled" in str(r) for r in refused), refused
    assert not ReturnOrderLine.objects.filter(return_order=rma, status=LineStatus.OPEN).exists()


def test_t8_returns_of_two_orders_at_once_both_succeed(db):
    """T8 (lock order): two orders' returns processed at the same moment both go through
    (the document number series serialise them, nothing deadlocks)."""
    items = [tv_order().items.get() for _ in range(2)]
    rmas = [rma_for(item, 1) for item in items]

    def returner(rma):
        line = open_line(rma)
        return lambda: process(ReturnOrder.objects.get(pk=rma.pk), ReturnOrderLine(pk=line.pk), 1)

    results = race(*(returner(rma) for rma in rmas))
    assert [kind for kind, _ in results] == ["ok", "ok"], results
    memos = CreditMemo.objects.order_by("pk")
    assert [memo.gross_total for memo in memos] == [Money("27.00", "USD")] * 2
    assert len({memo.number for memo in memos}) == 2


def test_t9_ensuring_a_refund_while_the_rma_returns_more_items(tv1):
    """T9, T6 (lock order): ensuring the refund of an earlier processing while another
    line of the same RMA is being returned: both go through, nothing deadlocks (the
    refund locks the order and the RMA first, like every returns service)."""
    rma = create_rma(tv1, (1, "DAMAGED"), (1, "DEFECTIVE"))
    rma = return_order_transition(return_order=rma, name="approve", user=None)
    first, second = rma.lines.order_by("line_number")
    earlier = process(rma, first, 1, ensure_refund=False)
    assert not Refund.objects.exists()

    def ensure():
        return refund_ensure(processing=ReturnProcessing.objects.get(pk=earlier.pk), user=None)

    def return_second():
        return process(ReturnOrder.objects.get(pk=rma.pk), ReturnOrderLine(pk=second.pk), 1)

    results = race(ensure, return_second)
    assert [kind for kind, _ in results] == ["ok", "ok"], results
    assert Refund.objects.count() == 2
    rma.refresh_from_db()
    assert rma.refund_total == Money("54.00", "USD")  # 27.00 + 27.00


def test_t9_refund_ensured_twice_at_once_gives_one_refund(tv1):
    """T9: two *Ensure refund* of the same processing at once: one refund, both get it."""
    rma = rma_for(tv1, 1)
    processing = process(rma, open_line(rma), 1, ensure_refund=False)

    def ensure():
        return refund_ensure(processing=ReturnProcessing.objects.get(pk=processing.pk), user=None)

    results = race(ensure, ensure)
    assert [kind for kind, _ in results] == ["ok", "ok"], results
    assert results[0][1].pk == results[1][1].pk
    assert Refund.objects.get().amount == Money("27.00", "USD")
