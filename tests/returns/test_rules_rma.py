"""RMA creation and status: T1–T3, T10/T11 and T15 (create, submit, approve, close,
cancel, line canceled), with O5 for orders that have returns. Fees (T4, T5):
test_rules_fees.py."""

from __future__ import annotations

from decimal import Decimal

import pytest
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from orders.models import OrderItem, OrderKind, OrderStatus
from orders.services import order_items_fulfil, order_transition
from orders.services.reductions import ReductionLine, reduction_order_create
from returns.models import LineStatus, LineType, ReturnOrder, ReturnOrderLine, ReturnStatus
from returns.services import (
    ReturnLineInput,
    return_line_cancel,
    return_order_create,
    return_order_transition,
)
from tests.factories import OrderItemFactory, ProductFactory, make_order
from tests.returns.conftest import (
    audit_actions,
    create_rma,
    fee,
    open_line,
    process,
    refusals,
    rma_for,
    tv_order,
)

pytestmark = pytest.mark.django_db
USD = "USD"
D = Decimal


create = create_rma


def refresh(item) -> OrderItem:
    return OrderItem.objects.get(pk=item.pk)


# --- T1 ---------------------------------------------------------------------------------


def test_t1_draft_order_is_refused(db):
    """T1: a Draft order has nothing to return; nothing is created."""
    order = make_order(lines=[(4, "25.00")])
    item = order.items.get()
    with pytest.raises(BusinessRuleRefused) as refused:
        create(item, (1, "DAMAGED"))
    assert refused.value.rule == "T1" and refused.value.field == "order"
    assert f"{order.number} is Draft" in refused.value.message
    assert not ReturnOrder.objects.exists()


def test_t1_reduction_and_change_orders_are_refused(tv1_item):
    """T1: only standard orders are returned: a reduction order and a change order are
    refused with their kind named."""
    order = tv1_item.order
    reduction = reduction_order_create(
        original=order, lines=[ReductionLine(item_id=tv1_item.pk, quantity=D(1))], user=None
    )
    with pytest.raises(BusinessRuleRefused) as refused:
        return_order_create(
            order=reduction,
            lines=[
                ReturnLineInput(order_item=reduction.items.get(), quantity=D(1), reason="OTHER")
            ],
            user=None,
        )
    assert refused.value.rule == "T1"
    assert f"{reduction.number} is a reduction order" in refused.value.message

    rma = rma_for(tv1_item, 1)
    change = process(rma, open_line(rma), 1).change_order
    assert change.kind == OrderKind.CHANGE and change.status == OrderStatus.ACTIVATED
    with pytest.raises(BusinessRuleRefused) as refused:
        return_order_create(
            order=change,
            lines=[ReturnLineInput(order_item=change.items.get(), quantity=D(1), reason="OTHER")],
            user=None,
        )
    assert refused.value.rule == "T1" and f"{change.number} is a change order" in str(refused.value)
    assert ReturnOrder.objects.count() == 1


def test_t1_product_of_another_order_is_refused(tv1_item):
    """T1: every line's order product belongs to the RMA's order."""
    other = tv_order().items.get()
    with pytest.raises(BusinessRuleRefused) as refused:
        return_order_create(
            order=tv1_item.order,
            lines=[ReturnLineInput(order_item=other, quantity=D(1), reason="DAMAGED")],
            user=None,
        )
    assert refused.value.rule == "T1" and f"order product {other.pk}" in refused.value.message


# --- T2 ---------------------------------------------------------------------------------


def test_t2_creation_adds_to_return_initiated(tv1_item):
    """T2: 4 fulfilled; an RMA of 3 makes return initiated 3 and available 1."""
    assert tv1_item.available_to_return == 4
    rma = create(tv1_item, (3, "DAMAGED"))
    item = refresh(tv1_item)
    assert (item.return_initiated_quantity, item.available_to_return) == (3, 1)
    line = open_line(rma)
    assert line.quantity_expected == 3 and line.order_item_id == item.pk
    assert line.unit_price == Money("25.00", USD) and line.tax_amount == Money("6.00", USD)


def test_t2_over_ask_is_refused_naming_the_product_line(tv1_item):
    """T2: 2 asked with 1 available: refused, the message names ORD-…-1 and the figures;
    the return-initiated quantity does not move."""
    create(tv1_item, (3, "DAMAGED"))
    with pytest.raises(BusinessRuleRefused) as refused:
        create(tv1_item, (2, "DEFECTIVE"))
    (problem,) = refusals(refused)
    assert problem.rule == "T2" and problem.field == f"quantity_{tv1_item.pk}"
    assert problem.message.startswith(f"{tv1_item.so_line_id} (")
    assert "2 expected but only 1 available to return (fulfilled 4 − return initiated 3)" in (
        problem.message
    )
    assert refresh(tv1_item).return_initiated_quantity == 3
    assert ReturnOrder.objects.count() == 1


def test_t2_refusal_figures_read_as_quantities(db):
    """T2: 10 asked of 12 with 10 initiated reads "10 … only 2" (never "1E+1")."""
    item = tv_order(quantity="12").items.get()
    create(item, (10, "DAMAGED"))
    with pytest.raises(BusinessRuleRefused) as refused:
        create(refresh(item), (10, "DEFECTIVE"))
    assert "10 expected but only 2 available to return (fulfilled 12 − return initiated 10)" in (
        refused.value.message
    )


def test_t2_two_lines_of_one_request_adding_up_over_are_refused(tv1_item):
    """T2: 3 + 2 of the same product in one request is 5 of the 4 available."""
    with pytest.raises(BusinessRuleRefused) as refused:
        create(tv1_item, (3, "DAMAGED"), (2, "DEFECTIVE"))
    (problem,) = refusals(refused)
    assert problem.rule == "T2" and "5 expected but only 4 available" in problem.message
    assert not ReturnOrder.objects.exists()
    assert refresh(tv1_item).return_initiated_quantity == 0


def test_t2_only_fulfilled_units_are_available(db):
    """T2: an Activated order with 1 of 4 fulfilled has 1 available to return."""
    order = tv_order(fulfil=False)
    item = order.items.get()
    order_items_fulfil(order=order, quantities={item.pk: D(1)}, user=None)
    with pytest.raises(BusinessRuleRefused) as refused:
        create(refresh(item), (2, "DAMAGED"))
    assert "only 1 available to return (fulfilled 1 − return initiated 0)" in str(refused.value)
    create(refresh(item), (1, "DAMAGED"))
    assert refresh(item).available_to_return == 0


@pytest.mark.parametrize("quantity", ["0", "-1", "1.555", "NaN", "Infinity"])
def test_t2_quantity_must_be_a_positive_quantity(tv1_item, quantity):
    """T2: 0, negative, more decimals than a quantity has, NaN or infinite: refused with
    the field named, never a crash."""
    with pytest.raises(BusinessRuleRefused) as refused:
        create(tv1_item, (quantity, "DAMAGED"))
    (problem,) = refusals(refused)
    assert problem.rule == "T2" and problem.field == f"quantity_{tv1_item.pk}"
    assert tv1_item.so_line_id in problem.message
    assert not ReturnOrder.objects.exists()


def test_t2_no_lines_is_refused(tv1_item):
    """T2: an RMA needs at least one product."""
    with pytest.raises(BusinessRuleRefused) as refused:
        return_order_create(order=tv1_item.order, lines=[], user=None)
    assert refused.value.rule == "T2"


# --- T3 ---------------------------------------------------------------------------------


def test_t3_second_open_line_needs_another_reason(tv1_item):
    """T3: an open DAMAGED line of ORD-…-1 refuses a second DAMAGED one (another RMA or
    the same request); DEFECTIVE is fine."""
    create(tv1_item, (1, "DAMAGED"))
    with pytest.raises(BusinessRuleRefused) as refused:
        create(tv1_item, (1, "DAMAGED"))
    (problem,) = refusals(refused)
    assert problem.rule == "T3" and problem.field == f"reason_{tv1_item.pk}"
    assert tv1_item.so_line_id in problem.message and "Damaged" in problem.message
    with pytest.raises(BusinessRuleRefused) as refused:
        create(tv1_item, (1, "WRONG_ITEM"), (1, "WRONG_ITEM"))
    assert [p.rule for p in refusals(refused)] == ["T3"]
    create(tv1_item, (1, "DEFECTIVE"))
    assert ReturnOrderLine.objects.filter(status=LineStatus.OPEN).count() == 2


def test_t3_same_reason_again_once_the_first_is_processed_or_canceled(tv1_item):
    """T3: only open lines count: once the DAMAGED line is processed (or canceled), a new
    DAMAGED line is accepted."""
    first = rma_for(tv1_item, 1)
    process(first, open_line(first), 1)
    second = create(tv1_item, (1, "DAMAGED"))
    return_line_cancel(line=open_line(second), user=None)
    third = create(tv1_item, (2, "DAMAGED"))
    assert open_line(third).reason == "DAMAGED"
    assert refresh(tv1_item).available_to_return == 1  # 4 − (1 returned + 2 initiated)


def test_t3_unknown_reason_is_refused(tv1_item):
    """T3: the reason must be one of the reasons for return."""
    with pytest.raises(BusinessRuleRefused) as refused:
        create(tv1_item, (1, "BORED"))
    assert refused.value.rule == "T3" and refused.value.field == f"reason_{tv1_item.pk}"


# --- T11 --------------------------------------------------------------------------------


def test_t11_status_flow_and_close_refused_with_open_lines(tv1_item):
    """T11: Draft → Submitted → Approved; close is refused naming the open lines, and
    allowed once every line is processed or canceled."""
    rma = create(tv1_item, (2, "DAMAGED"), (1, "DEFECTIVE"), submit=False)
    assert rma.status == ReturnStatus.DRAFT
    for name in ("submit", "approve"):
        rma = return_order_transition(return_order=rma, name=name, user=None)
    assert rma.status == ReturnStatus.APPROVED and rma.approved_at and rma.submitted_at
    with pytest.raises(BusinessRuleRefused) as refused:
        return_order_transition(return_order=rma, name="close", user=None)
    assert refused.value.rule == "T11"
    assert f"{rma}-1, {rma}-2 are still open" in refused.value.message
    process(rma, open_line(rma, reason="DAMAGED"), 1, to_cancel=1)
    return_line_cancel(line=open_line(rma, reason="DEFECTIVE"), user=None)
    rma = return_order_transition(return_order=rma, name="close", user=None)
    assert rma.status == ReturnStatus.CLOSED and rma.closed_at
    assert audit_actions(rma) == [
        "created",
        "submit",
        "approve",
        "items returned",
        "line canceled",
        "close",
    ]
    with pytest.raises(BusinessRuleRefused) as refused:
        return_order_transition(return_order=rma, name="cancel", user=None)
    assert refused.value.rule == "T11" and f"{rma} is Closed" in refused.value.message


def test_t11_approve_and_close_need_their_permission(tv1_item):
    """T11: without returns.approve_returnorder the approval is refused."""
    from tests.factories import UserFactory

    clerk = UserFactory(is_staff=True)
    rma = create(tv1_item, (1, "DAMAGED"))
    with pytest.raises(BusinessRuleRefused) as refused:
        return_order_transition(return_order=rma, name="approve", user=clerk)
    assert refused.value.rule == "T11" and "permission" in refused.value.message
    with pytest.raises(BusinessRuleRefused):
        return_order_transition(return_order=rma, name="reopen", user=None)


def test_t10_t11_cancel_rma_cancels_open_lines_and_gives_back(tv1_item, fee_product):
    """T11 (T10): canceling an RMA with a processed line and its open split cancels the
    split and its fee and gives back their 1 unit; the returned 2 stay."""
    rma = rma_for(tv1_item, 3, fees=[fee(fee_product, 10, "PERCENTAGE")])
    process(rma, open_line(rma), 2)
    assert refresh(tv1_item).return_initiated_quantity == 3
    rma = return_order_transition(return_order=rma, name="cancel", user=None, comment="gone")
    assert rma.status == ReturnStatus.CANCELED and rma.canceled_at
    split, split_fee = rma.lines.filter(split_from__isnull=False).order_by("line_number")
    for line in (split, split_fee):
        line.refresh_from_db()
        assert line.status == LineStatus.CANCELED and line.quantity_canceled == 1
    item = refresh(tv1_item)
    assert (item.return_initiated_quantity, item.returned_quantity) == (2, 2)
    assert item.available_to_return == 2
    assert audit_actions(rma)[-1] == "cancel"


def test_t11_line_cancel_refusals_name_the_line(tv1_item, fee_product):
    """T11, T15: a fee line is canceled with its product line; a processed line is no
    longer open; each refusal names the line (RMA-…-n) and carries the rule."""
    rma = rma_for(tv1_item, 2, fees=[fee(fee_product, 5)])
    fee_line = rma.lines.get(type=LineType.FEE)
    with pytest.raises(BusinessRuleRefused) as refused:
        return_line_cancel(line=fee_line, user=None)
    assert str(refused.value).startswith(f"line {rma}-2 is a fee") and refused.value.rule == "T11"
    line = open_line(rma)
    process(rma, line, 2)
    with pytest.raises(BusinessRuleRefused) as refused:
        return_line_cancel(line=line, user=None)
    assert str(refused.value) == f"line {rma}-1 is Processed: only open lines"
    assert refused.value.bracketed == f"line {rma}-1 is Processed: only open lines [T11]"


# --- O5 ---------------------------------------------------------------------------------


def test_o5_order_with_a_change_order_cannot_be_deactivated(db):
    """O5: a simple return (no RMA) leaves a change order: the order stays Activated and
    the refusal names the change order."""
    from returns.services import SimpleLineInput, simple_return_submit

    order = tv_order(fulfil=False, bill=False)
    item = order.items.get()
    order_items_fulfil(order=order, quantities={item.pk: D(2)}, user=None)
    processing = simple_return_submit(
        order=order,
        lines=[SimpleLineInput(order_item=item, quantity=D(1), reason="DAMAGED")],
        user=None,
    )
    assert processing.credit_memo is None  # nothing was billed
    with pytest.raises(BusinessRuleRefused) as refused:
        order_transition(order=order, name="deactivate", user=None)
    assert refused.value.rule == "O5"
    assert processing.change_order.number in refused.value.message
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVATED


def test_delivery_charge_is_returned_as_a_delivery_charge_line(db):
    """T2 with the line types: a shipping product's line is a DELIVERY_CHARGE line."""
    order = make_order(lines=(), activate=False)
    shipping = ProductFactory(name="Shipping", is_delivery_charge=True)
    OrderItemFactory(order=order, product=shipping, quantity=D(1), unit_price=Money("9.00", USD))
    from orders.services import order_activate, order_fulfil

    order = order_fulfil(order=order_activate(order=order, user=None), user=None)
    rma = create(order.items.get(), (1, "WRONG_ITEM"))
    assert rma.lines.get().type == LineType.DELIVERY_CHARGE
