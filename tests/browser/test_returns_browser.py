"""Returns driven through headless Chromium: TV1 through the admin (T2, T4, T5, T6–T10, T9).

Create RMA… on the order page (with a fee row added by *Add a fee*), approve it on the
RMA page, return 2 of the 3 units with *Return items…* (refund not ensured yet), *Ensure
refund* (48.60) and *Mark refunded*."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orders.models import Product
from returns.models import LineType, Refund, RefundStatus, ReturnOrder, ReturnStatus
from tests.returns.conftest import tv_order

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def test_tv1_create_rma_with_a_fee_approve_return_two_and_see_the_refund(
    logged_in_page, live_server
):
    page = logged_in_page
    order = tv_order()  # 4 units at 25.00, tax 8 %, billed and fulfilled
    item = order.items.get()
    restocking = Product.objects.get(name="Restocking fee", is_fee=True)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    expect(page.locator("#order-returns")).to_contain_text("Available to return")

    # Create RMA…: two fee rows without JavaScript, a third one with *Add a fee*
    page.click("#create-rma")
    page.wait_for_url(f"**/admin/orders/order/{order.pk}/create-rma/")
    expect(page.locator("#fee-rows tr")).to_have_count(2)
    page.click("#add-fee")
    expect(page.locator("#fee-rows tr")).to_have_count(3)
    assert page.input_value("input[name=fees-TOTAL_FORMS]") == "3"

    # T2 first: 5 of 4 is refused on its row, nothing saved, the input kept
    page.fill(f"input[name=quantity_{item.pk}]", "5")
    page.select_option(f"select[name=reason_{item.pk}]", "DAMAGED")
    page.fill("input[name=fees-2-amount]", "10")
    page.select_option("select[name=fees-2-amount_type]", "PERCENTAGE")
    page.select_option("select[name=fees-2-fee_product]", str(restocking.pk))
    page.click("#flow-submit")
    expect(page.locator(f"#product-{item.pk}.contra-row-error")).to_contain_text(
        f"{item.so_line_id} ({item.product.name}): 5 expected"  # T2, in words
    )
    assert not ReturnOrder.objects.filter(order=order).exists()
    assert page.input_value("input[name=fees-2-amount]") == "10"

    page.fill(f"input[name=quantity_{item.pk}]", "3")
    page.click("#flow-submit")
    page.wait_for_url(re.compile(r".*/admin/returns/returnorder/\d+/change/$"))
    rma = ReturnOrder.objects.get(order=order)
    expect(page.locator("ul.messagelist li.success")).to_contain_text(rma.number)
    expect(page.locator("ul.messagelist li.success")).to_contain_text("$8.10")  # T5
    assert rma.status == ReturnStatus.SUBMITTED
    assert str(rma.lines.get(type=LineType.FEE).fee_total.amount) == "8.10"

    # Approve, then Return items…: 2 of the 3 returned
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.click("button[name=_fsm_transition_to][value=approve]")
    page.wait_for_load_state()
    expect(page.locator("ul.messagelist li.error")).to_have_count(0)
    rma.refresh_from_db()
    assert rma.status == ReturnStatus.APPROVED

    product_line = rma.lines.get(type=LineType.ORDER_PRODUCT)
    page.click("a[href$='/return-items/']")
    page.wait_for_url(f"**/admin/returns/returnorder/{rma.pk}/return-items/")
    page.fill(f"input[name=returned_{product_line.pk}]", "2")
    page.get_by_label("Ensure the refund now").uncheck()  # ensured below, by hand
    page.get_by_role("button", name="Return items").click()
    page.wait_for_url(re.compile(rf".*/admin/returns/returnorder/{rma.pk}/change/.*"))
    expect(page.locator("ul.messagelist li.error")).to_have_count(0)
    success = page.locator("ul.messagelist li.success")
    expect(success).to_contain_text("($54.00)")  # T8: credit memo of the 2 billed units
    expect(success).to_contain_text("($5.40)")  # T7: the fee for 2 of 3 returned
    expect(success).to_contain_text("no refund yet: use Ensure refund below")
    assert not Refund.objects.filter(return_order=rma).exists()
    processing = page.locator("#rma-processings tbody tr").first
    expect(processing).to_contain_text("not ensured yet")

    # Ensure refund (T9: 54.00 − 5.40), then the gateway's answer: Mark refunded
    processing.get_by_role("button", name="Ensure refund").click()
    refund = Refund.objects.get(return_order=rma)
    assert str(refund.amount.amount) == "48.60"  # TV1
    expect(page.locator("ul.messagelist li.success")).to_contain_text(
        f"refund {refund.number} of $48.60 ensured (Pending)"
    )
    processing = page.locator("#rma-processings tbody tr").first
    expect(processing.locator(".contra-refund-amount")).to_have_text("$48.60")
    expect(processing.locator(".contra-badge.PENDING")).to_have_text("Pending")
    processing.get_by_label(f"Gateway reference of refund {refund.number}").fill("re_3PxYz")
    processing.get_by_role("button", name="Mark refunded").click()
    expect(page.locator("ul.messagelist li.success")).to_contain_text(
        f"{refund.number} ($48.60): marked refunded, now Refunded"
    )
    processing = page.locator("#rma-processings tbody tr").first
    expect(processing.locator(".contra-badge.SUCCEEDED")).to_have_text("Refunded")
    expect(processing.get_by_role("button", name="Mark refunded")).to_have_count(0)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED

    # the order page: T2 figures and the RMA with its refund
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    row = page.locator(f"#returns-item-{item.pk} td")
    assert [row.nth(i).inner_text() for i in range(2, 9)] == ["4", "4", "0", "3", "2", "1", "0"]
    expect(page.locator("#order-rmas")).to_contain_text(rma.number)
    expect(page.locator("#order-rmas")).to_contain_text("$48.60")
