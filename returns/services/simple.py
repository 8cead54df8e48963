"""Simple return and simple cancel without an RMA (T12, T13), from the order page.

A simple return takes back fulfilled units at once; a simple cancel takes off units not
fulfilled yet. Both make the same documents as an RMA's *Return items* (T8) and ensure
the refund (T9). Fees apply to the returned or canceled quantity: a fixed amount is
charged as given, a percentage of those units' price."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from core.lifecycle import document_transition
from core.models import AuditAction
from core.services import audit_record
from orders.models import Order, OrderItem, OrderKind, OrderStatus
from orders.services.billing import billing_schedule_refresh

from ..models import ProcessingKind, ReturnProcessing, ReturnReason
from .documents import FeeCharge, Units, documents_create, documents_plan, processing_start
from .fees import FeeInput, fee_gross, fee_problems, number_problem
from .refunds import refund_ensure
from .rma import order_items_lock, order_lock_returnable

ZERO = Decimal("0")


@dataclass
class SimpleLineInput:
    order_item: OrderItem | int
    quantity: Decimal | None
    reason: str
    fees: list[FeeInput] = field(default_factory=list)

    @property
    def item_id(self) -> int:
        return getattr(self.order_item, "pk", self.order_item)


def _draft_claims(item_ids) -> dict[int, list[tuple[str, Decimal]]]:
    """R7: the draft reductions of these order products, ``{item id: [(number, positive
    quantity)]}``, in one query (activated ones are already out of ``available_quantity``)."""
    rows = (
        OrderItem.objects.filter(
            original_order_item_id__in=list(item_ids),
            order__kind=OrderKind.REDUCTION,
            order__status=OrderStatus.DRAFT,
        )
        .order_by("order_id", "pk")
        .values_list("original_order_item_id", "order__number", "quantity")
    )
    claims: dict[int, list[tuple[str, Decimal]]] = {}
    for item_id, number, quantity in rows:
        claims.setdefault(item_id, []).append((number, -quantity))
    return claims


def _reduction_claim_problem(*, item, asked, claims, label, verb) -> str | None:
    """T12, T13 with R7: a simple cancel or return may not leave less than the draft and
    activated reductions already claim (the sum would exceed what was sold)."""
    drafts = claims.get(item.pk, [])
    if not drafts:
        return None
    claimed = sum((q for _n, q in drafts), ZERO)
    left = item.available_quantity - item.canceled_quantity - item.return_initiated_quantity
    limit = max(left - claimed, ZERO)
    if asked <= limit:
        return None
    names = ", ".join(f"{number} ({q.normalize():f})" for number, q in drafts)
    noun = "draft reduction" if len(drafts) == 1 else "draft reductions"
    can = f"only {limit.normalize():f} can be {verb}" if limit > 0 else f"none can be {verb}"
    return (
        f"{label}: {asked.normalize():f} to be {verb} but the {noun} {names} already "
        f"claim{'s' if len(drafts) == 1 else ''} {claimed.normalize():f} of the "
        f"{item.quantity.normalize():f} sold, so {can} (deactivate or change the reduction "
        "first)"
    )


def _problems(*, order, items, lines, cancel: bool) -> list[BusinessRuleRefused]:
    rule = "T13" if cancel else "T12"
    problems: list[BusinessRuleRefused] = []
    if not lines:
        return [
            BusinessRuleRefused(
                rule=rule, field="items", message="enter a quantity for at least one product"
            )
        ]
    claims = _draft_claims(items.keys())
    asked: dict[int, Decimal] = {}
    for line in lines:
        item = items.get(line.item_id)
        if item is None:
            problems.append(
                BusinessRuleRefused(
                    rule=rule,
                    field="items",
                    message=f"order product {line.item_id} is not on {order}",
                )
            )
            continue
        label = f"{item.so_line_id} ({item.product.name})"
        qty_field = f"quantity_{item.pk}"
        if problem := number_problem(line.quantity, what="the quantity"):
            problems.append(
                BusinessRuleRefused(rule=rule, field=qty_field, message=f"{label}: {problem}")
            )
        else:
            asked[item.pk] = asked.get(item.pk, ZERO) + Decimal(str(line.quantity))
            if cancel:
                limit = item.available_to_cancel
                what = (
                    f"only {limit.normalize():f} not fulfilled yet (sold "
                    f"{item.to_fulfil_quantity.normalize():f}, fulfilled "
                    f"{item.fulfilled_quantity.normalize():f})"
                )
            else:
                limit = item.available_to_return
                what = (
                    f"only {limit.normalize():f} available to return (fulfilled "
                    f"{item.fulfilled_quantity.normalize():f} − return initiated "
                    f"{item.return_initiated_quantity.normalize():f})"
                )
            verb = "canceled" if cancel else "returned"
            if asked[item.pk] > limit:
                problems.append(
                    BusinessRuleRefused(
                        rule=rule,
                        field=qty_field,
                        message=f"{label}: {asked[item.pk].normalize():f} to be {verb} but {what}",
                    )
                )
            elif claim := _reduction_claim_problem(
                item=item, asked=asked[item.pk], claims=claims, label=label, verb=verb
            ):
                problems.append(BusinessRuleRefused(rule=rule, field=qty_field, message=claim))
        if line.reason not in ReturnReason.values:
            problems.append(
                BusinessRuleRefused(
                    rule=rule, field=f"reason_{item.pk}", message=f"{label}: choose a reason"
                )
            )
        for number, fee in enumerate(line.fees, start=1):
            problems += fee_problems(
                fee=fee, label=f"{label}, fee {number}", field_prefix=f"fee_{item.pk}_"
            )
    return problems


def _submit(*, order, lines, user, comment, ensure_refund, cancel: bool) -> ReturnProcessing:
    rule = "T13" if cancel else "T12"
    with transaction.atomic():
        order = order_lock_returnable(order=order, rule=rule)
        items = order_items_lock(order=order)
        problems = _problems(order=order, items=items, lines=lines, cancel=cancel)
        if problems:
            raise BusinessRulesRefused(problems)
        units, fees = [], []
        for line in lines:
            item = items[line.item_id]
            qty = Decimal(str(line.quantity))
            units.append(Units(item=item, quantity=qty))
            for fee in line.fees:
                gross = fee_gross(
                    amount=fee.amount, amount_type=fee.amount_type, item=item, quantity=qty
                )
                fees.append(
                    FeeCharge(
                        item=item,
                        fee_product=fee.fee_product,
                        gross=gross,
                        description=fee.description or fee.fee_product.name,
                        reason=fee.reason or line.reason,
                    )
                )
        plan = documents_plan(order=order, units=units, fees=fees)  # T9 before any write
        kind = ProcessingKind.SIMPLE_CANCEL if cancel else ProcessingKind.SIMPLE_RETURN
        processing = processing_start(kind=kind, order=order, user=user, comment=comment)
        what = f"{ProcessingKind(kind).label.lower()} on {order}"
        documents_create(
            order=order,
            processing=processing,
            plan=plan,
            user=user,
            today=timezone.localdate(),
            what=what,
        )
        for unit in units:
            if cancel:
                unit.item.canceled_quantity += unit.quantity  # T13
            else:
                unit.item.return_initiated_quantity += unit.quantity  # T12 (T2, T10)
                unit.item.returned_quantity += unit.quantity
        OrderItem.objects.bulk_update(
            items.values(),
            ["canceled_quantity", "return_initiated_quantity", "returned_quantity"],
        )
        billing_schedule_refresh(order=order)  # canceled or returned units: not billed again
        audit_record(
            document=order,
            actor=user,
            action=AuditAction.SIMPLE_CANCEL if cancel else AuditAction.SIMPLE_RETURN,
            comment=comment,
            data={
                "processing": processing.number,
                "units": {u.item.so_line_id: str(u.quantity) for u in units},
                "reasons": {items[line.item_id].so_line_id: line.reason for line in lines},
                "credit_memo": str(processing.credit_memo or ""),
                "fee_invoice": str(processing.fee_invoice or ""),
            },
        )
        if cancel:
            _fulfil_if_complete(order=order, items=items, user=user)
        if ensure_refund and processing.credit_memo_id:
            refund_ensure(processing=processing, user=user)
        return processing


def _fulfil_if_complete(*, order: Order, items: dict[int, OrderItem], user) -> None:
    """T13 with O6: once the cancel leaves nothing to fulfil, the order is Fulfilled."""
    if order.status != OrderStatus.ACTIVATED:
        return
    if all(item.fulfilled_quantity >= item.to_fulfil_quantity for item in items.values()):
        document_transition(  # a consequence of the cancel, not a fulfilment the user asked
            document=order,
            name="fulfil",
            user=user,
            reason="every product fulfilled or canceled",
            rule="O6",
            noun="orders",
            check_permission=False,
        )


def simple_return_submit(
    *, order, lines: list[SimpleLineInput], user, comment: str = "", ensure_refund: bool = True
) -> ReturnProcessing:
    """T12: return fulfilled units without an RMA (T2's availability), with optional fees
    on the returned quantity; the same documents and refund as T8–T9."""
    return _submit(
        order=order,
        lines=lines,
        user=user,
        comment=comment,
        ensure_refund=ensure_refund,
        cancel=False,
    )


def simple_cancel_submit(
    *, order, lines: list[SimpleLineInput], user, comment: str = "", ensure_refund: bool = True
) -> ReturnProcessing:
    """T13: cancel units not fulfilled yet. What was billed of them gets a credit memo;
    unbilled units get none (and are not billed any more)."""
    return _submit(
        order=order,
        lines=lines,
        user=user,
        comment=comment,
        ensure_refund=ensure_refund,
        cancel=True,
    )
