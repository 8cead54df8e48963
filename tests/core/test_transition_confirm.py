"""O8, O9, R9, B6 in the admin: a transition that moves money or stages revenue lines asks
first, on a page that says what it will create — a dry run of the same service, rolled
back, so the page and the confirmed transition never disagree."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from core.lifecycle import transition_dry_run
from core.models import AuditAction, AuditEvent, DocumentSequence
from orders.models import CreditMemo, Order, OrderStatus
from orders.services import order_activate
from orders.services.reductions import ReductionLine, reduction_order_create
from revenue.models import InboundBatch, InboundLine
from tests.factories import make_order
from tests.orders.billing_helpers import D, bill_through_april, subscription
from tests.orders.test_admin import form_data

pytestmark = pytest.mark.django_db


def confirm_url(name: str, obj, transition: str) -> str:
    return reverse(f"admin:orders_{name}_transition", args=[obj.pk, transition])


def messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_o9_activate_asks_first_and_says_what_it_stages_without_doing_it(admin_client):
    order = make_order(lines=[(3, "10.00"), (2, "5.00")])
    url = reverse("admin:orders_order_change", args=[order.pk])
    response = admin_client.post(
        url, {**form_data(admin_client.get(url)), "_fsm_transition_to": "activate"}
    )
    assert response.status_code == 302
    assert response["Location"] == confirm_url("order", order, "activate")
    before = (
        InboundLine.objects.count(),
        InboundBatch.objects.count(),
        AuditEvent.objects.count(),
        list(DocumentSequence.objects.values_list("name", "last_value").order_by("name")),
    )
    html = admin_client.get(response["Location"]).content.decode()
    assert 'id="transition-effects"' in html
    assert f"make {order} Activated" in html
    assert "stages 2 revenue lines (2 SO)" in html
    after = (
        InboundLine.objects.count(),
        InboundBatch.objects.count(),
        AuditEvent.objects.count(),
        list(DocumentSequence.objects.values_list("name", "last_value").order_by("name")),
    )
    assert after == before  # the dry run left nothing behind
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT and order.revenue_batch_id is None

    response = admin_client.post(
        confirm_url("order", order, "activate"), {"comment": "signed"}, follow=True
    )
    assert f"{order}: activated." in messages(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVATED
    assert InboundLine.objects.filter(batch_id=order.revenue_batch_id).count() == 2


def test_r9_a_reduction_says_which_credit_memo_it_issues_and_for_how_much(admin_client, admin_user):
    order, item = subscription(quantity="2")
    bill_through_april(item)
    reduction = reduction_order_create(
        original=order,
        lines=[ReductionLine(item.pk, Decimal("1"), D(2025, 4, 1), D(2025, 12, 31))],
        user=admin_user,
    )
    html = admin_client.get(confirm_url("reductionorder", reduction, "activate")).content.decode()
    assert CreditMemo.objects.count() == 0  # previewed, not issued
    assert "issues credit memo CM-" in html and "for 2025-04-01 – 2025-04-30" in html
    assert "1 RORD" in html
    admin_client.post(confirm_url("reductionorder", reduction, "activate"), {"comment": ""})
    memo = CreditMemo.objects.get(source_order=reduction)
    assert f"{memo.number} of {memo.gross_total.amount:,.2f} USD" in html


def test_a_transition_that_cannot_happen_says_why_and_offers_no_confirm(admin_client):
    order = make_order(lines=[])  # no products: O2 refuses the activation
    html = admin_client.get(confirm_url("order", order, "activate")).content.decode()
    assert 'id="transition-refused"' in html and "add at least one order product" in html
    assert 'name="confirm"' not in html


def test_a_dry_run_rolls_back_everything_its_service_wrote():
    order = make_order()
    dry = transition_dry_run(lambda: order_activate(order=order, user=None))
    assert dry.refusal is None and dry.result.status == OrderStatus.ACTIVATED
    assert {AuditAction.ACTIVATE, AuditAction.STAGE} <= {e.action for e in dry.events}
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.DRAFT
    assert (
        not InboundLine.objects.exists()
        and not AuditEvent.objects.filter(action="activate").exists()
    )
