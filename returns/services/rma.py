"""RMA return orders: creation (T1–T5), status (T11) and canceling lines (T10, T11).

Lock order everywhere in returns: the order, the return order, its lines (by pk), the
order products (by pk), then invoice lines (credit memos). Reductions and billing lock
the order first too, so no two of them deadlock."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from core.lifecycle import actor_of, document_transition, transition_check
from core.models import AuditAction
from core.services import audit_record, money_round, sequence_next
from orders.models import Order, OrderItem, OrderKind, OrderStatus

from ..models import (
    LineStatus,
    LineType,
    ReturnOrder,
    ReturnOrderLine,
    ReturnReason,
)
from .fees import FeeInput, fee_gross, fee_problems, number_problem

ZERO = Decimal("0")
RETURNABLE = (OrderStatus.ACTIVATED, OrderStatus.FULFILLED)


@dataclass
class ReturnLineInput:
    """One product to return: quantity expected, reason, and its fees (T2–T5)."""

    order_item: OrderItem | int
    quantity: Decimal | None
    reason: str
    fees: list[FeeInput] = field(default_factory=list)

    @property
    def item_id(self) -> int:
        return getattr(self.order_item, "pk", self.order_item)


def order_lock_returnable(*, order: Order | int, rule: str = "T1") -> Order:
    """T1: lock a standard order that is Activated or Fulfilled (else refuse)."""
    order = Order.objects.select_for_update().get(pk=getattr(order, "pk", order))
    if order.kind != OrderKind.STANDARD:
        raise BusinessRuleRefused(
            rule=rule,
            field="order",
            message=f"{order} is a {order.get_kind_display().lower()} order: only standard "
            "orders are returned",
        )
    if order.status not in RETURNABLE:
        raise BusinessRuleRefused(
            rule=rule,
            field="order",
            message=f"{order} is {order.get_status_display()}: only Activated or Fulfilled "
            "orders can be returned",
        )
    return order


def order_items_lock(*, order: Order) -> dict[int, OrderItem]:
    return {
        item.pk: item
        # of=self: lock the order products only, not the products joined for labels
        for item in OrderItem.objects.select_for_update(of=("self",))
        .select_related("product", "order")
        .filter(order=order)
        .order_by("pk")
    }


def _open_reasons(item_ids) -> dict[int, set[str]]:
    """T3: the reasons of the open product lines of these order products (every RMA)."""
    reasons: dict[int, set[str]] = defaultdict(set)
    rows = ReturnOrderLine.objects.filter(
        order_item_id__in=list(item_ids), status=LineStatus.OPEN
    ).exclude(type=LineType.FEE)
    for item_id, reason in rows.values_list("order_item_id", "reason"):
        reasons[item_id].add(reason)
    return reasons


def return_lines_problems(
    *, order: Order, items: dict[int, OrderItem], lines: list[ReturnLineInput], check_t3=True
) -> list[BusinessRuleRefused]:
    """T1–T5 for the lines of a new RMA (or a simple return: no T3), read only."""
    problems: list[BusinessRuleRefused] = []
    if not lines:
        return [
            BusinessRuleRefused(
                rule="T2", field="items", message="enter a quantity for at least one product"
            )
        ]
    asked: dict[int, Decimal] = defaultdict(lambda: ZERO)
    reasons = _open_reasons(items) if check_t3 else {}
    for line in lines:
        item = items.get(line.item_id)
        if item is None:
            problems.append(
                BusinessRuleRefused(
                    rule="T1",
                    field="items",
                    message=f"order product {line.item_id} is not on {order}",
                )
            )
            continue
        label = f"{item.so_line_id} ({item.product.name})"
        qty_field = f"quantity_{item.pk}"
        if problem := number_problem(line.quantity, what="the quantity expected"):
            problems.append(
                BusinessRuleRefused(rule="T2", field=qty_field, message=f"{label}: {problem}")
            )
        else:
            asked[item.pk] += Decimal(str(line.quantity))
            if asked[item.pk] > item.available_to_return:
                problems.append(
                    BusinessRuleRefused(
                        rule="T2",
                        field=qty_field,
                        message=f"{label}: {asked[item.pk].normalize():f} expected but only "
                        f"{item.available_to_return.normalize():f} available to return "
                        f"(fulfilled {item.fulfilled_quantity.normalize():f} − return initiated "
                        f"{item.return_initiated_quantity.normalize():f})",
                    )
                )
        if line.reason not in ReturnReason.values:
            problems.append(
                BusinessRuleRefused(
                    rule="T3",
                    field=f"reason_{item.pk}",
                    message=f"{label}: choose a reason for return",
                )
            )
        elif check_t3:
            if line.reason in reasons[item.pk]:
                problems.append(
                    BusinessRuleRefused(
                        rule="T3",
                        field=f"reason_{item.pk}",
                        message=f"{label}: an open return line already uses reason "
                        f"{ReturnReason(line.reason).label}: a second one needs another reason",
                    )
                )
            reasons[item.pk].add(line.reason)
        for number, fee in enumerate(line.fees, start=1):
            problems += fee_problems(
                fee=fee, label=f"{label}, fee {number}", field_prefix=f"fee_{item.pk}_"
            )
    return problems


def _line_tax(unit_price: Money, quantity: Decimal, rate: Decimal) -> Money:
    currency = str(unit_price.currency)
    net = money_round(amount=unit_price.amount * quantity, currency=currency)
    return Money(money_round(amount=net * rate / Decimal(100), currency=currency), currency)


def return_order_create(
    *,
    order: Order | int,
    lines: list[ReturnLineInput],
    user,
    reason: str = "",
    comment: str = "",
    submit: bool = True,
) -> ReturnOrder:
    """T1–T5: an RMA for products of an Activated or Fulfilled standard order. Every line
    is checked before anything is saved (under the order products' locks, so two RMAs
    cannot take the same units); each line adds its expected quantity to the product's
    return-initiated quantity (T2); each fee becomes a FEE line with the same expected
    quantity and no order product (T4), its amount worked out by T5. Created Draft, then
    submitted unless ``submit`` is False."""
    with transaction.atomic():
        order = order_lock_returnable(order=order)
        items = order_items_lock(order=order)
        problems = return_lines_problems(order=order, items=items, lines=lines)
        if reason and reason not in ReturnReason.values:
            problems.append(
                BusinessRuleRefused(
                    rule="T3", field="reason", message=f"{reason} is not a reason for return"
                )
            )
        if problems:
            raise BusinessRulesRefused(problems)
        rma = ReturnOrder(
            number=f"RMA-{sequence_next(name='RMA'):06d}",
            order=order,
            account_id=order.account_id,
            currency=order.currency,
            reason=reason or lines[0].reason,
            comment=comment,
            created_by=actor_of(user),
        )
        rma.full_clean(exclude=["status", "order", "account"])
        rma.save()
        rows: list[ReturnOrderLine] = []
        for line in lines:
            item = items[line.item_id]
            qty = Decimal(str(line.quantity))
            product_line = ReturnOrderLine(
                return_order=rma,
                line_number=len(rows) + 1,
                type=LineType.DELIVERY_CHARGE
                if item.product.is_delivery_charge
                else LineType.ORDER_PRODUCT,
                order_item=item,
                product_id=item.product_id,
                quantity_expected=qty,
                reason=line.reason,
                unit_price=item.unit_price,
                tax_rate=item.tax_rate,
                tax_amount=_line_tax(item.unit_price, qty, item.tax_rate),
            )
            product_line.save()
            rows.append(product_line)
            for fee in line.fees:
                total = fee_gross(
                    amount=fee.amount, amount_type=fee.amount_type, item=item, quantity=qty
                )
                fee_line = ReturnOrderLine(
                    return_order=rma,
                    line_number=len(rows) + 1,
                    type=LineType.FEE,
                    product=fee.fee_product,
                    quantity_expected=qty,
                    reason=fee.reason or line.reason,
                    unit_price=Money(0, str(order.currency)),
                    tax_rate=item.tax_rate,
                    fee_amount=fee.amount,
                    fee_amount_type=fee.amount_type,
                    fee_description=(fee.description or fee.fee_product.name)[:200],
                    fee_total=Money(total, str(order.currency)),
                    product_line=product_line,
                )
                fee_line.save()
                rows.append(fee_line)
            item.return_initiated_quantity += qty  # T2
        OrderItem.objects.bulk_update(items.values(), ["return_initiated_quantity"])
        audit_record(
            document=rma,
            actor=user,
            action=AuditAction.CREATED,
            to_state=rma.status,
            comment=comment,
            data={
                "order": order.number,
                "lines": [
                    {
                        "line": row.line_number,
                        "type": row.type,
                        "product": row.order_item.so_line_id if row.order_item_id else "",
                        "expected": str(row.quantity_expected),
                        "fee": str(row.fee_total.amount) if row.fee_total is not None else "",
                    }
                    for row in rows
                ],
            },
        )
        if submit:
            _transition(rma, "submit", user)
        return rma


def _transition(rma: ReturnOrder, name: str, user, *, comment: str = "", data=None):
    return document_transition(
        document=rma, name=name, user=user, reason=comment, rule="T11", noun="RMAs", data=data
    )


def return_order_lock(*, return_order: ReturnOrder | int) -> tuple[Order, ReturnOrder]:
    """The order, then the RMA, locked (the returns' lock order)."""
    pk = getattr(return_order, "pk", return_order)
    order_id = ReturnOrder.objects.values_list("order_id", flat=True).get(pk=pk)
    order = Order.objects.select_for_update().get(pk=order_id)
    return order, ReturnOrder.objects.select_for_update().get(pk=pk)


def _check(rma: ReturnOrder, name: str, user) -> None:
    transition_check(document=rma, name=name, user=user, rule="T11", noun="RMAs")


def _cancel_lines(lines: list[ReturnOrderLine], items: dict[int, OrderItem], user) -> list[str]:
    """T10, T11: open lines become canceled; product lines give back their expected
    quantity to the product's return-initiated quantity."""
    now = timezone.now()
    canceled = []
    for line in lines:
        if line.status != LineStatus.OPEN:
            continue
        line.status = LineStatus.CANCELED
        line.quantity_canceled = line.quantity_expected
        line.processed_at, line.processed_by = now, actor_of(user)
        if not line.is_fee:
            item = items[line.order_item_id]
            item.return_initiated_quantity -= line.quantity_expected
        canceled.append(str(line))
    ReturnOrderLine.objects.bulk_update(
        lines, ["status", "quantity_canceled", "processed_at", "processed_by"]
    )
    OrderItem.objects.bulk_update(items.values(), ["return_initiated_quantity"])
    return canceled


def _locked_lines(rma: ReturnOrder) -> list[ReturnOrderLine]:
    return list(
        # of=self: the order product is an outer join (fee lines have none), which
        # PostgreSQL cannot lock; the order products are locked by order_items_lock
        ReturnOrderLine.objects.select_for_update(of=("self",))
        .filter(return_order=rma)
        .select_related("order_item__order", "product")
        .order_by("pk")
    )


def return_order_transition(
    *, return_order: ReturnOrder, name: str, user, comment: str = ""
) -> ReturnOrder:
    """Submit, approve, close (T11: only once every product line is processed or
    canceled) or cancel (T11: its open lines are canceled and give back their
    return-initiated quantities)."""
    if name not in ("submit", "approve", "close", "cancel"):
        raise BusinessRuleRefused(rule="T11", field="status", message=f"no transition {name!r}")
    with transaction.atomic():
        order, rma = return_order_lock(return_order=return_order)
        _check(rma, name, user)
        data = None
        if name == "close":
            open_lines = [
                str(line)
                for line in ReturnOrderLine.objects.filter(
                    return_order=rma, status=LineStatus.OPEN
                ).order_by("line_number")
            ]
            if open_lines:
                raise BusinessRuleRefused(
                    rule="T11",
                    field="status",
                    message=f"{rma} cannot be closed: line(s) {', '.join(open_lines)} are "
                    "still open (return or cancel them first)",
                )
        if name == "cancel":
            lines = _locked_lines(rma)
            items = order_items_lock(order=order)
            data = {"lines canceled": _cancel_lines(lines, items, user)}
        return _transition(rma, name, user, comment=comment, data=data)


def return_line_cancel(*, line: ReturnOrderLine, user, comment: str = "") -> ReturnOrderLine:
    """T10, T11: cancel an open product line (and its open fees): the customer will not
    send these units; their return-initiated quantity is given back."""
    with transaction.atomic():
        order, rma = return_order_lock(return_order=line.return_order_id)
        if not rma.is_open:
            raise BusinessRuleRefused(
                rule="T11",
                field="status",
                message=f"{rma} is {rma.get_status_display()}: its lines no longer change",
            )
        if user is not None and not user.has_perm("returns.cancel_returnorder"):
            raise BusinessRuleRefused(
                rule="T11", field="status", message="you do not have the permission to cancel"
            )
        lines = _locked_lines(rma)
        target = next((row for row in lines if row.pk == line.pk), None)
        if target is None or target.status != LineStatus.OPEN:
            state = target.get_status_display() if target else "gone"
            raise BusinessRuleRefused(
                rule="T11", field="lines", message=f"line {line} is {state}: only open lines"
            )
        if target.is_fee:
            raise BusinessRuleRefused(
                rule="T11",
                field="lines",
                message=f"line {target} is a fee: it is canceled with its product line "
                f"{target.product_line}",
            )
        items = order_items_lock(order=order)
        chosen = [row for row in lines if row.pk == target.pk or row.product_line_id == target.pk]
        canceled = _cancel_lines(chosen, items, user)
        audit_record(
            document=rma,
            actor=user,
            action=AuditAction.LINE_CANCELED,
            comment=comment,
            data={"lines canceled": canceled},
        )
        target.refresh_from_db()
        return target
