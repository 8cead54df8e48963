"""The order page's return flows (T1–T5): the tools, *Create RMA…* and its refusals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from djmoney.money import Money

from orders.admin.extensions import ORDER_PAGE_EXTENSIONS
from returns.admin.order_flows import ReturnsOrderPage, admin_url
from returns.models import LineType, ReturnOrder, ReturnStatus
from tests.factories import ProductFactory, make_order
from tests.orders.test_admin import messages_of
from tests.returns.conftest import rma_for, tv_order
from tests.returns.order_flow_helpers import (
    PERMS,
    change_url,
    errors_text,
    nothing_created,
    post_data,
    url,
    user_with,
)

pytestmark = pytest.mark.django_db
USD = "USD"


# --- the order page ------------------------------------------------------------------
def test_returns_registers_its_order_page_extension_and_orders_never_imports_returns():
    assert any(isinstance(ext, ReturnsOrderPage) for ext in ORDER_PAGE_EXTENSIONS)
    orders_dir = Path(__file__).resolve().parents[2] / "orders"
    pattern = re.compile(r"^\s*(from|import)\s+returns\b", re.MULTILINE)
    offenders = [p for p in orders_dir.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_t1_order_page_shows_the_three_tools_to_a_clerk(clerk_client):
    order = tv_order(fulfil=False)  # activated, billed, nothing fulfilled yet
    html = clerk_client.get(change_url(order)).content.decode()
    assert 'id="simple-cancel"' in html
    assert 'id="create-rma"' not in html and 'id="simple-return"' not in html  # nothing fulfilled

    fulfilled = tv_order()
    html = clerk_client.get(change_url(fulfilled)).content.decode()
    assert url(fulfilled, "create_rma") in html and "Create RMA…" in html
    assert url(fulfilled, "simple_return") in html and "Simple return…" in html
    assert 'id="simple-cancel"' not in html  # everything fulfilled: nothing to cancel
    assert "returns/order_flows.css" in html


def test_t1_draft_order_has_no_tools_and_the_forms_say_why(clerk_client):
    draft = make_order(lines=[("3", "10.00")])
    html = clerk_client.get(change_url(draft)).content.decode()
    assert 'id="create-rma"' not in html and 'id="order-returns"' not in html
    response = clerk_client.get(url(draft, "create_rma"), follow=True)
    assert messages_of(response) == [  # T1, in words
        f"Only Activated or Fulfilled orders can be returned or canceled ({draft} is Draft)."
    ]


def test_without_the_permissions_no_tools_and_403(client, tv1_order):
    """returns.add_returnorder for an RMA, returns.simple_return for the simple flows."""
    order_only = user_with(PERMS[:3])
    client.force_login(order_only)
    html = client.get(change_url(tv1_order)).content.decode()
    assert 'id="create-rma"' not in html and 'id="simple-return"' not in html
    assert 'id="order-returns"' in html  # the panel is for every reader of the order
    for flow in ("create_rma", "simple_return", "simple_cancel"):
        assert client.get(url(tv1_order, flow)).status_code == 403
        assert client.post(url(tv1_order, flow), {}).status_code == 403

    rma_only = user_with([*PERMS[:3], ("returns", "add_returnorder")])
    client.force_login(rma_only)
    html = client.get(change_url(tv1_order)).content.decode()
    assert 'id="create-rma"' in html and 'id="simple-return"' not in html
    assert client.get(url(tv1_order, "simple_return")).status_code == 403
    assert client.get(url(tv1_order, "create_rma")).status_code == 200


def test_csrf_is_enforced_on_the_flow_forms(clerk, tv1_order, fee_product):
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    item = tv1_order.items.get()
    for flow in ("create_rma", "simple_return"):
        assert client.post(url(tv1_order, flow), post_data(item, "1", "DAMAGED")).status_code == 403
    nothing_created(tv1_order)


def test_unknown_or_malformed_order_id_is_a_404(clerk_client):
    assert clerk_client.get("/admin/orders/order/abc/create-rma/").status_code == 404
    assert clerk_client.get("/admin/orders/order/999999/simple-return/").status_code == 404


# --- Create RMA --------------------------------------------------------------------
def test_t2_create_rma_form_lists_fulfilled_products_and_two_fee_rows(clerk_client, fee_product):
    order = tv_order()
    item = order.items.get()
    rma_for(item, 1)
    response = clerk_client.get(url(order, "create_rma"))
    assert response.status_code == 200
    (row,) = response.context["rows"]
    assert row["item"] == item and row["available"] == 3  # 4 fulfilled − 1 initiated
    html = response.content.decode()
    assert item.so_line_id in html and f'name="quantity_{item.pk}"' in html
    assert 'name="fees-0-amount"' in html and 'name="fees-1-amount"' in html
    assert 'name="fees-__prefix__-amount"' in html and 'id="add-fee"' in html  # JS template
    assert fee_product.name in html and 'value="submit"' in html and 'value="draft"' in html


def test_t4_t5_create_rma_with_fees_saves_their_amounts(
    clerk_client, clerk, tv1_order, fee_product
):
    """TV1: 3 expected; PERCENTAGE 10 → 8.10, AMOUNT_WITHOUT_TAX 5 → 5.40 (tax on top)."""
    item = tv1_order.items.get()
    data = post_data(
        item,
        "3",
        "DAMAGED",
        comment="box crushed",
        fees=[
            {
                "amount": "10",
                "amount_type": "PERCENTAGE",
                "fee_product": fee_product.pk,
                "description": "Restocking",
            },
            {
                "amount": "5",
                "amount_type": "AMOUNT_WITHOUT_TAX",
                "fee_product": fee_product.pk,
                "reason": "OTHER",
            },
        ],
    )
    response = clerk_client.post(url(tv1_order, "create_rma"), data)
    rma = ReturnOrder.objects.get(order=tv1_order)
    expected = admin_url("returns_returnorder_change", rma.pk) or change_url(tv1_order)
    assert response.status_code == 302 and response.url == expected
    assert rma.status == ReturnStatus.SUBMITTED and rma.comment == "box crushed"
    assert rma.created_by == clerk and rma.reason == "DAMAGED"
    product_line = rma.lines.get(type=LineType.ORDER_PRODUCT)
    assert product_line.quantity_expected == 3 and product_line.order_item == item
    fees = list(rma.lines.filter(type=LineType.FEE).order_by("line_number"))
    assert [f.fee_total for f in fees] == [Money("8.10", USD), Money("5.40", USD)]
    assert [f.fee_description for f in fees] == ["Restocking", fee_product.name]
    assert [f.reason for f in fees] == ["DAMAGED", "OTHER"]
    assert all(f.product_line == product_line and f.quantity_expected == 3 for f in fees)
    item.refresh_from_db()
    assert item.return_initiated_quantity == 3 and item.available_to_return == 1
    message = messages_of(clerk_client.get(change_url(tv1_order)))[0]
    assert rma.number in message and "2 fee(s) totalling $13.50" in message


def test_create_rma_as_draft_takes_the_header_reason(clerk_client, tv1_order):
    item = tv1_order.items.get()
    data = post_data(item, "1", "", then="draft", reason="WRONG_ITEM")
    assert clerk_client.post(url(tv1_order, "create_rma"), data).status_code == 302
    rma = ReturnOrder.objects.get(order=tv1_order)
    assert rma.status == ReturnStatus.DRAFT
    assert rma.lines.get().reason == "WRONG_ITEM"


def test_t2_over_available_is_refused_on_the_quantity_nothing_saved_input_kept(
    clerk_client, tv1_order, fee_product
):
    item = tv1_order.items.get()
    rma_for(item, 3)
    data = post_data(item, "2", "DEFECTIVE", fees=[{"amount": "10", "fee_product": fee_product.pk}])
    response = clerk_client.post(url(tv1_order, "create_rma"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors[f"quantity_{item.pk}"]
    assert errors == [
        f"{item.so_line_id} ({item.product.name}): 2 expected but only 1 available to "
        "return (fulfilled 4 − return initiated 3)"
    ]
    html = response.content.decode()
    assert 'class="contra-row-error"' in html and "Please correct the error below" in html
    assert f'name="quantity_{item.pk}" value="2"' in html
    assert 'name="fees-0-amount" value="10"' in html  # the fee row is kept too
    assert ReturnOrder.objects.filter(order=tv1_order).count() == 1
    item.refresh_from_db()
    assert item.return_initiated_quantity == 3


def test_t3_same_reason_twice_is_refused_on_the_reason(clerk_client, tv1_order):
    item = tv1_order.items.get()
    rma_for(item, 1, reason="DAMAGED")
    response = clerk_client.post(url(tv1_order, "create_rma"), post_data(item, "1", "DAMAGED"))
    (error,) = response.context["form"].errors[f"reason_{item.pk}"]
    assert error.startswith(f"{item.so_line_id}") and "needs another reason" in error
    assert ReturnOrder.objects.filter(order=tv1_order).count() == 1
    ok = clerk_client.post(url(tv1_order, "create_rma"), post_data(item, "1", "DEFECTIVE"))
    assert ok.status_code == 302 and ReturnOrder.objects.filter(order=tv1_order).count() == 2


@pytest.mark.parametrize(
    "row, field, message",
    [
        ({"amount": "150", "amount_type": "PERCENTAGE"}, "amount", "cannot exceed 100 (150)"),
        ({"amount": "-5"}, "amount", "the fee amount must be greater than 0 (-5)"),
        ({"amount": "", "description": "forgot"}, "amount", "enter the fee amount"),
        ({"amount": "ten"}, "amount", "Enter a number"),
        ({"amount_type": "HALF"}, "amount_type", "HALF is not an amount type"),
        ({"fee_product": "NOT_A_FEE"}, "fee_product", "is not a fee product"),
        ({"fee_product": ""}, "fee_product", "choose the fee product"),
        ({"fee_product": "999999"}, "fee_product", "Product 999999 does not exist"),
        ({"item": ""}, "item", "Choose the order product this fee is charged on"),
        ({"item": "OTHER_ORDER"}, "item", "is not one of this order's products"),
        ({"reason": "BORED"}, "reason", "BORED is not a reason for return"),
    ],
)
def test_t4_t5_bad_fee_is_refused_on_its_row_and_nothing_saved(
    clerk_client, tv1_order, fee_product, row, field, message
):
    item = tv1_order.items.get()
    values = {"amount": "5", "fee_product": fee_product.pk, **row}
    if values["fee_product"] == "NOT_A_FEE":
        values["fee_product"] = ProductFactory(name="Router").pk
    if values.get("item") == "OTHER_ORDER":
        values["item"] = tv_order().items.get().pk
    good = {"amount": "2", "fee_product": fee_product.pk}
    data = post_data(item, "3", "DAMAGED", fees=[good, values])
    response = clerk_client.post(url(tv1_order, "create_rma"), data)
    assert response.status_code == 200
    fee_forms = response.context["fees"].forms
    assert not fee_forms[0].errors  # the good row is fine
    errors = " ".join(fee_forms[1].errors.get(field, []))
    assert message in errors, errors_text(response)
    assert "T4" not in errors and "T5" not in errors  # the rules in words, not their IDs
    nothing_created(tv1_order)
    assert f'value="{values["amount"]}"' in response.content.decode() or not values["amount"]


def test_t4_t5_a_fee_row_that_does_not_parse_still_shows_the_other_rows_rules(
    clerk_client, tv1_order, fee_product
):
    item = tv1_order.items.get()
    fees = [
        {"amount": "150", "amount_type": "PERCENTAGE", "fee_product": fee_product.pk},
        {"amount": "abc", "fee_product": fee_product.pk},
    ]
    response = clerk_client.post(
        url(tv1_order, "create_rma"), post_data(item, "1", "DAMAGED", fees=fees)
    )
    first, second = response.context["fees"].forms[:2]
    assert first.errors["amount"][0].startswith(f"{item.so_line_id}")  # T5
    assert second.errors["amount"] == ["Enter a number"]  # T4
    assert response.context["forms"].errors_count == 2
    nothing_created(tv1_order)


def test_t4_fee_on_a_product_without_quantity_is_refused(clerk_client, tv1_order, fee_product):
    item = tv1_order.items.get()
    data = post_data(item, "", "", fees=[{"amount": "5", "fee_product": fee_product.pk}])
    response = clerk_client.post(url(tv1_order, "create_rma"), data)
    (error,) = response.context["fees"].forms[0].errors["item"]
    assert error.startswith(f"{item.so_line_id} has no quantity expected")
    nothing_created(tv1_order)


@pytest.mark.parametrize(
    "quantity, reason, message",
    [
        ("three", "DAMAGED", "Enter a number"),
        ("-1", "DAMAGED", "the quantity expected must be greater than 0 (-1)"),
        ("0", "DAMAGED", "must be greater than 0"),
        ("1.234", "DAMAGED", "No more than 2 decimal places"),
        ("NaN", "DAMAGED", "Enter a number"),
        ("1", "", "choose a reason for return"),
        ("1", "BORED", "BORED is not a reason for return"),
    ],
)
def test_malformed_product_rows_are_errors_in_words(
    clerk_client, tv1_order, quantity, reason, message
):
    """T2 (quantities) and T3 (reasons): each error says what is wrong, not the rule ID."""
    item = tv1_order.items.get()
    response = clerk_client.post(url(tv1_order, "create_rma"), post_data(item, quantity, reason))
    assert response.status_code == 200
    errors = errors_text(response)
    assert message in errors and "T2" not in errors and "T3" not in errors
    nothing_created(tv1_order)


def test_nothing_entered_and_a_broken_management_form_are_errors_not_500(clerk_client, tv1_order):
    item = tv1_order.items.get()
    response = clerk_client.post(url(tv1_order, "create_rma"), post_data(item))
    assert "enter a quantity for at least one product" in errors_text(response)  # T2
    response = clerk_client.post(url(tv1_order, "create_rma"), {f"quantity_{item.pk}": "1"})
    assert response.status_code == 200 and "ManagementForm" in errors_text(response)
    data = post_data(item, "1", "DAMAGED", then="later")
    assert "choose Submit now or Save as draft" in errors_text(
        clerk_client.post(url(tv1_order, "create_rma"), data)
    )
    nothing_created(tv1_order)


def test_t4_fees_go_to_the_product_chosen_on_their_row_and_blank_rows_are_ignored(
    clerk_client, fee_product
):
    """Two products; the fee row names the second; two untouched rows as a browser posts
    them (defaults selected) are skipped."""
    from orders.services import order_fulfil

    order = order_fulfil(
        order=make_order(lines=[("2", "10.00"), ("3", "20.00")], activate=True), user=None
    )
    first, second = order.items.order_by("line_number")
    data = post_data(
        first,
        "1",
        "DAMAGED",
        fees=[
            {"item": second.pk, "amount": "4", "fee_product": fee_product.pk},
            {"item": "", "amount_type": "AMOUNT_WITH_TAX", "fee_product": fee_product.pk},
            {"item": "", "amount_type": "AMOUNT_WITH_TAX", "fee_product": fee_product.pk},
        ],
    )
    data.update({f"quantity_{second.pk}": "2", f"reason_{second.pk}": "WRONG_ITEM"})
    response = clerk_client.post(url(order, "create_rma"), data)
    assert response.status_code == 302, errors_text(response)
    rma = ReturnOrder.objects.get(order=order)
    (fee_line,) = rma.lines.filter(type=LineType.FEE)
    assert fee_line.product_line.order_item == second
    assert fee_line.fee_total == Money("4.00", USD)
