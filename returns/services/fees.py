"""Fees of returns and cancels (T4, T5, T7): inputs, checks and amounts. Pure
arithmetic and reads: the processing services decide what to charge and when."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from core.exceptions import BusinessRuleRefused
from core.services import money_round
from orders.models import OrderItem, Product

from ..models import FeeAmountType, ReturnReason

ZERO = Decimal("0")
HUNDRED = Decimal(100)
QTY_PLACES = 2  # quantities are stored with 2 decimals (QTY)
FEE_PLACES = 4  # fee amounts as entered: 4 decimals (ReturnOrderLine.fee_amount)
TOO_LARGE = Decimal("1e12")  # fits every quantity and money column, with room for sums


def number_problem(
    value, *, what: str, places: int = QTY_PLACES, allow_zero: bool = False
) -> str | None:
    """Why ``value`` is not a usable positive number (or ≥ 0 with ``allow_zero``), or
    None. Refused rather than left to the database: NaN and infinities (comparisons
    raise), more decimals than the column keeps (PostgreSQL would round them silently),
    and values too large for it (an error at save)."""
    if value is None:
        return f"enter {what}"
    try:
        value = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return f"{what} is not a number ({value})"
    if not value.is_finite():
        return f"{what} is not a number ({value})"
    if value < 0 or (value == 0 and not allow_zero):
        return f"{what} must be greater than {'or equal to ' if allow_zero else ''}0 ({value})"
    if value >= TOO_LARGE:
        return f"{what} is too large ({value})"
    if value != value.quantize(Decimal(1).scaleb(-places)):
        return f"{what} has more than {places} decimals ({value})"
    return None


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
    if problem := number_problem(fee.amount, what="the fee amount", places=FEE_PLACES):
        refuse("T4", "amount", f"{label}: {problem}")
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
