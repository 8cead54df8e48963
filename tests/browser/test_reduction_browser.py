"""Reductions and cancellations driven through headless Chromium (R1, R7, R9, R12, C1-C4)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from orders.models import CreditMemo, Order, OrderKind, OrderStatus
from revenue.models import InboundLine
from tests.browser.conftest import confirm_transition, login
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def open_order(page, live_server, reference: str) -> Order:
    order = Order.objects.get(reference=reference, kind=OrderKind.STANDARD)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    return order


CLERK_PERMISSIONS = [
    "view_order",
    "change_order",
    "view_orderitem",
    "view_reductionorder",
    "change_reductionorder",
    "activate_order",
    "fulfil_order",
    "view_account",
    "view_product",
]


def staff(username: str, *extra: str):
    """A staff user (not a superuser) with the clerk's order permissions and ``extra``;
    password ``pw``."""
    user = UserFactory(username=username, is_staff=True)
    codenames = [*CLERK_PERMISSIONS, *extra]
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
    )
    return user


def logout(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#content")).to_contain_text("Logged out")


def test_r1_only_users_with_create_reduction_orders_reduce(page, live_server, demo_data):
    """R1: a clerk with *Create Reduction Orders* creates a reduction and activates it; a
    clerk without it gets no button, a 403 on the form's URL and no Activate button on the
    Draft reduction (its other order permissions are the same)."""
    staff("reducer", "create_reduction_order")
    staff("clerk")
    order = Order.objects.get(reference="DEMO-05", kind=OrderKind.STANDARD)
    routers = order.items.get(product__sku="HW-X1")
    order_url = f"{live_server.url}/admin/orders/order/{order.pk}/change/"

    login(page, live_server, "reducer", "pw")
    page.goto(order_url)
    page.get_by_role("link", name="Create reduction order…").click()
    page.fill(f"input[name=quantity_{routers.pk}]", "2")
    page.get_by_role("button", name="Create reduction order").click()
    reduction = Order.objects.get(original_order=order)
    reduction_url = f"{live_server.url}/admin/orders/reductionorder/{reduction.pk}/change/"
    page.wait_for_url(reduction_url)
    expect(page.locator("ul.messagelist li.success")).to_contain_text(
        f"{reduction.number} created in Draft for {order.number}"
    )
    assert reduction.status == OrderStatus.DRAFT
    assert reduction.net_total.amount == -2 * routers.unit_price.amount
    expect(page.get_by_role("button", name="Activate")).to_be_visible()
    logout(page)

    login(page, live_server, "clerk", "pw")
    page.goto(order_url)
    expect(page.locator(".field-status_badge .contra-badge")).to_have_text("Activated")
    expect(page.locator("body")).to_contain_text(reduction.number)  # R12: it sees the list
    expect(page.get_by_role("link", name="Create reduction order…")).to_have_count(0)
    expect(page.get_by_role("link", name="Cancel order product…")).to_have_count(0)
    response = page.goto(f"{order_url.removesuffix('change/')}reduce/")
    assert response.status == 403
    page.goto(reduction_url)
    expect(page.locator(".fieldBox.field-status_display .contra-badge")).to_have_text("Draft")
    expect(page.locator("button[name=_fsm_transition_to]")).to_have_count(0)
    reduction.refresh_from_db()
    assert reduction.status == OrderStatus.DRAFT
    assert Order.objects.filter(original_order=order).count() == 1
    logout(page)

    login(page, live_server, "reducer", "pw")
    page.goto(reduction_url)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Activate").click()
    assert posted.value.status == 302
    confirm_transition(page)
    expect(page.locator("ul.messagelist li.error")).to_have_count(0)
    expect(page.locator(".fieldBox.field-status_display .contra-badge")).to_have_text("Activated")
    reduction.refresh_from_db()
    assert reduction.status == OrderStatus.ACTIVATED
    routers.refresh_from_db()
    assert routers.available_quantity == routers.quantity - 2
    assert InboundLine.objects.filter(tran_type="RORD", so_line_id=f"{reduction.number}-1")


def test_r7_r9_reduce_from_the_order_page_then_activate(logged_in_page, live_server):
    """The Reduce form refuses an over-reduction on its field (R7), creates a Draft
    reduction, whose Activate stages a RORD line (R9); the original lists it (R12)."""
    page = logged_in_page
    order = open_order(page, live_server, "DEMO-05")
    routers = order.items.get(product__sku="HW-X1")
    page.click("text=Create reduction order")
    page.fill(f"input[name=quantity_{routers.pk}]", "50")
    page.click("input[type=submit][value='Create reduction order']")
    expect(page.locator(".contra-row-error")).to_contain_text("can still be reduced")  # R7
    expect(page.locator(".contra-row-error")).not_to_contain_text("R7")
    assert not Order.objects.filter(original_order=order).exists()

    page.fill(f"input[name=quantity_{routers.pk}]", "3")
    page.click("input[type=submit][value='Create reduction order']")
    reduction = Order.objects.get(original_order=order)
    page.wait_for_url(f"**/admin/orders/reductionorder/{reduction.pk}/change/")
    expect(page.locator("ul.messagelist li.success")).to_contain_text(reduction.number)

    with page.expect_response(lambda r: r.request.method == "POST"):
        page.click("button[name=_fsm_transition_to][value=activate]")
    page.wait_for_load_state()
    expect(page.locator("#transition-effects")).to_contain_text("1 RORD")
    confirm_transition(page)
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
    """Cancel order product…: a terminated date outside the service dates is refused on its
    field (C2) and nothing is created; a valid one creates and activates the cancellation at
    once (C1, C2), which credits the periods billed beyond the terminated date (C4)."""
    page = logged_in_page
    order = open_order(page, live_server, "DEMO-07")
    licence = order.items.get(product__sku="CLOUD-LIC")
    page.get_by_role("link", name="Cancel order product…").click()
    page.wait_for_url(f"**/admin/orders/order/{order.pk}/cancel-product/")
    page.get_by_label("Order product").select_option(str(licence.pk))
    page.get_by_label("Terminated date").fill("2026-03-31")  # after the service end
    page.get_by_role("button", name="Cancel order product").click()
    error = page.locator(".form-row.errors .errorlist")
    expect(error).to_contain_text("terminated date 2026-03-31 must lie within")  # C2
    assert not Order.objects.filter(original_order=order).exists()
    licence.refresh_from_db()
    assert licence.terminated_date is None

    page.get_by_label("Terminated date").fill("2025-06-30")
    expect(page.get_by_label("Activate now")).to_be_checked()
    page.get_by_label("Reason").fill("customer moved to another plan")
    page.get_by_role("button", name="Cancel order product").click()
    cancellation = Order.objects.get(original_order=order, kind=OrderKind.REDUCTION)
    page.wait_for_url(f"**/admin/orders/reductionorder/{cancellation.pk}/change/")
    expect(page.locator("ul.messagelist li.error")).to_have_count(0)
    expect(page.locator("ul.messagelist li.success")).to_have_text(
        f"{cancellation.number} (Activated) cancels {licence.so_line_id} after 2025-06-30."
    )
    expect(page.locator(".fieldBox.field-kind_badge .contra-badge")).to_have_text("Cancellation")
    expect(page.locator(".fieldBox.field-status_display .contra-badge")).to_have_text("Activated")
    item_row = page.locator("#items-group tbody tr", has_text=licence.so_line_id)
    expect(item_row).to_contain_text("Cancel")
    expect(item_row).to_contain_text("2025-07-01 – 2025-12-31")  # the remaining term
    expect(item_row).to_contain_text("-$604.93")  # R6: 1200.00 × 184 / 365 days
    expect(item_row).to_contain_text("2025-06-30")
    assert cancellation.status == OrderStatus.ACTIVATED
    cancel_item = cancellation.items.get()
    assert cancel_item.quantity == -licence.quantity  # C1: the whole quantity
    licence.refresh_from_db()
    assert str(licence.terminated_date) == "2025-06-30"
    memo = CreditMemo.objects.get(source_order=cancellation)
    assert memo.net_total.amount == 600  # C4: July to December 2025, 100.00 a month
    expect(page.locator(".field-credit_memos")).to_contain_text(f"{memo.number} Issued $600.00")

    # the original: nothing recurring is left to cancel; its panel lists the cancellation
    open_order(page, live_server, "DEMO-07")
    expect(page.get_by_role("link", name="Cancel order product…")).to_have_count(0)
    expect(page.locator("body")).to_contain_text(cancellation.number)

    page.goto(f"{live_server.url}/admin/orders/creditmemo/{memo.pk}/change/")
    expect(page.locator("body")).to_contain_text(memo.number)
    expect(page.locator("body")).to_contain_text("Cancellation")
    expect(page.locator("body")).to_contain_text("600.00")
