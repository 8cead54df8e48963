"""M6: the maintained totals of the journal (``LedgerTotal``, kept by triggers) equal the
journal's own totals after every kind of write: the vectors' collections, a contra shrink
and removal (P8: UPDATE and DELETE of entries), a close (posting, then compaction) and a
random day of bench/collect_data.py (COPY on PostgreSQL). Exactly, in integer minor
units, overall and by contract."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django_celery_beat.models import PeriodicTask

from bench.collect_data import generate
from config.celery import app as celery_app
from revenue.models import BookedEntry, JournalEntry, LedgerTotal, RevenueContract, SoLine
from revenue.selectors_totals import TotalRow, journal_totals, ledger_totals
from revenue.services.bulk import bulk_insert
from revenue.services.ledger import JOURNAL_COLUMNS
from revenue.services.totals import ledger_totals_compact
from revenue.tasks import ledger_totals_compact_task
from tests.revenue.scans import soline_scanned, solines_copy
from tests.revenue.test_reductions import book, cm_ro, inv, rord, so
from tests.revenue.test_vectors import RV1_STEP3, _rv1_through_step2

CL, REV, AR = "CONTRACT_LIABILITY", "REVENUE", "AR"
Q4 = {"start": "2026-10-01", "end": "2026-12-31"}


def assert_totals_match() -> list[TotalRow]:
    """ledger_totals == journal_totals overall, by contract, and under each filter."""
    everything = journal_totals()
    assert everything, "the journal is empty: nothing was compared"
    assert ledger_totals() == everything
    by_contract = journal_totals(by_contract=True)
    assert ledger_totals(by_contract=True) == by_contract
    periods = sorted({r.period for r in everything})
    middle = periods[len(periods) // 2]
    contracts = sorted({r.contract_id for r in by_contract})[::2]
    for filters in (
        {"period_from": middle},
        {"period_to": middle},
        {"period_from": middle, "period_to": middle},
        {"currency": everything[0].currency},
        {"contract_ids": contracts},
        {"contract_ids": contracts, "by_contract": True, "period_to": middle},
    ):
        assert ledger_totals(**filters) == journal_totals(**filters), filters
    return everything


def total(rows, **key) -> int:
    """Σ amount_minor of the rows matching ``key``."""
    return sum(r.amount_minor for r in rows if all(getattr(r, k) == v for k, v in key.items()))


def one_row_per_key(**filters) -> bool:
    keys = LedgerTotal.objects.filter(**filters).values(
        "period", "contract_id", "currency", "dr_account", "cr_account", "entry_type", "source_type"
    )
    return keys.count() == keys.distinct().count()


# --- the vectors -------------------------------------------------------------------------------


def test_m6_rv1_with_contra_through_close_and_cm_ro(ledger):
    """M6 on RV1 (profile Y): the collection, ten closes (each compacts its period), the RORD
    with its contra 100 and the CM-RO removing it (P8: the unposted contra entry deleted)."""
    _rv1_through_step2(ledger, "Y")
    rows = assert_totals_match()
    assert total(rows, period=201901, entry_type="INITIAL", dr_account=AR) == 216000
    assert total(rows, period=201911, entry_type="CONTRA") == 10000
    assert one_row_per_key(period__lte=201910)  # compacted at each close

    ledger.stage(RV1_STEP3)
    assert ledger.collect().strip().endswith("collected 1, stopped 0, waiting 0")
    rows = assert_totals_match()
    assert total(rows, period=201911, entry_type="CONTRA") == 0
    assert not [r for r in ledger_totals(period_from=201911) if r.entry_type == "CONTRA"]
    assert total(rows, period=201911, source_type="CM-RO", cr_account=AR) == 10000


def test_m6_p8_contra_shrunk_then_removed_by_two_cm_ros(ledger):
    """M6, P8: contra 300 booked; a CM-RO of 100 lowers the entry in place to 200 (UPDATE),
    a second of 200 deletes it (DELETE): the totals follow both, by contract too."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "Y")
    book(ledger, so("L-1", 1200, qty=12), inv("L-1", "I-1", 1200, qty=12))
    book(ledger, so("K-1", 600), inv("K-1", "J-1", 600))  # another contract, untouched
    book(ledger, rord("R-1", "L-1", -300, **Q4))
    rows = assert_totals_match()
    assert total(rows, entry_type="CONTRA", cr_account="CONTRA_AR") == 30000

    book(ledger, cm_ro("R-1", "L-1", "CRO-1", -100))
    rows = assert_totals_match()
    assert total(rows, entry_type="CONTRA") == 20000
    contract = SoLine.objects.get(so_line_id="L-1").contract_id
    contra = [r for r in ledger_totals(by_contract=True) if r.entry_type == "CONTRA"]
    assert [(r.contract_id, r.amount_minor, r.entries) for r in contra] == [(contract, 20000, 1)]

    book(ledger, cm_ro("R-1", "L-1", "CRO-2", -200))
    rows = assert_totals_match()
    assert total(rows, entry_type="CONTRA") == 0
    assert not JournalEntry.objects.filter(entry_type="CONTRA").exists()
    # the deltas of the removed entry are still there until compaction folds them away
    assert LedgerTotal.objects.filter(entry_type="CONTRA").count() >= 3
    assert ledger_totals_compact() > 0
    assert not LedgerTotal.objects.filter(entry_type="CONTRA").exists()
    assert one_row_per_key()
    assert_totals_match()


def test_m6_posting_writes_no_delta_and_the_close_compacts_its_period(ledger):
    """M6: posting entries (the close's UPDATE of ``posted``) changes no total and writes no
    row; the close then leaves one row per key of the closed period; compacting again
    changes nothing (0 rows fewer)."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200, qty=12), so("L-2", 600), inv("L-1", "I-1", 1200, qty=12))
    book(ledger, so("L-1", 1500, qty=12))  # an SO update: deltas on the same keys
    before = LedgerTotal.objects.count()
    BookedEntry.objects.filter(period=202602).update(posted=True)
    assert LedgerTotal.objects.count() == before
    assert not one_row_per_key(period=202601)
    ledger.cmd("revenue_period", "close")
    assert one_row_per_key(period=202601)
    rows = assert_totals_match()
    assert total(rows, period=202601, entry_type="RELEASE") == 12500 + 5000
    assert ledger_totals_compact(period=202601) == 0
    assert ledger_totals_compact() > 0  # the open and later periods' deltas
    assert ledger_totals_compact() == 0
    assert rows == assert_totals_match()


def test_m6_three_currencies_in_minor_units(ledger):
    """M6: 1000 over three months by cumulative rounding, in each currency apart: USD and EUR
    333.33 + 333.34 + 333.33, JPY in whole yen 333 + 334 + 333, stored with two decimals
    like the others, so amount_minor is ×100 in every currency (33300 for 333 yen)."""
    ledger.cmd("revenue_period", "open", "202601")
    quarter = {"start": "2026-01-01", "end": "2026-03-31"}
    rows = [
        so(f"{cur}-1", 1000, curr=cur, **quarter).replace(",USD,", f",{cur},")
        for cur in ("USD", "EUR", "JPY")
    ]
    book(ledger, *rows)
    rows = assert_totals_match()
    expected = {"USD": [33333, 33334, 33333], "EUR": [33333, 33334, 33333]}
    expected["JPY"] = [33300, 33400, 33300]
    for cur, amounts in expected.items():
        assert [total(rows, currency=cur, period=p) for p in (202601, 202602, 202603)] == amounts


# --- a random day of the collection bench ------------------------------------------------------


def test_m6_a_random_day_of_the_collection_bench(ledger, tmp_path):
    """M6 after 300 lines of bench/collect_data.py's full mix (SO, INV, RORD, CM-RO, CM-R,
    USD and EUR, contra on), then a close and a whole-ledger compaction."""
    path = tmp_path / "day.csv"
    made = generate(path, 300, seed=7, mix="full")
    assert made["counts"]["RORD"] and made["counts"]["CM-RO"] and made["counts"]["CM-R"]
    first = made["earliest"].year * 100 + made["earliest"].month
    ledger.cmd("revenue_period", "open", str(first))
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "Y")
    ledger.cmd("revenue_import", str(path))
    assert ledger.collect().strip().endswith("stopped 0, waiting 0")
    rows = assert_totals_match()
    assert {r.currency for r in rows} == {"USD", "EUR"}
    assert {r.source_type for r in rows} >= {"SO", "INV", "RORD", "CM-RO", "CM-R"}
    assert sum(r.entries for r in rows) == JournalEntry.objects.count()
    contracts = {r.contract_id for r in ledger_totals(by_contract=True)}
    assert contracts == set(RevenueContract.objects.values_list("id", flat=True))
    ledger.cmd("revenue_period", "close")
    assert ledger_totals_compact() > 0
    assert one_row_per_key()
    assert assert_totals_match() == rows


# --- the nightly job ---------------------------------------------------------------------------


def test_m6_the_nightly_compaction_is_a_beat_job(ledger):
    """M6: migration 0010 seeds a nightly beat job calling the compaction task."""
    task = PeriodicTask.objects.get(name="Revenue: compact the ledger totals")
    assert task.task == "revenue.tasks.ledger_totals_compact_task" in celery_app.tasks
    assert (task.crontab.hour, task.crontab.minute, task.enabled) == ("3", "30", True)
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200))
    book(ledger, so("L-1", 1300))  # +100 over the same 12 periods
    assert ledger_totals_compact_task.apply().get() == 12  # 24 deltas of 12 keys
    assert ledger_totals_compact_task.apply().get() == 0
    assert_totals_match()


# --- PostgreSQL: parallel writers do not wait for each other ------------------------------------


def _entries(line: SoLine, n: int) -> list[list]:
    return [
        [202601 + i % 12, line.pk, "SO", "RELEASE", CL, REV, Decimal("10.01") * (i + 1), "USD",
         False, None]
        for i in range(n)
    ]  # fmt: skip


def _open_writer(line: SoLine, started: threading.Event, release: threading.Event, errors):
    """A thread that COPYs entries of ``line`` and keeps its transaction open until told."""

    def run():
        try:
            with transaction.atomic():
                bulk_insert(
                    table=BookedEntry._meta.db_table,
                    columns=JOURNAL_COLUMNS,
                    rows=_entries(line, 24),
                )
                started.set()
                assert release.wait(30)
        except Exception as error:  # reported by the test
            errors.append(error)
            started.set()
        finally:
            connection.close()

    return threading.Thread(target=run)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (two connections at once)"
)
def test_m6_two_writers_of_different_contracts_do_not_block_each_other(ledger):
    """M6, I10: transaction A COPYs entries of contract 1 and stays open; transaction B
    COPYs entries of contract 2 and commits within a 2 s lock timeout, so does a third
    with entries of A's very keys (deltas: no row is shared), and a compaction runs beside
    A as well: none waits for A. After A commits, the totals equal the journal (COPY fired
    the statement triggers of all three)."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("A-1", 1200), so("B-1", 2400))
    line_a, line_b = SoLine.objects.get(so_line_id="A-1"), SoLine.objects.get(so_line_id="B-1")
    assert line_a.contract_id != line_b.contract_id
    started, release, errors = threading.Event(), threading.Event(), []
    writer = _open_writer(line_a, started, release, errors)
    writer.start()
    try:
        assert started.wait(30) and not errors
        began = time.monotonic()
        for line in (line_b, line_a):  # another contract, then A's own keys: no hot row
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
                bulk_insert(
                    table=BookedEntry._meta.db_table,
                    columns=JOURNAL_COLUMNS,
                    rows=_entries(line, 24),
                )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            ledger_totals_compact()
        assert time.monotonic() - began < 2
        assert writer.is_alive()  # A is still open: B and the compaction did not wait for it
    finally:
        release.set()
        writer.join(30)
    assert not errors
    rows = assert_totals_match()
    assert total(rows, period=202601, entry_type="RELEASE") == 10000 + 20000 + 3 * (1001 + 13013)
    # one compacted row (the collection's and the third writer's) and A's, unseen by it
    assert LedgerTotal.objects.filter(contract_id=line_a.contract_id, period=202601).count() == 2


# --- PostgreSQL: the triggers' cost follows the statement, not the SO line table -----------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigger functions")
def test_m6_the_triggers_read_the_so_lines_of_the_statement_not_the_whole_table(ledger):
    """M6 at volume (migration 0013): a worker's first batch meets a small SO line table;
    its later batches must not read the whole table, however large it has grown since, on
    INSERT, UPDATE or DELETE of entries. Before 0013 PL/pgSQL kept the first plan (a scan
    of revenue_soline per statement): 1,000,000 lines took 14.6 times 100,000."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("S-1", 1200))
    line = SoLine.objects.get(so_line_id="S-1")
    table = BookedEntry._meta.db_table
    bulk_insert(table=table, columns=JOURNAL_COLUMNS, rows=_entries(line, 24))  # planned small
    solines_copy(line, 20000)
    assert SoLine.objects.count() == 20001
    before = soline_scanned()
    bulk_insert(table=table, columns=JOURNAL_COLUMNS, rows=_entries(line, 24))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET amount = amount + 1 WHERE line_id = %s", [line.pk])
        cursor.execute(f"DELETE FROM {table} WHERE line_id = %s AND period = 202602", [line.pk])
    scanned = soline_scanned() - before
    assert scanned < 1000, f"the triggers scanned {scanned} rows of revenue_soline"
    rows = assert_totals_match()
    # February keeps only the SO's own release: an entry of its schedule row, not stored
    assert total(rows, period=202602) == 10000 and total(rows, period=202601) > 0
