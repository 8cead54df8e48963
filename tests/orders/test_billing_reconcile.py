"""M5 billing ↔ revenue reconciliation (close.md): one row per billing document line of the
period, its revenue status and amounts, totals per currency with the identity, revenue lines
no document explains, the command's formats and exit codes, and the M4 checklist row."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from djmoney.money import Money

from orders.demo import DEMO_TODAY
from orders.models import BillingType, ChargeType, CreditMemo, Invoice, InvoiceStatus
from orders.reports.checks import billing_reconcile_check, reconcile_url
from orders.reports.reconcile import billing_reconcile_report, row_needs_attention
from orders.reports.reconcile_totals import reconcile_summary
from orders.services import order_activate
from orders.services.billing import billing_run_execute, invoice_void
from orders.services.reductions import ReductionLine, reduction_order_create
from revenue.models import InboundLine, JournalEntry
from revenue.reports.checklist import checklist_registered
from tests.factories import AccountFactory, OrderFactory, OrderItemFactory, ProductFactory

D = Decimal
P = 202603
MARCH = dt.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def cmd(*args, **kwargs) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def licences(*, currency="USD", qty="10"):
    """``qty`` licences × 120.00 a year over 2026, billed monthly in advance: 10.00 a month
    each (100.00 a month for 10), collected ratably."""
    product = ProductFactory(
        charge_type=ChargeType.RECURRING,
        default_billing_frequency="MONTHLY",
        default_billing_type=BillingType.ADVANCE,
        default_revenue_method="RATABLE_MONTHLY",
    )
    order = OrderFactory(
        account=AccountFactory(currency=currency),
        currency=currency,
        effective_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )
    OrderItemFactory(
        order=order,
        product=product,
        quantity=D(qty),
        unit_price=Money("120.00", currency),
        service_start_date=dt.date(2026, 1, 1),
        service_end_date=dt.date(2026, 12, 31),
    )
    return order_activate(order=order, user=None)


def bill(order, day=MARCH) -> Invoice:
    billing_run_execute(run_date=day, trigger="COMMAND", orders=[order])
    return Invoice.objects.filter(order=order).latest("pk")


def inv_line(invoice: Invoice, number: int) -> InboundLine:
    return InboundLine.objects.get(tran_type="INV", inv_line_id=f"{invoice.number}-{number}")


def gone(line: InboundLine) -> None:
    """The staged line vanished from staging. Not through ``inbound_line_delete``: a line
    the order services staged cannot be deleted there (I4), so it went behind Contra's back."""
    InboundLine.objects.filter(pk=line.pk).delete()


def collect():
    cmd("revenue_collect")


def rows_of(report) -> dict[tuple[str, int], dict]:
    rows = {(row["document"], row["line"]): row for row in report.rows}
    assert_summary_is_rows(report, rows.values())
    return rows


def assert_summary_is_rows(report, rows) -> None:
    """M6: the set-based totals and M4 counts are exactly those of the rows."""
    currency = report.params["currency"]
    summary = reconcile_summary(
        period=report.period, currency=None if currency == "all" else currency
    )
    assert summary.totals == report.total_rows()
    assert [str(t["billing_total"]) for t in summary.totals] == [
        str(t["billing_total"]) for t in report.total_rows()
    ]
    assert summary.attention == Counter(
        row["revenue_status"] for row in rows if row_needs_attention(row)
    )


def figures(row) -> tuple:
    return (
        row["billing_amount"],
        row["revenue_status"],
        row["revenue_amount"],
        row["difference"],
    )


@pytest.fixture
def opened(db):
    cmd("revenue_period", "open", "202601")


# --- every revenue status, with its numbers -------------------------------------------------


def test_m5_collected_as_billed_and_collected_for_another_amount(opened):
    """M5 collected: 100.00 billed, 100.00 collected → 0; a line changed in staging before
    collection (90.00) → revenue 90.00, difference 10.00."""
    invoice = bill(licences())  # Jan, Feb, Mar: 100.00 each, dated 2026-03-01
    InboundLine.objects.filter(pk=inv_line(invoice, 3).pk).update(ext_sll_prc=D("90.00"))
    collect()
    rows = rows_of(billing_reconcile_report(period=P))
    assert figures(rows[(invoice.number, 1)]) == (D("100.00"), "collected", D("100.00"), 0)
    assert rows[(invoice.number, 1)]["reason"] == "Collected as billed."
    assert figures(rows[(invoice.number, 3)]) == (
        D("100.00"),
        "collected",
        D("90.00"),
        D("10.00"),
    )
    assert "Revenue collected 90.00 for 100.00 billed" in rows[(invoice.number, 3)]["reason"]


def test_m5_new_stopped_and_waiting_lines_have_no_revenue_yet(opened):
    """M5 new / stopped / waiting: nothing collected, the whole billed amount differs; the
    stopped line's reason names its error code, the waiting one its SO line (V12)."""
    order = licences()
    invoice = bill(order)
    stopped, waiting = inv_line(invoice, 2), inv_line(invoice, 3)
    InboundLine.objects.filter(pk=stopped.pk).update(status="ERROR", error_codes="RPRO-00082")
    InboundLine.objects.filter(pk=waiting.pk).update(
        status="ERROR", waiting=True, error_codes="INB-004"
    )
    rows = rows_of(billing_reconcile_report(period=P))
    assert figures(rows[(invoice.number, 1)]) == (D("100.00"), "new", 0, D("100.00"))
    assert figures(rows[(invoice.number, 2)]) == (D("100.00"), "stopped", 0, D("100.00"))
    assert figures(rows[(invoice.number, 3)]) == (D("100.00"), "waiting", 0, D("100.00"))
    assert "RPRO-00082" in rows[(invoice.number, 2)]["reason"]
    so_line = f"{order.number}-1"
    assert f"Waiting for its SO line {so_line}" in rows[(invoice.number, 3)]["reason"]


def test_m5_missing_when_the_staged_line_is_gone(opened):
    """M5 missing: the INV line of line 2 is gone from staging → 100.00 differs."""
    invoice = bill(licences())
    gone(inv_line(invoice, 2))
    collect()
    rows = rows_of(billing_reconcile_report(period=P))
    assert figures(rows[(invoice.number, 2)]) == (D("100.00"), "missing", 0, D("100.00"))
    assert rows[(invoice.number, 2)]["reason"] == (
        f"No revenue line for it in batch {invoice.revenue_batch_id}."
    )
    assert figures(rows[(invoice.number, 1)]) == (D("100.00"), "collected", D("100.00"), 0)


def test_m5_void_document_withdrawn_before_collection_shows_zero(opened):
    """M5: an invoice voided before collection: billing 0, withdrawn, difference 0 (its
    lines stay recorded as WITHDRAWN, I4)."""
    invoice = bill(licences())
    invoice_void(invoice=invoice, user=None, comment="billed twice")
    collect()
    rows = rows_of(billing_reconcile_report(period=P))
    assert [figures(rows[(invoice.number, n)]) for n in (1, 2, 3)] == [(0, "withdrawn", 0, 0)] * 3
    assert rows[(invoice.number, 1)]["reason"] == (
        "Void: its revenue line was withdrawn before collection."
    )
    kept = InboundLine.objects.filter(inv_num=invoice.number).values_list("status", flat=True)
    assert list(kept) == ["WITHDRAWN"] * 3


def test_m5_void_document_after_collection_shows_the_collected_revenue(opened):
    """M5: revenue had collected the lines of a document that is void now (voided outside
    the services, which refuse it, B5): billing 0, revenue 100.00, difference -100.00."""
    invoice = bill(licences())
    collect()
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.VOID, revenue_batch_id=None)
    invoice.lines.update(is_void=True)
    rows = rows_of(billing_reconcile_report(period=P))
    assert figures(rows[(invoice.number, 1)]) == (0, "collected", D("100.00"), D("-100.00"))
    assert rows[(invoice.number, 1)]["reason"].startswith("Void, but revenue had collected 100.00")


def test_m5_credit_memo_lines_are_negative_and_only_documents_dated_in_p_count(opened):
    """M5: a reduction's credit memo (R9, B6) credits March for 4 of 10 licences: -40.00
    billed and collected as CM-RO. February's invoice is in 202602, not in P."""
    order = licences()
    february = bill(order, dt.date(2026, 2, 1))
    march = bill(order)
    reduction = reduction_order_create(
        original=order,
        lines=[
            ReductionLine(
                item_id=order.items.get().pk,
                quantity=D(4),
                start_date=MARCH,
                end_date=dt.date(2026, 12, 31),
            )
        ],
        user=None,
        effective_date=MARCH,
    )
    order_activate(order=reduction, user=None)
    memo = CreditMemo.objects.get(source_order=reduction)
    CreditMemo.objects.filter(pk=memo.pk).update(memo_date=dt.date(2026, 3, 20))
    collect()
    rows = rows_of(billing_reconcile_report(period=P))
    assert figures(rows[(memo.number, 1)]) == (D("-40.00"), "collected", D("-40.00"), 0)
    assert set(rows) == {(march.number, 1), (memo.number, 1)}  # March only (Feb billed)
    assert (february.number, 1) in rows_of(billing_reconcile_report(period=202602))


def test_m5_identity_per_currency_over_every_case(opened):
    """M5 identity: per currency, billing_total = revenue_total + Σ difference, exactly,
    and the totals are the sums of the rows (USD: 300 billed, 290 collected, 10 different,
    100 missing; EUR: 300 billed, 100 stopped)."""
    usd = bill(licences())
    InboundLine.objects.filter(pk=inv_line(usd, 1).pk).update(ext_sll_prc=D("90.00"))
    gone(inv_line(usd, 2))
    eur = bill(licences(currency="EUR"))
    InboundLine.objects.filter(pk=inv_line(eur, 3).pk).update(status="ERROR")
    collect()
    report = billing_reconcile_report(period=P)
    rows = list(report.rows)
    assert_summary_is_rows(report, rows)
    totals = {t["currency"]: t for t in report.total_rows()}
    assert set(totals) == {"EUR", "USD"}
    assert totals["USD"] == {
        "currency": "USD",
        "billing_total": D("300.00"),
        "revenue_total": D("190.00"),
        "difference": D("110.00"),
    }
    assert totals["EUR"]["billing_total"] == D("300.00")
    assert totals["EUR"]["revenue_total"] == D("200.00")
    for currency, total in totals.items():
        mine = [r for r in rows if r["currency"] == currency]
        assert total["billing_total"] == total["revenue_total"] + sum(r["difference"] for r in mine)
        assert total["billing_total"] == sum(r["billing_amount"] for r in mine)
        assert total["revenue_total"] == sum(r["revenue_amount"] for r in mine)


def test_m6_totals_round_each_document_line_half_up_to_its_currency(opened):
    """M5/M6: revenue amounts in sub-cent ESP are rounded per document line, half up (away
    from zero), before they are added, by the rows and by the database alike; a JPY
    invoice's amounts round to whole yen."""
    usd = bill(licences())
    InboundLine.objects.filter(pk=inv_line(usd, 1).pk).update(ext_sll_prc=D("100.005"))
    InboundLine.objects.filter(pk=inv_line(usd, 2).pk).update(ext_sll_prc=D("99.994999"))
    bill(licences(currency="JPY", qty="7"))
    collect()
    rows = rows_of(billing_reconcile_report(period=P))
    assert figures(rows[(usd.number, 1)]) == (D("100.00"), "collected", D("100.01"), D("-0.01"))
    assert figures(rows[(usd.number, 2)]) == (D("100.00"), "collected", D("99.99"), D("0.01"))
    jpy = [row for row in rows.values() if row["currency"] == "JPY"]
    assert jpy and all(row["billing_amount"] == row["billing_amount"].to_integral() for row in jpy)
    summary = reconcile_summary(period=P)
    assert [t["currency"] for t in summary.totals] == ["JPY", "USD"]
    # O9/B5 + I2: a JPY order's lines are sent in whole yen ("70", not "70.00"): collected
    jpy_lines = InboundLine.objects.filter(curr="JPY")
    assert set(jpy_lines.values_list("status", flat=True)) == {"COLLECTED"}
    raw = jpy_lines.filter(tran_type="INV").values_list("raw", flat=True)
    assert {row["EXT_SLL_PRC"] for row in raw} == {"70"}
    assert summary.attention == Counter({"collected": 2})


# --- unexplained lines, the currency filter ------------------------------------------------


def test_m5_unexplained_lists_a_csv_staged_inv_of_the_period_apart(opened, tmp_path):
    """M5: an INV from a file (another system) dated in P is listed under ``unexplained``,
    never in rows or totals; one dated in April is not; the documents' own lines are not."""
    invoice = bill(licences())
    path = tmp_path / "other.csv"
    path.write_text(
        "TRAN_TYPE,SO_NUM,SO_LINE_ID,INV_NUM,INV_LINE_ID,INV_DATE,INV_QTY,EXT_LST_PRC,"
        "EXT_SLL_PRC,CURR,F_CUR\n"
        "INV,EXT-1,EXT-1-1,EXT-INV-9,EXT-INV-9-1,2026-03-15,1,250.00,250.00,USD,USD\n"
        "INV,EXT-1,EXT-1-1,EXT-INV-10,EXT-INV-10-1,2026-04-15,1,75.00,75.00,USD,USD\n"
    )
    cmd("revenue_import", str(path))
    report = billing_reconcile_report(period=P)
    rows = list(report.rows)
    (section,) = report.sections
    (other,) = list(section.rows)
    assert section.key == "unexplained"
    assert {k: other[k] for k in ("tran_type", "inv_line_id", "inv_date", "currency")} == {
        "tran_type": "INV",
        "inv_line_id": "EXT-INV-9-1",
        "inv_date": "2026-03-15",
        "currency": "USD",
    }
    assert other["amount"] == D("250.00") and other["revenue_status"] == "new"
    assert {r["document"] for r in rows} == {invoice.number}
    assert report.total_rows()[0]["billing_total"] == D("300.00")


def test_m5_currency_filter_keeps_one_currency(opened, tmp_path):
    """--currency EUR: only EUR documents, EUR totals, EUR unexplained lines."""
    bill(licences())
    eur = bill(licences(currency="EUR"))
    collect()
    report = billing_reconcile_report(period=P, currency="eur")
    rows = list(report.rows)
    assert {r["document"] for r in rows} == {eur.number} and len(rows) == 3
    assert [t["currency"] for t in report.total_rows()] == ["EUR"]
    assert report.params["currency"] == "EUR"


# --- the command -------------------------------------------------------------------------


@pytest.fixture
def reconciled(opened):
    """USD: 3 lines collected (one for 90.00); EUR: 3 lines new."""
    usd = bill(licences())
    InboundLine.objects.filter(pk=inv_line(usd, 1).pk).update(ext_sll_prc=D("90.00"))
    collect()
    eur = bill(licences(currency="EUR"))
    return usd, eur


def test_m5_json_keys_are_close_md_and_stdout_holds_the_data_alone(reconciled):
    usd, eur = reconciled
    out, err = cmd("billing_reconcile", "--period", "202603", "--format", "json")
    data = json.loads(out)
    assert list(data) == ["report", "period", "rows", "totals", "unexplained"]
    assert (data["report"], data["period"]) == ("billing_reconcile", "202603")
    assert list(data["rows"][0]) == [
        "document",
        "line",
        "currency",
        "billing_amount",
        "revenue_status",
        "revenue_amount",
        "difference",
        "reason",
    ]
    first = data["rows"][0]
    assert (first["document"], first["line"], first["billing_amount"]) == (usd.number, 1, "100.00")
    assert (first["revenue_amount"], first["difference"]) == ("90.00", "10.00")
    keys = ("currency", "billing_total", "revenue_total", "difference")
    assert data["totals"] == [
        dict(zip(keys, ("EUR", "300.00", "0.00", "300.00"), strict=True)),
        dict(zip(keys, ("USD", "300.00", "290.00", "10.00"), strict=True)),
    ]
    assert data["unexplained"] == []
    assert err == (
        "reconciled 6 billing document lines of 202603: difference EUR 300.00, USD 10.00\n"
    )


def test_m5_csv_headers_upper_case_and_text_cells_formula_escaped(reconciled):
    """interchange.md: CSV has the keys in upper case; a text cell starting with = is
    prefixed with ' while a negative amount stays a number."""
    usd, _ = reconciled
    # a number no sequence gives (imported data): its lines, found by INV_LINE_ID, are missing
    Invoice.objects.filter(pk=usd.pk).update(number="=HYPERLINK(1)")
    out, _ = cmd("billing_reconcile", "--period", "202603", "--format", "csv", "--currency", "USD")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == [
        "DOCUMENT",
        "LINE",
        "CURRENCY",
        "BILLING_AMOUNT",
        "REVENUE_STATUS",
        "REVENUE_AMOUNT",
        "DIFFERENCE",
        "REASON",
    ]
    assert rows[1][:7] == ["'=HYPERLINK(1)", "1", "USD", "100.00", "missing", "0.00", "100.00"]
    assert len(rows) == 4


def test_m5_csv_negative_amounts_stay_numbers(opened):
    """A document voided behind revenue's back (its lines still staged, then collected):
    billing 0.00, revenue 100.00, difference -100.00, written as a number."""
    order = licences()
    bill(order)
    Invoice.objects.filter(order=order).update(status=InvoiceStatus.VOID, revenue_batch_id=None)
    collect()
    out, _ = cmd("billing_reconcile", "--period", "202603", "--format", "csv")
    (first,) = [r for r in csv.DictReader(io.StringIO(out)) if r["LINE"] == "1"]
    assert (first["BILLING_AMOUNT"], first["REVENUE_AMOUNT"], first["DIFFERENCE"]) == (
        "0.00",
        "100.00",
        "-100.00",
    )


def test_m5_xlsx_needs_output_and_writes_a_workbook(reconciled, tmp_path):
    with pytest.raises(CommandError) as refusal:
        cmd("billing_reconcile", "--format", "xlsx")
    assert refusal.value.returncode == 2 and "--output" in str(refusal.value)
    target = tmp_path / "reconcile.xlsx"
    out, err = cmd("billing_reconcile", "--format", "xlsx", "--output", str(target))
    assert out.startswith("reconciled 0 billing document lines of 202601")  # the open period
    assert err == ""
    args = ("--period", "202603", "--format", "xlsx", "--output", str(target))
    out, _ = cmd("billing_reconcile", *args)
    assert out == (
        "reconciled 6 billing document lines of 202603: difference EUR 300.00, USD 10.00 "
        f"(written to {target})\n"
    )
    with zipfile.ZipFile(target) as book:
        assert "xl/workbook.xml" in book.namelist()
        sheets = book.read("xl/workbook.xml").decode()
        assert 'name="Totals"' in sheets and 'name="Unexplained revenue lines"' in sheets
        first = book.read("xl/worksheets/sheet1.xml").decode()
        assert "collected" in first and "Collected as billed." in first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "202613"), "'202613' is not a period"),
        (("--period", "March"), "is not a period"),
        (("--currency", "XX"), "currency 'XX' is not an ISO 4217 currency code"),
        (("--format", "csv", "--output", "/no/such/folder/x.csv"), "the folder does not exist"),
    ],
)
def test_m5_bad_arguments_exit_2_with_a_message(opened, args, message):
    with pytest.raises(CommandError) as refusal:
        cmd("billing_reconcile", *args)
    assert refusal.value.returncode == 2
    assert message in str(refusal.value)


def test_m5_table_is_the_default_and_shows_totals_and_the_section(reconciled):
    out, err = cmd("billing_reconcile", "--period", "202603")
    assert out.startswith("Billing ↔ revenue reconciliation — period 202603\n")
    assert "TOTAL" in out and "Unexplained revenue lines: 0" in out
    assert err.startswith("reconciled 6 billing document lines of 202603")


# --- M4: the checklist row -----------------------------------------------------------------


def test_m4_billing_reconcile_check_counts_missing_stopped_and_different_lines(opened):
    """M4 warning: 1 different (90.00 for 100.00), 1 missing; the new line of another
    invoice does not count (new lines have their own check)."""
    assert "billing_reconcile" in checklist_registered()
    first = bill(licences())
    InboundLine.objects.filter(pk=inv_line(first, 1).pk).update(ext_sll_prc=D("90.00"))
    gone(inv_line(first, 2))
    collect()
    bill(licences(currency="EUR"))  # three NEW lines
    (row,) = billing_reconcile_check(period=P, started_at=None)
    assert (row.check, row.severity, row.count) == ("billing_reconcile", "warning", 2)
    assert row.detail == (
        "2 billing document lines of 2026-03 differ from revenue: 1 missing, "
        "1 collected for another amount (billing_reconcile --period 202603)"
    )
    assert row.url == reconcile_url()


def test_m4_billing_reconcile_check_is_ok_when_everything_was_collected(opened):
    bill(licences())
    collect()
    (row,) = checklist_registered()["billing_reconcile"](period=P, started_at=None)
    assert (row.severity, row.count) == ("ok", 0)


# --- load_demo ---------------------------------------------------------------------------


def contract_liability_balances(*, through: int) -> dict[tuple[str, str], Decimal]:
    """(RC_KEY, currency) → CL Cr − Dr booked through ``through`` (< 0: a contract asset)."""
    balances: dict[tuple[str, str], Decimal] = {}
    entries = JournalEntry.objects.filter(period__lte=through).values_list(
        "line__contract__rc_key", "amount_currency", "dr_account", "cr_account", "amount"
    )
    for key, currency, dr, cr, amount in entries:
        sign = (cr == "CONTRACT_LIABILITY") - (dr == "CONTRACT_LIABILITY")
        balances[(key, currency)] = balances.get((key, currency), D(0)) + sign * amount
    return balances


def test_m5_load_demo_dates_its_documents_in_the_open_period_with_each_case(db):
    """M5: load_demo's billing documents are dated in its open period (2026-11) whatever
    the real date, and the report shows collected, stopped and missing lines, in USD and
    EUR; the M4 check warns. Loading again changes nothing."""
    cmd("load_demo")
    report = billing_reconcile_report()
    assert report.period == 202611
    rows = list(report.rows)
    assert_summary_is_rows(report, rows)
    dates = set(Invoice.objects.values_list("invoice_date", flat=True))
    dates |= set(CreditMemo.objects.values_list("memo_date", flat=True))
    assert dates == {DEMO_TODAY} and DEMO_TODAY.strftime("%Y%m") == "202611"
    by_status = {}
    for row in rows:
        by_status.setdefault(row["revenue_status"], []).append(row)
    assert {"collected", "stopped", "missing"} <= set(by_status)
    assert all(r["difference"] == 0 for r in by_status["collected"])
    (missing,) = by_status["missing"]
    assert (missing["currency"], missing["billing_amount"]) == ("USD", D("7500.00"))
    assert [(r["currency"], r["billing_amount"]) for r in by_status["stopped"]] == [
        ("EUR", D("-110.40")),
        ("EUR", D("-110.40")),
    ]
    assert all("RPRO-00683" in r["reason"] for r in by_status["stopped"])
    totals = {t["currency"]: t["difference"] for t in report.total_rows()}
    assert totals == {"EUR": D("-220.80"), "GBP": 0, "USD": D("7500.00")}
    assert list(report.sections[0].rows)  # the revenue demo's own lines: another system
    (check,) = billing_reconcile_check(period=202611, started_at=None)
    assert (check.severity, check.count) == ("warning", 3)
    balances = contract_liability_balances(through=202611)  # M3 has both sides in USD
    assert any(v < 0 for (_, cur), v in balances.items() if cur == "USD")  # contract asset
    assert any(v > 0 for (_, cur), v in balances.items() if cur == "USD")  # liability

    out, _ = cmd("load_demo")
    assert "nothing new" in out
    again = billing_reconcile_report()
    assert [figures(r) for r in again.rows] == [figures(r) for r in rows]
