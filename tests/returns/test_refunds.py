"""Refunds (T9) and their audit trail (T15): amount = credit memo − fee invoices, the
fees never more than the credit, idempotent ensuring, the gateway's answers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from orders.models import CreditMemo, Invoice, InvoiceStatus, OrderKind
from orders.services.billing import credit_memo_void, invoice_void
from returns.models import Refund, RefundStatus, ReturnProcessing
from returns.services import (
    SimpleLineInput,
    refund_ensure,
    refund_transition,
    simple_return_submit,
)
from tests.factories import UserFactory
from tests.returns.conftest import audit_actions, fee, open_line, process, rma_for, tv_order

pytestmark = pytest.mark.django_db
USD = "USD"
D = Decimal


def m(amount: str) -> Money:
    return Money(amount, USD)


@pytest.fixture
def tv1_processing(tv1_item, fee_product):
    """TV1 step 2: credit memo 54.00, fee invoice 5.40, refund ensured."""
    rma = rma_for(tv1_item, 3, fees=[fee(fee_product, 10, "PERCENTAGE")])
    return process(rma, open_line(rma), 2)


def test_t9_refund_is_the_credit_memo_less_the_fee_invoices(tv1_processing):
    """T9 (TV1): 54.00 − 5.40 = 48.60, pending, with the fee invoice applied; audited."""
    refund = Refund.objects.get(processing=tv1_processing)
    assert (refund.credit_total, refund.fees_total, refund.amount) == (
        m("54.00"),
        m("5.40"),
        m("48.60"),
    )
    assert refund.status == RefundStatus.PENDING
    assert refund.credit_memo == tv1_processing.credit_memo
    assert list(refund.fee_invoices.all()) == [tv1_processing.fee_invoice]
    assert refund.return_order == tv1_processing.return_order
    assert refund.account_id == tv1_processing.order.account_id
    assert audit_actions(refund) == ["ensured"]


def test_t9_refund_ensure_is_idempotent(tv1_processing):
    """T9: asked again, the same refund comes back; nothing new, no second audit event."""
    first = Refund.objects.get(processing=tv1_processing)
    again = refund_ensure(processing=tv1_processing, user=None)
    assert again.pk == first.pk and Refund.objects.count() == 1
    assert audit_actions(first) == ["ensured"]


def test_t9_fees_equal_to_the_credit_give_a_zero_refund_marked_refunded(tv1_item, fee_product):
    """T9: a 27.00 fee on a 27.00 credit: refund 0.00, refunded at once (nothing to pay)."""
    rma = rma_for(tv1_item, 1, fees=[fee(fee_product, "27.00")])
    processing = process(rma, open_line(rma), 1)
    refund = Refund.objects.get(processing=processing)
    assert refund.amount == m("0.00") and refund.status == RefundStatus.SUCCEEDED
    assert refund.completed_at is not None
    assert audit_actions(refund) == ["ensured", "succeed"]


def test_t9_fees_over_the_credit_refused_nothing_created(tv1_item, fee_product):
    """T9 (TV3 on a simple return): credit 27.00, fee 27.01: refused with the figures;
    no change order, credit memo, invoice, processing or refund."""
    invoices = Invoice.objects.count()
    with pytest.raises(BusinessRuleRefused) as refused:
        simple_return_submit(
            order=tv1_item.order,
            lines=[
                SimpleLineInput(
                    order_item=tv1_item,
                    quantity=D(1),
                    reason="DAMAGED",
                    fees=[fee(fee_product, "27.01")],
                )
            ],
            user=None,
        )
    assert refused.value.rule == "T9"
    assert "$27.01" in refused.value.message and "$27.00" in refused.value.message
    assert tv1_item.so_line_id in refused.value.message
    assert not tv1_item.order.__class__.objects.filter(kind=OrderKind.CHANGE).exists()
    assert not CreditMemo.objects.exists() and Invoice.objects.count() == invoices
    assert not ReturnProcessing.objects.exists() and not Refund.objects.exists()


def test_t9_refund_ensure_refused_without_a_credit_memo(db):
    """T9: a return of unbilled units has no credit memo: no refund to ensure."""
    order = tv_order(bill=False)
    processing = simple_return_submit(
        order=order,
        lines=[SimpleLineInput(order_item=order.items.get(), quantity=D(1), reason="OTHER")],
        user=None,
    )
    assert processing.credit_memo is None and not Refund.objects.exists()
    with pytest.raises(BusinessRuleRefused) as refused:
        refund_ensure(processing=processing, user=None)
    assert refused.value.rule == "T9" and f"{processing} has no credit memo" in str(refused.value)


def test_t9_refund_ensured_later_and_refused_on_a_void_credit_memo(tv1_item):
    """T9: with ``ensure_refund=False`` no refund is made; ensuring it once the credit memo
    is void is refused."""
    rma = rma_for(tv1_item, 1)
    processing = process(rma, open_line(rma), 1, ensure_refund=False)
    assert not Refund.objects.exists()
    credit_memo_void(credit_memo=processing.credit_memo, user=None, comment="mistake")
    with pytest.raises(BusinessRuleRefused) as refused:
        refund_ensure(processing=processing, user=None)
    assert refused.value.rule == "T9" and "is Void" in refused.value.message
    assert not Refund.objects.exists()


def test_t9_t15_succeed_fail_retry_are_audited(tv1_processing):
    """T9, T15: mark failed (a reason is required), retry, mark refunded with the gateway
    reference; every step is an audit event; a refunded refund stays refunded."""
    refund = Refund.objects.get(processing=tv1_processing)
    with pytest.raises(BusinessRuleRefused) as refused:
        refund_transition(refund=refund, name="fail", user=None, comment="  ")
    assert refused.value.rule == "T9" and f"{refund}: say why" in str(refused.value)
    refund = refund_transition(refund=refund, name="fail", user=None, comment="card expired")
    assert refund.status == RefundStatus.FAILED and refund.failure_reason == "card expired"
    rma = tv1_processing.return_order
    rma.refresh_from_db()
    assert rma.refund_total == m("0.00")  # a failed refund pays nothing
    refund = refund_transition(refund=refund, name="retry", user=None)
    assert refund.status == RefundStatus.PENDING and refund.completed_at is None
    refund = refund_transition(refund=refund, name="succeed", user=None, gateway_reference="GW-1")
    assert (refund.status, refund.gateway_reference) == (RefundStatus.SUCCEEDED, "GW-1")
    rma.refresh_from_db()
    assert rma.refund_total == m("48.60")
    assert audit_actions(refund) == ["ensured", "fail", "retry", "succeed"]
    with pytest.raises(BusinessRuleRefused) as refused:
        refund_transition(refund=refund, name="fail", user=None, comment="late")
    assert str(refused.value) == f"fail is not allowed: {refund} is Refunded"
    assert refused.value.rule == "T9"
    with pytest.raises(BusinessRuleRefused):
        refund_transition(refund=refund, name="refund", user=None)


def test_t9_settling_needs_the_permission(tv1_processing):
    """T9: without returns.settle_refund a clerk cannot mark a refund refunded."""
    refund = Refund.objects.get(processing=tv1_processing)
    with pytest.raises(BusinessRuleRefused) as refused:
        refund_transition(refund=refund, name="succeed", user=UserFactory(is_staff=True))
    assert "permission" in refused.value.message
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.PENDING


def test_t9_failed_refund_is_not_retried_once_its_documents_are_void(tv1_processing):
    """T9 with B5, B6: after a refund failed, its credit memo and fee invoice may be voided;
    retrying it then is refused (it would pay out a void credit), naming both."""
    refund = Refund.objects.get(processing=tv1_processing)
    refund_transition(refund=refund, name="fail", user=None, comment="account closed")
    invoice_void(invoice=tv1_processing.fee_invoice, user=None, comment="waived")
    memo = credit_memo_void(credit_memo=tv1_processing.credit_memo, user=None, comment="undo")
    with pytest.raises(BusinessRuleRefused) as refused:
        refund_transition(refund=refund, name="retry", user=None)
    message = str(refused.value)
    assert message.startswith(f"{refund} cannot be retried") and refused.value.rule == "T9"
    assert f"credit memo {memo}" in message
    assert f"fee invoice {tv1_processing.fee_invoice}" in message
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.FAILED
    assert Invoice.objects.get(pk=tv1_processing.fee_invoice_id).status == InvoiceStatus.VOID
