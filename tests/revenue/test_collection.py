"""I6–I10: collection runs, order of types, exactly-once, kills, locks, the Celery task."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.db.models import Count

from revenue.models import (
    BookedEntry,
    CarveEntry,
    CarveVersion,
    CollectionRun,
    InboundLine,
    JournalEntry,
    RevenueContract,
    ScheduleRow,
    SoLine,
)
from revenue.services import collection as collection_service
from revenue.services.collection import (
    CollectionKilled,
    collection_collect,
    collection_pending_count,
)
from revenue.tasks import collect_inbound_task
from tests.revenue.conftest import D
from tests.revenue.scans import soline_scanned, solines_copy

COLS = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,INV_NUM,INV_LINE_ID,INV_DATE,ORD_QTY,INV_QTY,"
    "EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,REV_METHOD"
)


def rows(n: int, contracts: int = 10, with_invoices: bool = True) -> str:
    """n SO lines over 12 months in ``contracts`` contracts; invoices listed first on purpose."""
    so = [
        f"SO,C{i % contracts},C{i % contracts}-{i},2026-01-01,,,,1,,{100 + i},{100 + i},USD,USD,"
        "2026-01-01,2026-12-31,RATABLE_MONTHLY"
        for i in range(n)
    ]
    inv = [
        f"INV,C{i % contracts},C{i % contracts}-{i},,IV,IV-{i},2026-01-02,1,1,{100 + i},{100 + i},"
        "USD,USD,,,"
        for i in range(0, n, 3)
    ]
    return COLS + "\n" + "\n".join((inv if with_invoices else []) + so)


def ledger_fingerprint():
    return (
        sorted(ScheduleRow.objects.values_list("line__so_line_id", "period", "source", "amount")),
        sorted(
            JournalEntry.objects.values_list(
                "line__so_line_id", "period", "entry_type", "dr_account", "amount"
            )
        ),
    )


def test_i7_so_lines_first_then_invoices_whatever_the_file_order(ledger):
    """I7: the INVs are listed before their SO lines and are still collected in one run."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(9))
    assert ledger.collect().strip().endswith("collected 12, stopped 0, waiting 0")


def test_i8_a_run_is_recorded_with_counts_and_status(ledger):
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(6) + "\nINV,C0,NOPE-1,,IV,IV-X,2026-01-02,1,1,5,5,USD,USD,,,")
    ledger.collect()
    run = CollectionRun.objects.get()
    assert (run.trigger, run.status, run.total, run.processed) == ("COMMAND", "SUCCEEDED", 9, 9)
    assert (run.collected, run.stopped, run.waiting) == (8, 0, 1)
    assert run.started_at <= run.finished_at and run.percent == 100 and run.period == 202601


def test_i9_a_run_killed_half_way_leaves_lines_whole_and_the_rerun_collects_each_once(
    ledger, monkeypatch
):
    """I9: an exception after two batches (a killed worker) keeps every line either fully
    collected or untouched; the next run collects the rest exactly once."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(30))
    real = collection_service._collect_batch
    calls = {"n": 0}

    def dying(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise CollectionKilled("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(collection_service, "_collect_batch", dying)
    with pytest.raises(CollectionKilled):
        collection_collect(trigger="COMMAND", batch_size=7)
    collected = InboundLine.objects.filter(status="COLLECTED")
    assert collected.count() == 14  # two whole batches, nothing of the third
    assert ScheduleRow.objects.values("line").distinct().count() == 14
    assert not ScheduleRow.objects.exclude(line__transactions__status="COLLECTED").exists()

    monkeypatch.setattr(collection_service, "_collect_batch", real)
    run = collection_collect(trigger="COMMAND", batch_size=7)
    assert (run.collected, run.stopped) == (40 - 14, 0)
    assert not InboundLine.objects.exclude(status="COLLECTED").exists()
    per_line = ScheduleRow.objects.values("line").annotate(n=Count("id"))
    assert {row["n"] for row in per_line} == {12, 36}  # 12 releases (+ 2 × 12 if billed)
    initial = JournalEntry.objects.filter(entry_type="INITIAL")
    assert initial.count() == 10 and initial.values("inbound_line").distinct().count() == 10

    # the same lines collected in one go give the same ledger
    fingerprint = ledger_fingerprint()
    InboundLine.objects.update(status="NEW", line=None)
    CarveEntry.objects.all().delete()
    CarveVersion.objects.all().delete()
    BookedEntry.objects.all().delete()
    ScheduleRow.objects.all().delete()
    from revenue.models import SoLine

    SoLine.objects.all().delete()
    collection_collect(trigger="COMMAND", batch_size=1000)
    assert ledger_fingerprint() == fingerprint


def test_a_line_that_breaks_the_code_is_stopped_alone_and_the_run_goes_on(ledger, monkeypatch):
    """A job never dies on one bad line: an unexpected error stops that line (INB-999)."""
    from revenue.models.choices import TranType
    from revenue.services.handlers import HANDLERS

    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(5, with_invoices=False))
    real = HANDLERS[TranType.SO]

    def fragile(batch, line):
        if line.so_line_id == "C2-2":
            raise ValueError("boom")
        return real(batch, line)

    monkeypatch.setitem(HANDLERS, TranType.SO, fragile)
    run = collection_collect(trigger="COMMAND")
    assert (run.status, run.collected, run.stopped) == ("SUCCEEDED", 4, 1)
    broken = InboundLine.objects.get(so_line_id="C2-2")
    assert broken.error_codes == "INB-999" and "ValueError: boom" in broken.errors[0]["message"]


def test_i7_i10_a_run_goes_over_the_phases_again_for_lines_left_for_it(ledger, monkeypatch):
    """I7, I10: lines another run left behind (an invoice it skipped, a RORD it stopped as
    waiting for that invoice) or staged while the run was in its last phase are collected
    by the run that finishes last: it goes over the phases again while its last pass
    collected something and lines are left. Before, a run whose own pass skipped and
    stopped nothing ended there, and the lines waited for the next run."""
    from revenue.models.choices import COLLECTION_PHASES

    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(3, with_invoices=False))
    real, late = collection_service._phase_step, []

    def step(*, phase, **kwargs):
        if phase == COLLECTION_PHASES[-1] and not late:
            # as another run would leave them, during this run's last phase: an invoice
            # it skipped and a RORD of the same SO line stopped as waiting for it (I7)
            late.append(
                ledger.stage(COLS + "\nINV,C1,C1-1,,IV,IV-L,2026-01-02,1,1,101,101,USD,USD,,,")
            )
            ledger.stage(
                "TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,"
                "CURR,F_CUR,START_DATE,END_DATE,REV_METHOD\n"
                "RORD,C1,C1-1-R,C1-1,2026-06-01,1,-10,-10,USD,USD,2026-07-01,2026-12-31,RATABLE_MONTHLY"
            )
            rord = InboundLine.objects.get(tran_type="RORD")
            rord.status, rord.waiting, rord.error_codes = "ERROR", True, "INB-004"
            rord.save(update_fields=["status", "waiting", "error_codes"])
        return real(phase=phase, **kwargs)

    monkeypatch.setattr(collection_service, "_phase_step", step)
    run = collection_collect(trigger="COMMAND")
    assert late and (run.status, run.collected, run.waiting) == ("SUCCEEDED", 5, 0)
    assert not InboundLine.objects.exclude(status="COLLECTED").exists()


def test_s11_an_so_update_in_the_batch_that_created_the_line_books_as_across_batches(
    ledger, monkeypatch
):
    """S6–S8, S11: a new line's release schedule is written set-based with the batch's
    other new lines; an SO update of the line later in the same batch writes it first and
    books its difference against it: the same rows as the SO and its update collected in
    two runs (and a second new line in the batch keeps its own schedule)."""
    so = (
        "SO,C1,C1-1,2026-01-01,,,,1,,100,100,USD,USD,2026-01-01,2026-12-31,RATABLE_MONTHLY\n"
        "SO,C1,C1-2,2026-01-01,,,,1,,55.55,55.55,USD,USD,2026-02-10,2026-08-20,RATABLE_DAILY"
    )
    update = "SO,C1,C1-1,2026-01-01,,,,1,,130.01,130.01,USD,USD,2026-03-01,2027-02-28,RATABLE_DAILY"
    from revenue.services.handlers import context

    written, real = [], context.releases_insert

    def spy(*, releases, open_period):
        written.append(len(releases))
        return real(releases=releases, open_period=open_period)

    monkeypatch.setattr(context, "releases_insert", spy)
    ledger.cmd("revenue_period", "open", "202603")
    ledger.stage(COLS + "\n" + so)
    ledger.stage(COLS + "\n" + update)  # another file: one collection batch takes both
    assert ledger.collect().strip().endswith("collected 3, stopped 0, waiting 0")
    assert written == [2]  # both new lines, before the update; nothing left at the end
    together = ledger_fingerprint()
    CarveEntry.objects.all().delete()
    CarveVersion.objects.all().delete()
    BookedEntry.objects.all().delete()
    ScheduleRow.objects.all().delete()
    from revenue.models import SoLine

    InboundLine.objects.all().delete()
    SoLine.objects.all().delete()
    ledger.stage(COLS + "\n" + so)
    ledger.collect()
    ledger.stage(COLS + "\n" + update)
    ledger.collect()
    assert ledger_fingerprint() == together
    assert sum(row[3] for row in together[0] if row[0] == "C1-1") == D("130.01")


def test_i6_beat_task_records_a_run_only_when_there_is_work(ledger):
    """I6: the beat job runs the same service; with nothing staged it records nothing."""
    ledger.cmd("revenue_period", "open", "202601")
    assert collect_inbound_task.apply().get()["status"] == "nothing to collect"
    assert not CollectionRun.objects.exists()
    ledger.stage(rows(3, with_invoices=False))
    result = collect_inbound_task.apply().get()
    assert result["status"] == "SUCCEEDED" and result["collected"] == 3
    assert CollectionRun.objects.get().trigger == "BEAT"
    # a finished run handed to the task again does nothing (idempotent, safe to retry)
    again = collect_inbound_task.apply(kwargs={"run_id": result["run"]}).get()
    assert again["collected"] == 3 and CollectionRun.objects.count() == 1


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_i6_collect_now_through_a_real_worker(embedded_worker, tmp_path, admin_user):
    """I6: *Collect now* queues a run; a real Celery worker on the broker collects it."""
    from tests.revenue.conftest import Ledger

    ledger = Ledger(tmp_path)
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(12))
    run = collection_service.collection_request(actor=admin_user)
    for _ in range(300):
        run.refresh_from_db()
        if not run.is_active:
            break
        threading.Event().wait(0.1)
    assert run.status == "SUCCEEDED" and run.collected == 16, run.message
    assert run.task_id


pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks (CI runs it)"
)


@pytest.mark.postgres
@pg_only
@pytest.mark.django_db(transaction=True)
def test_i10_a_contract_locked_by_another_run_is_left_for_later(tmp_path):
    """I10: while another transaction holds contract C0, a run skips C0's lines and
    collects the others; the next run collects C0."""
    from tests.revenue.conftest import Ledger

    ledger = Ledger(tmp_path)
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(10, contracts=2, with_invoices=False))
    RevenueContract.objects.create(rc_key="C0")
    holding, release = threading.Event(), threading.Event()

    def hold_contract():
        try:
            with transaction.atomic():
                RevenueContract.objects.select_for_update().get(rc_key="C0")
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_contract)
    holder.start()
    holding.wait(10)
    try:
        run = collection_collect(trigger="COMMAND")
    finally:
        release.set()
        holder.join()
    assert (run.collected, run.skipped) == (5, 5)
    assert set(InboundLine.objects.filter(status="NEW").values_list("so_num", flat=True)) == {"C0"}
    assert collection_collect(trigger="COMMAND").collected == 5


@pytest.mark.postgres
@pg_only
@pytest.mark.django_db(transaction=True)
def test_i10_parallel_runs_share_the_work_and_collect_each_line_once(tmp_path):
    """I10: two runs at once on different workers: every line collected exactly once."""
    from tests.revenue.conftest import Ledger

    ledger = Ledger(tmp_path)
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(200, contracts=40, with_invoices=False))
    barrier = threading.Barrier(2)
    runs = []

    def work():
        try:
            barrier.wait()
            runs.append(collection_collect(trigger="API", batch_size=10))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(run.collected for run in runs) <= 200 and all(r.status == "SUCCEEDED" for r in runs)
    leftover = InboundLine.objects.filter(status="NEW").count()
    if leftover:  # lines skipped because the other run held their contract at that moment
        collection_collect(trigger="COMMAND")
    assert InboundLine.objects.filter(status="COLLECTED").count() == 200
    assert ScheduleRow.objects.count() == 200 * 12
    assert JournalEntry.objects.filter(period=202601).count() == 200
    assert ledger.nets()[(202601, "REVENUE")] == -sum(D(100 + i) for i in range(200)) / 12


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_i3_retrying_stopped_lines_probes_their_so_lines_instead_of_reading_them_all(ledger):
    """I3 / V12 at volume: which waiting lines are due for a retry is asked at every pass of
    a run, in the count and in the UPDATE that puts them back. Their SO lines are looked up
    one by one: with the SO line list as ``IN (SELECT …)`` PostgreSQL walked the whole list
    for each waiting line once it outgrew work_mem (31 s a pass at 600,000 SO lines, two
    workers and 1,300 lines waiting)."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(1, with_invoices=False))
    ledger.collect()
    line = SoLine.objects.get()
    # invoices of SO lines not collected: five arrive below, forty never do
    invoices = [
        f"INV,C0,{ref},,IV,IV-{n},2026-01-02,1,1,100,100,USD,USD,,,"
        for n, ref in enumerate([f"{line.so_line_id}-{g}" for g in range(1, 6)]
        + [f"NONE-{g}" for g in range(40)])
    ]  # fmt: skip
    ledger.stage(COLS + "\n" + "\n".join(invoices))
    ledger.collect()
    assert InboundLine.objects.filter(status="ERROR", waiting=True).count() == 45
    assert collection_pending_count() == 0
    solines_copy(line, 20000)  # among them the five
    before = soline_scanned()
    assert collection_pending_count() == 5
    scanned = soline_scanned() - before
    assert scanned < 1000, f"the retry scanned {scanned} rows of revenue_soline"
