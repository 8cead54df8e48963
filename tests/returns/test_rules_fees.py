"""Fees on RMA lines: T4 (fee lines, fee products, inputs) and T5 (amount types, with
exact figures, including odd amounts on 3 units), and T7's proration of them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from returns.models import LineStatus, LineType, ReturnOrder
from returns.services import FeeInput
from tests.factories import ProductFactory
from tests.returns.conftest import create_rma, fee, open_line, process, refusals, rma_for, tv_order

pytestmark = pytest.mark.django_db
USD = "USD"
D = Decimal
create = create_rma


# --- T4, T5 -----------------------------------------------------------------------------


def test_t4_fee_lines_follow_their_product_line(tv1_item, fee_product):
    """T4: each fee is a FEE line with the product line's expected quantity, no order
    product, its description and reason; once processed it points at the fee order
    product of the fee change order."""
    rma = rma_for(
        tv1_item,
        3,
        fees=[
            fee(fee_product, 5),
            fee(fee_product, 10, "PERCENTAGE", description="Repack", reason="OTHER"),
        ],
    )
    line = open_line(rma)
    fees = list(rma.lines.filter(type=LineType.FEE).order_by("line_number"))
    assert [f.line_number for f in [line, *fees]] == [1, 2, 3]
    for fee_line in fees:
        assert fee_line.product_line == line and fee_line.quantity_expected == 3
        assert fee_line.order_item is None and fee_line.product == fee_product
    assert (fees[0].fee_description, fees[0].reason) == ("Restocking fee", "DAMAGED")
    assert (fees[1].fee_description, fees[1].reason) == ("Repack", "OTHER")
    tv1_item.refresh_from_db()
    assert tv1_item.return_initiated_quantity == 3  # fees add nothing

    processing = process(rma, line, 3)
    fee_items = list(processing.fee_change_order.items.order_by("line_number"))
    for fee_line, fee_item in zip(fees, fee_items, strict=True):
        fee_line.refresh_from_db()
        assert fee_line.order_item == fee_item and fee_item.product == fee_product
    assert [i.gross_total for i in fee_items] == [Money("5.00", USD), Money("8.10", USD)]


@pytest.mark.parametrize(
    "fee_kwargs, field, text",
    [
        ({"is_fee": False}, "fee_product", "is not a fee product"),
        ({"is_fee": True, "is_active": False}, "fee_product", "is inactive"),
    ],
)
def test_t4_fee_product_must_be_an_active_fee(tv1_item, fee_kwargs, field, text):
    """T4: the fee product is a fee product, and active; the refusal names the line."""
    product = ProductFactory(name="Not a fee", **fee_kwargs)
    with pytest.raises(BusinessRuleRefused) as refused:
        create(tv1_item, (1, "DAMAGED", [fee(product, 5)]))
    (problem,) = refusals(refused)
    assert problem.rule == "T4" and problem.field == f"fee_{tv1_item.pk}_{field}"
    assert problem.message.startswith(f"{tv1_item.so_line_id} (") and ", fee 1:" in problem.message
    assert text in problem.message
    assert not ReturnOrder.objects.exists()


@pytest.mark.parametrize(
    "amount, amount_type, rule, field",
    [
        (None, "AMOUNT_WITH_TAX", "T4", "amount"),
        ("0", "AMOUNT_WITH_TAX", "T4", "amount"),
        ("-5", "AMOUNT_WITHOUT_TAX", "T4", "amount"),
        ("101", "PERCENTAGE", "T5", "amount"),
        ("5.123456", "AMOUNT_WITH_TAX", "T4", "amount"),
        ("1E+20", "AMOUNT_WITH_TAX", "T4", "amount"),
        ("NaN", "AMOUNT_WITH_TAX", "T4", "amount"),
        ("5", "FLAT", "T5", "amount_type"),
    ],
)
def test_t4_t5_bad_fee_inputs_are_refused(tv1_item, fee_product, amount, amount_type, rule, field):
    """T4, T5: missing, non-positive, over-precise, huge or NaN amounts, percentages over
    100 and unknown types are refused with the field named (never a crash)."""

    bad = FeeInput(
        amount=None if amount is None else D(amount),
        amount_type=amount_type,
        fee_product=fee_product,
    )
    with pytest.raises(BusinessRuleRefused) as refused:
        create(tv1_item, (1, "DAMAGED", [bad]))
    found = {(p.rule, p.field) for p in refusals(refused)}
    assert (rule, f"fee_{tv1_item.pk}_{field}") in found
    assert not ReturnOrder.objects.exists()


@pytest.mark.parametrize(
    "amount_type, amount, expected",
    [
        ("AMOUNT_WITH_TAX", "5", "5.00"),
        ("AMOUNT_WITHOUT_TAX", "5", "5.40"),
        ("PERCENTAGE", "10", "8.10"),  # 10 % × (75.00 + 6.00)
        ("PERCENTAGE_GROSS", "10", "8.10"),  # 10 % × 108.00 × 3/4
    ],
)
def test_t5_fee_types_on_three_expected(tv1_item, fee_product, amount_type, amount, expected):
    """T5: the fee for 3 expected units of 4 × 25.00 + 8 %."""
    rma = rma_for(tv1_item, 3, fees=[fee(fee_product, amount, amount_type)])
    assert rma.lines.get(type=LineType.FEE).fee_total == Money(expected, USD)


@pytest.mark.parametrize(
    "amount_type, amount, total, charged",
    [
        ("AMOUNT_WITH_TAX", "4.99", "4.99", "2.50"),  # 4.99 / 2 = 2.495 → 2.50
        ("AMOUNT_WITHOUT_TAX", "4.99", "5.36", "2.68"),  # 4.99 × 1.075 = 5.36425
        ("PERCENTAGE", "12.5", "8.96", "4.48"),  # 12.5 % × (66.66 + 5.00)
        ("PERCENTAGE_GROSS", "12.5", "8.96", "4.48"),  # 12.5 % × 107.49 × 2/3
    ],
)
def test_t5_t7_odd_amounts_quantity_three(db, fee_product, amount_type, amount, total, charged):
    """T5, T7: 3 units at 33.33 + 7.5 % (99.99 + 7.50): the fee for 2 expected, then 1
    returned charges half; charged + kept = the fee, to the cent."""
    item = tv_order(quantity="3", price="33.33", tax="7.5").items.get()
    assert (item.total, item.tax_amount) == (Money("99.99", USD), Money("7.50", USD))
    rma = rma_for(item, 2, fees=[fee(fee_product, amount, amount_type)])
    fee_line = rma.lines.get(type=LineType.FEE)
    assert fee_line.fee_total == Money(total, USD)
    processing = process(rma, open_line(rma), 1)
    assert processing.credit_memo.gross_total == Money("35.83", USD)  # 33.33 + 2.50
    assert processing.fee_invoice.gross_total == Money(charged, USD)
    kept = rma.lines.get(type=LineType.FEE, status=LineStatus.OPEN).fee_total
    assert kept + Money(charged, USD) == Money(total, USD)
