"""The admin's home page and document pages in headless Chromium at 1400×900: the work
queue's counts and links, the status path with its buttons, the confirmation step of a
transition that stages revenue lines, and no page that scrolls sideways. Each test keeps
a screenshot of the pages it looked at under ``<var>/screenshots/`` (CI keeps them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from orders.models import CreditMemo, Invoice, Order, OrderKind, OrderStatus
from returns.models import Refund, ReturnOrder
from tests.browser.conftest import confirm_transition

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

WIDTH = 1400


def keep(page, name: str) -> None:
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def assert_fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width} px wide at a {WIDTH} px window"


def test_home_work_queue_counts_link_to_exactly_those(logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/admin/")
    queue = page.locator("#work-queue")
    expect(queue).to_be_visible()
    for area in ("Orders", "Returns", "Revenue"):
        expect(queue.locator("h3", has_text=area)).to_have_count(1)
    assert_fits(page)
    keep(page, "home")

    drafts = Order.objects.filter(status=OrderStatus.DRAFT).exclude(kind=OrderKind.REDUCTION)
    item = queue.locator(".contra-queue-item", has_text="Draft orders")
    expect(item.locator(".contra-queue-count")).to_have_text(str(drafts.count()))
    item.locator("a").click()
    page.wait_for_url("**/admin/orders/order/?status__exact=DRAFT")
    expect(page.locator("#result_list tbody tr")).to_have_count(drafts.count())
    # internals sit under one Administration heading, after the work
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#content-main")).to_contain_text("Administration")
    expect(page.locator("#content-main")).not_to_contain_text("Django Celery Beat")


def test_activate_from_the_status_path_asks_first_then_activates(logged_in_page, live_server):
    page = logged_in_page
    order = Order.objects.get(reference="DEMO-01")
    url = f"{live_server.url}/admin/orders/order/{order.pk}/change/"
    page.goto(url)
    path = page.locator("#status-path")
    expect(path.locator("li.current")).to_have_text("Draft")
    with page.expect_response(lambda r: r.request.method == "POST"):
        path.get_by_role("button", name="Activate").click()
    page.wait_for_load_state()
    effects = page.locator("#transition-effects")
    expect(effects).to_contain_text(f"make {order.number} Activated")
    expect(effects).to_contain_text("revenue line")
    assert_fits(page)
    keep(page, "order-activate-confirm")
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT  # nothing done before the confirmation

    confirm_transition(page)
    page.wait_for_url(url)
    expect(page.locator("ul.messagelist li.success")).to_contain_text(f"{order.number}: activated.")
    expect(page.locator("#status-path li.current")).to_have_text("Activated")
    expect(page.locator("#status-path li.done")).to_have_text("Draft")
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVATED and order.revenue_batch_id


def document_pages(live_server) -> list[tuple[str, str]]:
    """(name, url) of one page of each document kind the demo data holds."""

    def change(app: str, model: str, obj) -> str:
        return f"{live_server.url}/admin/{app}/{model}/{obj.pk}/change/"

    activated = Order.objects.filter(kind=OrderKind.STANDARD, status=OrderStatus.ACTIVATED)
    draft = Order.objects.filter(kind=OrderKind.STANDARD, status=OrderStatus.DRAFT)
    return [
        # the products inline: the columns an operator edits (it was 1,930 px wide)
        ("order-draft", change("orders", "order", draft.filter(items__isnull=False).first())),
        ("order-activated", change("orders", "order", activated.order_by("pk").first())),
        (
            "reduction",
            change(
                "orders", "reductionorder", Order.objects.filter(kind=OrderKind.REDUCTION).first()
            ),
        ),
        ("invoice", change("orders", "invoice", Invoice.objects.order_by("pk").first())),
        ("credit-memo", change("orders", "creditmemo", CreditMemo.objects.order_by("pk").first())),
        ("rma", change("returns", "returnorder", ReturnOrder.objects.order_by("pk").first())),
        ("refund", change("returns", "refund", Refund.objects.order_by("pk").first())),
    ]


def test_document_pages_show_their_status_path_and_fit_the_window(logged_in_page, live_server):
    page = logged_in_page
    for name, url in document_pages(live_server):
        page.goto(url)
        expect(page.locator("#status-path li[aria-current=step]")).to_have_count(1)
        assert_fits(page)
        keep(page, name)


def revenue_pages() -> list[tuple[str, str]]:
    """The revenue pages an accountant reads most: the inbound list and a staged line, an
    SO line with its charts (a chart's screen-reader table once made it 1,460 px wide), a
    revenue contract with its allocation table, versions and revenue chart, and one of its
    lines with its carve rows."""
    from revenue.models import InboundLine, RevenueContract, SoLine

    line = InboundLine.objects.order_by("pk").first()
    so_line = SoLine.objects.order_by("pk").first()
    contract = RevenueContract.objects.filter(carve_versions__treatment="PROSPECTIVE").first()
    carved = SoLine.objects.filter(contract=contract, rord_sll_prc__lt=0).first()  # reduced
    return [
        ("inbound-list", "/admin/revenue/inboundline/"),
        ("inbound-line", f"/admin/revenue/inboundline/{line.pk}/change/"),
        ("so-line", f"/admin/revenue/soline/{so_line.pk}/change/"),
        ("periods", "/admin/revenue/period/"),
        ("revenue-contract", f"/admin/revenue/revenuecontract/{contract.pk}/change/"),
        ("so-line-carve", f"/admin/revenue/soline/{carved.pk}/change/"),
    ]


def test_lists_the_error_pages_and_a_product_page_fit_the_window(logged_in_page, live_server):
    """The order list shows every column (Gross included) within the window; an order
    product's own page and the styled 404 page fit too, each with a way back."""
    page = logged_in_page
    page.goto(f"{live_server.url}/admin/orders/order/")
    expect(page.locator("#result_list th.column-gross")).to_be_visible()
    assert_fits(page)
    keep(page, "order-list")
    drafts = Order.objects.filter(kind=OrderKind.STANDARD, status=OrderStatus.DRAFT)
    order = drafts.filter(items__isnull=False).first()
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    page.locator("#items-group a.contra-details").first.click()
    page.wait_for_url("**/admin/orders/orderitem/*/change/")
    expect(page.locator("#content h2, #content h1").first).to_be_visible()
    expect(page.locator("#orderitem_form")).to_contain_text("Tax, billing and revenue")
    assert_fits(page)
    keep(page, "order-product")
    for name, path in revenue_pages():
        page.goto(f"{live_server.url}{path}")
        assert_fits(page)
        keep(page, name)
    page.goto(f"{live_server.url}/admin/no/such/page/")
    expect(page.locator("h1")).to_have_text("This page does not exist")
    expect(page.get_by_role("link", name="Home: what needs you today")).to_be_visible()
    assert_fits(page)
    keep(page, "not-found")
