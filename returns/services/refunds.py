"""Refunds (T9): ensuring one for a processing, and recording what the gateway did.

A refund pays back a processing's credit memo less its fee invoices. The payment gateway
is out of scope: ops mark a refund refunded or failed (and retry a failed one)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from core.lifecycle import actor_of, document_transition, transition_check
from core.models import AuditAction
from core.services import audit_record, sequence_next
from orders.models import CreditMemo, CreditMemoStatus, Invoice, InvoiceStatus, Order

from ..models import Refund, RefundStatus, ReturnOrder, ReturnProcessing

ZERO = Decimal("0")


def return_order_totals_refresh(*, return_order: ReturnOrder) -> None:
    """An RMA's credited, fee and refund totals from its processings and refunds."""
    currency = str(return_order.currency)
    credited = fees = refunded = ZERO
    for processing in return_order.processings.all():
        credited += processing.credited.amount
        fees += processing.fees.amount
    for refund in return_order.refunds.exclude(status=RefundStatus.FAILED):
        refunded += refund.amount.amount
    ReturnOrder.objects.filter(pk=return_order.pk).update(
        credited_total=credited,
        credited_total_currency=currency,
        fees_total=fees,
        fees_total_currency=currency,
        refund_total=refunded,
        refund_total_currency=currency,
    )


def _lock_order_and_rma(*, processing_id: int) -> None:
    """The returns' lock order (rma.py): the order, then the RMA, before the processing.
    Without it, ensuring a refund (processing, then the RF number, then the RMA's totals)
    deadlocked with *Return items* on the same RMA (RMA, then the RF number). Inside
    ``return_items_process`` these locks are already held."""
    order_id, rma_id = ReturnProcessing.objects.values_list("order_id", "return_order_id").get(
        pk=processing_id
    )
    list(Order.objects.select_for_update().filter(pk=order_id))
    if rma_id:
        list(ReturnOrder.objects.select_for_update().filter(pk=rma_id))


def refund_ensure(*, processing: ReturnProcessing, user, comment: str = "") -> Refund:
    """T9: refund = the credit memo's total − the fee invoices' total, for one processing.
    Refused, with nothing created, when there is no issued credit memo or the fees exceed
    it. Idempotent: a processing has at most one refund, asked twice it is returned."""
    with transaction.atomic():
        _lock_order_and_rma(processing_id=processing.pk)
        processing = ReturnProcessing.objects.select_for_update().get(pk=processing.pk)
        existing = Refund.objects.filter(processing=processing).first()
        if existing is not None:
            return existing
        if processing.credit_memo_id is None:
            raise BusinessRuleRefused(
                rule="T9",
                field="credit_memo",
                message=f"{processing} has no credit memo (nothing it returned or canceled "
                "was billed): there is nothing to refund",
            )
        memo = CreditMemo.objects.select_for_update().get(pk=processing.credit_memo_id)
        if memo.status != CreditMemoStatus.ISSUED:
            raise BusinessRuleRefused(
                rule="T9",
                field="credit_memo",
                message=f"credit memo {memo} is {memo.get_status_display()}: only an issued "
                "credit memo is refunded",
            )
        invoices = []
        if processing.fee_invoice_id:
            invoices = list(
                Invoice.objects.filter(pk=processing.fee_invoice_id, status=InvoiceStatus.POSTED)
            )
        currency = str(memo.currency)
        fees = sum((invoice.gross_total.amount for invoice in invoices), ZERO)
        credit = memo.gross_total.amount
        if fees > credit:
            raise BusinessRuleRefused(
                rule="T9",
                field="fee_invoices",
                message=f"the fee invoices ({Money(fees, currency)}) exceed credit memo "
                f"{memo} ({Money(credit, currency)}): a fee may not exceed the refund. "
                "Nothing was created",
            )
        refund = Refund(
            number=f"RF-{sequence_next(name='RF'):06d}",
            processing=processing,
            return_order_id=processing.return_order_id,
            account_id=memo.account_id,
            credit_memo=memo,
            currency=currency,
            credit_total=Money(credit, currency),
            fees_total=Money(fees, currency),
            amount=Money(credit - fees, currency),
            created_by=actor_of(user),
        )
        refund.full_clean(exclude=["status", "processing", "return_order", "account"])
        refund.save()
        refund.fee_invoices.set(invoices)
        audit_record(
            document=refund,
            actor=user,
            action=AuditAction.ENSURED,
            to_state=refund.status,
            comment=comment,
            data={
                "credit_memo": memo.number,
                "fee_invoices": [invoice.number for invoice in invoices],
                "credit": str(credit),
                "fees": str(fees),
                "amount": str(credit - fees),
            },
        )
        if refund.amount.amount == 0:  # the fees took it all: nothing to pay out
            _transition(
                refund,
                "succeed",
                user,
                comment="nothing to pay: the fees take it all",
                check_permission=False,  # no payment: nothing for a payer to settle
            )
        if processing.return_order_id:
            return_order_totals_refresh(return_order=processing.return_order)
        return refund


def _transition(
    refund: Refund, name: str, user, *, comment: str = "", check_permission: bool = True
) -> Refund:
    return document_transition(
        document=refund,
        name=name,
        user=user,
        reason=comment,
        rule="T9",
        noun="refunds",
        check_permission=check_permission,
    )


REFUND_TRANSITIONS = ("succeed", "fail", "retry")


def _retry_check(refund: Refund) -> None:
    """T9: a failed refund is paid again only while what it was computed from stands: a
    failed refund no longer keeps its credit memo or fee invoices from being voided (B5,
    B6), and a refund of a void credit memo would pay out money nobody owes."""
    memo = CreditMemo.objects.select_for_update().get(pk=refund.credit_memo_id)
    void = [] if memo.status == CreditMemoStatus.ISSUED else [f"credit memo {memo}"]
    invoices = Invoice.objects.select_for_update(of=("self",)).filter(refunds=refund)
    void += [
        f"fee invoice {invoice}"
        for invoice in invoices.order_by("pk")
        if invoice.status != InvoiceStatus.POSTED
    ]
    if void:
        raise BusinessRuleRefused(
            rule="T9",
            field="status",
            message=f"{refund} cannot be retried: {', '.join(void)} is no longer issued or "
            "posted (it was voided after the refund failed)",
        )


def refund_transition(
    *, refund: Refund, name: str, user, comment: str = "", gateway_reference: str = ""
) -> Refund:
    """Record the gateway's answer: *Mark refunded* (succeed), *Mark failed* (fail, with
    why) or *Retry* a failed refund."""
    if name not in REFUND_TRANSITIONS:
        raise BusinessRuleRefused(rule="T9", field="status", message=f"no transition {name!r}")
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        transition_check(document=refund, name=name, user=user, rule="T9", noun="refunds")
        if name == "retry":
            _retry_check(refund)
        if name == "fail":
            if not comment.strip():
                raise BusinessRuleRefused(
                    rule="T9", field="comment", message=f"{refund}: say why the refund failed"
                )
            refund.failure_reason = comment.strip()[:300]
        if gateway_reference:
            refund.gateway_reference = gateway_reference[:100]
        refund = _transition(refund, name, user, comment=comment)
        if refund.return_order_id:
            return_order_totals_refresh(return_order=refund.return_order)
        return refund
