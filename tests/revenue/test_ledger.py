"""S1–S11: periods, the journal, schedules, billing conversion, manual actions, SO updates."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from djmoney.money import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.services import money_split
from revenue.models import (
    BookedEntry,
    CarveEntry,
    CarveVersion,
    InboundLine,
    JournalEntry,
    Period,
    ProfileSetting,
    ScheduleRow,
    SoLine,
)
from revenue.selectors import journal_nets
from revenue.services.manual import so_line_dates_change, so_line_hold, so_line_release
from revenue.services.splits import period_weights, schedule_split
from revenue.tasks import close_period_task
from tests.revenue.conftest import D

COLS = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,INV_NUM,INV_LINE_ID,INV_DATE,ORD_QTY,INV_QTY,"
    "EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,REV_METHOD"
)


def so_row(line="L-1", esp="1200", start="2026-01-01", end="2026-12-31", method="RATABLE_MONTHLY"):
    return (
        f"SO,{line.split('-')[0]},{line},{start},,,,1,,{esp},{esp},USD,USD,{start},{end},{method}"
    )


def inv_row(line="L-1", inv="I-1", esp="1200", start="", end=""):
    return f"INV,X,{line},,INV,{inv},2026-01-05,1,1,{esp},{esp},USD,USD,{start},{end},"


def book(ledger, *rows):
    ledger.stage(COLS + "\n" + "\n".join(rows))
    return ledger.collect()


def sched(ledger, line="L-1"):
    return {(p, s): a for (lid, p, s), a in ledger.schedule().items() if lid == line}


# --- S1, S2: periods -------------------------------------------------------------------------


def test_s1_first_period_only_on_an_empty_ledger_and_yyyymm_only(ledger):
    with pytest.raises(CommandError) as bad:
        call_command("revenue_period", "open", "202613")
    assert bad.value.returncode == 2 and "not a period" in str(bad.value)
    ledger.cmd("revenue_period", "open", "202601")
    assert ledger.cmd("revenue_period", "show").strip() == "open period 202601"
    book(ledger, so_row())
    with pytest.raises(CommandError, match=r"^the ledger already has entries .* \[S1\]$"):
        call_command("revenue_period", "open", "202501")


def test_s1_collection_without_an_open_period_fails_clearly(ledger):
    ledger.stage(COLS + "\n" + so_row())
    with pytest.raises(CommandError) as failed:
        call_command("revenue_collect", stdout=io.StringIO())
    assert failed.value.returncode == 1
    assert "No open period. Open one with `manage.py revenue_period open" in str(failed.value)


def test_s1_s8_closed_period_amounts_catch_up_in_the_open_period(ledger):
    """S8: a line starting in January collected in April books Jan–Apr in April."""
    ledger.cmd("revenue_period", "open", "202604")
    book(ledger, so_row())
    schedule = sched(ledger)
    assert schedule[(202604, "SO")] == D(400)
    assert not any(p < 202604 for p, _ in schedule)
    assert set(JournalEntry.objects.filter(period=202604).values_list("entry_type", flat=True)) == {
        "CATCH_UP",
        "RELEASE",
    }
    assert journal_nets()[(202604, "REVENUE")] == D(-400)


def test_s2_close_posts_writes_the_gl_file_and_opens_the_next(ledger, admin_user):
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so_row(), inv_row())
    out = ledger.cmd("revenue_period", "close", "--through", "202602")
    assert out.strip() == "closed 202601, 202602; open period 202603"
    assert not JournalEntry.objects.filter(period__lte=202602, posted=False).exists()
    assert not JournalEntry.objects.filter(period__gt=202602, posted=True).exists()
    january = Period.objects.get(id=202601)
    rows = list(csv.DictReader(io.StringIO(january.gl_file.read().decode())))
    by_account = {r["ACCOUNT"]: r for r in rows}
    assert by_account["AR"]["DR"] == "1200.00"
    assert by_account["REVENUE"]["CR"] == "100.00"
    assert sum(D(r["DR"]) for r in rows) == sum(D(r["CR"]) for r in rows)
    journal = ledger.export("journal")
    assert {r["POSTED"] for r in journal if r["PERIOD"] == "202601"} == {"Y"}
    with pytest.raises(CommandError, match="already after 202601"):
        call_command("revenue_period", "close", "--through", "202601")


def test_s2_monthly_job_closes_only_with_auto_close(ledger):
    ledger.cmd("revenue_period", "open", "202601")
    assert close_period_task() == []
    ledger.cmd("revenue_profile", "AUTO_CLOSE_PERIOD", "Y")
    closed = close_period_task()
    today = date.today()
    assert closed and closed[-1] == (today.year * 100 + today.month) - (
        1 if today.month > 1 else 89
    )
    assert close_period_task() == []  # the current month is not over


def test_profile_refuses_unknown_names_and_values(db):
    with pytest.raises(CommandError) as bad:
        call_command("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "maybe")
    assert bad.value.returncode == 2 and "must be one of Y, N" in str(bad.value)
    with pytest.raises(CommandError, match="unknown profile setting"):
        call_command("revenue_profile", "NOPE", "Y")
    call_command("revenue_profile", "create_rord_contra_entry", "y", stdout=io.StringIO())
    assert ProfileSetting.objects.get(name="CREATE_RORD_CONTRA_ENTRY").value == "Y"


# --- S3–S5: journal --------------------------------------------------------------------------


def test_s3_s4_billing_documents_book_both_sides(ledger):
    """S4: INV → AR Dr / CL Cr; CM → CL Dr / AR Cr, in the open period."""
    ledger.cmd("revenue_period", "open", "202601")
    book(
        ledger,
        so_row(method="IMMEDIATE"),
        inv_row(),
        "CM,X,L-1,,CM,C-1,2026-01-09,,,,-200,USD,USD,,,",
    )
    initial = JournalEntry.objects.filter(entry_type="INITIAL").order_by("id")
    assert [(e.dr_account, e.cr_account, e.amount) for e in initial] == [
        ("AR", "CONTRACT_LIABILITY", Money(1200, "USD")),
        ("CONTRACT_LIABILITY", "AR", Money(200, "USD")),
    ]
    assert journal_nets() == {
        (202601, "AR"): D(1000),
        (202601, "CONTRACT_LIABILITY"): D(200),
        (202601, "REVENUE"): D(-1200),
    }


# --- S6, S7: schedules -----------------------------------------------------------------------


def test_s6_weights_by_method():
    start, end = date(2026, 1, 15), date(2026, 3, 14)
    assert period_weights("IMMEDIATE", start, end) == [(202601, 1)]
    monthly = period_weights("RATABLE_MONTHLY", start, end)
    assert [(p, str(w)) for p, w in monthly] == [
        (202601, "17/31"),
        (202602, "1"),
        (202603, "14/31"),
    ]
    daily = period_weights("RATABLE_DAILY", start, end)
    assert [(p, int(w)) for p, w in daily] == [(202601, 17), (202602, 28), (202603, 14)]


@settings(max_examples=300, deadline=None)
@given(
    cents=st.integers(min_value=-(10**11), max_value=10**11),
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
    days=st.integers(min_value=0, max_value=1500),
    method=st.sampled_from(["IMMEDIATE", "RATABLE_MONTHLY", "RATABLE_DAILY"]),
    currency=st.sampled_from(["USD", "JPY", "EUR"]),
)
def test_s7_schedules_always_add_up_and_match_cumulative_rounding(
    cents, start, days, method, currency
):
    """S7: the parts add up to the total exactly and equal core.money_split's cumulative
    rounding with the same weights."""
    exponent = 0 if currency == "JPY" else 2
    total = Decimal(cents).scaleb(-exponent)
    end = start + timedelta(days=days)
    parts = schedule_split(total=total, currency=currency, method=method, start=start, end=end)
    assert sum((a for _, a in parts), Decimal(0)) == total
    weights = period_weights(method, start, end)
    reference = money_split(
        total=Money(total, currency),
        weights=[Decimal(w.numerator) / Decimal(w.denominator) for _, w in weights],
    )
    expected = [(p, m.amount) for (p, _), m in zip(weights, reference, strict=True) if m.amount]
    assert sum(a for _, a in expected) == total
    # Decimal weights are rounded to 28 digits: allow the reference one minor unit per part
    unit = Decimal(1).scaleb(-exponent)
    assert all(abs(a - b) <= unit for (_, a), (_, b) in zip(parts, expected, strict=False))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=10**8),
            st.integers(min_value=0, max_value=40),
            st.integers(min_value=0, max_value=800),
            st.sampled_from(["IMMEDIATE", "RATABLE_MONTHLY", "RATABLE_DAILY"]),
            st.integers(min_value=0, max_value=100),
        ),
        min_size=1,
        max_size=6,
    ),
    closes=st.integers(min_value=0, max_value=3),
)
def test_s3_s7_every_period_balances_and_every_line_adds_up(ledger, lines, closes):
    """Property: for any lines, invoices and closes, each period's journal balances and each
    line's schedule adds up to its EXT_SLL_PRC exactly."""
    CarveEntry.objects.all().delete()
    CarveVersion.objects.all().delete()
    BookedEntry.objects.all().delete()
    ScheduleRow.objects.all().delete()
    InboundLine.objects.all().delete()
    SoLine.objects.all().delete()
    Period.objects.all().delete()
    ledger.cmd("revenue_period", "open", "202601")
    rows = []
    for i, (cents, offset, days, method, billed_pct) in enumerate(lines):
        esp = Decimal(cents).scaleb(-2)
        start = date(2025, 6, 1) + timedelta(days=offset * 11)
        end = start + timedelta(days=days)
        line = f"P{ledger.files}-{i}"
        rows.append(so_row(line, esp, start, end, method))
        if billed_pct:
            bill = (esp * billed_pct / 100).quantize(Decimal("0.01"))
            rows.append(inv_row(line, f"{line}-I", bill, start, end))
    book(ledger, *rows)
    if closes:
        ledger.cmd("revenue_period", "close", "--through", str(202600 + closes))
    by_period: dict[int, Decimal] = {}
    for (period, _account), net in journal_nets().items():
        by_period[period] = by_period.get(period, Decimal(0)) + net
    assert all(total == 0 for total in by_period.values())
    totals: dict[str, Decimal] = {}
    for (line, _p, _s), amount in ledger.schedule().items():
        totals[line] = totals.get(line, Decimal(0)) + amount
    for so in SoLine.objects.all():
        assert totals.get(so.so_line_id, Decimal(0)) == so.ext_sll_prc.amount


# --- S9: invoices turn SO-source into INV-source ---------------------------------------------


def test_s9_invoice_for_part_of_the_term_converts_those_periods(ledger):
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so_row(), inv_row(esp="300", start="2026-04-01", end="2026-06-30"))
    schedule = sched(ledger)
    assert [schedule.get((p, "INV")) for p in (202604, 202605, 202606)] == [D(100)] * 3
    assert (202601, "INV") not in schedule and schedule[(202601, "SO")] == D(100)


def test_s9_what_does_not_fit_turns_in_the_earliest_periods(ledger):
    """An invoice of 400 over one month: 100 fits in March, 300 goes to Jan, Feb, Apr."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so_row(), inv_row(esp="400", start="2026-03-01", end="2026-03-31"))
    schedule = sched(ledger)
    assert {p for (p, s) in schedule if s == "INV"} == {202601, 202602, 202603, 202604}
    assert sum(a for (p, s), a in schedule.items() if s == "INV") == D(400)


def test_s9_an_invoice_larger_than_the_line_converts_at_most_the_line(ledger):
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so_row(method="IMMEDIATE"), inv_row(esp="1500"))
    assert sched(ledger) == {(202601, "INV"): D(1200)}
    assert journal_nets()[(202601, "AR")] == D(1500)


def test_i9_the_same_invoice_line_twice_is_booked_once(ledger):
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so_row(), inv_row())
    entries = JournalEntry.objects.count()
    assert "collected 1" in book(ledger, inv_row())
    assert JournalEntry.objects.count() == entries
    book(ledger, inv_row(esp="999"))
    assert InboundLine.objects.filter(error_codes="INB-005").count() == 1


# --- S10: hold, release, revenue dates --------------------------------------------------------


def test_s10_hold_defers_everything_and_release_catches_up(ledger, admin_user):
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so_row())
    line = SoLine.objects.get()
    so_line_hold(line=line, actor=admin_user, reason="customer dispute")
    assert all(net == 0 for net in journal_nets().values()) or journal_nets() == {}
    ledger.cmd("revenue_period", "close", "--through", "202603")
    lines = {r["SO_LINE_ID"]: r for r in ledger.export("lines")}
    assert (lines["L-1"]["RECOGNIZED"], lines["L-1"]["DEFERRED"], lines["L-1"]["HOLD"]) == (
        "0.00",
        "1200.00",
        "Y",
    )
    so_line_release(line=line, actor=admin_user)
    nets = journal_nets()
    assert nets[(202604, "REVENUE")] == D(-400)  # Jan–Apr catch up in the open period
    assert nets[(202605, "REVENUE")] == D(-100)
    assert not any(p < 202604 for p, _ in nets)
    line.refresh_from_db()
    assert line.manually_released and not line.hold


def test_s10_changing_revenue_dates_rebuilds_only_future_rows(ledger, admin_user):
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so_row())
    ledger.cmd("revenue_period", "close", "--through", "202603")
    line = SoLine.objects.get()
    so_line_dates_change(line=line, start=date(2026, 1, 1), end=date(2026, 6, 30), actor=admin_user)
    schedule = sched(ledger)
    assert [schedule[(p, "SO")] for p in range(202601, 202604)] == [D(100)] * 3
    assert schedule[(202604, "SO")] == D(100)  # the open period is not rebuilt
    assert schedule[(202605, "SO")] == D(400) and schedule[(202606, "SO")] == D(400)
    assert not any(p > 202606 for p, _ in schedule)
    line.refresh_from_db()
    assert line.dates_changed and line.rev_end_date == date(2026, 6, 30)
    with pytest.raises(Exception, match="^end 2026-01-01 is before start 2026-02-01$"):
        so_line_dates_change(
            line=line, start=date(2026, 2, 1), end=date(2026, 1, 1), actor=admin_user
        )


def test_s11_so_update_with_new_dates_moves_the_difference(ledger):
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so_row())
    book(ledger, so_row(end="2026-06-30"))
    schedule = sched(ledger)
    assert [schedule[(p, "SO")] for p in range(202601, 202607)] == [D(200)] * 6
    assert sum(schedule.values()) == D(1200)
