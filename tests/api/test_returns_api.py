"""The returns resources of the HTTP API (returns.md T rules): TV1 through the API — an
RMA created with a fee, approved, items returned, the refund settled with a gateway
reference; refusals as 400 / 409 naming the rule and the field; the admin's permissions;
bounded list queries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from returns.models import Refund, ReturnOrder, ReturnProcessing
from tests.factories import ProductFactory
from tests.returns.conftest import tv_order

from .conftest import queries_of, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    """TV1's order: 4 units at 25.00, tax 8 %, billed and fulfilled."""
    ProductFactory(name="Restocking fee", sku="FEE-RESTOCK", is_fee=True)
    return tv_order()


def rma_body(order, quantity="3", **changes) -> dict:
    fee = {"amount": "10", "amount_type": "PERCENTAGE", "fee_product": "FEE-RESTOCK"}
    line = {"line_number": 1, "quantity": quantity, "fees": [fee]}
    return {"order": order.number, "reason": "DAMAGED", "lines": [line], **changes}


def test_tv1_rma_approved_items_returned_refund_settled(ops_api, order):
    created = ops_api.post(url("return-order-list"), rma_body(order), format="json")
    assert created.status_code == 201, created.content
    rma = created.json()
    assert rma["status"] == "SUBMITTED" and rma["order"] == order.number
    product_line, fee_line = rma["lines"]
    assert product_line["quantity_expected"] == "3.00" and product_line["reason"] == "DAMAGED"
    assert fee_line["type"] == "FEE" and fee_line["fee_total"] == "8.10"  # T5
    assert order.items.get().return_initiated_quantity == 3  # T2

    approved = ops_api.post(url("return-order-approve", rma["number"]), {}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "APPROVED"
    again = ops_api.post(url("return-order-approve", rma["number"]), {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "T11"

    body = {"lines": [{"line_number": 1, "returned": "2"}]}
    returned = ops_api.post(url("return-order-return-items", rma["number"]), body, format="json")
    assert returned.status_code == 201, returned.content
    processing = returned.json()
    assert processing["credited"] == "54.00" and processing["fees"] == "5.40"
    assert processing["credit_memo"] and processing["fee_invoice"] and processing["change_order"]
    refund = processing["refund"]
    assert refund["status"] == "PENDING" and refund["amount"] == "48.60"  # T9

    settle = url("refund-settle", refund["number"])
    no_reference = ops_api.post(settle, {"outcome": "refunded"}, format="json")
    assert no_reference.status_code == 400
    assert list(no_reference.json()["errors"]) == ["gateway_reference"]
    paid = ops_api.post(
        settle, {"outcome": "refunded", "gateway_reference": "re_123"}, format="json"
    )
    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "SUCCEEDED" and paid.json()["gateway_reference"] == "re_123"
    twice = ops_api.post(settle, {"outcome": "refunded", "gateway_reference": "x"}, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "T9"

    read = ops_api.get(url("return-order-detail", rma["number"])).json()
    assert read["refund_total"] == "48.60"
    assert [p["refund"]["status"] for p in read["processings"]] == ["SUCCEEDED"]
    split = [line for line in read["lines"] if line["split_from"] == 1]
    assert [line["quantity_expected"] for line in split] == ["1.00"]  # T6
    memo = ops_api.get(url("credit-memo-detail", processing["credit_memo"])).json()
    assert memo["source"] == "RETURN" and memo["gross_total"] == "54.00" and memo["lines"]


def test_t6_a_bad_quantity_is_a_400_naming_the_line(ops_api, order):
    number = ops_api.post(url("return-order-list"), rma_body(order), format="json").json()["number"]
    early = ops_api.post(
        url("return-order-return-items", number),
        {"lines": [{"line_number": 1, "returned": "1"}]},
        format="json",
    )
    assert early.status_code == 409 and early.json()["code"] == "T6"  # not approved yet
    ops_api.post(url("return-order-approve", number), {}, format="json")
    too_many = {"lines": [{"line_number": 1, "returned": "9"}]}
    refused = ops_api.post(url("return-order-return-items", number), too_many, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "T6" and list(refused.json()["errors"]) == [
        "lines[0].returned"
    ]
    assert not ReturnProcessing.objects.exists()


def test_t2_t3_create_refusals_name_the_line(ops_api, order):
    refused = ops_api.post(url("return-order-list"), rma_body(order, quantity="5"), format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "T2"
    assert list(refused.json()["errors"]) == ["lines[0].quantity"]
    unknown_fee = rma_body(order)
    unknown_fee["lines"][0]["fees"][0]["fee_product"] = "NOPE"
    response = ops_api.post(url("return-order-list"), unknown_fee, format="json")
    assert "lines[0].fees[0].fee_product" in response.json()["errors"]
    assert not ReturnOrder.objects.exists()


def test_t11_cancel_gives_back_the_return_initiated_quantity(ops_api, order):
    number = ops_api.post(url("return-order-list"), rma_body(order), format="json").json()["number"]
    canceled = ops_api.post(
        url("return-order-cancel", number), {"reason": "customer kept it"}, format="json"
    )
    assert canceled.status_code == 200 and canceled.json()["status"] == "CANCELED"
    assert order.items.get().return_initiated_quantity == 0


def test_t9_a_failed_refund_needs_a_reason(ops_api, order):
    number = ops_api.post(url("return-order-list"), rma_body(order), format="json").json()["number"]
    ops_api.post(url("return-order-approve", number), {}, format="json")
    ops_api.post(
        url("return-order-return-items", number),
        {"lines": [{"line_number": 1, "returned": "3"}]},
        format="json",
    )
    refund = Refund.objects.get()
    settle = url("refund-settle", refund.number)
    silent = ops_api.post(settle, {"outcome": "failed"}, format="json")
    assert silent.status_code == 400 and silent.json()["code"] == "T9"
    assert list(silent.json()["errors"]) == ["reason"]
    failed = ops_api.post(settle, {"outcome": "failed", "reason": "card expired"}, format="json")
    assert failed.json()["status"] == "FAILED" and failed.json()["failure_reason"] == "card expired"


def test_an_accountant_reads_returns_but_cannot_write_them(ops_api, accountant_api, order):
    refused = accountant_api.post(url("return-order-list"), rma_body(order), format="json")
    assert refused.status_code == 403 and not ReturnOrder.objects.exists()
    number = ops_api.post(url("return-order-list"), rma_body(order), format="json").json()["number"]
    assert accountant_api.get(url("return-order-detail", number)).status_code == 200
    assert (
        accountant_api.post(url("return-order-approve", number), {}, format="json").status_code
        == 403
    )


def test_returns_and_refunds_lists_run_a_bounded_number_of_queries(ops_api, order):
    def rmas(count):
        for _ in range(count):
            number = ops_api.post(
                url("return-order-list"), rma_body(order, quantity="1"), format="json"
            ).json()["number"]
            ops_api.post(url("return-order-approve", number), {}, format="json")
            ops_api.post(
                url("return-order-return-items", number),
                {"lines": [{"line_number": 1, "returned": "1"}]},
                format="json",
            )

    names = ("return-order-list", "refund-list", "credit-memo-list")
    rmas(1)
    few = {name: queries_of(ops_api, url(name)) for name in names}
    rmas(3)
    many = {name: queries_of(ops_api, url(name)) for name in names}
    assert Refund.objects.count() == 4
    assert many == few and max(many.values()) <= 8
    number = ReturnOrder.objects.order_by("id").last().number
    assert queries_of(ops_api, url("return-order-detail", number)) <= 10
    assert Decimal(ops_api.get(url("refund-list")).json()["results"][0]["amount"]) > 0
