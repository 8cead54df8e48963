"""TV1–TV4 of vectors/returns.md with their exact figures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from orders.models import CreditMemo, Invoice, Order, OrderKind
from returns.models import LineStatus, LineType, Refund, ReturnProcessing
from returns.services import ReturnQuantities, return_items_process, return_line_cancel
from tests.returns.conftest import fee, rma_for, tv_order

pytestmark = pytest.mark.django_db
USD = "USD"


def test_tv1_rma_partial_receipt_percentage_fee(tv1_item, fee_product):
    """TV1 (T2–T10): 8.10 fee for 3 expected; return 2: split line of 1, fee 5.40 charged
    and 2.70 kept, credit memo 54.00, fee invoice 5.40, refund 48.60; cancel the split."""
    rma = rma_for(tv1_item, 3, fees=[fee(fee_product, 10, "PERCENTAGE")])
    product_line = rma.lines.get(type=LineType.ORDER_PRODUCT)
    fee_line = rma.lines.get(type=LineType.FEE)
    assert fee_line.fee_total == Money("8.10", USD)
    assert fee_line.order_item is None  # T4
    tv1_item.refresh_from_db()
    assert tv1_item.available_to_return == 1

    processing = return_items_process(
        return_order=rma,
        quantities={product_line.pk: ReturnQuantities(returned=Decimal(2))},
        user=None,
    )
    product_line.refresh_from_db()
    fee_line.refresh_from_db()
    assert product_line.status == LineStatus.PROCESSED
    split = rma.lines.get(split_from=product_line)
    assert split.quantity_expected == 1 and split.status == LineStatus.OPEN
    assert fee_line.fee_charged == Money("5.40", USD)
    split_fee = rma.lines.get(split_from=fee_line)
    assert split_fee.fee_total == Money("2.70", USD)
    assert split_fee.product_line == split

    change = processing.change_order
    item = change.items.get()
    assert item.quantity == -2
    assert item.total == Money("-50.00", USD) and item.tax_amount == Money("-4.00", USD)
    assert processing.credit_memo.gross_total == Money("54.00", USD)
    assert processing.fee_change_order.net_total + processing.fee_change_order.tax_total == Money(
        "5.40", USD
    )
    assert processing.fee_invoice.gross_total == Money("5.40", USD)
    refund = Refund.objects.get(processing=processing)
    assert refund.amount == Money("48.60", USD)

    return_line_cancel(line=split, user=None)
    tv1_item.refresh_from_db()
    assert tv1_item.return_initiated_quantity == 2
    assert tv1_item.available_to_return == 2


@pytest.mark.parametrize(
    "amount_type, amount, expected",
    [
        ("AMOUNT_WITH_TAX", 5, "5.00"),
        ("AMOUNT_WITHOUT_TAX", 5, "5.40"),
        ("PERCENTAGE", 10, "2.70"),
        ("PERCENTAGE_GROSS", 10, "2.70"),
    ],
)
def test_tv2_fee_amount_types(tv1_item, fee_product, amount_type, amount, expected):
    """TV2 (T5): returning 1 of 4 at 25.00 + 8 %."""
    rma = rma_for(tv1_item, 1, fees=[fee(fee_product, amount, amount_type)])
    line = rma.lines.get(type=LineType.ORDER_PRODUCT)
    processing = return_items_process(
        return_order=rma, quantities={line.pk: ReturnQuantities(returned=Decimal(1))}, user=None
    )
    assert processing.fee_invoice.gross_total == Money(expected, USD)
    assert processing.credit_memo.gross_total == Money("27.00", USD)


def test_tv3_fee_may_not_exceed_refund(tv1_item, fee_product):
    """TV3 (T9): credit 27.00, fee 30.00: refused, nothing created."""
    rma = rma_for(tv1_item, 1, fees=[fee(fee_product, 30)])
    line = rma.lines.get(type=LineType.ORDER_PRODUCT)
    orders_before = Order.objects.count()
    with pytest.raises(BusinessRuleRefused) as refused:
        return_items_process(
            return_order=rma,
            quantities={line.pk: ReturnQuantities(returned=Decimal(1))},
            user=None,
        )
    assert refused.value.rule == "T9"
    assert Order.objects.count() == orders_before
    assert not Order.objects.filter(kind=OrderKind.CHANGE).exists()
    assert not CreditMemo.objects.exists()
    assert Invoice.objects.filter(order__kind=OrderKind.CHANGE).count() == 0
    assert not Refund.objects.exists() and not ReturnProcessing.objects.exists()
    line.refresh_from_db()
    assert line.status == LineStatus.OPEN


def test_tv4_fixed_fee_prorated(db, fee_product):
    """TV4 (T7): 10.00 on 2 expected, 1 returned: 5.00 charged."""
    order = tv_order()
    rma = rma_for(order.items.get(), 2, fees=[fee(fee_product, "10.00")])
    line = rma.lines.get(type=LineType.ORDER_PRODUCT)
    processing = return_items_process(
        return_order=rma, quantities={line.pk: ReturnQuantities(returned=Decimal(1))}, user=None
    )
    assert processing.fee_invoice.gross_total == Money("5.00", USD)
    split_fee = rma.lines.get(type=LineType.FEE, status=LineStatus.OPEN)
    assert split_fee.fee_total == Money("5.00", USD)


def test_o5_order_with_rma_cannot_be_deactivated(db, fee_product):
    """O5 (with T1): an Activated order with a return order stays Activated; the refusal
    names the RMA."""
    order = tv_order(fulfil=False, bill=False)
    item = order.items.get()
    from orders.services import order_items_fulfil, order_transition

    order_items_fulfil(order=order, quantities={item.pk: Decimal(1)}, user=None)
    rma = rma_for(item, 1, approve=False)
    with pytest.raises(BusinessRuleRefused) as refused:
        order_transition(order=order, name="deactivate", user=None)
    assert refused.value.rule == "O5"
    assert rma.number in refused.value.message


def test_b6_t9_refunded_credit_memo_cannot_be_voided(tv1_item, fee_product):
    """B6, B5 with T9: the credit memo and fee invoice of a pending refund stay; once the
    refund failed, the credit memo can be voided."""
    from orders.services.billing import credit_memo_void, invoice_void
    from returns.services import refund_transition

    rma = rma_for(tv1_item, 1, fees=[fee(fee_product, 5)])
    line = rma.lines.get(type=LineType.ORDER_PRODUCT)
    processing = return_items_process(
        return_order=rma, quantities={line.pk: ReturnQuantities(returned=Decimal(1))}, user=None
    )
    refund = Refund.objects.get(processing=processing)
    with pytest.raises(BusinessRuleRefused) as refused:
        credit_memo_void(credit_memo=processing.credit_memo, user=None, comment="x")
    assert refused.value.rule == "B6" and refund.number in refused.value.message
    with pytest.raises(BusinessRuleRefused) as refused:
        invoice_void(invoice=processing.fee_invoice, user=None, comment="x")
    assert refused.value.rule == "B5" and refund.number in refused.value.message
    refund_transition(refund=refund, name="fail", user=None, comment="card expired")
    memo = credit_memo_void(credit_memo=processing.credit_memo, user=None, comment="undo")
    assert memo.status == "VOID"
