"""Credit memos (B6, B7) and the credits of reductions and cancellations (R9, C4).

A credit memo gives back part of what invoice lines billed: never more than they billed
(B7). Issuing one stages its CM-RO / CM-R lines in revenue; voiding takes them back while
revenue has not collected them. ``billing.py`` re-exports these services."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from core.lifecycle import document_clean, document_transition, transition_check
from core.models import AuditAction
from core.services import audit_record, money_round, sequence_next

from ..models import (
    ContractAction,
    CreditMemo,
    CreditMemoLine,
    CreditMemoSource,
    CreditMemoStatus,
    InvoiceLine,
    Order,
    OrderItem,
)
from .billing_periods import (
    ZERO,
    Reduction,
    deduction,
    is_one_time,
    overlap,
    period_amounts,
    reduction_of,
)
from .emission import emission_credit_memo_issued, emission_withdraw

# B5, B6: each blocker returns why a billing document cannot be voided, or None. Apps
# built on billing documents (returns: refunds) add theirs; orders knows none of them.
VOID_BLOCKERS: list[Callable[[object], str | None]] = []


def void_blockers_check(document, *, rule: str) -> None:
    reasons = [reason for blocker in VOID_BLOCKERS if (reason := blocker(document))]
    if reasons:
        raise BusinessRuleRefused(
            rule=rule,
            field="status",
            message=f"{document} cannot be voided: {'; '.join(reasons)}",
        )


def credit_memo_transition_check(memo: CreditMemo, name: str, user, **options) -> None:
    transition_check(document=memo, name=name, user=user, rule="B6", noun="credit memos", **options)


def document_totals(document, lines, currency: str) -> None:
    net = sum((line.net.amount for line in lines), ZERO)
    tax = sum((line.tax.amount for line in lines), ZERO)
    document.net_total = Money(net, currency)
    document.tax_total = Money(tax, currency)
    document.gross_total = Money(net + tax, currency)


def _credited(invoice_line_ids, *, issued_only: bool = False, exclude_memo=None):
    """What non-void credit lines already credit on each invoice line."""
    lines = CreditMemoLine.objects.filter(invoice_line_id__in=invoice_line_ids, is_void=False)
    if issued_only:
        lines = lines.filter(credit_memo__status=CreditMemoStatus.ISSUED)
    if exclude_memo is not None:
        lines = lines.exclude(credit_memo=exclude_memo)
    credited: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line_id, net in lines.values_list("invoice_line_id", "net"):
        credited[line_id] += Decimal(net)
    return credited


def _b7_check(memo: CreditMemo) -> None:
    """B7: under a lock of the invoice lines it credits, the memo and the issued memos
    together never credit more than a line billed, and never a void line."""
    lines = list(memo.lines.filter(is_void=False).order_by("line_number"))
    ids = sorted({line.invoice_line_id for line in lines if line.invoice_line_id})
    invoiced = {
        line.pk: line
        for line in InvoiceLine.objects.select_for_update(of=("self",))
        .select_related("invoice")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    others = _credited(ids, issued_only=True, exclude_memo=memo)
    mine: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        if line.invoice_line_id:
            mine[line.invoice_line_id] += line.net.amount
    problems = []
    for line_id, credit in mine.items():
        billed = invoiced[line_id]
        label = f"invoice line {billed.invoice.number}-{billed.line_number}"
        if billed.is_void:
            problems.append(
                BusinessRuleRefused(
                    rule="B7", field="lines", message=f"{label} is void: nothing to credit"
                )
            )
        elif credit + others[line_id] > billed.net.amount:
            problems.append(
                BusinessRuleRefused(
                    rule="B7",
                    field="lines",
                    message=f"{memo} would credit {credit} on {label}, which billed "
                    f"{billed.net.amount} of which {others[line_id]} is already credited",
                )
            )
    if problems:
        raise BusinessRulesRefused(problems)


def _issue(memo: CreditMemo, user, comment: str) -> CreditMemo:
    _b7_check(memo)
    memo = document_transition(  # the user's right was checked by credit_memo_issue, or
        document=memo,  # the memo follows from a reduction, cancellation or return
        name="issue",
        user=user,
        reason=comment,
        rule="B6",
        noun="credit memos",
        check_permission=False,
    )
    memo.revenue_batch_id = emission_credit_memo_issued(credit_memo=memo, user=user)
    memo.save(update_fields=["revenue_batch_id"])
    return memo


def credit_memo_issue(*, credit_memo: CreditMemo, user, comment: str = "") -> CreditMemo:
    """B6: issue a draft credit memo and stage its CM-RO / CM-R lines; B7 re-checked."""
    with transaction.atomic():
        memo = CreditMemo.objects.select_for_update().get(pk=credit_memo.pk)
        credit_memo_transition_check(memo, "issue", user)
        if not memo.lines.filter(is_void=False).exists():
            raise BusinessRuleRefused(
                rule="B6", field="lines", message=f"{memo} has no lines to issue"
            )
        return _issue(memo, user, comment)


def credit_memo_void(
    *, credit_memo: CreditMemo, user, comment: str = "", as_consequence: bool = False
) -> CreditMemo:
    """B6: void a credit memo while revenue has not collected its lines; they are taken
    back from staging and its lines stop counting against the invoices (B7).

    ``as_consequence``: the memo goes because its reduction was deactivated (R11); the
    user's right to do that was checked there, like issuing it needed no extra right."""
    with transaction.atomic():
        memo = CreditMemo.objects.select_for_update().get(pk=credit_memo.pk)
        credit_memo_transition_check(memo, "void", user, check_permission=not as_consequence)
        void_blockers_check(memo, rule="B6")
        emission_withdraw(
            batch_id=memo.revenue_batch_id,
            user=user,
            rule="B6",
            document=memo,
            reason=f"{memo} voided",
        )
        memo.revenue_batch_id = None
        voided = memo.lines.filter(is_void=False).update(is_void=True)
        return document_transition(
            document=memo,
            name="void",
            user=user,
            reason=comment,
            rule="B6",
            noun="credit memos",
            data={"lines voided": voided},
            check_permission=not as_consequence,
        )


def _credit_lines(
    *, reduction: Order, items: list[OrderItem], currency: str
) -> list[CreditMemoLine]:
    """R9, C4, B7: for every billed period a reduction item overlaps, the same deduction
    billing would have made, capped at what the invoice line billed less earlier credits."""
    originals = {i.original_order_item_id: i.original_order_item for i in items}
    billed = list(
        InvoiceLine.objects.select_for_update()
        .filter(order_item_id__in=[pk for pk in originals if pk], is_void=False)
        .order_by("pk")
    )
    by_item: dict[int, list[InvoiceLine]] = defaultdict(list)
    for line in sorted(billed, key=lambda line: (line.period_start, line.pk)):
        by_item[line.order_item_id].append(line)
    credited = _credited([line.pk for line in billed], issued_only=True)
    lines: list[CreditMemoLine] = []
    for item in items:
        original = originals.get(item.original_order_item_id)
        if original is None or not item.quantity:
            continue
        reduced = reduction_of(reduction_item=item, original=original)
        amounts = period_amounts(item=original)
        for line in by_item[original.pk]:
            period = (line.period_start, line.period_end)
            if is_one_time(original):
                credit = money_round(
                    amount=original.unit_price.amount * reduced.quantity, currency=currency
                )
                credited_period = period
            else:
                credited_period = overlap(period, (reduced.start, reduced.end))
                amount = amounts.get(line.period_start)
                if credited_period is None or amount is None:
                    continue
                credit = deduction(item=original, period=period, amount=amount, reduction=reduced)
            credit = min(credit, line.net.amount - credited[line.pk])  # B7
            if credit <= 0:
                continue
            credited[line.pk] += credit
            tax = money_round(amount=credit * original.tax_rate / Decimal(100), currency=currency)
            lines.append(
                CreditMemoLine(
                    line_number=len(lines) + 1,
                    order_item=original,
                    invoice_line=line,
                    period_start=credited_period[0],
                    period_end=credited_period[1],
                    quantity=reduced.quantity,
                    net=Money(credit, currency),
                    tax=Money(tax, currency),
                )
            )
    return lines


def credit_memo_for_reduction(*, reduction: Order, user) -> CreditMemo | None:
    """R9, C4: where an activated reduction or cancellation covers periods already
    invoiced, issue a credit memo for the billed part (B7: never more than was billed).
    Returns None when nothing it reduces was billed."""
    with transaction.atomic():
        reduction = Order.objects.select_related("original_order__account").get(pk=reduction.pk)
        original_order = reduction.original_order
        if original_order is None:
            return None
        currency = str(original_order.currency)
        items = list(reduction.items.select_related("original_order_item").order_by("line_number"))
        lines = _credit_lines(reduction=reduction, items=items, currency=currency)
        if not lines:
            return None
        is_cancel = any(reduced.contract_action == ContractAction.CANCEL for reduced in items)
        return credit_memo_create_issued(
            order=original_order,
            source=CreditMemoSource.CANCELLATION if is_cancel else CreditMemoSource.REDUCTION,
            source_order=reduction,
            lines=lines,
            user=user,
            reason=f"{'Cancellation' if is_cancel else 'Reduction'} {reduction.number}",
            comment=f"{reduction.number} activated",
        )


def credit_memo_create_issued(
    *,
    order: Order,
    source: str,
    source_order: Order,
    lines: list[CreditMemoLine],
    user,
    reason: str,
    comment: str = "",
) -> CreditMemo:
    """B6: number, save and issue a credit memo of ``order`` with these unsaved lines
    (B7 checked again under the invoice lines' locks); issuing stages its CM-RO or CM-R
    lines (R9, C5, T14)."""
    currency = str(order.currency)
    memo = CreditMemo(
        number=f"CM-{sequence_next(name='CM'):06d}",
        account_id=order.account_id,
        order=order,
        source=source,
        source_order=source_order,
        memo_date=timezone.localdate(),
        currency=currency,
        reason=reason[:200],
    )
    document_totals(memo, lines, currency)
    document_clean(memo)
    memo.save()
    for number, line in enumerate(lines, start=1):
        line.credit_memo = memo
        line.line_number = number
    CreditMemoLine.objects.bulk_create(lines)
    audit_record(
        document=memo,
        actor=user,
        action=AuditAction.CREATED,
        to_state=memo.status,
        data={"source_order": source_order.number, "lines": len(lines)},
    )
    return _issue(memo, user, comment=comment)


def credit_lines_for_units(*, item: OrderItem, quantity: Decimal) -> list[CreditMemoLine]:
    """T8, T13, B7: unsaved credit lines giving back ``quantity`` units of ``item``: on
    every billed period, the share of the period's amount those units carry (amount ×
    quantity / item quantity, as a reduction of the whole term would take), capped at
    what the invoice line billed less what issued memos already credit. Periods never
    billed get nothing. Only the first line carries the quantity, so the units are
    counted once (P5 adds up returned quantities). Locks the invoice lines it reads."""
    currency = str(item.total.currency)
    billed = list(
        InvoiceLine.objects.select_for_update()
        .filter(order_item=item, is_void=False)
        .order_by("period_start", "pk")
    )
    credited = _credited([line.pk for line in billed], issued_only=True)
    amounts = period_amounts(item=item)
    start = item.service_start_date
    units = Reduction(
        item_id=item.pk,
        quantity=quantity,
        start=start,
        end=item.service_end_date or start,
        is_cancel=False,
    )
    lines: list[CreditMemoLine] = []
    for line in billed:
        amount = amounts.get(line.period_start)
        if amount is None or start is None:
            continue
        period = (line.period_start, line.period_end)
        credit = deduction(item=item, period=period, amount=amount, reduction=units)
        credit = min(credit, line.net.amount - credited[line.pk])  # B7
        if credit <= 0:
            continue
        tax = money_round(amount=credit * item.tax_rate / Decimal(100), currency=currency)
        lines.append(
            CreditMemoLine(
                line_number=len(lines) + 1,
                order_item=item,
                invoice_line=line,
                period_start=line.period_start,
                period_end=line.period_end,
                quantity=ZERO if lines else quantity,
                net=Money(credit, currency),
                tax=Money(tax, currency),
            )
        )
    return lines
