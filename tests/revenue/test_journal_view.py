"""Releases stored once (issue 16, docs/design/collection.md 2.1; S3–S5, S10, M6).

A schedule row that releases or reverses revenue books its own journal entry
(``ScheduleRow.entry``); the journal readers see (the view ``revenue_journal``, model
``JournalEntry``) is the stored entries plus those. These tests hold the view to what the
journal was when every release was written twice: each entry where it was booked, posted
when its period closes, a hold and a close moving no entry, the totals (M6) equal to the
journal, and the view's reads at volume served by indexes.
"""

import re
from decimal import Decimal

import pytest
from django.db import connection, transaction

from revenue.models import BookedEntry, JournalEntry, ScheduleRow, SoLine
from revenue.models.choices import EntryType, RowKind
from revenue.models.journal import STORED_FROM
from revenue.selectors import journal_export_rows
from revenue.services.bulk import bulk_insert
from revenue.services.ledger import SCHEDULE_COLUMNS
from revenue.services.periods import trial_balance
from tests.revenue.scans import soline_scanned, solines_copy
from tests.revenue.test_ledger_totals import assert_totals_match, total
from tests.revenue.test_reductions import book, inv, so

RELEASE_TYPES = (EntryType.RELEASE, EntryType.CATCH_UP, EntryType.REVERSAL)


def journal_of(period: int) -> list[list]:
    """The export rows of one period, POSTED left out."""
    return [row[:-1] for row in journal_export_rows(JournalEntry.objects.filter(period=period))]


def test_s5_a_release_is_written_once_and_read_as_its_entry(ledger):
    """S5: an SO line of 1,200 over 2026 booked in January (open) and billed: twelve
    release rows, each naming its entry, and no stored release entry; the journal shows
    twelve CL Dr / Revenue Cr entries of 100 with their rows' ids (stored entries are
    numbered from 2^62 on); the billing conversion rows book none; the totals (M6) equal
    the journal."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200, qty=12), inv("L-1", "I-1", 1200, qty=12))
    rows = ScheduleRow.objects.filter(line__so_line_id="L-1")
    assert set(rows.filter(kind=RowKind.RELEASE).values_list("entry", flat=True)) == {"RELEASE"}
    assert not rows.filter(kind=RowKind.CONVERSION, entry__isnull=False).exists()
    assert not BookedEntry.objects.filter(entry_type__in=RELEASE_TYPES).exists()
    releases = JournalEntry.objects.filter(entry_type=EntryType.RELEASE)
    assert releases.count() == 12
    assert set(releases.values_list("id", flat=True)) == set(
        rows.filter(kind=RowKind.RELEASE).values_list("id", flat=True)
    )
    assert {(e.dr_account, e.cr_account, e.amount.amount) for e in releases} == {
        ("CONTRACT_LIABILITY", "REVENUE", Decimal("100.00"))
    }
    assert sorted(releases.values_list("period", flat=True)) == list(range(202601, 202613))
    # a derived entry is one entry of the journal like a stored one: by id, with its line
    entry = JournalEntry.objects.select_related("line").get(pk=releases.first().pk)
    assert entry.line.so_line_id == "L-1" and entry.source_type == "SO"
    (initial,) = JournalEntry.objects.filter(entry_type="INITIAL").values_list("id", flat=True)
    assert initial >= STORED_FROM and BookedEntry.objects.filter(pk=initial).exists()
    rows_totals = assert_totals_match()
    assert total(rows_totals, entry_type="RELEASE") == 120000


def test_s10_hold_close_and_release_leave_every_entry_where_it_was_booked(ledger):
    """S10 with releases stored once. January open: L-1 releases 100 a month. A hold in
    January keeps January's release entry and reverses it (stored); the close rolls the
    held amount forward to February by two held rows without entries, January's row and
    its entry stay (the period's journal is the same after the close, only posted), the
    trial balance of January balances; the release in February catches up January and
    February (stored entries). Each period's revenue and the totals (M6) are what they were
    when every release was written twice."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200, qty=12))
    ledger.cmd("revenue_line", "hold", "L-1")
    january = journal_of(202601)
    assert [(r[3], r[4], r[5], r[6]) for r in january] == [
        ("REVERSAL", "CONTRACT_LIABILITY", "0.00", "100.00"),
        ("REVERSAL", "REVENUE", "100.00", "0.00"),
        ("RELEASE", "CONTRACT_LIABILITY", "100.00", "0.00"),
        ("RELEASE", "REVENUE", "0.00", "100.00"),
    ]
    ledger.cmd("revenue_period", "close")
    held = ScheduleRow.objects.filter(line__so_line_id="L-1", held=True)
    assert held.filter(period=202601, entry="RELEASE").count() == 1  # booked before the hold
    rolled = held.filter(kind=RowKind.HOLD, entry=None).values_list("period", "amount")
    assert sorted(rolled) == [(202601, Decimal("-100.00")), (202602, Decimal("100.00"))]
    assert journal_of(202601) == january
    assert {r[-1] for r in journal_export_rows(JournalEntry.objects.filter(period=202601))} == {"Y"}
    assert {(r["dr"], r["cr"]) for r in trial_balance(period=202601)} == {("100.00", "100.00")}
    assert_totals_match()

    ledger.cmd("revenue_line", "release", "L-1")
    february = [(r[3], r[4], r[5], r[6]) for r in journal_of(202602)]
    assert ("CATCH_UP", "REVENUE", "0.00", "200.00") in february  # January and February
    assert ("RELEASE", "REVENUE", "0.00", "100.00") in february  # booked before the hold
    assert ("REVERSAL", "REVENUE", "100.00", "0.00") in february  # its reversal at the hold
    nets = {}
    for row in journal_export_rows():
        if row[4] == "REVENUE":
            nets[row[0]] = nets.get(row[0], 0) + Decimal(row[6]) - Decimal(row[5])
    assert nets[202601] == 0 and nets[202602] == 200 and nets[202603] == 100
    assert sum(nets.values()) == 1200
    assert_totals_match()


def test_s3_entries_of_schedule_rows_are_posted_when_their_period_closes(ledger):
    """S3: ``posted`` of an entry of a schedule row is its period's status: N while open,
    Y once closed, like the stored entries the close marks."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200, qty=12), inv("L-1", "I-1", 1200, qty=12))
    january = JournalEntry.objects.filter(period=202601).values_list("id", "posted")
    stored = {(pk >= STORED_FROM, flag) for pk, flag in january}
    assert stored == {(True, False), (False, False)}
    ledger.cmd("revenue_period", "close")
    stored = {(pk >= STORED_FROM, flag) for pk, flag in january.all()}
    assert stored == {(True, True), (False, True)}
    later = JournalEntry.objects.filter(period=202602).values_list("posted", flat=True)
    assert set(later) == {False}


def test_s5_the_export_order_is_by_content_not_by_storage(ledger):
    """interchange.md: the journal export is ordered by PERIOD, SO_LINE_ID, the inbound line,
    ENTRY_TYPE, then ACCOUNT, DR, CR, whatever the ids of its entries (stored entries and
    those of schedule rows interleave by content)."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("B-1", 600), so("A-1", 1200, qty=12))
    book(ledger, inv("A-1", "I-1", 1200, qty=12))
    rows = list(journal_export_rows())
    inbound = {
        (e.period, e.line.so_line_id, e.entry_type): e.inbound_line_id or 0
        for e in JournalEntry.objects.select_related("line")
    }

    def key(row):
        period, line, _source, kind, account, dr, cr = row[:7]
        return (
            period,
            line,
            inbound[(period, line, kind)],
            kind,
            account,
            Decimal(dr),
            Decimal(cr),
        )

    assert rows == sorted(rows, key=key)
    assert rows[0][:2] == [202601, "A-1"] and rows[-1][1] == "B-1"


# --- PostgreSQL: the view and its triggers at volume -------------------------------------------


def _plan(queryset, **settings) -> str:
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute(f"SET LOCAL {name} = {value}")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_the_journal_view_is_read_through_indexes(ledger):
    """The admin's journal list (newest period first, by id, a page at a time) and a
    period's entries (close, trial balance) are served by the schedule rows' index
    ``schedule_entry_period`` without sorting, the stored and derived entries merged in
    index order (planned with sorts and scans made as dear as PostgreSQL makes them); a
    filter on an account no release touches (AR) plans no read of the schedule at all."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200, qty=12), inv("L-1", "I-1", 1200, qty=12))
    page = JournalEntry.objects.order_by("-period", "-id")[:100]
    plan = _plan(page, enable_sort="off", enable_seqscan="off")
    assert "Merge Append" in plan and "schedule_entry_period" in plan, plan
    assert not re.search(r"\bSort +\(cost", plan), plan  # no sort node, only Sort Key
    plan = _plan(JournalEntry.objects.filter(period=202603), enable_seqscan="off")
    assert "schedule_entry_period" in plan, plan
    ar = JournalEntry.objects.filter(dr_account="AR").order_by("-period", "-id")
    assert "revenue_schedulerow" not in _plan(ar), _plan(ar)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigger functions")
def test_m6_the_schedule_triggers_read_the_so_lines_of_the_statement_not_the_whole_table(ledger):
    """M6 at volume for the entries of schedule rows (migration 0014, as 0013 for stored
    entries): after the SO line table grew 20,000 rows, inserting, updating and deleting
    schedule rows reads none of it by scan, and the totals still equal the journal."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("S-1", 1200))
    line = SoLine.objects.get(so_line_id="S-1")
    table = ScheduleRow._meta.db_table

    def rows(n: int) -> list[list]:
        return [
            [line.pk, 202601 + i % 12, "SO", Decimal("10.01") * (i + 1) * (-1) ** i, "USD",
             "RELEASE", False, None, "RELEASE" if i % 2 == 0 else "REVERSAL"]
            for i in range(n)
        ]  # fmt: skip

    bulk_insert(table=table, columns=SCHEDULE_COLUMNS, rows=rows(24))  # planned while small
    solines_copy(line, 20000)
    before = soline_scanned()
    bulk_insert(table=table, columns=SCHEDULE_COLUMNS, rows=rows(24))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET amount = amount * 2 WHERE line_id = %s AND entry IS NOT NULL",
            [line.pk],
        )
        cursor.execute(f"DELETE FROM {table} WHERE line_id = %s AND period = 202602", [line.pk])
    scanned = soline_scanned() - before
    assert scanned < 1000, f"the triggers scanned {scanned} rows of revenue_soline"
    totals = assert_totals_match()
    assert total(totals, period=202602) == 0 and total(totals, period=202603) != 0
