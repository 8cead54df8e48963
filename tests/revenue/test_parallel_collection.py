"""I9, I10: two Celery workers collecting at once (PostgreSQL row locks, SKIP LOCKED).

Many contracts, each with SO lines, invoices, a RORD and a CM-RO, are staged once; two
collection runs are queued (*Collect now* twice) and taken by two Celery worker processes
on a queue of their own. Both must do part of the work, every line must be collected
exactly once, and the ledger must be the one a single run of the same lines books: a run
that finds a contract locked leaves its line for later, so a later-phase line of the same
SO line must wait for it (I7 across runs).
"""

import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum

from config.celery import app as celery_app
from core.services import sum_exact
from revenue.models import (
    BookedEntry,
    CarveEntry,
    CarveVersion,
    CollectionRun,
    ContraEntry,
    InboundLine,
    JournalEntry,
    RevenueContract,
    ScheduleRow,
    SoLine,
)
from revenue.selectors import so_lines_with_amounts
from revenue.services.collection import collection_collect, collection_request
from revenue.services.settings import registry_seed
from tests.revenue.conftest import Ledger
from tests.revenue.test_reductions import HEADER, cm_ro, inv, rord, so

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.broker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks (CI runs it)"
    ),
    pytest.mark.skipif(
        settings.CELERY_BROKER_URL.startswith("filesystem://"),
        reason="two worker processes answer pings through a networked broker (Redis)",
    ),
]

CONTRACTS = 60
BATCH = 3
Q2 = {"start": "2026-04-01", "end": "2026-06-30"}
Q4 = {"start": "2026-10-01", "end": "2026-12-31"}


def staged_rows() -> list[str]:
    """Per contract Pn: two SO lines with SSP, both invoiced, a RORD on one of them (the
    first or the second, so that a contract split over two runs' batches can leave either
    invoice behind) and, for two contracts in three, its CM-RO. Listed last phase first on
    purpose (I7)."""
    sos, invoices, rords, credits = [], [], [], []
    for n in range(CONTRACTS):
        first, second = f"P{n}-1", f"P{n}-2"
        sos += [
            so(first, 1200 + n, qty=12, ssp_pct=100),
            so(second, 600, elp=900, start="2026-01-10", end="2026-06-30", ssp_price=10),
        ]
        invoices += [inv(first, f"I{n}-1", 1200 + n, qty=12), inv(second, f"I{n}-2", 400)]
        reduced, dates = (first, Q4) if n % 2 else (second, Q2)
        rords.append(rord(f"R{n}-1", reduced, -300, **dates))
        if n % 3 != 2:
            credits.append(cm_ro(f"R{n}-1", reduced, f"C{n}-1", -(50 + n)))
    return credits + rords + invoices + sos


@pytest.fixture
def two_workers(transactional_db, tmp_path):
    """Two Celery worker processes on the real broker, on a queue of their own, using the
    test database. (Two embedded worker threads in one process share kombu's event loop
    and take turns instead of working at once.)"""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["CELERY_TASK_ALWAYS_EAGER"] = "0"
    names = [f"{which}-{queue}@contra" for which in ("one", "two")]
    logs = [tmp_path / f"{which}.log" for which in ("one", "two")]
    workers = []
    for name, log in zip(names, logs, strict=True):
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo"]
        command += ["-Q", queue, "-n", name, "--without-mingle", "--without-gossip"]
        with log.open("w") as out:
            workers.append(
                subprocess.Popen(
                    [*command, "--loglevel", "WARNING"],
                    cwd=settings.BASE_DIR,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    celery_app.amqp.queues.select_add(queue)
    try:
        deadline = time.monotonic() + 60
        answered: set[str] = set()
        while answered != set(names):
            assert time.monotonic() < deadline, "workers did not start: " + " | ".join(
                log.read_text()[-2000:] for log in logs
            )
            assert all(w.poll() is None for w in workers), " | ".join(
                log.read_text()[-2000:] for log in logs
            )
            for reply in celery_app.control.ping(destination=names, timeout=0.5):
                answered |= set(reply)
        yield workers
    finally:
        celery_app.conf.task_default_queue = previous
        for worker in workers:
            worker.terminate()  # warm shutdown
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def fingerprint() -> dict:
    """The ledger, without ids: what a run books, whatever order it booked it in. The carve
    (carve.md K4) is compared per line and period: a contract whose lines two batches
    collected books its carve in two steps (each a difference against the target of the
    lines known then), one batch in one; the nets are the same."""
    journal = Counter(
        JournalEntry.objects.exclude(source_type="ADJ").values_list(
            "line__so_line_id",
            "period",
            "source_type",
            "entry_type",
            "dr_account",
            "cr_account",
            "amount",
            "posted",
            "inbound_line__row_number",
        )
    )
    schedule = {
        (line, period, source): sum_exact(total)
        for line, period, source, total in ScheduleRow.objects.values_list(
            "line__so_line_id", "period", "source"
        )
        .annotate(total=Sum("amount"))
        .order_by()
        if sum_exact(total)
    }
    lines = sorted(
        SoLine.objects.values_list(
            "so_line_id",
            "contract__rc_key",
            "rord_sll_prc",
            "return_flag",
            "contra_balance",
            "ext_ssp",
            "allocated",
            "carve",
        )
    )
    contra = Counter(
        ContraEntry.objects.values_list(
            "line__so_line_id", "period", "kind", "amount", "removed", "reversed"
        )
    )
    carve = {
        (line, period): sum_exact(total)
        for line, period, total in CarveEntry.objects.values_list("line__so_line_id", "period")
        .annotate(total=Sum("amount"))
        .order_by()
        if sum_exact(total)
    }
    adjustment = {
        (line, period): sum_exact(total)
        for line, period, total in JournalEntry.objects.filter(
            source_type="ADJ", cr_account="ADJ_REVENUE"
        )
        .values_list("line__so_line_id", "period")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    for line, period, total in (
        JournalEntry.objects.filter(source_type="ADJ", dr_account="ADJ_REVENUE")
        .values_list("line__so_line_id", "period")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        adjustment[(line, period)] = adjustment.get((line, period), 0) - sum_exact(total)
    assert {k: v for k, v in adjustment.items() if v} == carve  # K3: each row its ADJ pair
    return {
        "journal": journal,
        "schedule": schedule,
        "lines": lines,
        "contra": contra,
        "carve": carve,
    }


def ledger_reset() -> None:
    """Back to the staged state: the same lines NEW, no ledger."""
    ContraEntry.objects.exclude(reverses=None).delete()
    ContraEntry.objects.all().delete()
    CarveEntry.objects.all().delete()
    CarveVersion.objects.all().delete()
    BookedEntry.objects.all().delete()
    ScheduleRow.objects.all().delete()
    InboundLine.objects.update(
        status="NEW", line=None, errors=[], error_codes="", waiting=False, retry=False, run=None
    )
    SoLine.objects.all().delete()
    RevenueContract.objects.all().delete()


def wait_for(runs: list[CollectionRun], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in runs:
            run.refresh_from_db()
        if not any(run.is_active for run in runs):
            return
        threading.Event().wait(0.2)
    raise AssertionError(f"runs still active: {[(r.pk, r.status) for r in runs]}")


def test_i10_two_workers_collect_different_contracts_at_once(two_workers, tmp_path):
    """I9, I10: two runs on two workers, batches of 3 lines: both collect, no line is
    collected twice, the journal balances in every period, every schedule adds up to its
    line's net sell price, and the ledger is the one a single run books."""
    registry_seed()  # an earlier transactional test's flush emptied the migration's seed
    ledger = Ledger(tmp_path)
    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "Y")
    ledger.cmd("revenue_profile", "COLLECTION_BATCH_SIZE", str(BATCH))
    ledger.stage(HEADER + "\n" + "\n".join(staged_rows()))
    total = InboundLine.objects.count()
    credits = sum(1 for n in range(CONTRACTS) if n % 3 != 2)
    assert total == CONTRACTS * 5 + credits

    runs = [collection_request(actor=None), collection_request(actor=None)]
    wait_for(runs)
    assert [run.status for run in runs] == ["SUCCEEDED", "SUCCEEDED"], [r.message for r in runs]
    assert all(run.collected > 0 for run in runs), [run.collected for run in runs]
    first, second = runs
    assert first.started_at < second.finished_at and second.started_at < first.finished_at
    # what a run skipped (its contract locked by the other run) or stopped as waiting (an
    # earlier-phase line of its SO line not collected yet, I7) the next run collects
    rest = collection_collect(trigger="COMMAND")
    assert (rest.stopped, rest.waiting) == (0, 0)
    assert not InboundLine.objects.exclude(status="COLLECTED").exists()
    assert set(InboundLine.objects.values_list("run_id", flat=True)) <= {
        first.pk,
        second.pk,
        rest.pk,
    }
    assert first.collected + second.collected + rest.collected == total  # none twice

    # each billing line booked its initial entry once, each RORD its reversal and contra once
    initial = JournalEntry.objects.filter(entry_type="INITIAL").values("inbound_line")
    assert not initial.annotate(n=Count("id")).filter(n__gt=1).exists()
    assert initial.count() == CONTRACTS * 2 + credits
    reversals = ScheduleRow.objects.filter(kind="REVERSAL").values("inbound_line").distinct()
    assert reversals.count() == CONTRACTS
    assert ContraEntry.objects.filter(kind="CONTRA").count() == CONTRACTS  # billed first (I7)

    balance = defaultdict(Decimal)
    for (period, _account), net in ledger.nets().items():
        balance[period] += net
    assert balance and all(value == 0 for value in balance.values())
    for line in so_lines_with_amounts():
        amounts = sum_exact(line.recognized_amount) + sum_exact(line.deferred_amount)
        assert amounts == line.net_sll_prc, line.so_line_id

    parallel = fingerprint()
    ledger_reset()
    serial = collection_collect(trigger="COMMAND", batch_size=BATCH)
    assert (serial.collected, serial.stopped, serial.waiting) == (total, 0, 0)
    assert fingerprint() == parallel
