"""The order admin driven through headless Chromium against the live server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orders.models import Order, OrderStatus
from tests.browser.conftest import confirm_transition

pytestmark = [
    pytest.mark.browser,
    # whitenoise warns when collectstatic has not been run; the live server serves static.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def order_url(live_server, reference: str) -> tuple[Order, str]:
    order = Order.objects.get(reference=reference)
    return order, f"{live_server.url}/admin/orders/order/{order.pk}/change/"


def click_transition(page, name: str) -> None:
    """Click an FSM transition button; the change form must answer with a redirect (to
    the document, or to the transition's confirmation page)."""
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click(f"button[name=_fsm_transition_to][value={name}]")
    response = posted.value
    assert response.status == 302, (
        f"POST {response.url} for transition {name!r} answered {response.status}, "
        "expected a redirect"
    )
    page.wait_for_load_state()


def test_login_and_order_list_shows_badges(logged_in_page, live_server):
    page = logged_in_page
    expect(page.locator("#user-tools")).to_contain_text("browser-admin")

    page.goto(f"{live_server.url}/admin/orders/order/")

    expect(page.locator("#result_list")).to_be_visible()
    expect(page.locator("#result_list")).to_contain_text("ORD-000001")
    badges = page.locator("#result_list span.contra-badge")
    assert badges.count() == Order.objects.exclude(kind="REDUCTION").count()
    expect(page.locator("#result_list span.contra-badge.DRAFT").first).to_have_text("Draft")
    expect(page.locator("#result_list span.contra-badge.ACTIVATED").first).to_have_text("Activated")


def test_activate_draft_order(logged_in_page, live_server):
    page = logged_in_page
    order, url = order_url(live_server, "DEMO-01")
    assert order.status == OrderStatus.DRAFT
    page.goto(url)
    expect(page.locator(".field-status_badge .contra-badge")).to_have_text("Draft")

    click_transition(page, "activate")
    # it stages revenue lines: a page says what it will do first, and nothing is done yet
    expect(page.locator("#transition-effects")).to_contain_text("stages 2 revenue lines (2 SO)")
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    confirm_transition(page)

    page.wait_for_url(url)
    success = page.locator("ul.messagelist li.success")
    expect(success).to_contain_text(order.number)
    expect(success).to_contain_text("activate")
    expect(page.locator("ul.messagelist li.error")).to_have_count(0)
    expect(page.locator(".field-status_badge .contra-badge")).to_have_text("Activated")
    history = page.locator("#order-history")
    expect(history).to_be_visible()
    expect(history.locator("tbody td", has_text="activate")).not_to_have_count(0)
    expect(history).to_contain_text(re.compile(r"draft\s*→\s*activated", re.IGNORECASE))
    # The activate button is gone; the Activated transitions are offered instead.
    expect(page.locator("button[name=_fsm_transition_to][value=activate]")).to_have_count(0)
    expect(page.locator("button[name=_fsm_transition_to][value=deactivate]")).to_be_visible()
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVATED


def test_activate_order_without_products_is_refused(logged_in_page, live_server):
    page = logged_in_page
    order, url = order_url(live_server, "DEMO-06")
    assert order.status == OrderStatus.DRAFT
    assert not order.items.exists()
    page.goto(url)

    click_transition(page, "activate")

    # the confirmation page says why it cannot be done, and offers no button to do it
    expect(page.locator("#transition-refused")).to_contain_text("add at least one order product")
    expect(page.locator("#transition-form")).to_have_count(0)
    page.get_by_role("link", name="Go back").click()
    page.wait_for_url(url)
    expect(page.locator(".field-status_badge .contra-badge")).to_have_text("Draft")
    expect(page.locator("button[name=_fsm_transition_to][value=activate]")).to_be_visible()
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
