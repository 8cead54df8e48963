"""Reductions and cancellations driven through headless Chromium (R1, R7, R9, R12, C1-C4)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orders.models import CreditMemo, Order, OrderKind, OrderStatus
from revenue.models import InboundLine

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def open_order(page, live_server, reference: str) -> Order:
    order = Order.objects.get(reference=reference, kind=OrderKind.STANDARD)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    return order


def test_r7_r9_reduce_from_the_order_page_then_activate(logged_in_page, live_server):
    """The Reduce form refuses an over-reduction on its field (R7), creates a Draft
    reduction, whose Activate stages a RORD line (R9); the original lists it (R12)."""
    page = logged_in_page
    order = open_order(page, live_server, "DEMO-05")
    routers = order.items.get(product__sku="HW-X1")
    page.click("text=Create reduction order")
    page.fill(f"input[name=quantity_{routers.pk}]", "50")
    page.click("input[type=submit][value='Create reduction order']")
    expect(page.locator(".contra-row-error")).to_contain_text("R7")
    expect(page.locator(".contra-row-error")).to_contain_text("can still be reduced")
    assert not Order.objects.filter(original_order=order).exists()

    page.fill(f"input[name=quantity_{routers.pk}]", "3")
    page.click("input[type=submit][value='Create reduction order']")
    reduction = Order.objects.get(original_order=order)
    page.wait_for_url(f"**/admin/orders/reductionorder/{reduction.pk}/change/")
    expect(page.locator("ul.messagelist li.success")).to_contain_text(reduction.number)

    with page.expect_response(lambda r: r.request.method == "POST"):
        page.click("button[name=_fsm_transition_to][value=activate]")
    page.wait_for_load_state()
    expect(page.locator("ul.messagelist li.error")).to_have_count(0)
    reduction.refresh_from_db()
    assert reduction.status == OrderStatus.ACTIVATED
    rord = InboundLine.objects.get(tran_type="RORD", so_line_id=f"{reduction.number}-1")
    assert rord.orig_so_line_id == routers.so_line_id and rord.ord_qty == 3

    open_order(page, live_server, "DEMO-05")
    expect(page.locator("body")).to_contain_text(reduction.number)
    routers.refresh_from_db()
    assert routers.available_quantity == 7


def test_c1_c4_cancel_a_subscription_and_see_its_credit_memo(logged_in_page, live_server):
    """Cancel order product…: the cancellation is created and activated at once (C1, C2)
    and credits the periods billed beyond the terminated date (C4)."""
    page = logged_in_page
    order = open_order(page, live_server, "DEMO-07")
    licence = order.items.get(product__sku="CLOUD-LIC")
    page.click("text=Cancel order product")
    page.select_option("select[name=item]", str(licence.pk))
    page.fill("input[name=terminated_date]", "2025-06-30")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("ul.messagelist li.error")).to_have_count(0)
    cancellation = Order.objects.get(original_order=order, kind=OrderKind.REDUCTION)
    assert cancellation.status == OrderStatus.ACTIVATED
    licence.refresh_from_db()
    assert str(licence.terminated_date) == "2025-06-30"
    memo = CreditMemo.objects.get(source_order=cancellation)
    assert memo.net_total.amount == 600  # July to December 2025, 100.00 a month

    page.goto(f"{live_server.url}/admin/orders/creditmemo/{memo.pk}/change/")
    expect(page.locator("body")).to_contain_text(memo.number)
    expect(page.locator("body")).to_contain_text("Cancellation")
