"""Order header and lifecycle: O1-O8. Every state change: one transaction, row lock,
the FSM transition, full_clean/save, an audit event."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from core.lifecycle import document_transition, transition_check
from core.models import AuditAction
from core.services import audit_record, sequence_next

from ..models import Order, OrderItem, OrderKind, OrderStatus
from .billing import billing_schedule_refresh
from .deactivation import DEACTIVATION_BLOCKERS
from .emission import emission_order_activated, emission_withdraw
from .items import order_item_problems

ZERO = Decimal("0")
FIXED_ONCE_ACTIVATED = ("account_id", "price_book_id", "currency")  # O3
EDITABLE_AFTER_DRAFT = {"reference", "description"}
REDUCTION_INHERITED = (*FIXED_ONCE_ACTIVATED, "original_order_id", "kind")  # R3, R4
HEADER_FIELDS = (
    "kind",
    "account_id",
    "price_book_id",
    "currency",
    "effective_date",
    "end_date",
    "reference",
    "description",
    "original_order_id",
)
NUMBER_PREFIX = {OrderKind.STANDARD: "ORD", OrderKind.REDUCTION: "RO", OrderKind.CHANGE: "CO"}


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def order_save(*, order: Order, user, comment: str = "") -> Order:
    """Create (O1: always Draft, numbered) or update an order header (O3)."""
    with transaction.atomic():
        if order.pk is None:
            if order.status != OrderStatus.DRAFT:
                raise BusinessRuleRefused(
                    rule="O1", field="status", message="an order is always created in Draft"
                )
            if order.account_id and not order.currency:
                order.currency = order.account.currency
            prefix = NUMBER_PREFIX[OrderKind(order.kind)]
            order.number = f"{prefix}-{sequence_next(name=prefix):06d}"
            order.created_by = user if getattr(user, "pk", None) else None
            order.full_clean(exclude=["status"])  # protected FSM field (O1)
            order.save()
            audit_record(
                document=order,
                actor=user,
                action=AuditAction.CREATED,
                to_state=order.status,
                comment=comment,
            )
            return order

        current = _lock(order)
        changed = [f for f in HEADER_FIELDS if getattr(current, f) != getattr(order, f)]
        if not changed:
            return current
        inherited = [f for f in changed if f in REDUCTION_INHERITED]
        if current.kind == OrderKind.REDUCTION and inherited:
            raise BusinessRuleRefused(
                rule="R4",
                field=inherited[0].removesuffix("_id"),
                message=f"{current} takes the account, price book, currency and original "
                f"order of {current.original_order}: they cannot change",
            )
        if not current.is_draft:
            fixed = [f.removesuffix("_id") for f in changed if f in FIXED_ONCE_ACTIVATED]
            if fixed:
                raise BusinessRuleRefused(
                    rule="O3",
                    field=fixed[0],
                    message=f"{', '.join(fixed)} cannot change once the order has been "
                    f"activated ({current} is {current.get_status_display()})",
                )
            locked = [f.removesuffix("_id") for f in changed if f not in EDITABLE_AFTER_DRAFT]
            if locked:
                raise BusinessRuleRefused(
                    rule="O4",
                    field=locked[0],
                    message=f"{', '.join(locked)} can only change while the order is Draft",
                )
        if current.items.exists() and ("currency" in changed or "price_book_id" in changed):
            field = "currency" if "currency" in changed else "price_book"
            raise BusinessRuleRefused(
                rule="O2",
                field=field,
                message="the order has products priced from its price book and currency: "
                "remove them before changing the " + field.replace("_", " "),
            )
        order.full_clean(exclude=["status"])  # protected FSM field (O1)
        order.save()
        audit_record(
            document=order,
            actor=user,
            action=AuditAction.CHANGED,
            comment=comment,
            data={f.removesuffix("_id"): str(getattr(order, f)) for f in changed},
        )
    return order


def order_delete(*, order: Order, user) -> None:
    """O3: only Draft orders can be deleted."""
    with transaction.atomic():
        current = _lock(order)
        if not current.is_draft:
            raise BusinessRuleRefused(
                rule="O3",
                field="status",
                message=f"{current} is {current.get_status_display()}: only Draft orders "
                "can be deleted",
            )
        audit_record(document=current, actor=user, action=AuditAction.DELETED)
        current.delete()


def _check_transition(order: Order, name: str, user) -> None:
    transition_check(document=order, name=name, user=user, rule="O1", noun="orders")


def _transition(*, order: Order, name: str, user, comment: str, data: dict | None = None):
    return document_transition(
        document=order, name=name, user=user, reason=comment, rule="O1", noun="orders", data=data
    )


def standard_order_activate(*, order: Order, user, comment: str = "") -> Order:
    """O2: needs products, a price book and every product priced; changes only the status,
    activation time and user. O8: audited. O9: stages the SO lines.
    Standard and change orders; reduction orders and cancellations have their own service
    (R7, R9), and ``order_transition`` hands each to its own."""
    if order.kind == OrderKind.REDUCTION:
        raise BusinessRuleRefused(
            rule="R9", field="kind", message=f"{order} is a reduction order: activate it as one"
        )
    with transaction.atomic():
        order = _lock(order)
        _check_transition(order, "activate", user)
        problems: list[BusinessRuleRefused] = []
        if not order.price_book_id:
            problems.append(
                BusinessRuleRefused(
                    rule="O2", field="price_book", message="choose a price book before activating"
                )
            )
        items = list(order.items.select_related("product", "price_book_entry__price_book"))
        if not items:
            problems.append(
                BusinessRuleRefused(
                    rule="O2",
                    field="items",
                    message="add at least one order product before activating",
                )
            )
        for item in items:
            for problem in order_item_problems(order=order, item=item):
                problem.message = f"line {item.line_number}: {problem.message}"
                problems.append(problem)
            if item.unit_price is None or item.price_book_entry_id is None:
                problems.append(
                    BusinessRuleRefused(
                        rule="O2",
                        field="price_book_entry",
                        message=f"line {item.line_number}: {item.product.name} is not priced",
                    )
                )
        if problems:
            raise BusinessRulesRefused(problems)
        order = _transition(order=order, name="activate", user=user, comment=comment)
        # O9: the SO lines are staged in the same transaction as the activation
        order.revenue_batch_id = emission_order_activated(order=order, user=user)
        order.save(update_fields=["revenue_batch_id"])
        billing_schedule_refresh(order=order)  # B1: the billing run now sees its periods
        return order


def standard_order_deactivate(*, order: Order, user, comment: str = "") -> Order:
    """O5: back to Draft, refused (saying why) once anything was built on the order."""
    if order.kind == OrderKind.REDUCTION:
        raise BusinessRuleRefused(
            rule="R11", field="kind", message=f"{order} is a reduction order: deactivate it as one"
        )
    with transaction.atomic():
        order = _lock(order)
        _check_transition(order, "deactivate", user)
        reasons = [r for blocker in DEACTIVATION_BLOCKERS if (r := blocker(order))]
        if reasons:
            raise BusinessRuleRefused(
                rule="O5",
                field="status",
                message=f"{order} cannot be deactivated: {'; '.join(reasons)}",
            )
        emission_withdraw(
            batch_id=order.revenue_batch_id,
            user=user,
            rule="O5",
            document=order,
            reason=f"{order} deactivated",
        )
        order.revenue_batch_id = None
        return _transition(order=order, name="deactivate", user=user, comment=comment)


def _fulfil_locked_items(order: Order) -> list[OrderItem]:
    return list(OrderItem.objects.select_for_update().filter(order=order).order_by("pk"))


def order_fulfil(*, order: Order, user, comment: str = "") -> Order:
    """O6: every product's fulfilled quantity becomes its quantity minus reductions (and
    minus what a simple cancel took off, T13)."""
    with transaction.atomic():
        order = _lock(order)
        _check_transition(order, "fulfil", user)
        items = _fulfil_locked_items(order)
        for item in items:
            item.fulfilled_quantity = item.to_fulfil_quantity
        OrderItem.objects.bulk_update(items, ["fulfilled_quantity"])
        return _transition(
            order=order,
            name="fulfil",
            user=user,
            comment=comment,
            data={i.so_line_id: str(i.fulfilled_quantity) for i in items},
        )


def order_items_fulfil(
    *, order: Order, quantities: dict[int, Decimal], user, comment: str = ""
) -> Order:
    """O6, partial: add fulfilled units per product; once everything not reduced is
    fulfilled, the order moves to Fulfilled by itself."""
    with transaction.atomic():
        order = _lock(order)
        if order.status != OrderStatus.ACTIVATED:
            raise BusinessRuleRefused(
                rule="O6",
                field="status",
                message=f"only Activated orders can be fulfilled ({order} is "
                f"{order.get_status_display()})",
            )
        items = {i.pk: i for i in _fulfil_locked_items(order)}
        problems: list[BusinessRuleRefused] = []
        changes: dict[str, str] = {}
        for item_id, qty in quantities.items():
            item = items.get(int(item_id))
            if item is None:
                problems.append(
                    BusinessRuleRefused(
                        rule="O6", field="items", message=f"product {item_id} is not on {order}"
                    )
                )
                continue
            qty = Decimal(qty or 0)
            if qty == 0:
                continue
            open_qty = item.available_to_cancel
            if qty < 0 or qty > open_qty:
                problems.append(
                    BusinessRuleRefused(
                        rule="O6",
                        field=f"quantity_{item.pk}",
                        message=f"line {item.line_number}: {qty} cannot be fulfilled, "
                        f"{open_qty} of {item.quantity} are still open",
                    )
                )
                continue
            item.fulfilled_quantity += qty
            changes[item.so_line_id] = str(item.fulfilled_quantity)
        if problems:
            raise BusinessRulesRefused(problems)
        if not changes:
            raise BusinessRuleRefused(
                rule="O6",
                field="items",
                message="enter a quantity to fulfil on at least one product",
            )
        OrderItem.objects.bulk_update(items.values(), ["fulfilled_quantity"])
        audit_record(
            document=order,
            actor=user,
            action=AuditAction.FULFILLED_IN_PART,
            comment=comment,
            data=changes,
        )
        complete = all(i.fulfilled_quantity >= i.to_fulfil_quantity for i in items.values())
        if complete:
            _check_transition(order, "fulfil", user)
            order = _transition(
                order=order, name="fulfil", user=user, comment="every product fulfilled"
            )
    return order
