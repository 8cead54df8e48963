"""The month-end reports in the admin (close.md M1–M4, M6): the "Reports" heading, each page
with its filters, totals, rows a page at a time and figures linked to the journal rows they
sum, and the CSV / XLSX downloads (a large XLSX written by a worker, with its progress)."""

from __future__ import annotations

import html
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import ReportExport
from core.tasks import report_export_task
from revenue.models import JournalEntry, RevenueContract
from revenue.reports.base import amount_text
from tests.factories import UserFactory
from tests.revenue.report_checks import report
from tests.revenue.test_admin import HEADER, so_rows

D = Decimal
REVENUE = ("REVENUE", "ADJ_REVENUE")
LIABILITY = ("CONTRACT_LIABILITY", "ADJ_LIABILITY")
ROWS = [
    # USD: support billed in full (a liability), hardware recognized unbilled
    "SO,A1,A1-1,,2026-01-01,,,,Acme,Support,12,,1200,1200,USD,USD,2026-01-01,2026-12-31,"
    "RATABLE_MONTHLY",
    "SO,A1,A1-2,,2026-01-01,,,,Acme,Hardware,1,,500,500,USD,USD,2026-01-01,2026-01-01,IMMEDIATE",
    "INV,A1,A1-1,,,I1,I1-1,2026-01-05,Acme,Support,12,12,1200,1200,USD,USD,2026-01-01,2026-12-31,",
    # EUR: two years never billed (a contract asset; RPO in both buckets)
    "SO,E1,E1-1,,2026-01-01,,,,Berlin,Support,24,,2400,2400,EUR,EUR,2026-01-01,2027-12-31,"
    "RATABLE_MONTHLY",
    # JPY: no minor unit; half billed
    "SO,J1,J1-1,,2026-01-01,,,,Tokyo,Licence,12,,1200000,1200000,JPY,JPY,2026-01-01,"
    "2026-12-31,RATABLE_MONTHLY",
    "INV,J1,J1-1,,,IJ1,IJ1-1,2026-01-10,Tokyo,Licence,12,12,1200000,600000,JPY,JPY,"
    "2026-01-01,2026-06-30,",
]
KINDS = ("waterfall", "rollforward", "balances", "checklist")


@pytest.fixture
def books(ledger):
    """Three currencies collected in 2026-01, which is closed: 2026-02 is open."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(HEADER + "\n" + "\n".join(ROWS))
    ledger.collect()
    ledger.cmd("revenue_period", "close")
    return ledger


def page_url(slug: str) -> str:
    return reverse("admin:report", args=[slug])


def download(client, slug: str, fmt: str, **filters):
    return client.get(reverse("admin:report_download", args=[slug]), {"format": fmt, **filters})


def cells(response, table: str = "rows") -> list[dict[str, object]]:
    """A page's table as dicts: header label → Cell."""
    shown = response.context[table]
    heads = [cell.text for cell in shown.head]
    return [dict(zip(heads, row, strict=True)) for row in shown.rows]


def row_of(response, first: str, currency: str, table: str = "rows") -> dict:
    return next(
        r
        for r in cells(response, table)
        if list(r.values())[0].text == first and r.get("Currency").text == currency
    )


def journal_net(client, url: str, accounts) -> Decimal:
    """Follow a figure's link: Σ Cr − Σ Dr on ``accounts`` of the entries the list shows."""
    response = client.get(url)  # a Cell holds the URL itself (the page escapes it)
    assert response.status_code == 200
    net = D(0)
    for entry in response.context["cl"].queryset:
        amount = entry.amount.amount
        net += (entry.cr_account in accounts) * amount - (entry.dr_account in accounts) * amount
    return net


def figure(text: str) -> Decimal:
    return D(text.replace(",", ""))


def revenue_user(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["revenue", "orders"], codename__in=codenames
        )
    )
    return user


# --- the heading, the permission --------------------------------------------------------


def test_index_shows_the_reports_heading_with_what_the_user_may_open(client, admin_client, db):
    """Reports sit under one heading of the index, after the work apps: a superuser sees the
    revenue and the orders reports; a revenue user only the revenue ones; a user without
    the journal's view permission no heading."""
    page = admin_client.get(reverse("admin:index"))
    apps = [app["app_label"] for app in page.context["app_list"]]
    assert apps.index("reports") == apps.index("revenue") + 1
    html_text = page.content.decode()
    assert "Reports" in html_text
    for slug in (*KINDS, "billing-reconcile"):
        assert f'href="{page_url(slug)}"' in html_text

    client.force_login(revenue_user("view_journalentry"))
    reports = next(
        app for app in client.get("/admin/").context["app_list"] if app["app_label"] == "reports"
    )
    assert [m["object_name"] for m in reports["models"]] == list(KINDS)

    client.force_login(revenue_user("view_soline"))
    labels = [app["app_label"] for app in client.get("/admin/").context["app_list"]]
    assert "reports" not in labels


@pytest.mark.parametrize("slug", KINDS)
def test_each_report_page_needs_the_journal_view_permission(client, books, slug):
    """A revenue report opens for a user who may view the journal (200, the report's title
    and the identity it proves); 403 without; the login page for nobody."""
    assert client.get(page_url(slug)).status_code == 302
    client.force_login(revenue_user("view_soline"))
    assert client.get(page_url(slug)).status_code == 403
    assert download(client, slug, "csv").status_code == 403
    client.force_login(revenue_user("view_journalentry"))
    page = client.get(page_url(slug))
    assert page.status_code == 200
    assert page.context["report"].identity in html.unescape(page.content.decode())
    assert client.get(reverse("admin:reports")).status_code == 200


# --- filters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "query", "field"),
    [
        ("waterfall", {"period": "abc"}, "period"),
        ("waterfall", {"period": "209912"}, "period"),  # not an opened period
        ("waterfall", {"periods": "0"}, "periods"),
        ("waterfall", {"periods": "x" * 300}, "periods"),
        ("waterfall", {"by": "zzz"}, "by"),
        ("balances", {"currency": "XXX"}, "currency"),
        ("balances", {"basis": "ifrs"}, "basis"),
        ("rollforward", {"period": "202602", "through": "202601"}, "through"),
    ],
)
def test_a_bad_filter_is_a_form_error_on_the_page(admin_client, books, slug, query, field):
    """A bad filter value shows the form again with an error on that field that names it
    (200, no report); a download with it refuses and goes back to the page."""
    page = admin_client.get(page_url(slug), query)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.errors[field][0].startswith(f"{form.fields[field].label}: ")  # names it
    assert "report" not in page.context
    refused = download(admin_client, slug, "csv", **query)
    assert refused.status_code == 302 and refused["Location"].startswith(page_url(slug))


def test_a_refused_report_and_bad_downloads_are_words_not_errors(admin_client, books):
    """The checklist is the open period's (M4): with no open period the refusal is a form
    error; an unknown format is a 400, an unknown report a 404."""
    assert download(admin_client, "waterfall", "pdf").status_code == 400
    assert admin_client.get(page_url("no-such-report")).status_code == 404
    books.cmd("revenue_period", "close")  # 2026-02 closed, 2026-03 open
    from revenue.models import Period

    Period.objects.filter(status="OPEN").delete()
    page = admin_client.get(page_url("checklist"))
    assert page.status_code == 200
    assert "no open period" in " ".join(page.context["form"].non_field_errors())


# --- totals, rows and the figures' links ------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "args"),
    [
        ("waterfall", []),
        ("waterfall", ["--periods", "3", "--by", "customer"]),
        ("waterfall", ["--period", "202601", "--currency", "EUR"]),
        ("rollforward", ["--period", "202601", "--through", "202602"]),
        ("balances", []),
        ("balances", ["--by", "item", "--basis", "contractual"]),
    ],
)
def test_page_totals_are_the_commands_json_totals(admin_client, books, slug, args):
    """M1–M3: the totals on the page are the command's, per currency, to the minor unit."""
    query = dict(zip([a.lstrip("-") for a in args[::2]], args[1::2], strict=True))
    page = admin_client.get(page_url(slug), query)
    assert page.status_code == 200 and not page.context["form"].errors
    wanted = report(slug, *args)["totals"]
    shown = page.context["built"].totals
    assert len(shown) == len(wanted) >= 1
    for total, expected in zip(shown, wanted, strict=True):
        currency = total["currency"]
        assert currency == expected["currency"]
        for key, value in expected.items():
            if key == "periods":
                assert {k: amount_text(v, currency) for k, v in total[key].items()} == value
            elif key != "currency":
                assert amount_text(total[key], currency) == value, key


def test_amounts_print_with_separators_the_minor_unit_and_ascii_minus(admin_client, books):
    """M3 totals: 1,200,000 JPY (no decimals), EUR's contract asset as a negative CL
    balance with an ASCII minus, right-aligned."""
    page = admin_client.get(page_url("balances"))
    jpy = row_of(page, "JPY", "JPY", table="totals")
    assert jpy["Billed ≤ 202602"].text == "600,000"
    assert jpy["Recognized ≤ 202602"].text == "200,000"
    eur = row_of(page, "EUR", "EUR", table="totals")
    assert eur["CL balance"].text == "-200.00" and eur["CL balance"].negative
    assert eur["Contract asset"].text == "200.00" and eur["Contract asset"].number
    body = page.content.decode()
    assert "600,000" in body and "−200.00" not in body  # no Unicode minus


def test_waterfall_figures_link_to_the_entries_they_sum(admin_client, books):
    """M1: following a figure's link lists the journal entries whose revenue net is the
    figure: recognized ≤ P, one next period, later, deferred and total of A1 (USD); a
    totals figure the same without the group."""
    page = admin_client.get(page_url("waterfall"), {"periods": "3"})
    a1 = row_of(page, "A1", "USD")
    expected = {
        "Recognized ≤ 202602": D("700.00"),  # hardware 500 + Jan and Feb support
        "2026-03": D("100.00"),
        "Later": D("700.00"),  # 2026-06 … 2026-12
        "Deferred": D("1000.00"),
        "Total": D("1700.00"),
    }
    for label, amount in expected.items():
        assert figure(a1[label].text) == amount
        assert journal_net(admin_client, a1[label].url, REVENUE) == amount, label
    eur = row_of(page, "EUR", "EUR", table="totals")
    assert journal_net(admin_client, eur["Later"].url, REVENUE) == D("1900.00")
    assert figure(eur["Later"].text) == D("1900.00")


def test_balances_and_rollforward_figures_link_to_the_entries_they_sum(admin_client, books):
    """M3: A1's billed (AR, debit-normal), CL balance and RPO ≤ 12 months; E1's contract
    asset. M2: each movement and balance of 2026-02 in USD."""
    page = admin_client.get(page_url("balances"))
    a1 = row_of(page, "A1", "USD")
    assert -journal_net(admin_client, a1["Billed ≤ 202602"].url, ("AR",)) == D("1200.00")
    assert journal_net(admin_client, a1["CL balance"].url, LIABILITY) == D("500.00")
    assert figure(a1["CL balance"].text) == D("500.00")
    assert journal_net(admin_client, a1["RPO ≤ 12 months"].url, REVENUE) == D("1000.00")
    e1 = row_of(page, "E1", "EUR")
    assert figure(e1["Contract asset"].text) == D("200.00")
    assert journal_net(admin_client, e1["Contract asset"].url, LIABILITY) == D("-200.00")

    page = admin_client.get(page_url("rollforward"), {"period": "202601", "through": "202602"})
    for row in cells(page):
        currency = row["Currency"].text
        for label in ("Opening", "Closing", "Billed", "Released", "Credited", "Contra"):
            net = journal_net(admin_client, row[label].url, LIABILITY)
            sign = -1 if label in ("Released", "Credited", "Contra") else 1
            assert sign * net == figure(row[label].text), (currency, row["Period"].text, label)
    usd = row_of(page, "2026-02", "USD")
    # January: 1,200.00 billed, 100.00 support and 500.00 hardware released
    assert (figure(usd["Opening"].text), figure(usd["Released"].text)) == (
        D("600.00"),
        D("100.00"),
    )


def test_checklist_rows_link_to_what_they_count(admin_client, books):
    """M4: each check links to the admin list it counts (its ``url``)."""
    page = admin_client.get(page_url("checklist"))
    built = page.context["built"]
    for row, shown in zip(built.rows, cells(page), strict=True):
        assert shown["Check"].text == row["check"]
        assert shown["Detail"].url == (row.get("url") or "")
    assert any(shown["Detail"].url for shown in cells(page))


# --- a page at a time -----------------------------------------------------------------


@pytest.mark.parametrize("slug", ["waterfall", "balances"])
def test_a_page_reads_only_its_groups_and_queries_do_not_grow(admin_client, books, slug):
    """M6: a page shows 50 groups and reads only theirs; pages together are the command's
    rows; the page makes the same number of queries for 4 contracts as for 64."""
    counts = []
    for more in (0, 60):
        if more:
            books.stage(HEADER + "\n" + so_rows(more, start=500))
            books.collect()
        with CaptureQueriesContext(connection) as queries:
            page = admin_client.get(page_url(slug))
        assert page.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert RevenueContract.objects.count() == 63
    second = admin_client.get(page_url(slug), {"p": "2"})
    shown = [r.text for r in (row[0] for row in page.context["rows"].rows)]
    shown += [r.text for r in (row[0] for row in second.context["rows"].rows)]
    assert len(page.context["built"].rows) == 50 and page.context["page"].paginator.num_pages == 2
    assert shown == [row["group"] for row in report(slug)["rows"]]
    last = admin_client.get(page_url(slug), {"p": "99999999999"})  # past the end: the last
    assert last.status_code == 200 and last.context["page"].number == 2
    assert admin_client.get(page_url(slug), {"p": "abc"}).context["page"].number == 1


def test_a_currency_pages_over_the_groups_of_that_currency(admin_client, books):
    books.stage(HEADER + "\n" + so_rows(3, start=500))
    books.collect()
    page = admin_client.get(page_url("waterfall"), {"currency": "EUR", "by": "customer"})
    assert [row["group"] for row in page.context["built"].rows] == ["Berlin"]
    assert page.context["page"].paginator.count == 1


# --- downloads ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "args"),
    [
        ("waterfall", []),
        ("waterfall", ["--periods", "2", "--by", "line", "--currency", "USD"]),
        ("rollforward", ["--period", "202601", "--through", "202602"]),
        ("balances", ["--by", "customer"]),
        ("checklist", []),
    ],
)
def test_csv_download_is_the_commands_csv(admin_client, books, slug, args):
    """The CSV button streams what ``revenue_report KIND --format csv`` writes."""
    query = dict(zip([a.lstrip("-") for a in args[::2]], args[1::2], strict=True))
    response = download(admin_client, slug, "csv", **query)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    out = io.StringIO()
    from django.core.management import call_command

    call_command("revenue_report", slug, "--format", "csv", *args, stdout=out, stderr=io.StringIO())
    assert body == out.getvalue()
    assert body.count("\n") >= 2


def xlsx_sheets(content: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        assert book.testzip() is None
        workbook = book.read("xl/workbook.xml").decode()
    return re.findall(r'<sheet name="([^"]+)"', workbook)


@pytest.mark.parametrize("slug", KINDS)
def test_xlsx_download_is_a_workbook_with_its_parameters(admin_client, books, slug):
    response = download(admin_client, slug, "xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].endswith("spreadsheetml.sheet")
    sheets = xlsx_sheets(response.content)
    assert sheets[-1] == "Parameters" and "Totals" in sheets


def test_a_large_xlsx_is_written_by_a_worker_with_its_progress(
    admin_client, books, monkeypatch, django_capture_on_commit_callbacks
):
    """M6: an XLSX estimated above the limit is recorded, written by a Celery task (eager
    here), its page shows the progress, then a link to the file."""
    monkeypatch.setattr("core.report_exports.ASYNC_ROWS", 2)  # 3 contracts: large
    # the worker's part, run here (Task.apply: in this process, no broker)
    monkeypatch.setattr(report_export_task, "delay", lambda *a: report_export_task.apply(a))
    with django_capture_on_commit_callbacks(execute=True):
        response = download(admin_client, "balances", "xlsx", by="contract", currency="USD")
    export = ReportExport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:report_export", args=[export.pk])
    assert (export.status, export.rows_estimate, export.rows_done) == ("DONE", 3, 1)
    assert export.params == {
        "period": "202602",
        "by": "contract",
        "currency": "USD",
        "basis": "asc606",
    }
    state = admin_client.get(response["Location"], {"state": "1"}).json()
    assert (state["status"], state["percent"], state["active"]) == ("DONE", 100, False)
    page = admin_client.get(response["Location"])
    assert reverse("admin:report_export_file", args=[export.pk]) in page.content.decode()
    file = admin_client.get(reverse("admin:report_export_file", args=[export.pk]))
    assert file.status_code == 200
    assert "Parameters" in xlsx_sheets(b"".join(file.streaming_content))


def test_an_export_is_for_those_who_may_open_its_report(admin_client, books):
    """A queued export's page shows it running (no file yet: 404); a user who may not
    open the report gets 403; an unknown export 404."""
    export = ReportExport.objects.create(report="balances", params={}, status="QUEUED")
    progress = reverse("admin:report_export", args=[export.pk])
    page = admin_client.get(progress)
    assert page.status_code == 200 and page.context["state"]["active"]
    assert 'data-active="1"' in page.content.decode()
    assert (
        admin_client.get(reverse("admin:report_export_file", args=[export.pk])).status_code == 404
    )
    assert admin_client.get(reverse("admin:report_export", args=[99999])).status_code == 404
    admin_client.force_login(revenue_user("view_soline"))
    assert admin_client.get(progress).status_code == 403


# --- the journal filters a drill-down sets ----------------------------------------------


def test_journal_filters_of_a_drill_down(admin_client, books):
    """The journal list filtered by contract, customer, item, SO line, currency, a range of
    periods and several accounts (entry types, source types) lists exactly the matching
    entries, the combinations shown as chosen; a bad period in the range is the list's
    error page, not a 500."""
    changelist = reverse("admin:revenue_journalentry_changelist")

    def listed(**query) -> set[int]:
        response = admin_client.get(changelist, query)
        assert response.status_code == 200
        return {e.pk for e in response.context["cl"].queryset}

    entries = JournalEntry.objects.all()
    assert listed(contract="A1") == set(
        entries.filter(line__contract__rc_key="A1").values_list("pk", flat=True)
    )
    assert listed(customer="Tokyo", currency="JPY") == set(
        entries.filter(line__customer="Tokyo").values_list("pk", flat=True)
    )
    assert listed(item="Hardware") == set(
        entries.filter(line__item="Hardware").values_list("pk", flat=True)
    )
    assert listed(so_line="A1-1", currency="EUR") == set()
    window = listed(period__gte="202602", period__lte="202603", account="REVENUE,ADJ_REVENUE")
    assert window == set(
        entries.filter(period__range=(202602, 202603), cr_account="REVENUE").values_list(
            "pk", flat=True
        )
    )
    assert window
    several = listed(entry_type__exact="INITIAL,RELEASE", source_type="SO,INV")
    assert several == set(entries.values_list("pk", flat=True))
    sidebar = admin_client.get(
        changelist, {"entry_type__exact": "INITIAL,RELEASE", "account": "REVENUE,ADJ_REVENUE"}
    ).content.decode()  # the combinations show as chosen filters
    assert "Initial (billing) + Release" in sidebar and "Revenue + Adjustment revenue" in sidebar
    bad = admin_client.get(changelist, {"period__gte": "20260"})
    assert bad.status_code == 302 and "e=1" in bad["Location"]
