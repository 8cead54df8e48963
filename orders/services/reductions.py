"""Reduction orders (R1-R11): create, activate, deactivate.

Lock order everywhere: the original order, its order products (by pk), then the
reduction order. Cancellations (C rules) are reduction orders too and share the builder.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from core.lifecycle import document_transition, transition_check
from core.models import AuditAction
from core.services import audit_record

from ..models import ContractAction, CreditMemo, CreditMemoStatus, Order, OrderItem, OrderKind
from .billing import billing_schedule_refresh, credit_memo_for_reduction, credit_memo_void
from .emission import emission_order_activated, emission_withdraw
from .orders import order_save
from .reduction_rules import (
    ZERO,
    ItemSpec,
    ReductionLine,
    line_problems,
    lock_original,
    qty_text,
    reduced_so_far,
    reducible_problem,
    reduction_amount,
    reduction_permission_check,
    still_reducible_text,
)
from .totals import order_totals_refresh

__all__ = [
    "ReductionLine",
    "reduction_build",
    "reduction_order_activate",
    "reduction_order_create",
    "reduction_order_deactivate",
]


def reduction_build(
    *, original: Order, specs: list[ItemSpec], user, effective_date: date | None, comment: str
) -> Order:
    """A Draft reduction order of ``original`` with one item per spec (R4, R5, R6, R8).
    The caller holds the locks and has checked every rule."""
    reduction = order_save(
        order=Order(
            kind=OrderKind.REDUCTION,
            original_order=original,
            account_id=original.account_id,
            price_book_id=original.price_book_id,
            currency=original.currency,
            effective_date=effective_date or timezone.localdate(),
        ),
        user=user,
        comment=comment,
    )
    lines = {}
    for number, spec in enumerate(specs, start=1):
        src = spec.original
        total, tax = reduction_amount(
            original=src, quantity=spec.quantity, start=spec.start, end=spec.end
        )
        item = OrderItem(
            order=reduction,
            line_number=number,
            product_id=src.product_id,
            price_book_entry_id=src.price_book_entry_id,
            quantity=-spec.quantity,
            unit_price=src.unit_price,
            list_price=src.list_price,
            tax_rate=src.tax_rate,
            total=total,
            tax_amount=tax,
            service_start_date=spec.start,
            service_end_date=spec.end,
            charge_type=src.charge_type,
            billing_frequency=src.billing_frequency,
            billing_type=src.billing_type,
            revenue_method=src.revenue_method,
            available_quantity=ZERO,  # R8
            original_order_item=src,
            contract_action=spec.contract_action,
            revised_order_item=src if spec.contract_action == ContractAction.CANCEL else None,
            terminated_date=spec.terminated_date,
        )
        item.full_clean(exclude=["order"], validate_unique=False, validate_constraints=False)
        item.save()
        lines[src.so_line_id] = {"quantity": qty_text(spec.quantity), "total": str(total)}
    order_totals_refresh(order=reduction)
    audit_record(document=reduction, actor=user, action=AuditAction.PRODUCTS_ADDED, data=lines)
    audit_record(
        document=original,
        actor=user,
        action=AuditAction.REDUCTION_CREATED,
        comment=comment,
        data={"reduction": reduction.number, "lines": lines},
    )
    return reduction


def reduction_order_create(
    *,
    original: Order,
    lines: list[ReductionLine],
    user,
    effective_date: date | None = None,
    comment: str = "",
) -> Order:
    """R1-R8: a Draft reduction order of ``original``. Every line is checked first (under a
    row lock on the original's products, so R7 sees every other reduction), then built."""
    reduction_permission_check(user=user, action="create")
    lines = [line for line in lines if line.quantity]
    with transaction.atomic():
        original, items = lock_original(original, {line.item_id for line in lines})
        if problem := reducible_problem(original):
            raise problem
        if not lines:
            raise BusinessRuleRefused(
                rule="R5",
                field="items",
                message="enter a quantity to reduce on at least one product",
            )
        taken = reduced_so_far(item_ids=items.keys())
        # R7 with T2, T13: units canceled or being returned cannot be reduced as well
        remaining = {
            pk: item.quantity - taken[pk] - item.canceled_quantity - item.return_initiated_quantity
            for pk, item in items.items()
        }
        problems: list[BusinessRuleRefused] = []
        specs: list[ItemSpec] = []
        for line in lines:
            found, spec = line_problems(line, items.get(line.item_id), original, remaining)
            problems += found
            if spec:
                specs.append(spec)
        if problems:
            raise BusinessRulesRefused(problems)
        return reduction_build(
            original=original,
            specs=specs,
            user=user,
            effective_date=effective_date,
            comment=comment,
        )


def _locked_reduction(reduction: Order) -> tuple[Order, Order, dict[int, OrderItem]]:
    """Lock original order, its reduced products (by pk), then the reduction order."""
    head = Order.objects.values("original_order_id", "kind").get(pk=reduction.pk)
    if head["kind"] != OrderKind.REDUCTION:
        raise BusinessRuleRefused(
            rule="R3", field="kind", message=f"{reduction} is not a reduction order"
        )
    item_ids = OrderItem.objects.filter(order_id=reduction.pk).values_list(
        "original_order_item_id", flat=True
    )
    original, originals = lock_original(Order(pk=head["original_order_id"]), set(item_ids))
    reduction = Order.objects.select_for_update().get(pk=reduction.pk)
    return reduction, original, originals


def _rule(name: str) -> str:
    return "R9" if name == "activate" else "R11"


# R1: the right to activate or deactivate a reduction is *Create Reduction Orders*, checked
# by ``reduction_permission_check`` before the kernel runs (not the orders' own rights)
def _check_can(reduction: Order, name: str, user) -> None:
    transition_check(
        document=reduction,
        name=name,
        user=user,
        rule=_rule(name),
        noun="reduction orders",
        check_permission=False,
    )


def _transition(*, order: Order, name: str, user, comment: str) -> Order:
    return document_transition(
        document=order,
        name=name,
        user=user,
        reason=comment,
        rule=_rule(name),
        noun="reduction orders",
        check_permission=False,
    )


def reduction_order_activate(*, reduction: Order, user, comment: str = "") -> Order:
    """R7, R9 (C2, C4, C5 for cancellations): recheck availability under the row locks,
    lower the original products' available quantities, activate, stage the RORD lines and
    credit the billed part."""
    reduction_permission_check(user=user, action="activate")
    with transaction.atomic():
        reduction, original, originals = _locked_reduction(reduction)
        _check_can(reduction, "activate", user)
        if problem := reducible_problem(original):
            raise problem
        items = list(reduction.items.order_by("line_number"))
        if not items:
            raise BusinessRuleRefused(
                rule="R5", field="items", message=f"{reduction} has no products to reduce"
            )
        problems: list[BusinessRuleRefused] = []
        changes = {}
        for item in items:
            src = originals[item.original_order_item_id]
            need = -item.quantity
            if need > src.reducible_quantity:
                problems.append(
                    BusinessRuleRefused(
                        rule="R7",
                        field=f"quantity_{src.pk}",
                        message=f"{src.so_line_id}: "
                        + still_reducible_text(available=src.reducible_quantity, sold=src.quantity)
                        + f" ({reduction} reduces {qty_text(need)})",
                    )
                )
                continue
            if item.contract_action == ContractAction.CANCEL:
                if src.terminated_date:
                    problems.append(
                        BusinessRuleRefused(
                            rule="C2",
                            field="terminated_date",
                            message=f"{src.so_line_id} was already terminated on "
                            f"{src.terminated_date}",
                        )
                    )
                    continue
                src.terminated_date = item.terminated_date  # C2
            src.available_quantity -= need
            changes[src.so_line_id] = qty_text(src.available_quantity)
        if problems:
            raise BusinessRulesRefused(problems)
        OrderItem.objects.bulk_update(originals.values(), ["available_quantity", "terminated_date"])
        reduction = _transition(order=reduction, name="activate", user=user, comment=comment)
        reduction.revenue_batch_id = emission_order_activated(order=reduction, user=user)
        reduction.save(update_fields=["revenue_batch_id"])
        audit_record(
            document=original,
            actor=user,
            action=AuditAction.REDUCTION_ACTIVATED,
            comment=comment,
            data={"reduction": reduction.number, "available_quantity": changes},
        )
        credit_memo_for_reduction(reduction=reduction, user=user)
        billing_schedule_refresh(order=original)  # C3: nothing after a terminated date
    return reduction


def reduction_order_deactivate(*, reduction: Order, user, comment: str = "") -> Order:
    """R11: back to Draft while revenue has not collected any of its RORD lines: voids its
    credit memos, withdraws its staged lines, restores the available quantities (and, for
    cancellations, the original's terminated date)."""
    reduction_permission_check(user=user, action="deactivate")
    with transaction.atomic():
        reduction, original, originals = _locked_reduction(reduction)
        _check_can(reduction, "deactivate", user)
        emission_withdraw(  # refused (R11, naming the lines) once revenue collected one
            batch_id=reduction.revenue_batch_id,
            user=user,
            rule="R11",
            document=reduction,
            reason=f"{reduction} deactivated",
        )
        memos = list(
            CreditMemo.objects.filter(
                source_order=reduction,
                status__in=[CreditMemoStatus.DRAFT, CreditMemoStatus.ISSUED],
            ).order_by("pk")
        )
        if memos:
            for memo in memos:
                try:
                    credit_memo_void(
                        credit_memo=memo,
                        user=user,
                        comment=f"{reduction} deactivated",
                        as_consequence=True,
                    )
                except BusinessRuleRefused as refusal:
                    raise BusinessRuleRefused(
                        rule="R11",
                        field="status",
                        message=f"{reduction} cannot be deactivated: credit memo {memo}: "
                        f"{refusal.message}",
                    ) from refusal
        changes = {}
        for item in reduction.items.order_by("line_number"):
            src = originals[item.original_order_item_id]
            src.available_quantity += -item.quantity
            if item.contract_action == ContractAction.CANCEL:
                src.terminated_date = None
            changes[src.so_line_id] = qty_text(src.available_quantity)
        OrderItem.objects.bulk_update(originals.values(), ["available_quantity", "terminated_date"])
        reduction.revenue_batch_id = None
        reduction = _transition(order=reduction, name="deactivate", user=user, comment=comment)
        audit_record(
            document=original,
            actor=user,
            action=AuditAction.REDUCTION_DEACTIVATED,
            comment=comment,
            data={"reduction": reduction.number, "available_quantity": changes},
        )
        billing_schedule_refresh(order=original)  # its periods are due again
    return reduction
