"""Fees of returns and cancels (T4, T5, T7): inputs, checks and amounts. Pure
arithmetic and reads: the processing services decide what to charge and when."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.exceptions import BusinessRuleRefused
from core.services import money_round
from orders.models import OrderItem, Product

from ..models import FeeAmountType, ReturnReason

ZERO = Decimal("0")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class FeeInput:
    """T4: one fee on a returned (or canceled) product: amount, amount type, description,
    fee product and reason. Percentages are given as 10 for 10 %."""

    amount: Decimal | None
    amount_type: str
    fee_product: Product | None
    description: str = ""
    reason: str = ""


def fee_problems(*, fee: FeeInput, label: str, field_prefix: str = "") -> list[BusinessRuleRefused]:
    """Every reason ``fee`` cannot be used (T4, T5); ``label`` names the line in messages."""
    problems: list[BusinessRuleRefused] = []

    def refuse(rule: str, field: str, message: str) -> None:
        problems.append(
            BusinessRuleRefused(rule=rule, field=f"{field_prefix}{field}", message=message)
        )

    if fee.amount_type not in FeeAmountType.values:
        refuse(
            "T5",
            "amount_type",
            f"{label}: amount type {fee.amount_type or '(empty)'!s} is not one of "
            f"{', '.join(FeeAmountType.values)}",
        )
    if fee.amount is None:
        refuse("T4", "amount", f"{label}: enter the fee amount")
    elif fee.amount <= 0:
        refuse("T4", "amount", f"{label}: the fee amount must be greater than 0 ({fee.amount})")
    elif (
        fee.amount_type in FeeAmountType.values
        and FeeAmountType(fee.amount_type).is_percentage
        and fee.amount > HUNDRED
    ):
        refuse("T5", "amount", f"{label}: a percentage fee cannot exceed 100 ({fee.amount})")
    if fee.fee_product is None:
        refuse("T4", "fee_product", f"{label}: choose the fee product")
    elif not fee.fee_product.is_fee:
        refuse("T4", "fee_product", f"{label}: {fee.fee_product.name} is not a fee product")
    elif not fee.fee_product.is_active:
        refuse("T4", "fee_product", f"{label}: fee product {fee.fee_product.name} is inactive")
    if fee.reason and fee.reason not in ReturnReason.values:
        refuse("T4", "reason", f"{label}: {fee.reason} is not a reason for return")
    return problems


def fee_gross(*, amount: Decimal, amount_type: str, item: OrderItem, quantity: Decimal) -> Decimal:
    """T5: the fee, tax included, for ``quantity`` units of ``item``:
    - AMOUNT_WITH_TAX: the amount as given;
    - AMOUNT_WITHOUT_TAX: the amount plus the returned product's tax;
    - PERCENTAGE: percent of unit price × quantity plus its tax;
    - PERCENTAGE_GROSS: percent of the order product's gross amount (as the order records
      it, total + tax) × quantity / its quantity.
    Rounded to the currency (TV2: 5.00, 5.40, 2.70, 2.70 for 1 unit at 25.00 + 8 %)."""
    currency = str(item.total.currency)
    rate = item.tax_rate / HUNDRED
    kind = FeeAmountType(amount_type)
    if kind == FeeAmountType.AMOUNT_WITH_TAX:
        value = amount
    elif kind == FeeAmountType.AMOUNT_WITHOUT_TAX:
        value = amount * (1 + rate)
    elif kind == FeeAmountType.PERCENTAGE:
        net = money_round(amount=item.unit_price.amount * quantity, currency=currency)
        tax = money_round(amount=net * rate, currency=currency)
        value = amount / HUNDRED * (net + tax)
    else:
        gross = item.total.amount + item.tax_amount.amount
        value = amount / HUNDRED * gross * quantity / item.quantity if item.quantity else ZERO
    return money_round(amount=value, currency=currency)


def fee_part(*, total: Decimal, part: Decimal, whole: Decimal, currency: str) -> Decimal:
    """T7: the share of a line's fee that ``part`` of its ``whole`` expected units carry
    (10.00 on 2 expected, 1 returned: 5.00). Cumulative: callers take shares of running
    totals, so charged + canceled + split add up to the fee."""
    if not whole:
        return ZERO
    return money_round(amount=total * part / whole, currency=currency)


def fee_net_tax(*, gross: Decimal, tax_rate: Decimal, currency: str) -> tuple[Decimal, Decimal]:
    """A fee is taxed like the product it is charged on: net = gross / (1 + rate), the
    tax is the rest, so the fee invoice's total is exactly the fee (TV1: 5.40 = 5.00 +
    0.40)."""
    net = money_round(amount=gross / (1 + tax_rate / HUNDRED), currency=currency)
    return net, gross - net
