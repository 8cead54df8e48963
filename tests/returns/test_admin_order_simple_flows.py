"""The order page's simple return (T12) and simple cancel (T13), with T9, and the
*Returns* panel (T2, T10, T13) and its query count."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from orders.models import Invoice, OrderStatus
from returns.models import LineStatus, ProcessingKind, Refund, ReturnOrderLine, ReturnProcessing
from returns.services import return_order_transition
from tests.orders.test_admin import messages_of
from tests.returns.conftest import fee, rma_for, tv_order
from tests.returns.order_flow_helpers import (
    change_url,
    nothing_created,
    post_data,
    url,
)

pytestmark = pytest.mark.django_db
USD = "USD"


# --- simple return and cancel ------------------------------------------------------
def test_t12_simple_return_makes_credit_memo_fee_invoice_and_refund(
    clerk_client, tv1_order, fee_product
):
    """TV1's figures without an RMA: return 2 → credit memo 54.00, PERCENTAGE 10 fee on
    the 2 returned units 5.40, refund 48.60."""
    item = tv1_order.items.get()
    data = post_data(
        item,
        "2",
        "DAMAGED",
        comment="returned at the counter",
        fees=[{"amount": "10", "amount_type": "PERCENTAGE", "fee_product": fee_product.pk}],
    )
    response = clerk_client.post(url(tv1_order, "simple_return"), data)
    assert response.status_code == 302 and response.url == change_url(tv1_order)
    processing = ReturnProcessing.objects.get(order=tv1_order)
    assert processing.kind == ProcessingKind.SIMPLE_RETURN
    assert processing.credit_memo.gross_total == Money("54.00", USD)
    assert processing.fee_invoice.gross_total == Money("5.40", USD)
    refund = Refund.objects.get(processing=processing)
    assert refund.amount == Money("48.60", USD)
    item.refresh_from_db()
    assert item.returned_quantity == 2 and item.available_to_return == 2
    page = clerk_client.get(change_url(tv1_order))
    (message,) = messages_of(page)
    assert processing.number in message
    assert f"credit memo {processing.credit_memo.number} ($54.00)" in message
    assert f"fee invoice {processing.fee_invoice.number} ($5.40)" in message
    assert f"refund {refund.number} $48.60 (Pending)" in message
    html = page.content.decode()
    assert processing.number in html and processing.credit_memo.number in html


def test_t12_simple_return_without_ensuring_the_refund(clerk_client, tv1_order):
    item = tv1_order.items.get()
    data = post_data(item, "1", "DAMAGED")
    del data["ensure_refund"]
    clerk_client.post(url(tv1_order, "simple_return"), data)
    processing = ReturnProcessing.objects.get(order=tv1_order)
    assert processing.credit_memo.gross_total == Money("27.00", USD)
    assert not Refund.objects.filter(processing=processing).exists()
    assert "no refund ensured yet" in messages_of(clerk_client.get(change_url(tv1_order)))[0]


def test_t12_simple_return_over_available_is_refused_on_the_field(clerk_client, tv1_order):
    item = tv1_order.items.get()
    response = clerk_client.post(url(tv1_order, "simple_return"), post_data(item, "5", "DAMAGED"))
    (error,) = response.context["form"].errors[f"quantity_{item.pk}"]
    assert error.startswith(f"{item.so_line_id}") and "only 4 available to return" in error
    nothing_created(tv1_order)


def test_t9_simple_return_with_a_fee_above_the_credit_is_refused_nothing_created(
    clerk_client, tv1_order, fee_product
):
    """TV3: return 1 (credit memo 27.00) with a 30.00 fee: refused, nothing created."""
    item = tv1_order.items.get()
    data = post_data(item, "1", "DAMAGED", fees=[{"amount": "30", "fee_product": fee_product.pk}])
    response = clerk_client.post(url(tv1_order, "simple_return"), data)
    assert response.status_code == 200
    (error,) = response.context["form"].non_field_errors()
    assert error.startswith("the fees ($30.00)") and "Nothing was created" in error
    assert 'id="flow-errors"' in response.content.decode()
    nothing_created(tv1_order)
    assert not Invoice.objects.filter(order__original_order=tv1_order).exists()
    item.refresh_from_db()
    assert item.returned_quantity == 0


def test_t13_simple_cancel_of_billed_units_gets_a_credit_memo(clerk_client):
    order = tv_order(fulfil=False)  # billed, not fulfilled
    item = order.items.get()
    response = clerk_client.get(url(order, "simple_cancel"))
    (row,) = response.context["rows"]
    assert row["available"] == 4
    response = clerk_client.post(
        url(order, "simple_cancel"), post_data(item, "1", "WRONG_QUANTITY")
    )
    assert response.status_code == 302
    processing = ReturnProcessing.objects.get(order=order)
    assert processing.kind == ProcessingKind.SIMPLE_CANCEL
    assert processing.credit_memo.gross_total == Money("27.00", USD)
    assert Refund.objects.get(processing=processing).amount == Money("27.00", USD)
    item.refresh_from_db()
    assert item.canceled_quantity == 1 and item.available_to_cancel == 3
    message = messages_of(clerk_client.get(change_url(order)))[0]
    assert "simple cancel" in message and "($27.00)" in message


def test_t13_simple_cancel_with_a_fee_on_the_canceled_units(clerk_client, fee_product):
    """Cancel 2 billed units (credit memo 54.00) with a 5.00 fee: refund 49.00; a fee row
    on a product with nothing to cancel is refused (T13), in words."""
    order = tv_order(fulfil=False)
    item = order.items.get()
    fee_row = {"amount": "5", "fee_product": fee_product.pk}
    response = clerk_client.post(url(order, "simple_cancel"), post_data(item, fees=[fee_row]))
    (error,) = response.context["fees"].forms[0].errors["item"]
    assert error.startswith(f"{item.so_line_id} has no quantity to cancel")
    assert "units canceled" in error
    nothing_created(order)

    data = post_data(item, "2", "WRONG_QUANTITY", fees=[fee_row])
    assert clerk_client.post(url(order, "simple_cancel"), data).status_code == 302
    processing = ReturnProcessing.objects.get(order=order)
    assert processing.credit_memo.gross_total == Money("54.00", USD)
    assert processing.fee_invoice.gross_total == Money("5.00", USD)
    assert Refund.objects.get(processing=processing).amount == Money("49.00", USD)


def test_t13_simple_cancel_of_unbilled_units_says_no_credit_memo(clerk_client):
    order = tv_order(fulfil=False, bill=False)
    item = order.items.get()
    clerk_client.post(url(order, "simple_cancel"), post_data(item, "4", "DUPLICATE_ORDER"))
    processing = ReturnProcessing.objects.get(order=order)
    assert processing.credit_memo is None
    message = messages_of(clerk_client.get(change_url(order)))[0]
    assert "nothing of it was billed, so no credit memo" in message
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED  # nothing left to fulfil (O6)


def test_t13_simple_cancel_over_the_open_quantity_is_refused(clerk_client):
    order = tv_order(fulfil=False)
    item = order.items.get()
    response = clerk_client.post(url(order, "simple_cancel"), post_data(item, "5", "OTHER"))
    (error,) = response.context["form"].errors[f"quantity_{item.pk}"]
    assert error.startswith(f"{item.so_line_id}") and "only 4 not fulfilled yet" in error
    nothing_created(order)


def test_t13_simple_cancel_of_a_fulfilled_order_says_why(clerk_client, tv1_order):
    response = clerk_client.get(url(tv1_order, "simple_cancel"), follow=True)
    assert messages_of(response) == [f"{tv1_order} has no units not fulfilled yet."]  # T13


# --- the panel -------------------------------------------------------------------------
def test_t2_t10_panel_shows_figures_rmas_and_simple_returns(clerk_client, tv1_order, fee_product):
    item = tv1_order.items.get()
    rma = rma_for(item, 2, fees=[fee(fee_product, 10, "PERCENTAGE")])
    clerk_client.post(url(tv1_order, "simple_return"), post_data(item, "1", "DEFECTIVE"))
    response = clerk_client.get(change_url(tv1_order))
    panel = next(p.context for p in response.context["extension_panels"])
    (row,) = panel["items"]
    assert (row.fulfilled_quantity, row.return_initiated_quantity, row.returned_quantity) == (
        4,
        3,
        1,
    )
    assert row.available_to_return == 1 and row.available_to_cancel == 0
    html = response.content.decode()
    assert 'id="order-returns"' in html and rma.number in html
    assert '<span class="contra-badge APPROVED">Approved</span>' in html
    processing = ReturnProcessing.objects.get(order=tv1_order)
    assert processing.number in html and "Simple return" in html
    assert processing.change_order.number in html and "$27.00" in html
    cells = re.search(r'id="returns-item-\d+">(.*?)</tr>', html, re.S).group(1)
    numbers = re.findall(r'class="contra-num[^"]*">(?:<strong>)?([\d.]+)', cells)
    assert numbers == ["4", "4", "0", "3", "1", "1", "0"]


def _order_page_queries(client, order) -> int:
    client.get(change_url(order))  # warm caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(change_url(order)).status_code == 200
    return len(queries)


def test_order_page_runs_a_constant_number_of_queries_whatever_its_returns(
    admin_client, fee_product
):
    """2 or 10 RMAs (half of them canceled, some with fees), 1 or 3 simple returns."""
    from returns.services import SimpleLineInput, simple_return_submit

    counts = []
    reasons = ["DAMAGED", "DEFECTIVE", "WRONG_ITEM", "OTHER", "OUTDATED", "NOT_SATISFIED"]
    for rmas, simple in ((2, 1), (10, 3)):
        order = tv_order(quantity="40")
        item = order.items.get()
        for number in range(rmas):
            fees = [fee(fee_product, 1)] if number % 3 == 0 else []
            rma = rma_for(item, 1, fees=fees, reason=reasons[(number + 1) // 2], approve=False)
            if number % 2:
                return_order_transition(return_order=rma, name="cancel", user=None)
        for _ in range(simple):
            simple_return_submit(
                order=order,
                lines=[SimpleLineInput(order_item=item, quantity=Decimal(1), reason="OTHER")],
                user=None,
            )
        assert ReturnOrderLine.objects.filter(
            return_order__order=order, status=LineStatus.OPEN
        ).exists()
        counts.append(_order_page_queries(admin_client, order))
    assert counts[0] == counts[1], counts
