"""The RMA, refund and returns-and-cancels admin pages (T6–T11, T9, T15): list, filters,
the RMA page's grouped lines and documents, *Return items…*, *Cancel line*, *Ensure
refund*, the status buttons and the refund actions. Refusals name the line and the rule;
nothing answers 500."""

from __future__ import annotations

from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from returns.models import (
    LineStatus,
    LineType,
    Refund,
    RefundStatus,
    ReturnOrder,
    ReturnStatus,
)
from returns.services import ReturnQuantities, return_items_process
from tests.returns.conftest import fee, rma_for, tv_order
from tests.returns.rma_admin_helpers import (
    documents_count,
    page,
    product_line,
    return_two,
    rma_url,
    user_with,
)

pytestmark = pytest.mark.django_db
USD = "USD"


# --- list -----------------------------------------------------------------------------
def test_rma_list_shows_order_account_status_units_and_no_add(admin_client, tv1_rma):
    html = page(admin_client, reverse("admin:returns_returnorder_changelist"))
    assert tv1_rma.number in html and tv1_rma.order.number in html
    assert reverse("admin:orders_order_change", args=[tv1_rma.order_id]) in html
    assert tv1_rma.account.name in html
    assert '<span class="contra-badge APPROVED"' in html
    assert "3 / 0" in html  # expected / returned
    assert "addlink" not in html and 'id="rma-create-help"' in html  # made on the order page


def test_rma_list_filters_by_status_reason_order_account_and_search(admin_client, fee_product):
    first = tv_order()
    second = tv_order()
    damaged = rma_for(first.items.get(), 1, reason="DAMAGED")
    submitted = rma_for(second.items.get(), 1, reason="WRONG_ITEM", approve=False)
    url = reverse("admin:returns_returnorder_changelist")

    def numbers(**params):
        response = admin_client.get(url, params)
        assert response.status_code == 200
        return {rma.number for rma in response.context["cl"].result_list}

    assert numbers() == {damaged.number, submitted.number}
    assert numbers(status__exact="SUBMITTED") == {submitted.number}
    assert numbers(reason="WRONG_ITEM") == {submitted.number}
    ReturnOrder.objects.filter(pk=submitted.pk).update(reason="OTHER")  # a line keeps its own
    assert numbers(reason="WRONG_ITEM") == {submitted.number}
    assert numbers(reason="OTHER") == {submitted.number}
    assert numbers(order_number=first.number) == {damaged.number}
    assert numbers(order_number=first.number.lower()) == {damaged.number}
    assert numbers(order_number=str(int(second.number.split("-")[1]))) == {submitted.number}
    assert numbers(account_q=second.account.number) == {submitted.number}
    assert numbers(account_q=first.account.name[2:8]) == {damaged.number}
    assert numbers(q=damaged.number) == {damaged.number}
    assert numbers(q=second.number) == {submitted.number}
    ReturnOrder.objects.filter(pk=damaged.pk).update(comment="box crushed in transit")
    assert numbers(q="crushed") == {damaged.number}
    # typed values the filters do not know: an empty list or every RMA, never a 500
    assert numbers(reason="NOPE") == {damaged.number, submitted.number}
    assert numbers(order_number="%' OR 1=1 --") == set()
    assert numbers(account_q="x" * 500) == set()
    assert numbers(_facets="1", reason="DAMAGED", order_number=first.number) == {damaged.number}
    html = page(admin_client, url, data={"order_number": first.number, "status__exact": "APPROVED"})
    assert 'name="order_number"' in html and f'value="{first.number}"' in html
    assert '<input type="hidden" name="status__exact" value="APPROVED">' in html


def test_rma_list_runs_a_constant_number_of_queries(admin_client, fee_product):
    """2 RMAs or 20: the same queries (lines, units and totals are subqueries)."""
    url = reverse("admin:returns_returnorder_changelist")
    reasons = ["DAMAGED", "DEFECTIVE"]
    orders = [tv_order() for _ in range(10)]
    for order in orders[:1]:
        for reason in reasons:
            rma_for(order.items.get(), 1, reason=reason, fees=[fee(fee_product, 2)])
    admin_client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).context["cl"].result_count == 2
    for order in orders[1:]:
        for reason in reasons:
            rma = rma_for(order.items.get(), 1, reason=reason, fees=[fee(fee_product, 2)])
    return_two_of = rma_for(orders[1].items.get(), 2, reason="OTHER")
    return_items_process(
        return_order=return_two_of,
        quantities={product_line(return_two_of).pk: ReturnQuantities(returned=Decimal(1))},
        user=None,
    )
    assert rma is not None
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert response.context["cl"].result_count == 21
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- the RMA page -------------------------------------------------------------------------
def test_tv1_rma_page_groups_fees_under_their_line_and_links_documents(admin_client, tv1_rma):
    """TV1 after returning 2 of 3: processed lines read-only, split lines linked to their
    origin, the change orders, credit memo 54.00, fee invoice 5.40 and refund 48.60."""
    processing = return_two(tv1_rma)
    refund = Refund.objects.get(processing=processing)
    html = page(admin_client, rma_url(tv1_rma))

    processed = product_line(tv1_rma, LineStatus.PROCESSED)
    split = product_line(tv1_rma)
    fee_line = tv1_rma.lines.get(type=LineType.FEE, product_line=processed)
    split_fee = tv1_rma.lines.get(type=LineType.FEE, product_line=split)
    order = [html.index(f'id="line-{line.pk}"') for line in (processed, fee_line, split, split_fee)]
    assert order == sorted(order)  # each fee right under its product line
    row = html[order[0] : order[1]]
    assert "contra-readonly" in row and "read-only" in row and "Cancel line" not in row
    split_row = html[order[2] : order[3]]
    assert f'href="#line-{processed.pk}"' in split_row  # split from
    assert f'form="cancel-line-{split.pk}"' in split_row
    assert "$5.40" in html[order[1] : order[2]]  # fee charged (T7)
    assert "$2.70" in html[order[3] :]  # the split fee keeps the rest
    for name, pk in (
        ("orders_order_change", processing.change_order_id),
        ("orders_order_change", processing.fee_change_order_id),
        ("orders_creditmemo_change", processing.credit_memo_id),
        ("orders_invoice_change", processing.fee_invoice_id),
        ("returns_refund_change", refund.pk),
        ("returns_returnprocessing_change", processing.pk),
    ):
        assert reverse(f"admin:{name}", args=[pk]) in html
    assert 'id="rma-credited">$54.00' in html and 'id="rma-fees">$5.40' in html
    assert 'id="rma-refund">$48.60' in html
    assert f'form="refund-{refund.pk}-succeed"' in html
    assert 'id="rma-history"' in html and "Items returned" in html
    assert f"{refund}: refund prepared" in html  # the refund's history too, in words
    assert f"{refund}: ensured" not in html
    assert 'value="close"' in html and 'value="cancel"' in html
    assert 'id="return-items"' in html  # the split line is still open


def test_rma_page_runs_a_constant_number_of_queries(admin_client, tv1_item, fee_product):
    """One processing or three, with their documents and refunds: the same queries."""
    rma = rma_for(tv1_item, 4, fees=[fee(fee_product, 10, "PERCENTAGE")])

    def return_one():
        line = product_line(rma)
        return_items_process(
            return_order=rma, quantities={line.pk: ReturnQuantities(returned=Decimal(1))}, user=None
        )

    return_one()
    admin_client.get(rma_url(rma))
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(rma_url(rma)).status_code == 200
    return_one()
    return_one()
    with CaptureQueriesContext(connection) as three:
        html = page(admin_client, rma_url(rma))
    assert html.count('id="processing-') == 3 and html.count("contra-fee-line") == 4
    assert len(three) == len(one), [q["sql"] for q in three.captured_queries]


def test_draft_rma_shows_submit_and_no_return_items(admin_client, tv1_item):
    rma = rma_for(tv1_item, 1, approve=False)
    ReturnOrder.objects.filter(pk=rma.pk).update(status=ReturnStatus.DRAFT)
    html = page(admin_client, rma_url(rma))
    assert 'value="submit"' in html and 'id="return-items"' not in html
    assert 'name="_save"' not in html  # changes only through the services


# --- Cancel line, Close, Cancel (T10, T11) ------------------------------------------------
def test_t10_cancel_line_gives_back_its_quantity(admin_client, tv1_rma, tv1_item):
    line = product_line(tv1_rma)
    url = rma_url(tv1_rma, "cancel_line", line.pk)
    assert admin_client.get(url).status_code == 405
    other = rma_for(tv_order().items.get(), 1)
    response = admin_client.post(rma_url(other, "cancel_line", line.pk), follow=True)
    assert f"Line id {line.pk} is not on {other}" in response.content.decode()

    response = admin_client.post(url, follow=True)
    assert f"Line {line} canceled" in response.content.decode()
    assert set(tv1_rma.lines.values_list("status", flat=True)) == {LineStatus.CANCELED}
    tv1_item.refresh_from_db()
    assert tv1_item.return_initiated_quantity == 0
    response = admin_client.post(url, follow=True)  # twice: refused, named
    html = response.content.decode()
    assert f"Line {line} is Canceled: only open lines" in html and "T11" not in html


def test_t11_close_refused_while_a_line_is_open_then_allowed(admin_client, tv1_rma):
    url = rma_url(tv1_rma)
    response = admin_client.post(url, {"_fsm_transition_to": "close"}, follow=True)
    html = response.content.decode()
    assert f"{tv1_rma} cannot be closed" in html and str(product_line(tv1_rma)) in html
    assert "T11" not in html
    tv1_rma.refresh_from_db()
    assert tv1_rma.status == ReturnStatus.APPROVED

    line = product_line(tv1_rma)
    return_items_process(
        return_order=tv1_rma,
        quantities={line.pk: ReturnQuantities(returned=Decimal(3))},
        user=None,
    )
    response = admin_client.post(url, {"_fsm_transition_to": "close"}, follow=True)
    tv1_rma.refresh_from_db()
    assert tv1_rma.status == ReturnStatus.CLOSED
    html = response.content.decode()
    assert f"{tv1_rma}: closed." in html and 'value="cancel"' not in html


def test_t11_cancel_rma_asks_why_and_cancels_its_open_lines(admin_client, tv1_rma, tv1_item):
    url = rma_url(tv1_rma)
    response = admin_client.post(url, {"_fsm_transition_to": "cancel"})
    form_url = reverse("admin:returns_returnorder_transition", args=[tv1_rma.pk, "cancel"])
    assert response.status_code == 302 and response.url == form_url
    assert admin_client.post(form_url, {"comment": ""}).status_code == 200  # reason required
    response = admin_client.post(form_url, {"comment": "customer keeps it"}, follow=True)
    tv1_rma.refresh_from_db()
    assert tv1_rma.status == ReturnStatus.CANCELED
    assert set(tv1_rma.lines.values_list("status", flat=True)) == {LineStatus.CANCELED}
    tv1_item.refresh_from_db()
    assert tv1_item.return_initiated_quantity == 0
    assert "customer keeps it" in response.content.decode()  # in the history


def test_unknown_transitions_are_messages_not_500(admin_client, tv1_rma):
    for name in ("save", "delete", "nope"):
        response = admin_client.post(rma_url(tv1_rma), {"_fsm_transition_to": name}, follow=True)
        assert f"there is no action {name!r}" in unescape(response.content.decode())
        url = reverse("admin:returns_returnorder_transition", args=[tv1_rma.pk, name])
        assert admin_client.get(url).status_code == 302
    response = admin_client.post(rma_url(tv1_rma), {"_fsm_transition_to": "submit"}, follow=True)
    html = response.content.decode()
    assert f"Submit is not allowed: {tv1_rma} is Approved" in html and "T11" not in html


# --- permissions and CSRF -------------------------------------------------------------
def test_without_the_permissions_no_buttons_and_403(client, tv1_rma):
    processing = return_two(tv1_rma, ensure_refund=False)
    reader = user_with("view_returnorder", "view_refund")
    client.force_login(reader)
    html = page(client, rma_url(tv1_rma))
    assert 'id="return-items"' not in html and "Cancel line" not in html
    assert "Ensure refund" not in html and "_fsm_transition_to" not in html  # a reader
    line = product_line(tv1_rma)
    assert client.get(rma_url(tv1_rma, "return_items")).status_code == 403
    assert client.post(rma_url(tv1_rma, "return_items"), {}).status_code == 403
    assert client.post(rma_url(tv1_rma, "cancel_line", line.pk)).status_code == 403
    assert client.post(rma_url(tv1_rma, "ensure_refund", processing.pk)).status_code == 403
    cancel_form = reverse("admin:returns_returnorder_transition", args=[tv1_rma.pk, "cancel"])
    assert client.get(cancel_form).status_code == 403
    assert client.post(cancel_form, {"comment": "no"}).status_code == 403
    assert client.post(rma_url(tv1_rma), {"_fsm_transition_to": "close"}).status_code == 403
    from returns.services import refund_ensure

    refund = refund_ensure(processing=processing, user=None)
    settle = reverse("admin:returns_refund_settle", args=[refund.pk])
    assert client.post(settle, {"transition": "succeed"}).status_code == 403
    response = client.get(reverse("admin:returns_refund_changelist"))
    assert "mark_refunded" not in response.content.decode()
    html = page(client, reverse("admin:returns_refund_change", args=[refund.pk]))
    assert 'value="succeed"' not in html
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING and line.status == LineStatus.OPEN

    clerk = user_with("view_returnorder", "change_returnorder", "process_returnorder")
    client.force_login(clerk)
    assert client.get(rma_url(tv1_rma, "return_items")).status_code == 200
    assert client.post(rma_url(tv1_rma, "cancel_line", line.pk)).status_code == 403


def test_csrf_is_enforced_on_the_rma_actions(admin_user, tv1_rma):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    line = product_line(tv1_rma)
    before = documents_count()
    assert (
        client.post(rma_url(tv1_rma, "return_items"), {f"returned_{line.pk}": "2"}).status_code
        == 403
    )
    assert client.post(rma_url(tv1_rma, "cancel_line", line.pk)).status_code == 403
    assert client.post(rma_url(tv1_rma), {"_fsm_transition_to": "cancel"}).status_code == 403
    assert documents_count() == before
    line.refresh_from_db()
    assert line.status == LineStatus.OPEN
