"""Reduction orders: the checks (R1, R2, R5-R8) and amounts (R6) that creating a
reduction or a cancellation shares, plus the row locks they are checked under."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from core.services import money_round, sum_exact

from ..models import ChargeType, ContractAction, Order, OrderItem, OrderKind, OrderStatus

ZERO = Decimal("0")
REDUCIBLE = (OrderStatus.ACTIVATED, OrderStatus.FULFILLED)
PERMISSION = "orders.create_reduction_order"


def qty_text(value: Decimal) -> str:
    """30.00 → "30", 2.50 → "2.5" (quantities in messages)."""
    return f"{Decimal(value).normalize():f}"


def still_reducible_text(*, available: Decimal, sold: Decimal) -> str:
    """R7 in words, never with a negative figure: "only 40 of 100 can still be reduced";
    "only 0 of 100 …" when reductions, cancels and returns already claim everything (or,
    for data saved before T12/T13 checked draft reductions, more)."""
    return f"only {qty_text(max(available, ZERO))} of {qty_text(sold)} can still be reduced"


def inclusive_days(start: date, end: date) -> int:
    return (end - start).days + 1


@dataclass(frozen=True)
class ReductionLine:
    """What the user asks to reduce on one order product of the original (R5, R6)."""

    item_id: int
    quantity: Decimal
    start_date: date | None = None
    end_date: date | None = None


@dataclass(frozen=True)
class ItemSpec:
    """A checked reduction item, ready to be built."""

    original: OrderItem
    quantity: Decimal  # positive
    start: date
    end: date | None
    contract_action: str = ContractAction.NEW
    terminated_date: date | None = None


def reduction_permission_check(*, user, action: str) -> None:
    """R1: creating, activating or deactivating a reduction needs Create Reduction Orders
    (``user`` None is a system job)."""
    if user is not None and not user.has_perm(PERMISSION):
        raise BusinessRuleRefused(
            rule="R1",
            field=None,
            message=f"you need the permission Create Reduction Orders to {action} reduction orders",
        )


def reducible_problem(original: Order) -> BusinessRuleRefused | None:
    """R2, R8: only Activated or Fulfilled standard orders can be reduced."""
    if original.kind == OrderKind.REDUCTION:
        return BusinessRuleRefused(
            rule="R8",
            field="original_order",
            message=f"{original} is a reduction order: a reduction cannot itself be reduced",
        )
    if original.kind != OrderKind.STANDARD or original.status not in REDUCIBLE:
        return BusinessRuleRefused(
            rule="R2",
            field="original_order",
            message=f"only Activated or Fulfilled standard orders can be reduced ({original} "
            f"is a {original.get_status_display()} {original.get_kind_display().lower()} "
            "order)",
        )
    return None


def reduced_so_far(*, item_ids, statuses=(OrderStatus.DRAFT, OrderStatus.ACTIVATED)):
    """R7: quantity taken by reductions (draft and activated by default), per item id."""
    rows = (
        OrderItem.objects.filter(
            original_order_item_id__in=list(item_ids),
            order__kind=OrderKind.REDUCTION,
            order__status__in=list(statuses),
        )
        .values_list("original_order_item_id")
        .annotate(q=Sum("quantity"))
        .order_by()
    )
    return defaultdict(lambda: ZERO, {pk: -sum_exact(q) for pk, q in rows})


def reduction_amount(*, original: OrderItem, quantity: Decimal, start: date, end: date | None):
    """R6: -(q × unit price × days(range) / days(original range)); one-time: -(q × price)."""
    currency = str(original.total.currency)
    value = quantity * original.unit_price.amount
    if original.charge_type == ChargeType.RECURRING:
        value = (
            value
            * inclusive_days(start, end)
            / inclusive_days(original.service_start_date, original.service_end_date)
        )
    total = -money_round(amount=value, currency=currency)
    tax = money_round(amount=total * original.tax_rate / Decimal(100), currency=currency)
    return Money(total, currency), Money(tax, currency)


def line_problems(
    line: ReductionLine, item: OrderItem | None, original: Order, remaining: dict
) -> tuple[list[BusinessRuleRefused], ItemSpec | None]:
    problems: list[BusinessRuleRefused] = []

    def refuse(rule: str, field: str, message: str) -> None:
        problems.append(
            BusinessRuleRefused(rule=rule, field=f"{field}_{line.item_id}", message=message)
        )

    if item is None:
        refuse("R3", "quantity", f"order product {line.item_id} is not on {original}")
        return problems, None
    label = item.so_line_id
    quantity = Decimal(line.quantity)
    if quantity < 0:
        refuse(
            "R5",
            "quantity",
            f"{label}: enter a positive quantity to reduce (got {qty_text(quantity)})",
        )
        return problems, None
    available = max(remaining[item.pk], ZERO)  # R7: never shown or checked below 0
    if quantity > available:
        refuse(
            "R7",
            "quantity",
            f"{label}: {still_reducible_text(available=available, sold=item.quantity)}",
        )
    start, end = item.service_start_date, item.service_end_date
    if item.charge_type == ChargeType.RECURRING:
        start, end = line.start_date, line.end_date
        orig_range = f"{item.service_start_date} to {item.service_end_date}"
        for field, value in (("start_date", start), ("end_date", end)):
            if value is None:
                refuse(
                    "R6",
                    field,
                    f"{label} is recurring: enter the {field.replace('_', ' ')} "
                    f"of the reduction (within {orig_range})",
                )
            elif not item.service_start_date <= value <= item.service_end_date:
                refuse(
                    "R6",
                    field,
                    f"{label}: {field.replace('_', ' ')} {value} is outside the "
                    f"product's service dates {orig_range}",
                )
        if start and end and end < start:
            refuse("R6", "end_date", f"{label}: end date {end} is before the start date {start}")
    if problems:
        return problems, None
    remaining[item.pk] -= quantity
    return problems, ItemSpec(original=item, quantity=quantity, start=start, end=end)


def lock_original(original: Order, item_ids) -> tuple[Order, dict[int, OrderItem]]:
    original = Order.objects.select_for_update().get(pk=original.pk)
    items = OrderItem.objects.select_for_update(of=("self",)).filter(
        order=original, pk__in=list(item_ids)
    )
    return original, {i.pk: i for i in items.select_related("order", "product").order_by("pk")}
