"""I9 (issue 18): the lines of a collection run whose worker died are collected within a
minute.

A prefork worker (``--pool=prefork --concurrency=1``) collects 4,000 staged lines of every
type (``bench/collect_data.py``'s ``full`` mix). Mid-run:

- its pool child is SIGKILLed (the main worker process lives on): the message is handed
  back (acks-late, reject_on_worker_lost) and delivered again at once. The redelivered
  task took the killed attempt's fresh heartbeat for a live duplicate and returned, and the
  run stayed *Running* with its lines left for 15 minutes;
- the whole worker is SIGKILLed and started again: nothing is redelivered before the
  broker's visibility timeout (an hour), so beat's minute job marks the run FAILED
  ("worker lost") and a new run takes over its remaining lines.

Either way every line is collected within a minute of the kill, exactly once with all its
effects.
"""

from __future__ import annotations

import time

from django.db.models import Sum
from django.utils import timezone

from bench.collect_data import generate
from revenue.models import CollectionRun, InboundBatch, InboundLine
from revenue.services.collection import collection_pending_count, collection_request
from revenue.services.inbound import inbound_file_stage
from revenue.services.periods import period_open
from revenue.services.settings import profile_set
from revenue.services.splits import period_of
from tests.faults.carve_checks import carve_counts, carve_problems
from tests.faults.ledger_checks import collection_problems
from tests.faults.workers import needs_postgres_and_redis

pytestmark = needs_postgres_and_redis

LINES = 4_000
SEED = 20260918
BATCH = 100
# carve.md: this share of the multi-line contracts carry SSPs (so a carve, booked by the
# batches the kills cut), the others none
SSP_SHARE = 0.5
RESUMED_WITHIN = 60  # seconds from the kill to the run finished, lines and all


def stage(tmp_path) -> None:
    path = tmp_path / "inbound.csv"
    made = generate(path, LINES, SEED, "full", ssp_share=SSP_SHARE)
    assert made["ssp_contracts"], "carve.md: some contracts carry SSPs"
    with path.open("rb") as stream:
        batch = inbound_file_stage(
            stream=stream, filename=path.name, source=InboundBatch.SourceKind.COMMAND
        )
    assert (batch.line_count, batch.error_count) == (LINES, 0)
    period_open(period=period_of(made["earliest"]), actor=None)
    profile_set(name="CREATE_RORD_CONTRA_ENTRY", value="Y", actor=None)
    profile_set(name="COLLECTION_BATCH_SIZE", value=str(BATCH), actor=None)


def collected() -> int:
    return InboundLine.objects.exclude(status="NEW").count()


def status_of(pk: int) -> str:
    return CollectionRun.objects.values_list("status", flat=True).get(pk=pk)


def kill_mid_run(worker, kill) -> tuple[int, int, float]:
    """*Collect now*, then ``kill`` once about a third of the lines are collected. Returns
    the run, the lines collected at the kill and the moment of the kill."""
    run = collection_request(actor=None).pk
    worker.wait_until(lambda: collected() >= LINES // 3, timeout=120, what="a third collected")
    assert status_of(run) == "RUNNING"
    kill()
    return run, collected(), time.monotonic()


def runs_active() -> bool:
    return CollectionRun.objects.filter(status__in=("QUEUED", "RUNNING")).exists()


def wait_resumed(worker, run: int, at_kill: int, killed: float) -> dict:
    """Wait (at most ``RESUMED_WITHIN`` s) until more lines were collected after the kill
    and then every run finished with none left; the timings, in seconds from the kill."""
    timings = {}
    deadline = killed + RESUMED_WITHIN
    while time.monotonic() < deadline:
        if "resumed" not in timings and collected() > at_kill + BATCH:
            timings["resumed"] = round(time.monotonic() - killed, 2)
        if not runs_active() and not collection_pending_count():
            timings["done"] = round(time.monotonic() - killed, 2)
            break
        time.sleep(0.1)
    left = LINES - collected()
    assert "done" in timings, (
        f"{RESUMED_WITHIN}s after the kill run {run} is {status_of(run)} with {left} lines "
        f"left (timings {timings})\n" + worker.tail()
    )
    return timings


def assert_each_line_collected_once(report: str, statuses=("SUCCEEDED",)) -> list:
    runs = list(CollectionRun.objects.order_by("pk"))
    report += f"\nruns: {[(r.pk, r.trigger, r.status, r.collected) for r in runs]}"
    assert collection_problems() == [], report
    # carve.md K2–K4, K10: every carve row once, with its ADJ pair, on its target
    assert carve_problems() == [], report
    carve = carve_counts()
    print(f"carve: {carve}")
    assert carve["nonzero"] > 0, carve
    assert [r.status for r in runs] == list(statuses), report
    assert CollectionRun.objects.aggregate(n=Sum("collected"))["n"] == LINES, report
    assert sum(r.stopped + r.waiting for r in runs) == 0, report
    return runs


def test_i9_pool_child_killed_mid_collection_the_redelivered_task_resumes_the_run(
    killable_worker, tmp_path
):
    """Issue 18: SIGKILL of the prefork pool child mid-run; the redelivered task finds its
    own dead attempt's fresh heartbeat, takes the run over and finishes it in seconds."""
    worker = killable_worker
    worker.pool = "prefork"
    stage(tmp_path)
    worker.start()
    killed_pid = []
    run, at_kill, killed = kill_mid_run(worker, lambda: killed_pid.append(worker.kill_pool_child()))
    timings = wait_resumed(worker, run, at_kill, killed)
    report = f"killed child {killed_pid} at {at_kill} lines; seconds after the kill: {timings}"
    print(report)
    assert worker.alive, "only the pool child was killed"
    assert_each_line_collected_once(report)
    assert CollectionRun.objects.count() == 1, "the killed run itself was resumed"


def test_i9_whole_worker_killed_mid_collection_beat_fails_the_run_and_takes_over(
    killable_worker, tmp_path
):
    """The whole worker SIGKILLed and started again: its message is not delivered again
    before the broker's visibility timeout; beat's minute job (run here at once, as its
    tick would) finds the run's worker lost (its lease free), marks it FAILED and starts a
    run that collects the rest."""
    from revenue.tasks import collection_runs_resume_task

    worker = killable_worker
    worker.pool = "prefork"
    stage(tmp_path)
    worker.start()
    run, at_kill, killed = kill_mid_run(worker, worker.kill)
    worker.start()
    sent = timezone.now()
    collection_runs_resume_task.delay()  # beat's tick, at most a minute later
    timings = wait_resumed(worker, run, at_kill, killed)
    report = f"worker killed at {at_kill} lines; seconds after the kill: {timings}"
    print(report)
    killed_run, taker = assert_each_line_collected_once(report, ("FAILED", "SUCCEEDED"))
    assert killed_run.pk == run and killed_run.finished_at >= sent
    assert killed_run.message.startswith("Worker lost: "), killed_run.message
    assert f"run {taker.pk}, which takes over, collects the rest" in killed_run.message
    assert taker.trigger == "BEAT" and 0 < taker.collected < LINES
