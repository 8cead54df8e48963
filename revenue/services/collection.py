"""I6–I10: data collection. Batches of staged lines, validated and booked set-based.

One batch = one transaction: its lines' effects and their status change commit together
(I9), so a run killed half-way leaves each line collected or untouched and the next run
finishes the rest. A batch locks its staging rows and its revenue contracts with SKIP
LOCKED, so parallel runs share the work and never process one contract at once (I10).
"""

from __future__ import annotations

import logging
from datetime import timedelta

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
# A run marked Running is alive while its worker holds its lease (run_lease): a run whose
# lease is free is taken over at once. The heartbeat is the fallback where the lease cannot
# tell (a host lost without closing its sockets): no heartbeat for this long, taken over.
STALE_AFTER = timedelta(minutes=15)
# how long a task delivered again waits for the lease of the run it finds Running: the
# server session of a worker killed a moment ago can take that long to end
LEASE_WAIT = 5.0
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
    another live worker is running, is left alone; a run whose worker died (its lease is
    free, or its heartbeat stale) is taken over where it stopped."""
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
                _retry_due(
                    InboundLine.objects.filter(status=LineStatus.ERROR, tran_type__in=phase)
                ).update(status=LineStatus.NEW, retry=False)
                cursor = 0
                while cursor is not None:
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
    except Exception as problem:
        _run_end(run, CollectionRun.Status.FAILED, f"{type(problem).__name__}: {problem}")
        raise
    _run_end(run, CollectionRun.Status.SUCCEEDED, "")


def _run_begin(run_id: int, lease: RunLease) -> CollectionRun | None:
    """Mark the run Running, holding its lease, unless it is finished or a live worker has
    it. Found Running: the lease tells a live worker (a duplicate delivery: leave it) from
    a dead one (this task's own attempt killed, delivered again: take it over), however
    fresh the dead one's heartbeat."""
    status = CollectionRun.objects.values_list("status", flat=True).get(pk=run_id)
    if status in FINISHED:
        return None
    lease.acquire(wait=LEASE_WAIT if status == CollectionRun.Status.RUNNING else 0)
    now = timezone.now()
    with transaction.atomic():
        run = CollectionRun.objects.select_for_update().get(pk=run_id)
        if run.status in FINISHED:
            return None
        worker_gone = lease.held and lease.reliable
        if not lease.held and run.status == CollectionRun.Status.QUEUED:
            return None  # delivered twice at once: the other delivery is starting it
        if run.status == CollectionRun.Status.RUNNING:
            if run.heartbeat_at > now - STALE_AFTER and not worker_gone:
                return None  # a duplicate delivery of the task: a live worker has it
            log.warning(
                "collection run %s: its worker is gone (%s); taking it over",
                run.pk,
                "its lease is free" if worker_gone else f"no heartbeat since {run.heartbeat_at}",
            )
        _runs_of_dead_workers_interrupt(exclude=run.pk, now=now)
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
    return run


def _runs_of_dead_workers_interrupt(*, exclude: int, now) -> None:
    """Other runs marked Running whose worker is gone: marked Interrupted. This run
    collects what they left (their lines are collected or untouched, I9)."""
    CollectionRun.objects.filter(
        status=CollectionRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    ).exclude(pk=exclude).update(
        status=CollectionRun.Status.INTERRUPTED,
        finished_at=now,
        message="No heartbeat for 15 minutes: the worker stopped. Its lines are "
        "collected or untouched; later runs pick up the rest.",
    )
    running = CollectionRun.objects.filter(status=CollectionRun.Status.RUNNING).exclude(pk=exclude)
    gone = [pk for pk in running.values_list("pk", flat=True) if run_worker_gone(pk)]
    if gone:
        CollectionRun.objects.filter(pk__in=gone, status=CollectionRun.Status.RUNNING).update(
            status=CollectionRun.Status.INTERRUPTED,
            finished_at=now,
            message="Its worker stopped (the process is gone). Its lines are collected or "
            "untouched; later runs pick up the rest.",
        )


def collection_runs_resume() -> int | None:
    """I9, beat's minute job: a run marked Running whose worker is gone (its lease free, or
    no heartbeat for ``STALE_AFTER``) is resumed here, the oldest; it marks the others
    Interrupted and collects what they left too. A run killed with its whole worker is not
    delivered again before the broker's visibility timeout (an hour on Redis; never on the
    filesystem broker). Returns the run resumed, if any."""
    stale = timezone.now() - STALE_AFTER
    for pk, heartbeat in (
        CollectionRun.objects.filter(status=CollectionRun.Status.RUNNING)
        .order_by("pk")
        .values_list("pk", "heartbeat_at")
    ):
        if (heartbeat is not None and heartbeat < stale) or run_worker_gone(pk):
            log.warning("collection run %s: its worker is gone; resuming it", pk)
            collection_run_execute(run_id=pk)
            return pk
    return None


def _run_end(run: CollectionRun, status: str, message: str) -> None:
    CollectionRun.objects.filter(pk=run.pk).update(
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
