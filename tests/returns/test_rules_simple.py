"""Simple return (T12) and simple cancel (T13) from the order, without an RMA."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from orders.models import (
    CreditMemoSource,
    Invoice,
    InvoiceStatus,
    OrderItem,
    OrderKind,
    OrderStatus,
)
from orders.services import order_fulfil, order_items_fulfil
from orders.services.billing import billing_run_execute
from returns.models import ProcessingKind, Refund, ReturnProcessing
from returns.services import SimpleLineInput, simple_cancel_submit, simple_return_submit
from revenue.models import InboundLine
from tests.returns.conftest import audit_actions, fee, refusals, rma_for, tv_order

pytestmark = pytest.mark.django_db
USD = "USD"
D = Decimal


def m(amount: str) -> Money:
    return Money(amount, USD)


def line(item, quantity, reason="DAMAGED", fees=()):
    return SimpleLineInput(
        order_item=item, quantity=D(str(quantity)), reason=reason, fees=list(fees)
    )


def refresh(item) -> OrderItem:
    return OrderItem.objects.get(pk=item.pk)


# --- T12 --------------------------------------------------------------------------------


def test_t12_simple_return_makes_the_same_documents(tv1_item, fee_product):
    """T12 (T8, T9): 1 of 4 returned with a PERCENTAGE 10 fee (2.70 for the 1 unit):
    change order −25.00 / −2.00, credit memo 27.00 (RETURN), Fulfilled fee change order and
    posted fee invoice 2.70, refund 24.30; returned and return initiated grow by 1."""
    processing = simple_return_submit(
        order=tv1_item.order,
        lines=[line(tv1_item, 1, fees=[fee(fee_product, 10, "PERCENTAGE")])],
        user=None,
        comment="customer walked in",
    )
    assert processing.kind == ProcessingKind.SIMPLE_RETURN and processing.return_order is None
    (item,) = processing.change_order.items.all()
    assert (item.quantity, item.total, item.tax_amount) == (D(-1), m("-25.00"), m("-2.00"))
    assert processing.credit_memo.source == CreditMemoSource.RETURN
    assert processing.credit_memo.source_order == processing.change_order
    assert processing.credit_memo.gross_total == m("27.00")
    assert processing.fee_change_order.status == OrderStatus.FULFILLED
    assert processing.fee_invoice.status == InvoiceStatus.POSTED
    assert processing.fee_invoice.gross_total == m("2.70")
    assert Refund.objects.get(processing=processing).amount == m("24.30")
    item = refresh(tv1_item)
    assert (item.returned_quantity, item.return_initiated_quantity) == (1, 1)
    assert audit_actions(tv1_item.order)[-1] == "simple return"
    assert InboundLine.objects.filter(tran_type="CM-R", so_line_id=tv1_item.so_line_id).count() == 1


def test_t12_fees_apply_to_the_returned_quantity_without_their_own(tv1_item, fee_product):
    """T12: a fixed 5.00 fee on 2 returned units is 5.00 (not per unit, not prorated); a
    percentage fee takes the 2 units' price: 10 % × 54.00 = 5.40."""
    processing = simple_return_submit(
        order=tv1_item.order,
        lines=[
            line(
                tv1_item,
                2,
                fees=[fee(fee_product, "5.00"), fee(fee_product, 10, "PERCENTAGE")],
            )
        ],
        user=None,
    )
    grosses = [i.gross_total for i in processing.fee_change_order.items.order_by("line_number")]
    assert grosses == [m("5.00"), m("5.40")]
    assert processing.fee_invoice.gross_total == m("10.40")
    assert Refund.objects.get(processing=processing).amount == m("43.60")  # 54.00 − 10.40


def test_t12_availability_counts_rma_units(tv1_item):
    """T12 (T2): with 3 on an RMA only 1 can be returned simply; the refusal names the
    product line and the figures, nothing is created."""
    rma_for(tv1_item, 3)
    with pytest.raises(BusinessRuleRefused) as refused:
        simple_return_submit(order=tv1_item.order, lines=[line(tv1_item, 2)], user=None)
    (problem,) = refusals(refused)
    assert problem.rule == "T12" and problem.field == f"quantity_{tv1_item.pk}"
    assert problem.message.startswith(f"{tv1_item.so_line_id} (")
    assert "2 to be returned but only 1 available to return (fulfilled 4 − return initiated 3)" in (
        problem.message
    )
    assert not ReturnProcessing.objects.exists()


def test_t12_unfulfilled_units_and_bad_input_are_refused(db, fee_product):
    """T12: nothing fulfilled, nothing to return; a bad quantity or reason is refused with
    its field."""
    order = tv_order(fulfil=False)
    item = order.items.get()
    with pytest.raises(BusinessRuleRefused) as refused:
        simple_return_submit(order=order, lines=[line(item, 1)], user=None)
    assert "only 0 available to return" in str(refused.value)
    with pytest.raises(BusinessRuleRefused) as refused:
        simple_return_submit(order=order, lines=[line(item, "0.005", reason="NOPE")], user=None)
    fields = {(p.rule, p.field) for p in refusals(refused)}
    assert fields == {("T12", f"quantity_{item.pk}"), ("T12", f"reason_{item.pk}")}
    with pytest.raises(BusinessRuleRefused) as refused:
        simple_return_submit(order=order, lines=[], user=None)
    assert refused.value.rule == "T12"


# --- T13 --------------------------------------------------------------------------------


def test_t13_cancel_of_billed_units_gets_a_credit_memo(db):
    """T13: 1 of 4 billed, unfulfilled units canceled: credit memo 27.00, refund 27.00;
    canceled 1, 3 left to fulfil; the order stays Activated."""
    order = tv_order(fulfil=False)
    item = order.items.get()
    processing = simple_cancel_submit(
        order=order, lines=[line(item, 1, reason="DUPLICATE_ORDER")], user=None
    )
    assert processing.kind == ProcessingKind.SIMPLE_CANCEL
    assert processing.change_order.items.get().quantity == -1
    assert processing.credit_memo.gross_total == m("27.00")
    assert Refund.objects.get(processing=processing).amount == m("27.00")
    item = refresh(item)
    assert (item.canceled_quantity, item.to_fulfil_quantity, item.available_to_cancel) == (1, 3, 3)
    assert (item.returned_quantity, item.return_initiated_quantity) == (0, 0)
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVATED
    assert audit_actions(order)[-1] == "simple cancel"
    order = order_fulfil(order=order, user=None)
    assert refresh(item).fulfilled_quantity == 3


def test_t13_cancel_of_unbilled_units_gets_no_credit_memo_and_is_not_billed(db):
    """T13: 1 of 4 canceled before billing: no credit memo, no refund; the billing run
    then bills the 3 remaining units (75.00 + 6.00)."""
    order = tv_order(fulfil=False, bill=False)
    item = order.items.get()
    processing = simple_cancel_submit(order=order, lines=[line(item, 1)], user=None)
    assert processing.credit_memo is None and processing.credited == m("0.00")
    assert not Refund.objects.exists()
    assert processing.change_order.kind == OrderKind.CHANGE
    billing_run_execute(run_date=dt.date(2026, 1, 1), trigger="COMMAND", orders=[order])
    invoice = Invoice.objects.get(order=order)
    (billed,) = invoice.lines.all()
    assert (billed.quantity, billed.net, billed.tax) == (D(3), m("75.00"), m("6.00"))


def test_t13_order_becomes_fulfilled_when_nothing_is_left(db):
    """T13 with O6: 3 of 4 fulfilled, the last one canceled: the order is Fulfilled."""
    order = tv_order(fulfil=False)
    item = order.items.get()
    order = order_items_fulfil(order=order, quantities={item.pk: D(3)}, user=None)
    assert order.status == OrderStatus.ACTIVATED
    with pytest.raises(BusinessRuleRefused) as refused:
        simple_cancel_submit(order=order, lines=[line(item, 2)], user=None)
    (problem,) = refusals(refused)
    assert problem.rule == "T13" and problem.message.startswith(f"{item.so_line_id} (")
    assert "2 to be canceled but only 1 not fulfilled yet (sold 4, fulfilled 3)" in problem.message
    simple_cancel_submit(order=order, lines=[line(item, 1)], user=None)
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert audit_actions(order)[-2:] == ["simple cancel", "fulfil"]


def test_t13_a_fulfilled_order_has_nothing_to_cancel(tv1_item):
    """T13: every unit fulfilled: a cancel is refused."""
    with pytest.raises(BusinessRuleRefused) as refused:
        simple_cancel_submit(order=tv1_item.order, lines=[line(tv1_item, 1)], user=None)
    assert refused.value.rule == "T13" and "only 0 not fulfilled yet" in str(refused.value)


def test_t13_draft_order_is_refused(db):
    """T13 (T1): a Draft order is neither canceled nor returned this way."""
    from tests.factories import make_order

    order = make_order(lines=[(4, "25.00")])
    with pytest.raises(BusinessRuleRefused) as refused:
        simple_cancel_submit(order=order, lines=[line(order.items.get(), 1)], user=None)
    assert refused.value.rule == "T13" and "is Draft" in refused.value.message
