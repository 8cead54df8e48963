"""Money that explains itself (issue 17): a credit memo shows how its credit was computed
(R9, C4, T8, B7) — invoiced period, period amount, units, days, credit — and why it differs
from its reduction's own total; the reduction and credit memo pages show it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.credit_explanation import credit_explanation
from orders.models import CreditMemo
from orders.services.cancellations import cancellation_create
from orders.services.reductions import (
    ReductionLine,
    reduction_order_activate,
    reduction_order_create,
)
from tests.orders.billing_helpers import D, bill_through_april, subscription, usd

pytestmark = pytest.mark.django_db


@pytest.fixture
def cancellation_memo(admin_user):
    """OV3 / C4: 100.00 a month for 2025, invoiced Jan–Apr, terminated 2025-03-15: the
    cancellation takes Mar 16 – Dec 31 off; the memo credits 51.61 + 100.00."""
    _order, item = subscription()
    bill_through_april(item)
    cancellation = cancellation_create(
        original_item=item, terminated_date=D(2025, 3, 15), user=admin_user
    )
    return CreditMemo.objects.get(source_order=cancellation)


def test_c4_each_credited_period_with_its_amount_units_and_days(cancellation_memo):
    explanation = credit_explanation(memo=cancellation_memo)
    rows = [
        (r.billed_period, r.period_amount, r.units, r.of_units, r.days, r.credit, r.capped)
        for r in explanation.rows
    ]
    assert rows == [
        ((D(2025, 3, 1), D(2025, 3, 31)), usd("100.00"), 1, 1, (16, 31), usd("51.61"), False),
        ((D(2025, 4, 1), D(2025, 4, 30)), usd("100.00"), 1, 1, (30, 30), usd("100.00"), False),
    ]
    assert explanation.rows[0].formula == "100.00 USD × 1/1 units × 16/31 days"
    assert all(r.invoice_number.startswith("INV-") for r in explanation.rows)


def test_r9_the_memo_says_why_it_credits_less_than_the_reduction_takes(cancellation_memo):
    """The cancellation takes Mar 16 – Dec 31 (about 790.00); only March and April were
    invoiced, so the memo gives back 151.61 and says May – December was not invoiced."""
    explanation = credit_explanation(memo=cancellation_memo)
    taken = -explanation.document_net
    assert explanation.differs and taken.amount > Decimal("151.61")
    taken_sentence, credit, gap = explanation.sentences[:3]
    source = cancellation_memo.source_order.number
    assert taken_sentence.startswith(f"{source} takes {taken.amount:,.2f} USD off the order")
    assert credit.startswith(
        "The credit memo gives back 151.61 USD for what was already invoiced, 16 Mar – 30 Apr 2025:"
    )
    assert gap.startswith("Not invoiced yet, so not credited: 1 May – 31 Dec 2025.")


def test_r9_a_memo_can_differ_from_its_reduction_by_the_day_count(admin_user):
    """R6 takes 30/365 of the year's 1,200.00 off (98.63); R9 credits April's invoiced
    100.00 whole: both figures are shown with how each was found."""
    order, item = subscription(quantity="2")
    bill_through_april(item)
    reduction = reduction_order_create(
        original=order,
        lines=[ReductionLine(item.pk, Decimal("1"), D(2025, 4, 1), D(2025, 4, 30))],
        user=admin_user,
    )
    reduction = reduction_order_activate(reduction=reduction, user=admin_user)
    explanation = credit_explanation(memo=CreditMemo.objects.get(source_order=reduction))
    assert explanation.differs
    taken, credit = explanation.sentences
    assert taken.startswith(f"{reduction.number} takes 98.63 USD off the order")
    assert credit.startswith("The credit memo gives back 100.00 USD for what was already")
    assert [(r.units, r.of_units, r.days) for r in explanation.rows] == [(1, 2, (30, 30))]


def test_the_reduction_and_credit_memo_pages_show_the_computation(admin_client, cancellation_memo):
    memo_page = admin_client.get(
        reverse("admin:orders_creditmemo_change", args=[cancellation_memo.pk])
    ).content.decode()
    anchor = f'id="credit-explanation-{cancellation_memo.pk}"'
    assert anchor in memo_page and "16 of 31" in memo_page
    assert "Not invoiced yet, so not credited: 1 May – 31 Dec 2025" in memo_page
    reduction = cancellation_memo.source_order
    page = admin_client.get(
        reverse("admin:orders_reductionorder_change", args=[reduction.pk])
    ).content.decode()
    assert anchor in page and f'href="#credit-explanation-{cancellation_memo.pk}"' in page
