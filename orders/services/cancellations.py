"""Standalone cancellations of recurring order products (C1-C6).

A cancellation is a reduction order with one item: contract action CANCEL, quantity minus
the original quantity, revised order item = the original product, terminated date = the
last day billed; its service dates are the remaining term (terminated date + 1 … end).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from core.parsing import ascii_int

from ..models import ChargeType, ContractAction, Order, OrderItem, OrderKind, OrderStatus
from .record_values import date_of, decimal_of, shown, value_problem
from .reduction_rules import (
    ItemSpec,
    lock_original,
    qty_text,
    reducible_problem,
    reduction_permission_check,
    still_reducible_text,
)
from .reductions import reduction_build, reduction_order_activate

ONE_DAY = timedelta(days=1)
QTY_DIGITS = OrderItem._meta.get_field("quantity")
QTY = {"digits": QTY_DIGITS.max_digits, "places": QTY_DIGITS.decimal_places}
PRICE_DIGITS = OrderItem._meta.get_field("unit_price")
MONEY_DIGITS = {"digits": PRICE_DIGITS.max_digits, "places": PRICE_DIGITS.decimal_places}
IMPORT_FIELDS = (
    "original_order",
    "line_number",
    "revised_order_item",
    "contract_action",
    "quantity",
    "terminated_date",
    "billing_frequency",
    "price_book_entry",
    "unit_price",
    "activate",
    "comment",
)


def cancellation_problems(*, item: OrderItem, terminated_date: date) -> list[BusinessRuleRefused]:
    """Every reason ``item`` cannot be cancelled with ``terminated_date`` (R2, C1, C2, R7).
    Reads only; the caller holds the row locks when it matters."""
    problems: list[BusinessRuleRefused] = []
    label = item.so_line_id
    if problem := reducible_problem(item.order):
        return [problem]
    if item.charge_type != ChargeType.RECURRING:
        return [
            BusinessRuleRefused(
                rule="C1",
                field="revised_order_item",
                message=f"{label} is a one-time product: only recurring products can be "
                "cancelled (reduce its quantity instead)",
            )
        ]
    if item.terminated_date:
        return [
            BusinessRuleRefused(
                rule="C2",
                field="terminated_date",
                message=f"{label} was already terminated on {item.terminated_date}",
            )
        ]
    start, end = item.service_start_date, item.service_end_date
    if not start <= terminated_date < end:
        problems.append(
            BusinessRuleRefused(
                rule="C2",
                field="terminated_date",
                message=f"terminated date {terminated_date} must lie within {label}'s service "
                f"dates {start} to {end}, before its end date (nothing is left to cancel "
                "otherwise)",
            )
        )
    blocking = list(
        OrderItem.objects.filter(
            original_order_item=item,
            order__kind=OrderKind.REDUCTION,
            order__status__in=[OrderStatus.DRAFT, OrderStatus.ACTIVATED],
        )
        .order_by("order_id")
        .values_list("order__number", "quantity", "contract_action")
    )
    if blocking:
        taken = -sum((q for _n, q, _a in blocking), Decimal(0))
        names = ", ".join(
            f"{number} ({'cancellation' if action == ContractAction.CANCEL else qty_text(-q)})"
            for number, q, action in blocking
        )
        problems.append(
            BusinessRuleRefused(
                rule="R7",
                field="quantity",
                message=still_reducible_text(available=item.quantity - taken, sold=item.quantity)
                + f", a cancellation takes all {qty_text(item.quantity)} "
                f": {label} is already reduced by {names}",
            )
        )
    return problems


def cancellation_create(
    *,
    original_item: OrderItem,
    terminated_date: date,
    user,
    activate: bool = True,
    comment: str = "",
) -> Order:
    """C1, C2: a cancellation order of ``original_item`` from ``terminated_date`` + 1 to
    its end (full quantity, R6 amount); activated in the same transaction by default
    (C2 on the original, C4 credit memo, C5 RORD line)."""
    reduction_permission_check(user=user, action="create")
    with transaction.atomic():
        original, items = lock_original(original_item.order, [original_item.pk])
        if problem := reducible_problem(original):
            raise problem
        item = items.get(original_item.pk)
        if item is None:
            raise BusinessRuleRefused(
                rule="R3",
                field="revised_order_item",
                message=f"order product {original_item.pk} is not on {original}",
            )
        problems = cancellation_problems(item=item, terminated_date=terminated_date)
        if problems:
            raise BusinessRulesRefused(problems)
        spec = ItemSpec(
            original=item,
            quantity=item.quantity,
            start=terminated_date + ONE_DAY,
            end=item.service_end_date,
            contract_action=ContractAction.CANCEL,
            terminated_date=terminated_date,
        )
        reduction = reduction_build(
            original=original, specs=[spec], user=user, effective_date=None, comment=comment
        )
        if activate:
            reduction = reduction_order_activate(reduction=reduction, user=user, comment=comment)
    return reduction


# --- C6: import ---------------------------------------------------------------------


def _parse_date(value) -> date | None:
    return date_of(value)  # YYYY-MM-DD only ('20250315', '2025-W11-6' are not dates here)


def _parse_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y"):
        return True
    if text in ("false", "0", "no", "n"):
        return False
    return None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _find_item(record: dict, refuse) -> OrderItem | None:
    """The original product: original_order + line_number, or revised_order_item
    ("ORD-000001-1")."""
    number, line = record.get("original_order"), record.get("line_number")
    revised = record.get("revised_order_item")
    if not _blank(revised):
        ref_order, _, ref_line = str(revised).strip().rpartition("-")
        if not ref_order or ascii_int(ref_line) is None:
            refuse(
                "C6",
                "revised_order_item",
                f"'{shown(revised)}' is not an order product id like ORD-000001-1",
            )
            return None
        if not _blank(number) and str(number).strip() != ref_order:
            refuse(
                "C1",
                "revised_order_item",
                f"{shown(revised)} is not a product of {shown(number)}",
            )
            return None
        number, line = ref_order, ref_line
    if _blank(number):
        refuse("C6", "original_order", "original_order is missing")
        return None
    if _blank(line):
        refuse("C6", "line_number", "line_number (or revised_order_item) is missing")
        return None
    line_number = ascii_int(str(line).strip(), signed=True)  # '²', '٣', 5,000 digits: no
    if line_number is None:
        refuse("C6", "line_number", f"line_number {str(line)[:30]!r} is not a whole number")
        return None
    order = Order.objects.filter(number=str(number).strip()).first()
    if order is None:
        refuse("C6", "original_order", f"there is no order {shown(number)}")
        return None
    item = (
        OrderItem.objects.select_related("order", "price_book_entry")
        .filter(order=order, line_number=line_number)
        .first()
    )
    if item is None:
        refuse("C6", "line_number", f"{order} has no line {line_number}")
    return item


def _record_problems(n: int, record, seen: dict[int, int]):
    """Every problem of record ``n`` (1-based); fields read "[n].field"."""
    problems: list[BusinessRuleRefused] = []
    unusable: set[str] = set()  # fields whose value is refused as such: nothing else said

    def refuse(rule: str, field: str, message: str) -> None:
        if field not in unusable:
            problems.append(BusinessRuleRefused(rule=rule, field=f"[{n}].{field}", message=message))

    if not isinstance(record, dict):
        refuse("C6", "record", "each record must be an object of named fields")
        return problems, None
    record = _usable(record, refuse, unusable)
    unknown = [shown(str(key)) for key in record if key not in IMPORT_FIELDS]
    if unknown:
        refuse("C6", unknown[0], f"unknown field(s) {', '.join(sorted(unknown))}")
    item = _find_item(record, refuse)
    action = record.get("contract_action")
    if _blank(action):
        refuse("C6", "contract_action", "contract_action is missing (CANCEL)")
    elif str(action).strip().upper() != ContractAction.CANCEL:
        refuse("C1", "contract_action", f"contract_action must be CANCEL (got {shown(action)})")
    quantity = None
    if _blank(record.get("quantity")):
        refuse("C6", "quantity", "quantity is missing")
    else:  # sNaN, NaN, Infinity, 1e999999999: a sentence, not an exception
        quantity, problem = decimal_of(record["quantity"], **QTY)
        if problem:
            refuse("C6", "quantity", f"quantity {shown(record['quantity'])} {problem}")
    terminated = None
    if _blank(record.get("terminated_date")):
        refuse("C6", "terminated_date", "terminated_date is missing")
    else:
        terminated = _parse_date(record["terminated_date"])
        if terminated is None:
            refuse(
                "C6",
                "terminated_date",
                f"terminated_date {shown(record['terminated_date'])} is not a date (YYYY-MM-DD)",
            )
    frequency = record.get("billing_frequency")
    if _blank(frequency):
        refuse("C6", "billing_frequency", "billing_frequency is missing")
    activate = _parse_bool(record.get("activate", True))
    if activate is None:
        refuse(
            "C6", "activate", f"activate must be true or false (got {shown(record['activate'])})"
        )
    if item is None:
        return problems, None
    label = item.so_line_id
    if item.pk in seen:
        refuse(
            "C1", "revised_order_item", f"{label} is already cancelled by record {seen[item.pk]}"
        )
    seen.setdefault(item.pk, n)
    if quantity is not None and quantity != -item.quantity:
        refuse(
            "C1",
            "quantity",
            f"quantity {qty_text(quantity)} must be minus {label}'s "
            f"quantity ({qty_text(-item.quantity)})",
        )
    if not _blank(frequency) and str(frequency).strip().upper() != item.billing_frequency:
        refuse(
            "C1",
            "billing_frequency",
            f"billing frequency {shown(frequency)} differs from the "
            f"original's {item.billing_frequency or 'none (one-time)'} ({label})",
        )
    entry = record.get("price_book_entry")
    if not _blank(entry) and str(entry).strip() != str(item.price_book_entry_id):
        refuse(
            "C1",
            "price_book_entry",
            f"price book entry {shown(entry)} differs from the "
            f"original's {item.price_book_entry_id} ({label})",
        )
    price = record.get("unit_price")
    if not _blank(price):
        amount, problem = decimal_of(price, **MONEY_DIGITS)
        if problem:
            refuse("C6", "unit_price", f"unit price {shown(price)} {problem}")
        elif amount != item.unit_price.amount:
            refuse(
                "C1",
                "unit_price",
                f"unit price {shown(price)} differs from the original's "
                f"{item.unit_price.amount} ({label})",
            )
    if terminated is not None:
        for problem in cancellation_problems(item=item, terminated_date=terminated):
            refuse(problem.rule, problem.field or "terminated_date", problem.message)
    if problems:
        return problems, None
    return problems, (item, terminated, activate, str(record.get("comment") or ""))


def _usable(record: dict, refuse, unusable: set[str]) -> dict:
    """The record without the values no check may read (a list, a NUL, a lone surrogate,
    an integer of thousands of digits) and without field names that are no plain text,
    each refused naming its field (added to ``unusable``: nothing more is said of it)."""
    usable = {}
    for key, value in record.items():
        name = shown(key)
        if not isinstance(key, str) or value_problem(key):
            refuse("C6", name, f"unknown field {name}")
        elif key in IMPORT_FIELDS and (problem := value_problem(value)):
            refuse("C6", name, f"{name} {problem}")
        else:
            usable[key] = value
            continue
        unusable.add(name)
    return usable


def cancellation_import(*, records: list[dict], user) -> list[Order]:
    """C6: cancellations from an import. Every record and every rule is checked first;
    any problem refuses the whole import (nothing created), each naming "[n].field"."""
    reduction_permission_check(user=user, action="import")
    if not isinstance(records, list) or not records:
        raise BusinessRuleRefused(
            rule="C6", field="records", message="the import holds no cancellation records"
        )
    problems: list[BusinessRuleRefused] = []
    plans = []
    seen: dict[int, int] = {}
    for n, record in enumerate(records, start=1):
        found, plan = _record_problems(n, record, seen)
        problems += found
        if plan:
            plans.append(plan)
    if problems:
        raise BusinessRulesRefused(problems)
    created: list[Order] = []
    with transaction.atomic():
        for n, (item, terminated, activate, comment) in enumerate(plans, start=1):
            try:
                created.append(
                    cancellation_create(
                        original_item=item,
                        terminated_date=terminated,
                        user=user,
                        activate=activate,
                        comment=comment or "imported",
                    )
                )
            except BusinessRulesRefused as refusals:  # changed since the check: name the record
                raise BusinessRulesRefused(
                    [_in_record(n, r) for r in refusals.refusals]
                ) from refusals
            except BusinessRuleRefused as refusal:
                raise BusinessRulesRefused([_in_record(n, refusal)]) from refusal
    return created


def _in_record(n: int, refusal: BusinessRuleRefused) -> BusinessRuleRefused:
    return BusinessRuleRefused(
        rule=refusal.rule, field=f"[{n}].{refusal.field or 'record'}", message=refusal.message
    )
