"""Issue 17 (part 5): links both ways between a document and its revenue lines (I1, I4).

- Order, reduction order, invoice, credit memo and RMA pages: "Revenue lines (N)" opens
  the Inbound list filtered to the lines the document staged (``?document=``: billing
  lines by INV_NUM, SO and RORD lines by SO_NUM); orders and reduction orders also "SO
  lines in revenue (N)". Constant queries, whatever the number of lines.
- Revenue's Inbound list and page and the SO line page: SO_NUM / INV_NUM link to the
  document through ``core.document_links`` (revenue imports neither orders nor returns),
  one query per document type for a whole page; unknown numbers stay plain text.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money

from core.document_links import document_label, document_url, document_urls
from orders.models import BillingType, ChargeType, CreditMemo, Invoice
from orders.services import order_activate
from orders.services.billing import billing_run_execute
from orders.services.reductions import ReductionLine, reduction_order_create
from revenue.models import InboundBatch, InboundLine, SoLine
from revenue.selectors_documents import inbound_document_q
from revenue.services.inbound import inbound_stage
from tests.factories import AccountFactory, OrderFactory, OrderItemFactory, ProductFactory
from tests.returns.conftest import fee, open_line, process, rma_for, tv_order
from tests.returns.order_flow_helpers import user_with

pytestmark = pytest.mark.django_db
D = Decimal
MARCH = dt.date(2026, 3, 1)
INBOUND = "/admin/revenue/inboundline/"


def cmd(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def licences(*, products=1):
    """10 licences × 120.00 a year over 2026 per product, billed monthly in advance."""
    order = OrderFactory(
        account=AccountFactory(currency="USD"),
        currency="USD",
        effective_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )
    for _ in range(products):
        OrderItemFactory(
            order=order,
            product=ProductFactory(
                charge_type=ChargeType.RECURRING,
                default_billing_frequency="MONTHLY",
                default_billing_type=BillingType.ADVANCE,
                default_revenue_method="RATABLE_MONTHLY",
            ),
            quantity=D(10),
            unit_price=Money("120.00", "USD"),
            service_start_date=dt.date(2026, 1, 1),
            service_end_date=dt.date(2026, 12, 31),
        )
    return order_activate(order=order, user=None)


def bill(order) -> Invoice:
    billing_run_execute(run_date=MARCH, trigger="COMMAND", orders=[order])
    return Invoice.objects.filter(order=order).latest("pk")


def reduce(order):
    """4 of the 10 licences of product 1 from March: a RORD line and a CM-RO memo."""
    reduction = reduction_order_create(
        original=order,
        lines=[
            ReductionLine(
                item_id=order.items.order_by("line_number").first().pk,
                quantity=D(4),
                start_date=MARCH,
                end_date=dt.date(2026, 12, 31),
            )
        ],
        user=None,
        effective_date=MARCH,
    )
    return order_activate(order=reduction, user=None)


@pytest.fixture
def documents(db):
    """An order (2 products) collected in 202601, its March invoice, a reduction of it and
    that reduction's credit memo: each staged its own lines."""
    cmd("revenue_period", "open", "202601")
    order = licences(products=2)
    cmd("revenue_collect")
    invoice = bill(order)
    reduction = reduce(order)
    memo = CreditMemo.objects.get(source_order=reduction)
    return {"order": order, "invoice": invoice, "reduction": reduction, "memo": memo}


def page(client, name: str, obj) -> str:
    response = client.get(reverse(f"admin:orders_{name}_change", args=[obj.pk]))
    assert response.status_code == 200
    return response.content.decode()


def tool(html: str, tool_id: str) -> tuple[str, str]:
    """(href, text) of the object tool with this id."""
    start = html.index(f'id="{tool_id}"')
    anchor_start = html.rindex("<a ", 0, start)
    anchor = html[anchor_start : html.index("</a>", start)]
    href = anchor.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    return href, anchor.rsplit(">", 1)[1]


def listed(client, href: str) -> list[InboundLine]:
    response = client.get(href)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


# --- from the documents to revenue ---------------------------------------------------------


def test_order_page_links_to_the_lines_it_staged_and_its_so_lines(admin_client, documents):
    """The order's two SO lines (not its invoice's INV lines, nor the RORD that reduces
    it), and its two SO lines in the sub-ledger."""
    order = documents["order"]
    html = page(admin_client, "order", order)
    href, text = tool(html, "revenue-lines")
    assert text == "Revenue lines (2)"
    assert href == f"{INBOUND}?document={order.number}"
    lines = listed(admin_client, href)
    assert sorted((x.tran_type, x.so_line_id) for x in lines) == [
        ("SO", f"{order.number}-1"),
        ("SO", f"{order.number}-2"),
    ]
    href, text = tool(html, "revenue-so-lines")
    assert text == "SO lines in revenue (2)"
    assert href == (f"/admin/revenue/soline/?so_line_id__in={order.number}-1%2C{order.number}-2")
    response = admin_client.get(href)
    assert sorted(x.so_line_id for x in response.context["cl"].result_list) == [
        f"{order.number}-1",
        f"{order.number}-2",
    ]


def test_reduction_invoice_and_credit_memo_pages_link_to_their_own_lines(admin_client, documents):
    """RO: its RORD line (and the SO line it reduces); INV: its 6 INV lines; CM: its CM-RO."""
    order, reduction = documents["order"], documents["reduction"]
    invoice, memo = documents["invoice"], documents["memo"]

    html = page(admin_client, "reductionorder", reduction)
    href, text = tool(html, "revenue-lines")
    assert (href, text) == (f"{INBOUND}?document={reduction.number}", "Revenue lines (1)")
    assert [(x.tran_type, x.orig_so_line_id) for x in listed(admin_client, href)] == [
        ("RORD", f"{order.number}-1")
    ]
    href, text = tool(html, "revenue-so-lines")
    assert text == "SO lines in revenue (1)"
    assert href.endswith(f"?so_line_id__in={order.number}-1")

    html = page(admin_client, "invoice", invoice)
    href, text = tool(html, "revenue-lines")
    # January to March for each of the two products (billed monthly in advance)
    assert (href, text) == (f"{INBOUND}?document={invoice.number}", "Revenue lines (6)")
    assert {(x.tran_type, x.inv_num) for x in listed(admin_client, href)} == {
        ("INV", invoice.number)
    }
    assert 'id="revenue-so-lines"' not in html

    html = page(admin_client, "creditmemo", memo)
    href, text = tool(html, "revenue-lines")
    assert (href, text) == (f"{INBOUND}?document={memo.number}", "Revenue lines (1)")
    assert [(x.tran_type, x.inv_num) for x in listed(admin_client, href)] == [
        ("CM-RO", memo.number)
    ]


def test_rma_page_links_to_its_credit_memo_and_fee_lines(admin_client):
    """T8, T14: the RMA's processing issued a credit memo (CM-R) and a fee invoice (INV,
    plus the SO line of its fee change order): the link lists exactly those."""
    order = tv_order()
    fee_product = ProductFactory(name="Restocking fee", sku="FEE-RESTOCK", is_fee=True)
    rma = rma_for(order.items.get(), 3, fees=[fee(fee_product, 10, "PERCENTAGE")])
    process(rma, open_line(rma), returned=3)
    processing = rma.processings.get()
    numbers = [
        processing.credit_memo.number,
        processing.fee_invoice.number,
        processing.fee_change_order.number,
    ]
    html = admin_client.get(reverse("admin:returns_returnorder_change", args=[rma.pk]))
    href, text = tool(html.content.decode(), "revenue-lines")
    assert href == f"{INBOUND}?document={'%2C'.join(numbers)}"
    lines = listed(admin_client, href)
    assert text == f"Revenue lines ({len(lines)})"
    assert sorted((x.tran_type, x.inv_num or x.so_num) for x in lines) == sorted(
        [
            ("CM-R", processing.credit_memo.number),
            ("INV", processing.fee_invoice.number),
            ("SO", processing.fee_change_order.number),
        ]
    )


def test_the_document_filter_says_what_it_shows_and_reads_two_indexes(admin_client, documents):
    """The chosen document shows in the filter (so the list says why it is short); the
    lookup is answered by the partial indexes ``inbound_inv_document`` (billing lines by
    INV_NUM) and ``inbound_so_document`` (the others by SO_NUM), not a table scan."""
    invoice, order = documents["invoice"], documents["order"]
    html = admin_client.get(f"{INBOUND}?document={invoice.number}").content.decode()
    assert "By document" in html
    assert (
        f'<li class="selected">\n    <a href="?document={invoice.number}">{invoice.number}</a>'
        in html
    )
    plan = InboundLine.objects.filter(inbound_document_q([order.number, invoice.number]))
    plan = plan.explain()
    assert "inbound_inv_document" in plan and "inbound_so_document" in plan, plan


def test_document_pages_count_lines_without_a_query_per_line(admin_client):
    """The order and invoice pages run as many queries for 3 products as for 1."""
    cmd("revenue_period", "open", "202601")
    counts = {}
    for products in (1, 3):
        order = licences(products=products)
        invoice = bill(order)
        pages = (("order", order, products), ("invoice", invoice, 3 * products))  # Jan–Mar
        for name, obj, lines in pages:
            url = reverse(f"admin:orders_{name}_change", args=[obj.pk])
            admin_client.get(url)  # warm caches
            with CaptureQueriesContext(connection) as queries:
                html = admin_client.get(url).content.decode()
            assert f"Revenue lines ({lines})" in html
            counts.setdefault(name, []).append(len(queries))
    assert counts["order"][0] == counts["order"][1], counts
    assert counts["invoice"][0] == counts["invoice"][1], counts


def test_users_who_may_not_open_revenue_see_no_revenue_links(client, documents):
    """An ops clerk (orders only) gets no link to a list that would answer 403."""
    client.force_login(user_with([("orders", "view_order"), ("orders", "change_order")]))
    html = page(client, "order", documents["order"])
    assert 'id="revenue-lines"' not in html and 'id="revenue-so-lines"' not in html


# --- from revenue to the documents ---------------------------------------------------------


def test_registry_resolves_numbers_one_query_per_document_type(admin_user, documents):
    order, reduction = documents["order"], documents["reduction"]
    invoice, memo = documents["invoice"], documents["memo"]
    numbers = [order.number, reduction.number, invoice.number, memo.number, "DEMO-SO-1001"]
    with CaptureQueriesContext(connection) as queries:
        urls = document_urls(numbers * 3, user=admin_user)
    assert len(queries) == 3  # orders (ORD, RO), invoices, credit memos; DEMO: none
    assert urls == {
        order.number: reverse("admin:orders_order_change", args=[order.pk]),
        reduction.number: reverse("admin:orders_reductionorder_change", args=[reduction.pk]),
        invoice.number: reverse("admin:orders_invoice_change", args=[invoice.pk]),
        memo.number: reverse("admin:orders_creditmemo_change", args=[memo.pk]),
    }
    assert document_url("ORD-999999") is None  # the format, but no such order
    assert document_label(order.number) == "order"
    assert document_label(memo.number) == "credit memo"
    ops = user_with([("orders", "view_order")])
    assert document_urls(numbers, user=ops) == {
        order.number: reverse("admin:orders_order_change", args=[order.pk])
    }


def test_registry_resolves_rma_numbers_too(admin_user):
    rma = rma_for(tv_order().items.get(), 1)
    assert rma.number.startswith("RMA-")
    assert document_url(rma.number, user=admin_user) == reverse(
        "admin:returns_returnorder_change", args=[rma.pk]
    )
    assert document_label(rma.number) == "return order"


def uploaded(**cells) -> InboundLine:
    row = {
        "TRAN_TYPE": "SO",
        "SO_NUM": "ORD-999999",
        "SO_LINE_ID": "ORD-999999-1",
        "SO_DATE": "2026-01-01",
        "ORD_QTY": "1",
        "EXT_LST_PRC": "10",
        "EXT_SLL_PRC": "10",
        "CURR": "USD",
        "F_CUR": "USD",
        "START_DATE": "2026-01-01",
        "END_DATE": "2026-01-01",
        **cells,
    }
    return inbound_stage(rows=[row], source=InboundBatch.SourceKind.UPLOAD).lines.get()


def test_inbound_list_links_each_number_to_its_document(admin_client, documents):
    """SO_NUM and INV_NUM as links to the order / invoice / credit memo pages; a number
    Contra never had (an uploaded line) is plain text."""
    unknown = uploaded()
    html = admin_client.get(INBOUND).content.decode()
    for name, key in (
        ("order", "order"),
        ("reductionorder", "reduction"),
        ("invoice", "invoice"),
        ("creditmemo", "memo"),
    ):
        obj = documents[key]
        url = reverse(f"admin:orders_{name}_change", args=[obj.pk])
        assert (
            f'<a href="{url}" title="Open the {document_label(obj.number)}">{obj.number}</a>'
            in html
        )
    assert unknown.so_num in html
    assert f">{unknown.so_num}</a>" not in html


def test_inbound_list_resolves_numbers_in_a_bounded_number_of_queries(admin_client):
    """A page of lines from 1 or from 4 orders and their invoices: the same queries (one
    per document type, not one per row)."""
    cmd("revenue_period", "open", "202601")
    counts = []
    for orders in (1, 3):
        for _ in range(orders):
            bill(licences(products=2))
        admin_client.get(INBOUND)
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(INBOUND)
        assert response.status_code == 200
        numbers = {x.so_num for x in response.context["cl"].result_list}
        assert len(numbers) == {1: 1, 3: 4}[orders]
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_inbound_line_page_and_so_line_page_link_to_the_order(admin_client, documents):
    order, invoice = documents["order"], documents["invoice"]
    order_url = reverse("admin:orders_order_change", args=[order.pk])
    invoice_url = reverse("admin:orders_invoice_change", args=[invoice.pk])
    line = InboundLine.objects.filter(tran_type="INV", inv_num=invoice.number).first()
    url = reverse("admin:revenue_inboundline_change", args=[line.pk])
    html = admin_client.get(url).content.decode()
    assert f'href="{order_url}"' in html and f'href="{invoice_url}"' in html

    so_line = SoLine.objects.get(so_line_id=f"{order.number}-1")
    html = admin_client.get(
        reverse("admin:revenue_soline_change", args=[so_line.pk])
    ).content.decode()
    assert f'<a href="{order_url}" title="Open the order">{order.number}</a>' in html


def test_revenue_and_the_registry_import_neither_orders_nor_returns():
    """The links go through ``core.document_links``: revenue imports no app that fills the
    registry (the architecture rule), and the registry imports no app at all."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    checks = [(path, ("orders", "returns")) for path in (root / "revenue").rglob("*.py")]
    checks.append((root / "core" / "document_links.py", ("orders", "returns", "revenue")))
    offenders = []
    for path, banned in checks:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(root)}: {name}"
                for name in names
                if name.split(".")[0] in banned
            ]
    assert offenders == []
