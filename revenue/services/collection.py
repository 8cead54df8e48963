"""I6–I10: data collection. Batches of staged lines, validated and booked set-based.

One batch = one transaction: its lines' effects and their status change commit together
(I9), so a run killed half-way leaves each line collected or untouched and the next run
finishes the rest. A batch locks its staging rows and its revenue contracts with SKIP
LOCKED, so parallel runs share the work and never process one contract at once (I10).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from ..models import CollectionRun, InboundLine, RevenueContract, SoLine
from ..models.choices import COLLECTION_PHASES, LineStatus, TranType
from .handlers import BatchContext
from .periods import period_open_get, period_open_locked
from .processing import STAGED_FIELDS, StagedLine, batch_collect, batch_write
from .refusals import LineRefusal
from .run_lease import RunLease, run_worker_gone
from .settings import profile_get
from .solines import so_lines_read
from .validation import rules_enabled

log = logging.getLogger(__name__)
# I9: a run marked Running is alive while its worker holds its lease (run_lease): a run
# whose lease is free lost its worker, whatever its heartbeat says, and one whose lease a
# live worker holds never did. Where a lease cannot tell (no ``fcntl``), a heartbeat older
# than ``CONTRA_RUN_STALE_SECONDS`` (settings, default 60) says the worker is lost.
# how long a task delivered again waits for the lease of the run it finds Running: the
# server session of a worker killed a moment ago can take that long to end
LEASE_WAIT = 5.0
# INTERRUPTED: runs marked so before I9's "worker lost" became FAILED (kept for old rows)
FINISHED = ("SUCCEEDED", "FAILED", "INTERRUPTED")
# A run goes over the phases again while lines are left for a run (skipped because a
# parallel run held their contract, I10; stopped as waiting for an earlier-phase line
# that was in another run's batch, I7, and due now; staged meanwhile) and its last pass
# collected something, at most this many times in all: parallel runs finish the whole
# day between them, whichever of them finishes last.
PASSES = 5
SYSTEM_ERROR = "INB-999"
NO_RORD = "RPRO-00683"  # V11
# errors that one line's data can cause; anything else (database down…) fails the run
LINE_FAULTS = (IntegrityError, DataError, ArithmeticError, ValueError, KeyError, TypeError)


class CollectionKilled(BaseException):
    """Raised only by tests to simulate a worker killed in the middle of a run."""


class RunTakenOver(Exception):
    """This run was marked finished by another process (its worker taken for lost, I9):
    it stops where it is and leaves the rest to the run that took over."""


def run_stale_after() -> timedelta:
    """I9: how old a Running run's heartbeat may be: ``CONTRA_RUN_STALE_SECONDS`` (default
    60), read when asked."""
    return timedelta(seconds=getattr(settings, "CONTRA_RUN_STALE_SECONDS", 60))


def run_heartbeat_stale(heartbeat_at, *, now=None) -> bool:
    """No heartbeat, or one older than ``run_stale_after()``."""
    return heartbeat_at is None or heartbeat_at < (now or timezone.now()) - run_stale_after()


def collection_run_lost(run_id: int, heartbeat_at, *, now=None) -> bool:
    """I9: whether Running run ``run_id`` lost its worker: its lease is free (where a lease
    tells: PostgreSQL, or a file lock), or, where a lease cannot tell, its heartbeat is
    older than ``CONTRA_RUN_STALE_SECONDS``. A run whose lease a live worker holds is never
    lost, however old its heartbeat (a slow batch)."""
    if RunLease(run_id).reliable:
        return run_worker_gone(run_id)
    return run_heartbeat_stale(heartbeat_at, now=now)


def collection_run_create(*, trigger: str, actor=None, task_id: str = "") -> CollectionRun:
    return CollectionRun.objects.create(
        trigger=trigger,
        requested_by=actor if getattr(actor, "pk", None) else None,
        task_id=task_id,
    )


def collection_request(*, actor, trigger: str = CollectionRun.Trigger.ADMIN) -> CollectionRun:
    """*Collect now* (or the API's POST): record a queued run and hand it to a Celery
    worker after commit."""
    from ..tasks import collect_inbound_task

    with transaction.atomic():
        run = collection_run_create(trigger=trigger, actor=actor)
        transaction.on_commit(lambda: collect_inbound_task.delay(run_id=run.pk))
    return run


def collection_collect(*, trigger: str, actor=None, batch_size: int | None = None):
    """Create a run and execute it in this process (``revenue_collect``, beat, tests)."""
    run = collection_run_create(trigger=trigger, actor=actor)
    return collection_run_execute(run_id=run.pk, batch_size=batch_size)


def collection_pending_count() -> int:
    """Lines the next run will look at: new, and stopped lines due for a retry."""
    return (
        InboundLine.objects.filter(status=LineStatus.NEW).count()
        + _retry_due(InboundLine.objects.filter(status=LineStatus.ERROR)).count()
    )


def _retry_due(queryset):
    """I3: a stopped line is retried once edited / reviewed, once its SO line arrived
    (V12), or, for a CM-RO stopped with RPRO-00683 (V11), once a RORD of its SO line is
    collected (found through the SO line: collected lines are out of the staging indexes
    on ``ref_line_id``). Both tests are EXISTS, one index probe per stopped line: an
    ``IN (SELECT so_line_id FROM revenue_soline)`` that outgrows ``work_mem`` becomes a
    list PostgreSQL walks for every stopped line (31 s a pass at 600,000 SO lines)."""
    arrived = SoLine.objects.filter(so_line_id=OuterRef("ref_line_id"))
    rord_collected = InboundLine.objects.filter(
        line__so_line_id=OuterRef("ref_line_id"),
        tran_type=TranType.RORD,
        status=LineStatus.COLLECTED,
    )
    return queryset.filter(
        Q(retry=True)
        | Q(waiting=True) & Exists(arrived)
        | Q(tran_type=TranType.CM_RO, error_codes__contains=NO_RORD) & Exists(rord_collected)
    )


def collection_run_execute(*, run_id: int, batch_size: int | None = None) -> CollectionRun:
    """Run (or resume) collection run ``run_id``. Safe to call twice: a finished run, or one
    another live worker is running, is left alone; this run's own earlier attempt whose
    worker died (its lease is free; where a lease cannot tell, its heartbeat stale) is
    taken over where it stopped (a task delivered again). Other runs that lost their
    worker are marked FAILED ("worker lost") and this run collects what they left."""
    lease = RunLease(run_id)
    try:
        run = _run_begin(run_id, lease)
        if run is None:
            return CollectionRun.objects.get(pk=run_id)
        _run_passes(run, batch_size)
    finally:
        _lease_release(lease)
    run.refresh_from_db()
    return run


def _lease_release(lease: RunLease) -> None:
    """After the run is marked finished: whoever finds the lease free then finds the run
    finished. Left Running (a BaseException went through), the next delivery takes it over."""
    if not lease.held:
        return
    try:
        finished = CollectionRun.objects.filter(pk=lease.run_id, status__in=FINISHED).exists()
    except Exception:  # the database is gone: the lease goes with the session anyway
        finished = False
    lease.release(finished=finished)


def _run_passes(run: CollectionRun, batch_size: int | None) -> None:
    size = batch_size or int(profile_get("COLLECTION_BATCH_SIZE") or 2000)
    try:
        rules = rules_enabled()
        for _ in range(PASSES):
            before = CollectionRun.objects.values_list("skipped", "collected").get(pk=run.pk)
            for phase in COLLECTION_PHASES:
                _heartbeat(run)
                _retry_due(
                    InboundLine.objects.filter(status=LineStatus.ERROR, tran_type__in=phase)
                ).update(status=LineStatus.NEW, retry=False)
                cursor = 0
                while cursor is not None:
                    _heartbeat(run)
                    cursor = _phase_step(
                        run=run, phase=phase, cursor=cursor, size=size, rules=rules
                    )
            after = CollectionRun.objects.values_list("skipped", "collected").get(pk=run.pk)
            if after[1] == before[1] or not collection_pending_count():
                # nothing left, or what is left waits for another run (a contract it
                # holds, I10) or for a line that is not here yet (V12): that run, or the
                # next, collects it
                break
        if after[0] != before[0] or before[0]:
            # ``skipped``: what the run left for later, i.e. what its last pass skipped
            CollectionRun.objects.filter(pk=run.pk).update(skipped=after[0] - before[0])
    except RunTakenOver:
        log.warning("collection run %s was taken for lost and taken over: stopping", run.pk)
        return
    except Exception as problem:
        _run_end(run, CollectionRun.Status.FAILED, f"{type(problem).__name__}: {problem}")
        raise
    _run_end(run, CollectionRun.Status.SUCCEEDED, "")


def _heartbeat(run: CollectionRun) -> None:
    """I9: tell that this run's worker is alive, before each step that can take a while (a
    phase's retry update, a batch) once a quarter of ``CONTRA_RUN_STALE_SECONDS`` has
    passed since the last; each batch writes it with its commit too. So a live run's
    heartbeat is never older than one step (a batch of 2,000 lines takes about a second).
    Raises ``RunTakenOver`` when another process has marked this run finished."""
    now = time.monotonic()
    if now - getattr(run, "_pulse", float("-inf")) < run_stale_after().total_seconds() / 4:
        return
    alive = CollectionRun.objects.filter(pk=run.pk, status=CollectionRun.Status.RUNNING).update(
        heartbeat_at=timezone.now()
    )
    if not alive:
        raise RunTakenOver(run.pk)
    run._pulse = now


def _run_begin(run_id: int, lease: RunLease) -> CollectionRun | None:
    """Mark the run Running, holding its lease, unless it is finished or a live worker has
    it. Found Running: the lease tells a live worker (a duplicate delivery: leave it) from
    a dead one (this task's own attempt killed, delivered again: take it over), however
    fresh the dead one's heartbeat; where a lease cannot tell, a stale heartbeat does."""
    status = CollectionRun.objects.values_list("status", flat=True).get(pk=run_id)
    if status in FINISHED:
        return None
    lease.acquire(wait=LEASE_WAIT if status == CollectionRun.Status.RUNNING else 0)
    now = timezone.now()
    with transaction.atomic():
        run = CollectionRun.objects.select_for_update().get(pk=run_id)
        if run.status in FINISHED:
            return None
        if not lease.held and run.status == CollectionRun.Status.QUEUED:
            return None  # delivered twice at once: the other delivery is starting it
        if run.status == CollectionRun.Status.RUNNING:
            if not lease.held:
                return None  # a duplicate delivery of the task: a live worker has it
            if not lease.reliable and not run_heartbeat_stale(run.heartbeat_at, now=now):
                return None  # nothing tells but the heartbeat, and it is fresh
            log.warning(
                "collection run %s: its worker is gone (%s); taking it over",
                run.pk,
                "its lease is free" if lease.reliable else f"no heartbeat since {run.heartbeat_at}",
            )
        _lost_runs_fail(now=now, taken_over_by=run.pk)
        period = period_open_get()
        if period is None:
            run.status = CollectionRun.Status.FAILED
            run.finished_at = now
            run.message = (
                "No open period. Open one with `manage.py revenue_period open YYYYMM` "
                "or in Revenue › Periods."
            )
            run.save()
            return None
        run.status = CollectionRun.Status.RUNNING
        run.started_at = run.started_at or now
        run.heartbeat_at = now
        run.period = period.id
        run.total = run.processed + collection_pending_count()
        run.save()
    run._pulse = time.monotonic()  # the heartbeat just written (_heartbeat)
    return run


def _lost_message(*, reliable: bool, heartbeat_at, taken_over_by: int | None) -> str:
    why = (
        "its worker's process is gone (its lease is free)"
        if reliable
        else f"no heartbeat for more than {int(run_stale_after().total_seconds())} seconds"
        + (f", the last at {heartbeat_at.isoformat(timespec='seconds')}" if heartbeat_at else "")
    )
    rest = (
        f"run {taken_over_by}, which takes over, collects the rest."
        if taken_over_by
        else "no line was left to collect."
    )
    return (
        f"Worker lost: {why}. Each of its lines is either collected, with all its effects, "
        f"or untouched; {rest}"
    )


def _lost_runs_fail(*, now, taken_over_by: int | None = None) -> list[int]:
    """I9: every other run marked Running that lost its worker (``collection_run_lost``)
    is marked FAILED, its message starting "Worker lost". Each is marked while this process
    holds that run's lease: its own task delivered again at that moment has either taken
    it over first (its lease held: not lost) or finds it finished and leaves it. A run
    whose lease a live worker holds is left alone. Returns the runs marked."""
    running = CollectionRun.objects.filter(status=CollectionRun.Status.RUNNING)
    if taken_over_by is not None:
        running = running.exclude(pk=taken_over_by)
    failed = []
    for pk, heartbeat in list(running.order_by("pk").values_list("pk", "heartbeat_at")):
        lease = RunLease(pk)
        if not lease.acquire():
            continue  # a live worker holds it
        marked = 0
        try:
            if lease.reliable or run_heartbeat_stale(heartbeat, now=now):
                marked = CollectionRun.objects.filter(
                    pk=pk, status=CollectionRun.Status.RUNNING, heartbeat_at=heartbeat
                ).update(
                    status=CollectionRun.Status.FAILED,
                    finished_at=now,
                    message=_lost_message(
                        reliable=lease.reliable, heartbeat_at=heartbeat, taken_over_by=taken_over_by
                    ),
                )
        finally:
            lease.release(finished=bool(marked))
        if marked:
            log.warning("collection run %s: worker lost; marked failed", pk)
            failed.append(pk)
    return failed


def collection_runs_recover(*, task_id: str = "") -> CollectionRun | None:
    """I9, beat's minute job: runs marked Running that lost their worker
    (``collection_run_lost``: lease free, or where a lease cannot tell a heartbeat older
    than ``CONTRA_RUN_STALE_SECONDS``) are marked FAILED ("worker lost"); when lines are
    waiting to be collected, a new run (trigger BEAT) takes over and collects them here,
    and is returned. A run killed with its whole worker is not delivered again before the
    broker's visibility timeout (an hour on Redis; never on the filesystem broker): this
    job finds it within a minute. A run a live worker holds is left alone."""
    now = timezone.now()
    running = CollectionRun.objects.filter(status=CollectionRun.Status.RUNNING)
    lost = [
        pk
        for pk, heartbeat in running.order_by("pk").values_list("pk", "heartbeat_at")
        if collection_run_lost(pk, heartbeat, now=now)
    ]
    if not lost:
        return None
    if not collection_pending_count():
        _lost_runs_fail(now=now)
        return None
    log.warning("collection runs %s lost their worker; a new run takes over", lost)
    run = collection_run_create(trigger=CollectionRun.Trigger.BEAT, task_id=task_id)
    return collection_run_execute(run_id=run.pk)  # its start marks them FAILED


def _run_end(run: CollectionRun, status: str, message: str) -> None:
    """Running → ``status``; a run another process marked finished meanwhile stays so."""
    CollectionRun.objects.filter(pk=run.pk, status=CollectionRun.Status.RUNNING).update(
        status=status, finished_at=timezone.now(), heartbeat_at=timezone.now(), message=message
    )


def _phase_step(*, run, phase, cursor: int, size: int, rules) -> int | None:
    """One batch of ``phase`` after ``cursor``; on an unexpected error, the same lines one
    at a time so that only the line at fault is stopped (a job never dies on one line)."""
    try:
        return _collect_batch(run=run, phase=phase, cursor=cursor, size=size, rules=rules)
    except LINE_FAULTS:
        log.exception("collection batch after #%s failed; retrying line by line", cursor)
    ids = list(
        InboundLine.objects.filter(status=LineStatus.NEW, tran_type__in=phase, pk__gt=cursor)
        .order_by("pk")
        .values_list("pk", flat=True)[:size]
    )
    for pk in ids:
        try:
            _collect_batch(run=run, phase=phase, cursor=0, size=1, rules=rules, only=pk)
        except LINE_FAULTS as problem:
            _stop_on_system_error(run=run, pk=pk, problem=problem)
    return ids[-1] if ids else None


def _stop_on_system_error(*, run, pk: int, problem: Exception) -> None:
    message = f"{SYSTEM_ERROR}: system error while collecting: {type(problem).__name__}: {problem}"
    with transaction.atomic():
        InboundLine.objects.filter(pk=pk, status=LineStatus.NEW).update(
            status=LineStatus.ERROR,
            error_codes=SYSTEM_ERROR,
            errors=[
                LineRefusal(code=SYSTEM_ERROR, rule="I9", field="", message=message[:500]).as_dict()
            ],
            run=run,
        )
        CollectionRun.objects.filter(pk=run.pk).update(
            processed=F("processed") + 1, stopped=F("stopped") + 1
        )


def _batch_session() -> None:
    """PostgreSQL, for this batch's transaction only (SET LOCAL):

    - ``synchronous_commit = off``: its commit does not wait for the WAL flush. A crash can
      lose the batches committed in the moment before it, each whole with its status change
      (I9): their lines are NEW again and the next run collects them. Nothing is ever
      half-collected or collected twice.
    - ``jit = off``: a batch's queries are index lookups; on tables of millions of rows
      their cost estimates pass the JIT threshold and compiling costs more than running.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off; SET LOCAL jit = off")


def _contract_key(line: InboundLine, known: dict[str, str]) -> str | None:
    if line.ref_line_id in known:
        return known[line.ref_line_id]
    if line.tran_type == "SO" and line.ref_line_id:
        return _new_contract_key(line.rc_key, line.so_num, line.so_line_id)
    return None


def _new_contract_key(rc_key: str, so_num: str, so_line_id: str) -> str:
    """The contract a new SO line opens: its RC_KEY, else its SO, else itself."""
    return rc_key or so_num or so_line_id


def _contracts_prepare(*, phase, cursor: int, size: int) -> None:
    """The revenue contracts of the next new SO lines, created ahead in a transaction of
    their own. Created inside the batch, a contract whose lines straddle two batches made
    the parallel run taking the other batch wait for this batch's commit (a unique key
    being inserted); committed first, it is only locked, and the other run skips its lines
    for later (I10). Lines beyond this look-ahead still get theirs inside the batch."""
    if TranType.SO not in phase:
        return
    rows = (
        InboundLine.objects.filter(status=LineStatus.NEW, tran_type=TranType.SO, pk__gt=cursor)
        .exclude(ref_line_id="")
        .order_by("pk")
        .values_list("rc_key", "so_num", "so_line_id")[: 2 * size]
    )
    keys = {_new_contract_key(*row) for row in rows}
    keys -= set(
        SoLine.objects.filter(so_line_id__any=[row[2] for row in rows]).values_list(
            "contract__rc_key", flat=True
        )
    )
    if keys:
        RevenueContract.objects.bulk_create(
            [RevenueContract(rc_key=key) for key in sorted(keys)], ignore_conflicts=True
        )


def _collect_batch(*, run, phase, cursor: int, size: int, rules, only: int | None = None):
    if only is None and connection.vendor == "postgresql":
        _contracts_prepare(phase=phase, cursor=cursor, size=size)
    with transaction.atomic():
        _batch_session()
        open_period = period_open_locked()
        if open_period is None:
            raise RuntimeError("no open period")
        candidates = InboundLine.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status=LineStatus.NEW, tran_type__in=phase
        )
        if only is not None:
            candidates = candidates.filter(pk=only)
        else:
            candidates = candidates.filter(pk__gt=cursor).order_by("pk")[:size]
        lines = StagedLine.rows(candidates.values_list(*STAGED_FIELDS))
        if not lines:
            return None
        refs = {line.ref_line_id for line in lines if line.ref_line_id}
        known = dict(
            SoLine.objects.filter(so_line_id__any=refs).values_list(
                "so_line_id", "contract__rc_key"
            )
        )
        keys = {key for line in lines if (key := _contract_key(line, known))}
        RevenueContract.objects.bulk_create(
            [RevenueContract(rc_key=key) for key in sorted(keys - set(known.values()))],
            ignore_conflicts=True,
        )
        contracts = dict(
            RevenueContract.objects.select_for_update(skip_locked=True)
            .filter(rc_key__any=keys)
            .order_by("pk")
            .values_list("rc_key", "pk")
        )
        mine = [
            line
            for line in lines
            if (key := _contract_key(line, known)) is None or key in contracts
        ]
        so_lines = {
            so.so_line_id: so for so in so_lines_read(SoLine.objects.filter(so_line_id__any=refs))
        }
        batch = BatchContext.load(
            run=run,
            open_period=open_period,
            rules=rules,
            lines=mine,
            so_lines=so_lines,
            contracts=contracts,
            key_of=lambda line: _contract_key(line, known),
            contra=profile_get("CREATE_RORD_CONTRA_ENTRY") == "Y",
        )
        batch_collect(batch)
        batch_write(batch)
        skipped = len(lines) - len(mine)
        counts = batch.counts
        CollectionRun.objects.filter(pk=run.pk).update(
            processed=F("processed") + len(mine),
            collected=F("collected") + counts["collected"],
            stopped=F("stopped") + counts["stopped"],
            waiting=F("waiting") + counts["waiting"],
            skipped=F("skipped") + skipped,
            batches=F("batches") + 1,
            heartbeat_at=timezone.now(),
        )
        return lines[-1].pk
