"""The order resources of the HTTP API (interchange.md "HTTP API"; orders.md O, R, C
rules): orders created, activated and read back with their SO lines staged (O1, O2, O7,
O9), refusals as 409 / 400 naming the rule and the field, the admin's permissions,
reductions and cancellations that make the same documents as the services, bounded list
queries, and Idempotency-Key on create."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from djmoney.money import Money

from orders.models import (
    CreditMemo,
    Order,
    OrderItem,
    OrderKind,
    PriceBookEntry,
)
from orders.services import order_activate
from orders.services.billing import billing_run_execute
from orders.services.cancellations import cancellation_import
from orders.services.reductions import ReductionLine, reduction_order_create
from revenue.models import InboundLine
from tests.factories import (
    AccountFactory,
    OrderItemFactory,
    PriceBookFactory,
    ProductFactory,
    make_order,
)

from .conftest import queries_of, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    """An account, a price book and two priced products (one-time, recurring)."""
    book = PriceBookFactory(name="List 2026")
    licence = ProductFactory(sku="LIC-1", name="Licence")
    support = ProductFactory(sku="SUP-1", name="Support", recurring=True)
    PriceBookEntry.objects.create(price_book=book, product=licence, list_price=Money(50, "USD"))
    PriceBookEntry.objects.create(price_book=book, product=support, list_price=Money(120, "USD"))
    return {"account": AccountFactory(number="ACC-1", currency="USD"), "book": book}


def order_body(**changes) -> dict:
    body = {
        "account": "ACC-1",
        "price_book": "List 2026",
        "effective_date": "2026-01-01",
        "end_date": "2026-12-31",
        "reference": "PO-7",
        "products": [
            {"sku": "LIC-1", "quantity": "2"},
            {
                "sku": "SUP-1",
                "quantity": "3",
                "unit_price": "100.00",
                "service_start_date": "2026-01-01",
                "service_end_date": "2026-12-31",
                "billing_frequency": "QUARTERLY",
            },
        ],
    }
    return {**body, **changes}


def test_o1_o9_create_activate_and_read_back_with_its_so_lines_staged(ops_api, catalog):
    created = ops_api.post(url("order-list"), order_body(), format="json")
    assert created.status_code == 201, created.content
    order = created.json()
    assert order["status"] == "DRAFT" and order["kind"] == "STANDARD"
    assert order["account"] == "ACC-1" and order["price_book"] == "List 2026"
    assert [p["total"] for p in order["products"]] == ["100.00", "300.00"]
    assert order["products"][1]["billing_frequency"] == "QUARTERLY"
    assert order["net_total"] == "400.00"

    activated = ops_api.post(url("order-activate", order["number"]), {}, format="json")
    assert activated.status_code == 200, activated.content
    assert activated.json()["status"] == "ACTIVATED"

    read = ops_api.get(url("order-detail", order["number"])).json()
    ids = [p["so_line_id"] for p in read["products"]]
    assert ids == [f"{order['number']}-1", f"{order['number']}-2"]
    staged = InboundLine.objects.filter(tran_type="SO", so_line_id__in=ids)
    assert staged.count() == 2
    assert {line.batch_id for line in staged} == {read["revenue_batch_id"]}
    listed = ops_api.get(url("order-list"), {"status": "activated", "account": "ACC-1"}).json()
    assert [o["number"] for o in listed["results"]] == [order["number"]]
    assert ops_api.get(url("order-list"), {"kind": "REDUCTION"}).json()["count"] == 0


def test_o2_a_refused_activation_is_a_409_with_the_rule_and_a_sentence(ops_api, catalog):
    number = ops_api.post(url("order-list"), order_body(products=[]), format="json").json()[
        "number"
    ]
    response = ops_api.post(url("order-activate", number), {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "O2"
    assert body["detail"] == "add at least one order product before activating"
    assert "items" in body["errors"]
    assert Order.objects.get(number=number).status == "DRAFT"


def test_o7_a_bad_quantity_is_a_400_naming_the_product_and_nothing_is_created(ops_api, catalog):
    body = order_body()
    body["products"][1]["quantity"] = "0"
    response = ops_api.post(url("order-list"), body, format="json")
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "O7" and list(problem["errors"]) == ["products[1].quantity"]
    assert "greater than 0" in problem["detail"]
    body["products"][0]["quantity"] = "lots"
    unreadable = ops_api.post(url("order-list"), body, format="json").json()
    assert unreadable["code"] == "invalid" and "products[0].quantity" in unreadable["errors"]
    unknown = ops_api.post(url("order-list"), order_body(account="NOPE"), format="json")
    assert unknown.status_code == 400 and "account" in unknown.json()["errors"]
    assert not Order.objects.exists() and not OrderItem.objects.exists()


def test_ops_writes_orders_an_accountant_reads_them_only(ops_api, accountant_api, catalog):
    number = ops_api.post(url("order-list"), order_body(), format="json").json()["number"]
    refused = accountant_api.post(url("order-list"), order_body(), format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert accountant_api.post(url("order-activate", number), {}, format="json").status_code == 403
    assert accountant_api.get(url("order-detail", number)).status_code == 200
    assert Order.objects.count() == 1 and Order.objects.get().status == "DRAFT"
    assert ops_api.get(url("order-detail", "ORD-999999")).status_code == 404


def test_o5_deactivate_with_a_reason_then_fulfil(ops_api, catalog):
    number = ops_api.post(url("order-list"), order_body(), format="json").json()["number"]
    ops_api.post(url("order-activate", number), {}, format="json")
    back = ops_api.post(url("order-deactivate", number), {"reason": "wrong PO"}, format="json")
    assert back.status_code == 200 and back.json()["status"] == "DRAFT"
    withdrawn = InboundLine.objects.filter(so_line_id=f"{number}-1")
    assert set(withdrawn.values_list("status", flat=True)) == {"WITHDRAWN"}  # O5
    ops_api.post(url("order-activate", number), {}, format="json")
    done = ops_api.post(url("order-fulfil", number), {}, format="json").json()
    assert done["status"] == "FULFILLED"
    assert [p["fulfilled_quantity"] for p in done["products"]] == ["2.00", "3.00"]
    again = ops_api.post(url("order-fulfil", number), {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "O1"


def _twins(ops, *, recurring=False):
    """Two equal activated orders: one to change through the API, one through the
    services."""
    orders = []
    for _ in range(2):
        order = make_order(lines=(), effective_date=dt.date(2026, 1, 1))
        OrderItemFactory(
            order=order,
            product=ProductFactory(recurring=recurring),
            quantity=Decimal("4"),
            unit_price=Money("120.00", "USD"),
        )
        orders.append(order_activate(order=order, user=ops))
    return orders


def _document(reduction: Order) -> dict:
    """What a reduction order made, without its number: items, RORD lines, credit memos."""
    items = [
        (i.quantity, i.total.amount, i.service_start_date, i.service_end_date, i.contract_action)
        for i in reduction.items.order_by("line_number")
    ]
    rord = [
        (line.ext_sll_prc, line.start_date, line.end_date)
        for line in InboundLine.objects.filter(batch_id=reduction.revenue_batch_id)
    ]
    memos = [m.gross_total.amount for m in CreditMemo.objects.filter(source_order=reduction)]
    originals = [
        (i.available_quantity, i.terminated_date) for i in reduction.original_order.items.all()
    ]
    return {
        "status": reduction.status,
        "items": items,
        "rord": rord,
        "memos": memos,
        "o": originals,
    }


def test_r5_r9_a_reduction_through_the_api_makes_what_the_service_makes(ops, ops_api):
    via_api, via_service = _twins(ops)
    body = {"original_order": via_api.number, "lines": [{"line_number": 1, "quantity": "1"}]}
    created = ops_api.post(url("reduction-order-list"), body, format="json")
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    assert created.json()["items"][0]["original_line"] == f"{via_api.number}-1"
    activated = ops_api.post(url("reduction-order-activate", number), {}, format="json")
    assert activated.status_code == 200 and activated.json()["status"] == "ACTIVATED"

    item = via_service.items.get()
    twin = reduction_order_create(
        original=via_service, lines=[ReductionLine(item_id=item.pk, quantity=1)], user=ops
    )
    twin = order_activate(order=twin, user=ops)
    assert _document(Order.objects.get(number=number)) == _document(twin)
    original = ops_api.get(url("order-detail", via_api.number)).json()
    assert [r["number"] for r in original["reduction_orders"]] == [number]
    assert original["reduction_orders"][0]["net_total"] == "-120.00"

    too_much = {"original_order": via_api.number, "lines": [{"line_number": 1, "quantity": "9"}]}
    refused = ops_api.post(url("reduction-order-list"), too_much, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "R7"
    assert list(refused.json()["errors"]) == ["lines[0].quantity"]
    assert Order.objects.filter(kind=OrderKind.REDUCTION).count() == 2


def test_c1_c6_a_cancellation_through_the_api_makes_what_the_import_makes(ops, ops_api):
    via_api, via_service = _twins(ops, recurring=True)
    for order in (via_api, via_service):  # January billed in advance: C4 credits 16-31
        billing_run_execute(run_date=dt.date(2026, 1, 1), trigger="COMMAND", orders=[order])

    def record(order, **changes):
        return {
            "original_order": order.number,
            "line_number": 1,
            "contract_action": "CANCEL",
            "quantity": "-4",
            "terminated_date": "2026-01-15",
            "billing_frequency": "MONTHLY",
            **changes,
        }

    wrong = ops_api.post(url("cancellation-list"), record(via_api, quantity="-3"), format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "C1"
    assert "quantity" in wrong.json()["errors"]
    listed = [record(via_api), record(via_api, billing_frequency="ANNUAL")]
    in_list = ops_api.post(url("cancellation-list"), listed, format="json").json()
    assert "[1].billing_frequency" in in_list["errors"]
    assert not Order.objects.filter(kind=OrderKind.REDUCTION).exists()  # all or nothing

    created = ops_api.post(url("cancellation-list"), record(via_api), format="json")
    assert created.status_code == 201, created.content
    [cancellation] = created.json()
    assert cancellation["status"] == "ACTIVATED"
    assert cancellation["items"][0]["contract_action"] == "CANCEL"
    [twin] = cancellation_import(records=[record(via_service)], user=ops)
    mine = Order.objects.get(number=cancellation["number"])
    assert _document(mine) == _document(twin)
    assert _document(twin)["memos"]  # the billed part was credited
    listed = ops_api.get(url("cancellation-list")).json()
    assert {c["number"] for c in listed["results"]} == {mine.number, twin.number}


def test_lists_run_a_bounded_number_of_queries(ops, ops_api):
    def orders(count):
        for _ in range(count):
            order = make_order(lines=((2, "10.00"), (1, "5.00")), activate=True, user=ops)
            billing_run_execute(run_date=dt.date(2026, 1, 1), trigger="COMMAND", orders=[order])

    orders(2)
    few = {name: queries_of(ops_api, url(name)) for name in ("order-list", "invoice-list")}
    orders(5)
    many = {name: queries_of(ops_api, url(name)) for name in ("order-list", "invoice-list")}
    assert many == few and max(many.values()) <= 8
    number = Order.objects.order_by("id").first().number
    assert queries_of(ops_api, url("order-detail", number)) <= 12
    invoice = ops_api.get(url("invoice-list")).json()["results"][0]["number"]
    assert ops_api.get(url("invoice-detail", invoice)).json()["lines"]


def test_idempotency_key_on_create_gives_the_same_order_once(ops_api, catalog):
    first = ops_api.post(url("order-list"), order_body(), format="json", HTTP_IDEMPOTENCY_KEY="o-1")
    again = ops_api.post(url("order-list"), order_body(), format="json", HTTP_IDEMPOTENCY_KEY="o-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["number"] == first.json()["number"]
    assert again["Idempotent-Replay"] == "true"
    assert Order.objects.count() == 1
