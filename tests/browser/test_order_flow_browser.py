"""An order's whole life through the admin in headless Chromium (O2, O3, O6, O8): create it
and its products on the add form (account and products picked in the autocompletes),
activate it with the transition button, record a partial and then the rest of the
fulfilment, and see it Fulfilled."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import Order, OrderStatus
from tests.browser.conftest import confirm_transition

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

REFERENCE = "BROWSER-FLOW-1"


def autocomplete(page, container, search: str, option: str) -> None:
    """Pick ``option`` in the admin's select2 autocomplete inside ``container``."""
    container.locator(".select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(search)
    page.locator(".select2-results__option", has_text=option).click()
    expect(container.locator(".select2-selection__rendered")).to_contain_text(option)


def status_badge(page):
    return page.locator(".field-status_badge .contra-badge")


def fulfil(page, quantities: dict[int, str], comment: str) -> None:
    """*Record fulfilment…*: the units delivered now per order product."""
    page.get_by_role("link", name="Record fulfilment…").click()
    expect(page.locator("h1")).to_contain_text("Record fulfilment of")
    for pk, quantity in quantities.items():
        page.fill(f"input[name=quantity_{pk}]", quantity)
    page.get_by_label("Comment").fill(comment)
    page.get_by_role("button", name="Record fulfilment").click()


def test_o2_o6_create_activate_and_fulfil_an_order_through_the_admin(logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/admin/orders/order/")
    page.get_by_role("link", name=re.compile(r"Add order", re.IGNORECASE)).click()
    page.wait_for_url("**/admin/orders/order/add/")

    # the order: account through its autocomplete, price book, currency, dates
    autocomplete(page, page.locator(".field-account"), "Stark", "Stark Logistics")
    page.select_option("select[name=price_book]", label="Standard 2026")
    page.select_option("select[name=currency]", "USD")
    page.fill("input[name=effective_date]", "2026-11-02")
    page.fill("input[name=reference]", REFERENCE)

    # its products: the empty row the add form offers, then *Add another*
    autocomplete(page, page.locator("#items-0"), "router", "Edge router X1")
    page.fill("input[name=items-0-quantity]", "2")
    page.locator("#items-group .add-row a").click()
    autocomplete(page, page.locator("#items-1"), "Onboarding", "Onboarding services")
    page.fill("input[name=items-1-quantity]", "1")
    page.fill("input[name=items-1-unit_price]", "2000.00")  # in the order's currency
    page.get_by_role("button", name="Save and continue editing").click()

    page.wait_for_url(re.compile(r".*/admin/orders/order/\d+/change/$"))
    expect(page.locator("ul.messagelist li.error")).to_have_count(0)
    order = Order.objects.get(reference=REFERENCE)
    expect(page.locator("ul.messagelist li.success")).to_contain_text("was added successfully")
    expect(status_badge(page)).to_have_text("Draft")
    router, onboarding = order.items.select_related("product").order_by("line_number")
    # O2: the router is priced from the price book (899.00), the onboarding as entered
    assert (router.product.sku, router.quantity) == ("HW-X1", 2)
    assert router.unit_price.amount == Decimal("899.00")
    assert (onboarding.product.sku, onboarding.unit_price.amount) == ("SVC-ONB", 2000)
    assert order.net_total.amount == Decimal("3798.00")  # 2 × 899.00 + 2000.00
    # the router's tax rate: on the order product's own page (the inline's *details*)
    page.locator("#items-0 a.contra-details").click()
    page.wait_for_url(re.compile(r".*/admin/orders/orderitem/\d+/change/$"))
    page.fill("input[name=tax_rate]", "10")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r".*/admin/orders/order/\d+/change/$"))
    expect(page.locator("ul.messagelist li.success")).to_contain_text(f"{router}: saved.")
    order.refresh_from_db()
    assert order.tax_total.amount == Decimal("179.80")  # 10 % of 1798.00
    assert order.gross_total.amount == Decimal("3977.80")
    expect(page.locator(".field-gross_total")).to_contain_text("3,977.80")

    # Activate (O2 passes: it has products)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Activate").click()
    assert posted.value.status == 302
    confirm_transition(page)  # it stages the SO lines: confirmed on its own page
    expect(page.locator("ul.messagelist li.success")).to_contain_text("activate")
    expect(page.locator("ul.messagelist li.error")).to_have_count(0)
    expect(status_badge(page)).to_have_text("Activated")
    # O3: the account is fixed now (no autocomplete any more), O4: the products too
    expect(page.locator(".field-account .select2-selection")).to_have_count(0)
    expect(page.locator("input[name=items-0-quantity]")).to_have_count(0)
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVATED

    # O6: a partial delivery keeps it Activated ...
    fulfil(page, {router.pk: "1"}, "first router shipped")
    expect(page.locator("ul.messagelist li.success")).to_contain_text(
        f"{order.number}: fulfilment recorded (Activated)"
    )
    expect(status_badge(page)).to_have_text("Activated")
    router.refresh_from_db()
    assert router.fulfilled_quantity == 1

    # ... more than is open is refused on its field, nothing recorded ...
    fulfil(page, {router.pk: "5"}, "too many")
    expect(page.locator(".errorlist")).to_contain_text("5 cannot be fulfilled")  # O6
    expect(page.locator(".errorlist")).not_to_contain_text("O6")
    router.refresh_from_db()
    assert router.fulfilled_quantity == 1

    # ... and the rest makes it Fulfilled by itself
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    fulfil(page, {router.pk: "1", onboarding.pk: "1"}, "rest delivered")
    expect(page.locator("ul.messagelist li.success")).to_contain_text(
        f"{order.number}: fulfilment recorded (Fulfilled)"
    )
    expect(status_badge(page)).to_have_text("Fulfilled")
    expect(page.get_by_role("link", name="Record fulfilment…")).to_have_count(0)
    history = page.locator("#order-history")
    expect(history).to_contain_text(re.compile(r"draft\s*→\s*activated", re.IGNORECASE))
    expect(history).to_contain_text(re.compile(r"activated\s*→\s*fulfilled", re.IGNORECASE))
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert [i.fulfilled_quantity for i in order.items.order_by("line_number")] == [2, 1]

    # the list shows it Fulfilled, 100 % delivered
    page.goto(f"{live_server.url}/admin/orders/order/?q={REFERENCE}")
    row = page.locator("#result_list tbody tr", has_text=order.number)
    expect(row.locator(".contra-badge")).to_have_text("Fulfilled")
    expect(row).to_contain_text("100%")
