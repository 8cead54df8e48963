"""*Return items* on an RMA: T6–T8, T10, T14 and T15 (items returned, documents,
refusals naming the line)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from orders.models import (
    ChargeType,
    CreditMemoSource,
    CreditMemoStatus,
    InvoiceStatus,
    OrderItem,
    OrderKind,
    OrderStatus,
    RevenueMethod,
)
from returns.models import LineStatus, LineType, ProcessingKind, ReturnOrderLine
from returns.services import (
    ReturnLineInput,
    ReturnQuantities,
    return_items_process,
    return_order_create,
    return_order_transition,
)
from revenue.models import InboundLine
from tests.returns.conftest import audit_actions, fee, open_line, process, refusals, rma_for

pytestmark = pytest.mark.django_db
USD = "USD"
D = Decimal


def m(amount: str) -> Money:
    return Money(amount, USD)


def refresh(obj):
    obj.refresh_from_db()
    return obj


@pytest.fixture
def tv1_rma(tv1_item, fee_product):
    """TV1 step 1: 3 expected, DAMAGED, PERCENTAGE 10 → 8.10; approved."""
    return rma_for(tv1_item, 3, fees=[fee(fee_product, 10, "PERCENTAGE")])


# --- T6 ---------------------------------------------------------------------------------


def test_t6_split_line_keeps_the_remainder_and_the_processed_line_is_read_only(tv1_rma):
    """T6: 2 of 3 returned: the line keeps 2 (PROCESSED, received 2), a split line of 1
    expected is open (line 3, its fee split line 4); processing it again is refused."""
    line = open_line(tv1_rma)
    processing = process(tv1_rma, line, 2)
    line = refresh(line)
    assert line.status == LineStatus.PROCESSED and line.processing == processing
    assert (line.quantity_expected, line.quantity_returned, line.quantity_received) == (2, 2, 2)
    assert line.tax_amount == m("4.00") and line.processed_at
    split = tv1_rma.lines.get(split_from=line)
    assert (split.line_number, split.quantity_expected, split.reason) == (3, 1, "DAMAGED")
    assert split.status == LineStatus.OPEN and split.order_item_id == line.order_item_id
    assert split.tax_amount == m("2.00")
    assert tv1_rma.lines.get(type=LineType.FEE, split_from__isnull=False).line_number == 4

    with pytest.raises(BusinessRuleRefused) as refused:
        process(tv1_rma, line, 1)
    assert str(refused.value) == f"line {tv1_rma}-1 is Processed: it is read-only"
    assert refused.value.rule == "T6"
    assert refresh(line).quantity_returned == 2


@pytest.mark.parametrize(
    "returned, to_cancel, rejected, text",
    [
        (0, 0, 0, "the quantity returned must be greater than 0"),
        (2, 1, 1, "returned 2 + to cancel 1 + rejected 1 is more than the 3 expected"),
        (1, -1, 0, "the quantity to cancel must be greater than or equal to 0"),
        (1, 0, "0.001", "the quantity rejected has more than 2 decimals"),
        ("NaN", 0, 0, "the quantity returned is not a number"),
    ],
)
def test_t6_quantities_refused_naming_the_line(tv1_rma, returned, to_cancel, rejected, text):
    """T6, T15: returned > 0, nothing negative or over-precise, returned + to cancel +
    rejected ≤ expected; the refusal names RMA-…-1 and T6, and nothing changes."""
    line = open_line(tv1_rma)
    with pytest.raises(BusinessRuleRefused) as refused:
        process(tv1_rma, line, returned, to_cancel, rejected)
    (problem,) = refusals(refused)
    assert problem.rule == "T6" and problem.field == f"returned_{line.pk}"
    assert problem.message.startswith(f"line {tv1_rma}-1: ") and text in problem.message
    assert refresh(line).status == LineStatus.OPEN
    assert not tv1_rma.processings.exists()


def test_t6_only_on_an_approved_rma(tv1_item):
    """T6: a Submitted RMA returns nothing yet."""
    rma = rma_for(tv1_item, 1, approve=False)
    with pytest.raises(BusinessRuleRefused) as refused:
        process(rma, open_line(rma), 1)
    assert refused.value.rule == "T6" and f"{rma} is Submitted" in refused.value.message


def test_t6_fee_lines_and_foreign_lines_are_not_processed_directly(tv1_rma, tv1_item):
    """T6: a fee line follows its product line; a line of another RMA is not on this one;
    an empty request is refused."""
    fee_line = tv1_rma.lines.get(type=LineType.FEE)
    with pytest.raises(BusinessRuleRefused) as refused:
        process(tv1_rma, fee_line, 1)
    assert f"line {tv1_rma}-2 is a fee: it follows its product line {tv1_rma}-1" in str(
        refused.value
    )
    other = rma_for(tv1_item, 1, reason="OTHER")
    with pytest.raises(BusinessRuleRefused) as refused:
        process(tv1_rma, open_line(other), 1)
    assert "is not on this return order" in str(refused.value)
    with pytest.raises(BusinessRuleRefused) as refused:
        return_items_process(return_order=tv1_rma, quantities={}, user=None)
    assert refused.value.rule == "T6"


def test_t6_t10_rejected_units_are_received_and_given_back(tv1_rma, tv1_item):
    """T6, T10: 1 returned + 1 rejected of 3: received 2, the rejected unit goes back to
    available (return initiated 3 → 2), returned quantity 1, split of 1."""
    line = open_line(tv1_rma)
    processing = process(tv1_rma, line, 1, rejected=1)
    line = refresh(line)
    assert (line.quantity_received, line.quantity_rejected, line.quantity_expected) == (2, 1, 2)
    item = OrderItem.objects.get(pk=tv1_item.pk)
    assert (item.returned_quantity, item.return_initiated_quantity) == (1, 2)
    assert processing.credit_memo.gross_total == m("27.00")
    assert processing.fee_invoice.gross_total == m("2.70")  # 8.10 × 1/3


def test_t6_two_lines_processed_together_and_integer_quantities(tv1_item):
    """T6, T8: two product lines of one RMA in one request (ints accepted): one change
    order with two items, one credit memo with one credit line for the 3 units (81.00)."""
    rma = return_order_create(
        order=tv1_item.order,
        lines=[
            ReturnLineInput(order_item=tv1_item, quantity=D(2), reason="DAMAGED"),
            ReturnLineInput(order_item=tv1_item, quantity=D(1), reason="DEFECTIVE"),
        ],
        user=None,
    )
    rma = return_order_transition(return_order=rma, name="approve", user=None)
    first, second = rma.lines.order_by("line_number")
    processing = return_items_process(
        return_order=rma,
        quantities={first.pk: ReturnQuantities(returned=2), second.pk: ReturnQuantities(1)},
        user=None,
    )
    assert [i.quantity for i in processing.change_order.items.order_by("line_number")] == [-2, -1]
    assert processing.credit_memo.gross_total == m("81.00")
    (credit,) = processing.credit_memo.lines.all()  # one credit for the product (B7 once)
    assert (credit.quantity, credit.net) == (D(3), m("75.00"))
    assert not rma.lines.filter(status=LineStatus.OPEN).exists()
    assert OrderItem.objects.get(pk=tv1_item.pk).returned_quantity == 3


# --- T7 ---------------------------------------------------------------------------------


def test_t7_canceled_share_is_never_charged_and_the_fee_adds_up(tv1_rma):
    """T7: 8.10 on 3; 1 returned + 1 to cancel: 2.70 charged, 2.70 never charged (kept on
    the processed fee line's total), 2.70 on the split; 2.70 + 2.70 + 2.70 = 8.10."""
    line = open_line(tv1_rma)
    fee_line = tv1_rma.lines.get(type=LineType.FEE)
    processing = process(tv1_rma, line, 1, to_cancel=1)
    fee_line = refresh(fee_line)
    assert fee_line.fee_charged == m("2.70") and fee_line.fee_total == m("5.40")
    assert fee_line.quantity_canceled == 1 and fee_line.status == LineStatus.PROCESSED
    split_fee = tv1_rma.lines.get(type=LineType.FEE, status=LineStatus.OPEN)
    assert split_fee.fee_total == m("2.70") and split_fee.fee_amount == D(10)  # still 10 %
    canceled_share = fee_line.fee_total - fee_line.fee_charged
    assert fee_line.fee_charged + split_fee.fee_total + canceled_share == m("8.10")
    assert processing.fee_invoice.gross_total == m("2.70")


def test_t7_fixed_fee_prorated_cumulatively_over_three_returns(tv1_item, fee_product):
    """T7: 10.00 on 3 expected, returned one at a time: 3.33, 3.34, 3.33 = 10.00 (each
    split keeps the rest: 6.67, 3.33; its amount is prorated with it)."""
    rma = rma_for(tv1_item, 3, fees=[fee(fee_product, "10.00")])
    charged = []
    for kept in ("6.67", "3.33", None):
        processing = process(rma, open_line(rma), 1)
        charged.append(processing.fee_invoice.gross_total)
        if kept:
            split_fee = rma.lines.get(type=LineType.FEE, status=LineStatus.OPEN)
            assert split_fee.fee_total == m(kept) and split_fee.fee_amount == D(kept)
    assert charged == [m("3.33"), m("3.34"), m("3.33")]
    assert sum(charged, m("0")) == m("10.00")
    fees = ReturnOrderLine.objects.filter(return_order=rma, type=LineType.FEE)
    assert sum((f.fee_charged for f in fees), m("0")) == m("10.00")


def test_t7_fractional_quantity_on_a_fee(tv1_item, fee_product):
    """T7: 1.5 of 3 returned with a 10.00 fee: 5.00 charged, 5.00 kept for the 1.5 left."""
    rma = rma_for(tv1_item, 3, fees=[fee(fee_product, "10.00")])
    processing = process(rma, open_line(rma), "1.5")
    assert processing.fee_invoice.gross_total == m("5.00")
    assert processing.credit_memo.gross_total == m("40.50")  # 37.50 + 3.00
    split = open_line(rma)
    assert split.quantity_expected == D("1.5")
    assert rma.lines.get(type=LineType.FEE, status=LineStatus.OPEN).fee_total == m("5.00")


# --- T8, T10 ----------------------------------------------------------------------------


def test_t8_documents_of_a_return(tv1_rma, tv1_item, fee_product):
    """T8 (TV1): negative change order −2 × 25.00 (−50.00, −4.00 tax) activated; positive
    fee change order Fulfilled with one fulfilled IMMEDIATE fee product (5.00 + 0.40); a
    RETURN credit memo from the negative change order (54.00, issued); a posted fee
    invoice from the fee change order (5.40)."""
    order = tv1_item.order
    processing = process(tv1_rma, open_line(tv1_rma), 2)
    assert processing.kind == ProcessingKind.RMA_RETURN and processing.return_order == tv1_rma
    change = processing.change_order
    assert (change.kind, change.status, change.original_order) == (
        OrderKind.CHANGE,
        OrderStatus.ACTIVATED,
        order,
    )
    (item,) = change.items.all()
    assert (item.quantity, item.total, item.tax_amount) == (D(-2), m("-50.00"), m("-4.00"))
    assert item.original_order_item == tv1_item and item.product == tv1_item.product

    fee_order = processing.fee_change_order
    assert (fee_order.kind, fee_order.status) == (OrderKind.CHANGE, OrderStatus.FULFILLED)
    (fee_item,) = fee_order.items.all()
    assert fee_item.product == fee_product and fee_item.quantity == 1 > 0
    assert (fee_item.total, fee_item.tax_amount) == (m("5.00"), m("0.40"))
    assert fee_item.fulfilled_quantity == 1 and fee_item.revenue_method == RevenueMethod.IMMEDIATE
    assert fee_item.charge_type == ChargeType.ONE_TIME

    memo = processing.credit_memo
    assert (memo.source, memo.source_order, memo.order) == (CreditMemoSource.RETURN, change, order)
    assert memo.status == CreditMemoStatus.ISSUED and memo.gross_total == m("54.00")
    invoice = processing.fee_invoice
    assert (invoice.order, invoice.status) == (fee_order, InvoiceStatus.POSTED)
    assert invoice.gross_total == m("5.40") and invoice.net_total == m("5.00")
    assert (processing.credited, processing.fees) == (m("54.00"), m("5.40"))

    tv1_rma.refresh_from_db()
    assert (tv1_rma.credited_total, tv1_rma.fees_total, tv1_rma.refund_total) == (
        m("54.00"),
        m("5.40"),
        m("48.60"),
    )
    for document, actions in (
        (change, ["created", "activate"]),
        (fee_order, ["created", "activate", "fulfil"]),
        (memo, ["created", "issue"]),
        (invoice, ["created", "post"]),
    ):
        assert audit_actions(document) == actions


def test_t8_change_orders_round_cumulatively(db):
    """T8: 1.5 then 1.5 of 3 × 33.33 + 7.5 % (99.99 + 7.50): the change orders take off
    −50.00 / −3.75 then −49.99 / −3.75, exactly the product's total and tax."""
    from tests.returns.conftest import tv_order

    item = tv_order(quantity="3", price="33.33", tax="7.5").items.get()
    rma = rma_for(item, 3)
    first = process(rma, open_line(rma), "1.5").change_order.items.get()
    second = process(rma, open_line(rma), "1.5").change_order.items.get()
    assert (first.total, first.tax_amount) == (m("-50.00"), m("-3.75"))
    assert (second.total, second.tax_amount) == (m("-49.99"), m("-3.75"))
    assert first.total + second.total == -item.total
    assert first.tax_amount + second.tax_amount == -item.tax_amount


def test_t8_no_fee_no_fee_documents(tv1_item):
    """T8: without fees there is no fee change order and no fee invoice."""
    rma = rma_for(tv1_item, 1)
    processing = process(rma, open_line(rma), 1)
    assert processing.fee_change_order is None and processing.fee_invoice is None
    assert processing.fees == m("0.00") and processing.credited == m("27.00")


def test_t10_returned_grows_and_canceled_gives_back(tv1_rma, tv1_item):
    """T10: 2 returned + 1 to cancel of 3: returned quantity 2, return initiated 3 → 2,
    available to return 2; the canceled unit is neither credited nor charged."""
    processing = process(tv1_rma, open_line(tv1_rma), 2, to_cancel=1)
    item = OrderItem.objects.get(pk=tv1_item.pk)
    assert (item.returned_quantity, item.return_initiated_quantity) == (2, 2)
    assert item.available_to_return == 2
    assert processing.credit_memo.gross_total == m("54.00")
    assert processing.fee_invoice.gross_total == m("5.40")
    assert not tv1_rma.lines.filter(status=LineStatus.OPEN).exists()


# --- T14, T15 ---------------------------------------------------------------------------


def staged(tran_type):
    return list(InboundLine.objects.filter(tran_type=tran_type).order_by("pk"))


def test_t14_cm_r_for_the_credit_and_so_inv_for_the_fee(tv1_rma, tv1_item, fee_product):
    """T14: the credit memo stages CM-R on the original's SO line (INV_QTY 2, −50.00);
    the fee invoice stages the fee's SO (IMMEDIATE) and INV (5.00), in the same batch."""
    before = InboundLine.objects.count()
    processing = process(tv1_rma, open_line(tv1_rma), 2)
    (cm_r,) = staged("CM-R")
    memo = processing.credit_memo
    assert (cm_r.so_line_id, cm_r.inv_qty, cm_r.ext_sll_prc) == (tv1_item.so_line_id, 2, D(-50))
    assert cm_r.inv_num == memo.number and cm_r.batch_id == memo.revenue_batch_id
    fee_line_id = processing.fee_change_order.items.get().so_line_id
    so = InboundLine.objects.get(tran_type="SO", so_line_id=fee_line_id)
    inv = InboundLine.objects.get(tran_type="INV", so_line_id=fee_line_id)
    assert so.rev_method == "IMMEDIATE" and so.ext_sll_prc == D("5.00") and so.ord_qty == 1
    assert inv.inv_num == processing.fee_invoice.number and inv.ext_sll_prc == D("5.00")
    assert so.batch_id == inv.batch_id == processing.fee_invoice.revenue_batch_id
    assert so.item == fee_product.sku
    assert InboundLine.objects.count() == before + 3


def test_t14_a_refused_processing_stages_nothing(tv1_item, fee_product):
    """T14 (same transaction), T9: a refused *Return items* leaves no staged line, no
    document, no processing and the lines open."""
    rma = rma_for(tv1_item, 1, fees=[fee(fee_product, "27.01")])
    before = InboundLine.objects.count()
    with pytest.raises(BusinessRuleRefused) as refused:
        process(rma, open_line(rma), 1)
    assert refused.value.rule == "T9" and tv1_item.so_line_id in refused.value.message
    assert InboundLine.objects.count() == before
    assert not rma.processings.exists() and rma.lines.filter(status=LineStatus.OPEN).count() == 2
    assert OrderItem.objects.get(pk=tv1_item.pk).returned_quantity == 0


def test_t15_items_returned_is_audited_with_its_quantities(tv1_rma):
    """T15: *Return items* writes one audit event on the RMA with the lines' quantities and
    the documents."""
    from core.models import AuditEvent

    processing = process(tv1_rma, open_line(tv1_rma), 2, to_cancel=1)
    event = AuditEvent.objects.filter(object_repr=str(tv1_rma), action="items returned").get()
    assert event.data["processing"] == processing.number
    assert event.data["lines"] == {
        f"{tv1_rma}-1": {"returned": "2", "canceled": "1", "rejected": "0"}
    }
    assert event.data["credit_memo"] == processing.credit_memo.number
    assert event.data["fee_invoice"] == processing.fee_invoice.number
