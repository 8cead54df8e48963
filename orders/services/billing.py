"""Billing: runs, invoices and credit memos (B1–B7, C3, C4).

A billing run (Celery beat daily, *Bill now*, ``manage.py billing_run``) bills every due,
not yet billed period of the activated standard orders: one invoice per order per run,
posted at once (B5: INV lines staged in revenue). Each order is billed in its own
transaction, so one order's refusal or failure is recorded and the run goes on (B4).
Periods and amounts: ``billing_periods.py``; credit memos: ``credit_memos.py``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from core.lifecycle import actor_of, document_clean, document_transition, transition_check
from core.models import AuditAction
from core.services import audit_record, money_round, sequence_next

from ..models import (
    BillingRun,
    CreditMemoLine,
    Invoice,
    InvoiceLine,
    Order,
    OrderItem,
    OrderKind,
    OrderStatus,
)
from .billing_periods import (
    ZERO,
    Reduction,
    billing_periods,
    deduction,
    due_date,
    is_due,
    period_amounts,
    period_quantity,
    reduction_of,
)
from .billing_runs import billing_run_begin, billing_run_release, billing_runs_interrupted_close
from .credit_memos import (
    credit_memo_for_reduction,
    credit_memo_issue,
    credit_memo_void,
    document_totals,
    void_blockers_check,
)
from .emission import emission_invoice_posted, emission_withdraw

logger = logging.getLogger(__name__)

BILLABLE_STATUSES = (OrderStatus.ACTIVATED, OrderStatus.FULFILLED)

__all__ = [
    "CREDIT_MEMO_TRANSITIONS",
    "INVOICE_TRANSITIONS",
    "billing_periods",
    "billing_run_execute",
    "billing_schedule_refresh",
    "credit_memo_for_reduction",
    "credit_memo_issue",
    "credit_memo_void",
    "invoice_create_posted",
    "invoice_post",
    "invoice_void",
]


# --- invoices --------------------------------------------------------------------------


def _post(invoice: Invoice, user, comment: str) -> Invoice:
    invoice = document_transition(  # the user's right was checked by invoice_post, or the
        document=invoice,  # invoice comes from a billing run or a return's fees
        name="post",
        user=user,
        reason=comment,
        rule="B5",
        noun="invoices",
        check_permission=False,
    )
    # B5: the INV lines are staged in the same transaction as the posting
    invoice.revenue_batch_id = emission_invoice_posted(invoice=invoice, user=user)
    invoice.save(update_fields=["revenue_batch_id"])
    return invoice


def invoice_post(*, invoice: Invoice, user, comment: str = "") -> Invoice:
    """B5: post a draft invoice; its lines go to revenue as INV lines."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        transition_check(document=invoice, name="post", user=user, rule="B5", noun="invoices")
        if not invoice.lines.filter(is_void=False).exists():
            raise BusinessRuleRefused(
                rule="B5", field="lines", message=f"{invoice} has no lines to post"
            )
        return _post(invoice, user, comment)


def invoice_void(*, invoice: Invoice, user, comment: str = "") -> Invoice:
    """B5: void an invoice, refused once a credit memo credits it or revenue collected its
    INV lines. Its lines are voided (their periods can be billed again) and its staged
    lines withdrawn."""
    with transaction.atomic():
        # the order first, as billing and reductions lock it first: no deadlock
        order = Order.objects.select_for_update().get(pk=invoice.order_id)
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        transition_check(document=invoice, name="void", user=user, rule="B5", noun="invoices")
        void_blockers_check(invoice, rule="B5")
        # lock its lines first: a credit memo being made for them waits, or is seen
        list(InvoiceLine.objects.select_for_update().filter(invoice=invoice).order_by("pk"))
        memos = sorted(
            set(
                CreditMemoLine.objects.filter(invoice_line__invoice=invoice, is_void=False)
                .values_list("credit_memo__number", flat=True)
                .distinct()
            )
        )
        if memos:
            raise BusinessRuleRefused(
                rule="B5",
                field="status",
                message=f"{invoice} cannot be voided: credit memo(s) {', '.join(memos)} "
                "credit its lines (void them first)",
            )
        emission_withdraw(
            batch_id=invoice.revenue_batch_id,
            user=user,
            rule="B5",
            document=invoice,
            reason=f"{invoice} voided",
        )
        invoice.revenue_batch_id = None
        voided = invoice.lines.filter(is_void=False).update(is_void=True)
        billing_schedule_refresh(order=order)
        return document_transition(
            document=invoice,
            name="void",
            user=user,
            reason=comment,
            rule="B5",
            noun="invoices",
            data={"lines voided": voided},
        )


# --- the billing run -------------------------------------------------------------------


def _activated_reductions(items: list[OrderItem]) -> dict[int, list[Reduction]]:
    """R9, C3, T13: the activated reductions and cancellations of each product, and the
    units returned or canceled by negative change orders (one query): none of them is
    billed again."""
    originals = {item.pk: item for item in items}
    reductions: dict[int, list[Reduction]] = defaultdict(list)
    rows = OrderItem.objects.filter(
        Q(order__kind=OrderKind.REDUCTION, order__status=OrderStatus.ACTIVATED)
        | Q(order__kind=OrderKind.CHANGE, order__status__in=BILLABLE_STATUSES, quantity__lt=0),
        original_order_item_id__in=list(originals),
    ).order_by("pk")
    for row in rows:
        original = originals[row.original_order_item_id]
        reductions[original.pk].append(reduction_of(reduction_item=row, original=original))
    return reductions


def _unbilled(*, order: Order, items: list[OrderItem]):
    """B1–B4, C3: (item, period, net) for every period not billed yet that still has
    something to bill, net of the activated reductions (a period they take entirely has
    nothing), and never after the product's terminated date."""
    billed = set(
        InvoiceLine.objects.filter(order_item__order=order, is_void=False).values_list(
            "order_item_id", "period_start"
        )
    )
    reductions = _activated_reductions(items)
    for item in items:
        if item.service_start_date is None or item.quantity <= 0:
            continue
        amounts = period_amounts(item=item)
        for period in billing_periods(item=item):
            if (item.pk, period[0]) in billed:
                continue
            if item.terminated_date and period[0] > item.terminated_date:
                break  # C3
            amount = amounts[period[0]]
            taken = sum(
                (
                    deduction(item=item, period=period, amount=amount, reduction=reduction)
                    for reduction in reductions[item.pk]
                ),
                ZERO,
            )
            net = max(amount.amount - taken, ZERO)
            if net > 0:
                yield item, period, net, reductions[item.pk]


def _due_lines(*, order: Order, items: list[OrderItem], run_date: date):
    """Unsaved invoice lines for the due periods (B2), and each product's next due date
    once they are billed (absent: nothing left)."""
    currency = str(order.currency)
    lines: list[InvoiceLine] = []
    next_due: dict[int, date] = {}
    for item, period, net, reductions in _unbilled(order=order, items=items):
        if not is_due(item=item, period=period, run_date=run_date):
            # periods come in date order: an item's first one not due is its next
            next_due.setdefault(item.pk, due_date(item=item, period=period))
            continue
        tax = money_round(amount=net * item.tax_rate / Decimal(100), currency=currency)
        lines.append(
            InvoiceLine(
                line_number=len(lines) + 1,
                order_item=item,
                period_start=period[0],
                period_end=period[1],
                quantity=period_quantity(item=item, period=period, reductions=reductions),
                net=Money(net, currency),
                tax=Money(tax, currency),
            )
        )
    return lines, next_due


def _next_bill_dates_save(items: list[OrderItem], next_due: dict[int, date]) -> None:
    """Store each item's next due date (absent from ``next_due``: nothing left to bill)."""
    changed = [i for i in items if i.next_bill_date != next_due.get(i.pk)]
    for item in changed:
        item.next_bill_date = next_due.get(item.pk)
    if changed:
        OrderItem.objects.bulk_update(changed, ["next_bill_date"])


def billing_schedule_refresh(*, order: Order) -> None:
    """Set when each product of ``order`` next falls due (after activation, reductions,
    cancellations, voided invoices), so the billing run visits only orders with work.
    The caller holds the order's row lock."""
    items = list(order.items.order_by("line_number"))
    if order.kind != OrderKind.STANDARD or order.status not in BILLABLE_STATUSES:
        _next_bill_dates_save(items, {})
        return
    next_due: dict[int, date] = {}
    for item, period, _net, _reductions in _unbilled(order=order, items=items):
        next_due.setdefault(item.pk, due_date(item=item, period=period))  # date order
    _next_bill_dates_save(items, next_due)


def _bill_order(*, order_id: int, run: BillingRun, user) -> tuple[Invoice, int] | None:
    """Bill one order in its own transaction, under its row lock (B4: a second run waits,
    then finds the periods billed)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.kind != OrderKind.STANDARD or order.status not in BILLABLE_STATUSES:
            return None
        items = list(order.items.order_by("line_number"))
        lines, next_due = _due_lines(order=order, items=items, run_date=run.run_date)
        _next_bill_dates_save(items, next_due)
        if not lines:
            return None
        invoice = invoice_create_posted(
            order=order,
            lines=lines,
            user=user,
            invoice_date=run.run_date,
            run=run,
            comment=f"billing run {run.pk} for {run.run_date}",
        )
        return invoice, len(lines)


def invoice_create_posted(
    *,
    order: Order,
    lines: list[InvoiceLine],
    user,
    invoice_date: date,
    run: BillingRun | None = None,
    comment: str = "",
) -> Invoice:
    """B5: number, save and post an invoice of ``order`` with these unsaved lines (the
    caller holds the order's lock and checked the lines). Posting stages its INV lines;
    a change order's invoice (return fees, T8) stages its SO lines with them (T14)."""
    currency = str(order.currency)
    invoice = Invoice(
        number=f"INV-{sequence_next(name='INV'):06d}",
        account_id=order.account_id,
        order=order,
        invoice_date=invoice_date,
        currency=currency,
        billing_run=run,
    )
    document_totals(invoice, lines, currency)
    document_clean(invoice)
    invoice.save()
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    data = {"lines": len(lines)}
    if run is not None:
        data.update(billing_run=run.pk, run_date=run.run_date.isoformat())
    audit_record(
        document=invoice, actor=user, action=AuditAction.CREATED, to_state=invoice.status, data=data
    )
    return _post(invoice, user, comment=comment)


def _order_ids(orders, run_date: date) -> list[int]:
    candidates = Order.objects.filter(
        kind=OrderKind.STANDARD,
        status__in=BILLABLE_STATUSES,
        pk__in=OrderItem.objects.filter(next_bill_date__lte=run_date).values("order_id"),
    ).order_by("pk")
    if orders is not None:
        ids = [getattr(order, "pk", order) for order in orders]
        candidates = candidates.filter(pk__in=ids)
    return list(candidates.values_list("pk", flat=True))


def billing_run_execute(*, run_date: date, trigger: str, user=None, orders=None) -> BillingRun:
    """B2, B3, B4, C3: bill every due, not yet billed period of activated (or fulfilled)
    standard orders, or only of ``orders`` (orders or ids). Idempotent: the periods
    billed are unique per product and period, so running twice bills nothing twice.
    An order that cannot be billed is counted as refused, with why, and the run goes on."""
    billing_runs_interrupted_close()
    run = billing_run_begin(run_date=run_date, trigger=trigger, started_by=actor_of(user))
    audit_record(
        document=run,
        actor=user,
        action=AuditAction.STARTED,
        data={"run_date": run_date.isoformat()},
    )
    try:
        for order_id in _order_ids(orders, run_date):
            run.orders_seen += 1
            try:
                billed = _bill_order(order_id=order_id, run=run, user=user)
            except BusinessRuleRefused as refusal:
                run.refused += 1
                run.messages.append(_message(order_id, refusal.rule, refusal.message))
                continue
            except Exception as exc:  # one order's failure never stops the run (B4)
                logger.exception("billing run %s: order %s failed", run.pk, order_id)
                run.refused += 1
                run.messages.append(_message(order_id, "", f"{type(exc).__name__}: {exc}"))
                continue
            if billed is not None:
                run.invoices_created += 1
                run.lines_created += billed[1]
        run.status = BillingRun.Status.SUCCEEDED
    except Exception as exc:
        run.status = BillingRun.Status.FAILED
        run.messages.append({"order": "", "rule": "", "message": f"run failed: {exc}"})
        raise
    finally:
        run.finished_at = timezone.now()
        run.save()
        audit_record(
            document=run,
            actor=user,
            action=AuditAction.FINISHED,
            to_state=run.status,
            data={
                "orders": run.orders_seen,
                "invoices": run.invoices_created,
                "lines": run.lines_created,
                "refused": run.refused,
            },
        )
        billing_run_release(run)
    return run


def _message(order_id: int, rule: str, message: str) -> dict:
    number = Order.objects.filter(pk=order_id).values_list("number", flat=True).first()
    return {"order": number or str(order_id), "rule": rule, "message": message}


INVOICE_TRANSITIONS = {"post": invoice_post, "void": invoice_void}
CREDIT_MEMO_TRANSITIONS = {"issue": credit_memo_issue, "void": credit_memo_void}
