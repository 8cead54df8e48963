"""I9: a real collection worker SIGKILLed at random moments, again and again.

20,000 staged lines of every type (SO, INV, RORD, CM-RO, CM-R: ``bench/collect_data.py``'s
``full`` mix) are collected by a Celery worker process on a queue of its own. The worker
is killed with SIGKILL (no warm shutdown, no ``finally``) at seeded random moments, started
again, and the work is driven on the way production does it: beat queues a new run (which
marks the killed one FAILED, "worker lost", and takes over its lines), or the killed run
is delivered again (acks-late redelivery: its lease is free, it takes itself over), and
*Collect now* finishes. Whatever the moments, every line is collected exactly once,
each with all its effects, the journal balances and every schedule adds up to its line.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from bench.collect_data import generate
from revenue.models import CollectionRun, InboundBatch, InboundLine
from revenue.services.collection import collection_pending_count, collection_request
from revenue.services.inbound import inbound_file_stage
from revenue.services.periods import period_open
from revenue.services.settings import profile_set
from revenue.services.splits import period_of
from revenue.tasks import collect_inbound_task
from tests.faults.carve_checks import carve_counts, carve_problems
from tests.faults.ledger_checks import collection_problems
from tests.faults.workers import needs_postgres_and_redis

pytestmark = needs_postgres_and_redis

LINES = 20_000
SEED = 20260907
KILLS = 5  # one in each phase
BATCH = 250
# carve.md: this share of the multi-line contracts carry SSPs (so a carve, booked by the
# batches the kills cut), the others none
SSP_SHARE = 0.5
RUN_TIMEOUT = 120  # seconds for one run to finish once the worker is left alone
FINISHED = (CollectionRun.Status.SUCCEEDED, CollectionRun.Status.FAILED)


def stage(tmp_path) -> dict:
    """The staged day: generated, staged through the import path, period and profile set
    as ``bench/collect.py`` prepares them."""
    path = tmp_path / "inbound.csv"
    made = generate(path, LINES, SEED, "full", ssp_share=SSP_SHARE)
    assert made["ssp_contracts"], "carve.md: some contracts carry SSPs"
    with path.open("rb") as stream:
        batch = inbound_file_stage(
            stream=stream, filename=path.name, source=InboundBatch.SourceKind.COMMAND
        )
    assert (batch.line_count, batch.error_count) == (LINES, 0)
    assert all(made["counts"][kind] for kind in ("SO", "INV", "RORD", "CM-RO", "CM-R"))
    period_open(period=period_of(made["earliest"]), actor=None)
    profile_set(name="CREATE_RORD_CONTRA_ENTRY", value="Y", actor=None)
    profile_set(name="COLLECTION_BATCH_SIZE", value=str(BATCH), actor=None)
    return made


def run_state(pk: int) -> tuple[str, int]:
    return CollectionRun.objects.values_list("status", "processed").get(pk=pk)


def working_since(pk: int, since) -> bool:
    """The run was begun (or resumed) by a worker after ``since``."""
    return CollectionRun.objects.filter(
        pk=pk, status=CollectionRun.Status.RUNNING, heartbeat_at__gte=since
    ).exists()


def newest_run_after(pk: int) -> int | None:
    return (
        CollectionRun.objects.filter(pk__gt=pk).order_by("pk").values_list("pk", flat=True).first()
    )


def age_heartbeats(*pks: int) -> None:
    """Let CONTRA_RUN_STALE_SECONDS pass for these runs (what a minute or more of wall
    clock would do). With a lease that tells (PostgreSQL), the heartbeat no longer decides:
    this only shows that an old heartbeat changes nothing."""
    old = timezone.now() - timedelta(seconds=settings.CONTRA_RUN_STALE_SECONDS + 60)
    CollectionRun.objects.filter(pk__in=pks, status=CollectionRun.Status.RUNNING).update(
        heartbeat_at=old
    )


def collected() -> int:
    return LINES - InboundLine.objects.filter(status="NEW").count()


def stretches(counts: dict) -> list[tuple[int, int]]:
    """Where each phase's lines are collected, in collected-line counts (I7: SO, INV,
    CM-R, RORD, CM-RO); the last stops two batches short, so that the run is still at
    work when it is killed."""
    bounds, low = [], 0
    for kind in ("SO", "INV", "CM-R", "RORD", "CM-RO"):
        bounds.append((low, min(low + counts[kind], LINES - 2 * BATCH)))
        low += counts[kind]
    return bounds


def kill_during(worker, rng: random.Random, run: int, sent, stretch) -> dict:
    """Wait until a worker took ``run`` (its task was ``sent`` then), then SIGKILL it at a
    random moment of ``stretch`` (a phase)."""
    worker.wait_until(lambda: working_since(run, sent), timeout=60, what=f"run {run} to start")
    kill = worker.kill_at_random_moment(rng, done=collected, low=stretch[0], high=stretch[1])
    return {"run": run, "status": run_state(run)[0], **kill}


def test_i9_worker_killed_at_random_moments_every_line_collected_exactly_once(
    killable_worker, tmp_path
):
    """I9, I6, I7, S3, S6: a SIGKILL in each phase of the collection of 20,000 lines,
    re-driven by beat or redelivery each time, then *Collect now*: every line collected
    exactly once with all its effects, the journal balanced, every schedule whole."""
    worker = killable_worker
    made = stage(tmp_path)
    rng = random.Random(SEED)
    kills = []

    worker.start()
    sent = timezone.now()
    run = collection_request(actor=None).pk  # *Collect now*
    for attempt, stretch in enumerate(stretches(made["counts"])):
        kills.append(kill_during(worker, rng, run, sent, stretch))
        worker.start()
        if kills[-1]["status"] != CollectionRun.Status.RUNNING:
            break  # the run finished before the kill (only the last stretch can: see below)
        sent = timezone.now()
        if attempt % 2 == 0:  # beat, 5 minutes later: a new run of its own
            last = CollectionRun.objects.order_by("-pk").values_list("pk", flat=True)[0]
            collect_inbound_task.delay()
            worker.wait_until(
                lambda last=last: newest_run_after(last) is not None,
                timeout=60,
                what="beat's run to be recorded",
            )
            run = newest_run_after(last)
        else:  # the killed run's message delivered again (its lease is free)
            age_heartbeats(run)
            collect_inbound_task.delay(run_id=run)

    worker.wait_until(
        lambda: run_state(run)[0] in FINISHED, timeout=RUN_TIMEOUT, what=f"run {run} to finish"
    )
    # a run killed and never delivered again stays RUNNING until a run (or beat's tick)
    # finds its lease free: *Collect now* marks it FAILED ("worker lost") and collects the
    # rest
    for _ in range(3):
        age_heartbeats(*CollectionRun.objects.filter(status="RUNNING").values_list("pk", flat=True))
        run = collection_request(actor=None).pk
        worker.wait_until(
            lambda run=run: run_state(run)[0] in FINISHED, timeout=RUN_TIMEOUT, what=f"run {run}"
        )
        if not collection_pending_count():
            break

    runs = list(CollectionRun.objects.order_by("pk"))
    report = f"kills: {kills}\nruns: {[(r.pk, r.trigger, r.status, r.collected) for r in runs]}"
    print(report)
    assert collection_problems() == [], report
    # carve.md K2–K4, K10: every carve row once, with its ADJ pair, on its target
    assert carve_problems() == [], report
    carve = carve_counts()
    print(f"carve: {carve}")
    assert carve["nonzero"] > 0, carve
    assert {r.status for r in runs} <= {"SUCCEEDED", "FAILED"}, report
    lost = [r for r in runs if r.status == "FAILED"]
    assert all(r.message.startswith("Worker lost: ") for r in lost), report
    assert {r.pk for r in lost} <= {k["run"] for k in kills}, report
    assert CollectionRun.objects.aggregate(n=Sum("collected"))["n"] == LINES, report  # once each
    assert sum(r.stopped + r.waiting for r in runs) == 0, report
    # the kills did interrupt work: committed batches of killed runs stayed collected
    killed = {k["run"] for k in kills}
    assert InboundLine.objects.filter(run__in=killed).exists(), report
    # a later phase always follows the first four stretches; the last ends two batches
    # before the end, which a machine would have to finish faster than a kill to miss it
    assert all(k["status"] == "RUNNING" for k in kills[:-1]), report
    assert all(k["done"] < LINES for k in kills[:-1]), report
    assert worker.kills == KILLS and worker.starts == KILLS + 1
