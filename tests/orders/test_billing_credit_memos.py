"""R9, C3, C4, B6, B7: credit memos for reductions and cancellations (OV3)."""

from decimal import Decimal

import pytest

from core.exceptions import BusinessRuleRefused
from orders.models import (
    BillingType,
    CreditMemo,
    CreditMemoLine,
    CreditMemoSource,
    CreditMemoStatus,
)
from orders.services.billing import (
    CREDIT_MEMO_TRANSITIONS,
    credit_memo_issue,
    credit_memo_void,
)
from orders.services.cancellations import cancellation_create
from orders.services.reductions import (
    ReductionLine,
    reduction_order_activate,
    reduction_order_create,
)
from revenue.models import InboundLine
from tests.factories import make_order
from tests.orders.billing_helpers import (
    USD,
    D,
    bill_through_april,
    lines_of,
    run,
    subscription,
    usd,
)

pytestmark = pytest.mark.django_db


# --- OV3: C3, C4, R9, B6 ----------------------------------------------------------------


def test_c4_ov3_cancellation_credits_march_16_to_31_and_april(admin_user):
    """OV3 / C4: terminated 2025-03-15, invoiced Jan–Apr: 16/31 × 100.00 = 51.61 plus
    April 100.00 = 151.61, as a cancellation credit memo issued at once (B6)."""
    order, item = subscription()
    bill_through_april(item)
    cancellation = cancellation_create(
        original_item=item, terminated_date=D(2025, 3, 15), user=admin_user
    )
    memo = CreditMemo.objects.get(source_order=cancellation)
    assert memo.number.startswith("CM-") and memo.order == order
    assert memo.source == CreditMemoSource.CANCELLATION
    assert memo.status == CreditMemoStatus.ISSUED
    assert memo.net_total == usd("151.61")
    assert [(x.period_start, x.period_end, x.quantity, x.net) for x in memo.lines.all()] == [
        (D(2025, 3, 16), D(2025, 3, 31), 1, usd("51.61")),
        (D(2025, 4, 1), D(2025, 4, 30), 1, usd("100.00")),
    ]
    # B6: issuing staged CM-RO lines (negative amounts) against the original's SO line
    staged = InboundLine.objects.filter(batch_id=memo.revenue_batch_id).order_by("row_number")
    assert [(x.tran_type, x.ext_sll_prc, x.orig_so_line_id) for x in staged] == [
        ("CM-RO", Decimal("-51.61"), item.so_line_id),
        ("CM-RO", Decimal("-100.00"), item.so_line_id),
    ]


def test_c3_no_invoice_after_the_terminated_date(admin_user):
    """OV3 / C3: a billing run on 2025-06-01 bills nothing for May or later."""
    order, item = subscription()
    bill_through_april(item)
    cancellation_create(original_item=item, terminated_date=D(2025, 3, 15), user=admin_user)
    billing = run(D(2025, 6, 1))
    assert (billing.invoices_created, billing.lines_created) == (0, 0)
    assert max(x.period_start for x in lines_of(item)) == D(2025, 4, 1)


def test_c3_c4_arrears_bills_only_up_to_the_terminated_date(admin_user):
    """C3, C4 in arrears: March is billed net of the cancelled days (100.00 − 51.61)."""
    _order, item = subscription(billing_type=BillingType.ARREARS)
    run(D(2025, 3, 1))  # January and February
    cancellation = cancellation_create(
        original_item=item, terminated_date=D(2025, 3, 15), user=admin_user
    )
    assert not CreditMemo.objects.filter(source_order=cancellation).exists()  # nothing to credit
    run(D(2025, 4, 1))
    run(D(2026, 1, 1))
    assert [(x.period_start, x.net) for x in lines_of(item)] == [
        (D(2025, 1, 1), usd("100.00")),
        (D(2025, 2, 1), usd("100.00")),
        (D(2025, 3, 1), usd("48.39")),
    ]


def test_r9_reduction_credits_the_billed_part_and_lowers_later_invoices(admin_user):
    """R9: 2 licences at 100.00 a month each; 1 reduced from April after April was billed:
    April credited 100.00, May onwards billed for 1 licence (100.00)."""
    order, item = subscription(quantity="2")
    bill_through_april(item)
    reduction = reduction_order_create(
        original=order,
        lines=[ReductionLine(item.pk, Decimal("1"), D(2025, 4, 1), D(2025, 12, 31))],
        user=admin_user,
    )
    reduction = reduction_order_activate(reduction=reduction, user=admin_user)
    memo = CreditMemo.objects.get(source_order=reduction)
    assert memo.source == CreditMemoSource.REDUCTION
    assert [(x.period_start, x.quantity, x.net) for x in memo.lines.all()] == [
        (D(2025, 4, 1), 1, usd("100.00"))
    ]
    run(D(2025, 5, 1))
    may = lines_of(item)[-1]
    assert (may.period_start, may.quantity, may.net) == (D(2025, 5, 1), 1, usd("100.00"))


def test_b6_void_credit_memo_withdraws_its_lines_unless_collected(admin_user):
    _order, item = subscription()
    bill_through_april(item)
    cancellation = cancellation_create(
        original_item=item, terminated_date=D(2025, 3, 15), user=admin_user
    )
    memo = CreditMemo.objects.get(source_order=cancellation)
    batch = memo.revenue_batch_id
    staged = InboundLine.objects.filter(batch_id=batch)
    staged.filter(row_number=1).update(status="COLLECTED")
    with pytest.raises(BusinessRuleRefused) as excinfo:
        credit_memo_void(credit_memo=memo, user=admin_user)
    assert excinfo.value.rule == "B6"
    staged.update(status="NEW")
    memo = CREDIT_MEMO_TRANSITIONS["void"](credit_memo=memo, user=admin_user, comment="x")
    assert memo.status == CreditMemoStatus.VOID
    assert batch and staged.count() == 2  # I4: kept, withdrawn with the reason
    assert set(staged.values_list("status", "withdrawn_reason")) == {
        ("WITHDRAWN", f"{memo} voided")
    }
    assert not memo.lines.filter(is_void=False).exists()


def _draft_memo(invoice_line, net: str) -> CreditMemo:
    invoice = invoice_line.invoice
    memo = CreditMemo(
        number=f"CM-T{invoice_line.pk:05d}{net[:2]}",
        account=invoice.account,
        order=invoice.order,
        source=CreditMemoSource.REDUCTION,
        currency=USD,
    )
    memo.save()
    CreditMemoLine.objects.create(
        credit_memo=memo,
        line_number=1,
        order_item=invoice_line.order_item,
        invoice_line=invoice_line,
        period_start=invoice_line.period_start,
        period_end=invoice_line.period_end,
        quantity=Decimal("1"),
        net=usd(net),
    )
    return memo


def test_b7_a_credit_memo_never_exceeds_what_was_invoiced(admin_user):
    order = make_order(lines=[("3", "10.00")], activate=True)
    item = order.items.get()
    run(D(2026, 1, 1))
    (line,) = lines_of(item)
    too_much = _draft_memo(line, "31.00")
    with pytest.raises(BusinessRuleRefused, match="billed 30.00") as excinfo:
        credit_memo_issue(credit_memo=too_much, user=admin_user)
    assert excinfo.value.rule == "B7"
    first = credit_memo_issue(credit_memo=_draft_memo(line, "25.00"), user=admin_user)
    assert first.status == CreditMemoStatus.ISSUED
    # a reduction of 1 (10.00) is capped at the 5.00 left to credit on the line
    reduction = reduction_order_create(
        original=order, lines=[ReductionLine(item.pk, Decimal("1"))], user=admin_user
    )
    reduction = reduction_order_activate(reduction=reduction, user=admin_user)
    capped = CreditMemo.objects.get(source_order=reduction)
    assert capped.net_total == usd("5.00")


def test_b3_r9_one_time_product_reduced_before_billing_bills_the_net_quantity(admin_user):
    """R9, B3: a one-time product of 3 × 10.00 reduced by 1 before the run: no credit memo
    (nothing billed), and the invoice line bills 2 for 20.00."""
    order = make_order(lines=[("3", "10.00")], activate=True)
    item = order.items.get()
    reduction = reduction_order_create(
        original=order, lines=[ReductionLine(item.pk, Decimal("1"))], user=admin_user
    )
    reduction_order_activate(reduction=reduction, user=admin_user)
    assert not CreditMemo.objects.exists()
    run(D(2026, 1, 1))
    (line,) = lines_of(item)
    assert (line.quantity, line.net) == (2, usd("20.00"))
