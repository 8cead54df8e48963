"""M5 billing ↔ revenue reconciliation as an admin report (close.md): under "Reports" for
those who may view invoices, totals as the command gives them, each document linked to its
page, revenue lines no document explains listed apart, CSV and XLSX downloads."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import CreditMemo, Invoice
from revenue.models import InboundLine
from revenue.reports.base import amount_text
from tests.factories import UserFactory
from tests.orders.test_billing_reconcile import bill, cmd, inv_line, licences

D = Decimal
PAGE = "billing-reconcile"
UNEXPLAINED = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,INV_NUM,INV_LINE_ID,INV_DATE,ITEM,ORD_QTY,INV_QTY,"
    "EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE\n"
    "INV,X1,X1-1,EXT-9,EXT-9-1,2026-03-20,Legacy,1,1,70,70,EUR,EUR,2026-03-01,2026-03-31"
)


@pytest.fixture
def march(db, tmp_path):
    """Two orders (USD, EUR) billed on 2026-03-01 and collected in the open period 2026-03,
    one USD line stopped in staging, and an EUR revenue line no document explains."""
    cmd("revenue_period", "open", "202603")
    usd = bill(licences())
    eur = bill(licences(currency="EUR", qty="2"))
    InboundLine.objects.filter(pk=inv_line(usd, 2).pk).update(
        status="ERROR", error_codes="RPRO-00082"
    )
    path = tmp_path / "other.csv"
    path.write_text(UNEXPLAINED + "\n")
    cmd("revenue_import", str(path))
    cmd("revenue_collect")
    return usd, eur


def page_url() -> str:
    return reverse("admin:report", args=[PAGE])


def user_with(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_m5_page_needs_the_invoice_view_permission(client, march):
    """The page opens for a user who may view invoices, and the index lists it (alone)
    under Reports; 403 for a user who may not."""
    client.force_login(user_with("view_order"))
    assert client.get(page_url()).status_code == 403
    client.force_login(user_with("view_invoice"))
    page = client.get(page_url())
    assert page.status_code == 200
    assert page.context["report"].period == 202603
    reports = next(
        app for app in client.get("/admin/").context["app_list"] if app["app_label"] == "reports"
    )
    assert [m["object_name"] for m in reports["models"]] == [PAGE]


def test_m5_page_totals_rows_links_and_unexplained_lines(admin_client, march):
    """Totals per currency are the command's; the stopped line shows its difference;
    each document links to its invoice page; the EUR line from another system is listed
    under "Unexplained revenue lines", not in the rows or the totals."""
    usd, eur = march
    page = admin_client.get(page_url())
    data = json.loads(cmd("billing_reconcile", "--format", "json")[0])
    shown = page.context["built"].totals
    assert [
        {k: (v if k == "currency" else amount_text(v, t["currency"])) for k, v in t.items()}
        for t in shown
    ] == data["totals"]
    usd_total = next(t for t in shown if t["currency"] == "USD")
    assert (usd_total["billing_total"], usd_total["difference"]) == (D("300.00"), D("100.00"))
    table = page.context["rows"]
    heads = [cell.text for cell in table.head]
    rows = [dict(zip(heads, row, strict=True)) for row in table.rows]
    stopped = next(r for r in rows if r["Document"].text == usd.number and r["Line"].text == "2")
    assert (stopped["Revenue status"].text, stopped["Difference"].text) == ("stopped", "100.00")
    invoice_url = reverse("admin:orders_invoice_change", args=[usd.pk])
    assert stopped["Document"].url == invoice_url
    assert admin_client.get(invoice_url).status_code == 200
    assert {r["Document"].text for r in rows} == {usd.number, eur.number}
    [section] = page.context["sections"]
    assert [row["inv_line_id"] for row in section["rows"]] == ["EXT-9-1"]
    assert "Unexplained revenue lines" in page.content.decode()
    assert "EXT-9-1" not in {r["Document"].text for r in rows}


def test_m5_page_filters_and_a_bad_period(admin_client, march):
    """A currency narrows rows and totals; an unopened or malformed period is a form error
    on the page (200)."""
    page = admin_client.get(page_url(), {"currency": "EUR"})
    assert {t["currency"] for t in page.context["built"].totals} == {"EUR"}
    for bad in ("209901", "abc"):
        page = admin_client.get(page_url(), {"period": bad})
        assert page.status_code == 200 and "period" in page.context["form"].errors


def test_m5_downloads_are_the_commands_csv_and_an_xlsx(admin_client, march):
    url = reverse("admin:report_download", args=[PAGE])
    response = admin_client.get(url, {"format": "csv"})
    assert response.status_code == 200
    assert (
        b"".join(response.streaming_content).decode()
        == cmd("billing_reconcile", "--format", "csv")[0]
    )
    response = admin_client.get(url, {"format": "xlsx", "currency": "USD"})
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        workbook = book.read("xl/workbook.xml").decode()
    assert "Unexplained revenue lines" in workbook and "Parameters" in workbook


def test_m5_page_queries_do_not_grow_with_documents(admin_client, march):
    """One invoice more or five: the same number of queries (the document links are
    looked up once a page)."""
    counts = []
    for more in (0, 5):
        for _ in range(more):
            bill(licences())
        with CaptureQueriesContext(connection) as queries:
            page = admin_client.get(page_url())
        assert page.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert Invoice.objects.count() == 7 and not CreditMemo.objects.exists()
    assert len(page.context["built"].rows) == 7 * 3


def test_m6_pages_read_their_own_document_lines_invoices_then_credit_memos(
    admin_client, monkeypatch
):
    """M6: the page reads only its own document lines (counted and sliced by the database,
    invoices then credit memos, as the command lists them) and its totals without the rows:
    the pages, put end to end, are the command's rows; no page costs more than another but
    for the one where the invoices end."""
    cmd("load_demo")
    monkeypatch.setattr("core.admin_report_views.PER_PAGE", 7)
    data = json.loads(cmd("billing_reconcile", "--format", "json")[0])
    expected = [(r["document"], r["line"], r["revenue_status"]) for r in data["rows"]]
    assert any(r["billing_amount"].startswith("-") for r in data["rows"])  # credit memos too
    seen, counts = [], []
    for number in range(1, -(-len(expected) // 7) + 1):
        with CaptureQueriesContext(connection) as queries:
            page = admin_client.get(page_url(), {"p": number})
        counts.append(len(queries))
        seen += [
            (r["document"], r["line"], r["revenue_status"]) for r in page.context["built"].rows
        ]
        shown = page.context["built"].totals
        assert [
            {k: (v if k == "currency" else amount_text(v, t["currency"])) for k, v in t.items()}
            for t in shown
        ] == data["totals"]
    assert seen == expected and len(expected) > 7 * 2
    assert f"{len(expected)} document lines · page" in page.content.decode()
    # a page reads one kind of document line, or both where invoices end (3 queries more)
    assert max(counts) <= min(counts) + 3 and counts[0] <= 25


def test_m5_page_closes_the_unexplained_list_it_read_in_part():
    """M5 page: the unexplained lines are read 51 at most; the rest of their query is
    closed at once (on PostgreSQL a named cursor left to the garbage collector was closed
    inside a later query of the same connection, which then waited for ever)."""
    from core.admin_report_views import PER_PAGE, report_page_build
    from core.admin_reports import AdminReport
    from revenue.reports.base import Column, Report, Section

    state = {"read": 0, "closed": False}

    def unexplained():
        try:
            for n in range(10 * PER_PAGE):
                state["read"] += 1
                yield {"n": n}
        finally:
            state["closed"] = True

    def builder(**options):
        section = Section("unexplained", "Unexplained", [Column("n", "N")], unexplained())
        return Report("x", "X", 202611, [Column("n", "N")], iter([]), sections=[section])

    fake = AdminReport(slug="x", title="X", builder=builder, permission="", filters=None)
    page = report_page_build(fake, {}, 1)
    assert state == {"read": PER_PAGE + 1, "closed": True}
    assert len(page.sections[0]["rows"]) == PER_PAGE and page.sections[0]["more"]
