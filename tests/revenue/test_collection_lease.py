"""I9 (issue 18): a run marked Running is alive while its worker holds the run's lease
(PostgreSQL: a session advisory lock; SQLite: a flock). Whatever its heartbeat says, a run
whose lease is free lost its worker: a task delivered again takes it over, and beat's
minute job or a new run marks it FAILED ("worker lost") and collects its remaining lines.
A run whose lease is held is left alone, however old its heartbeat. Where a lease cannot
tell, a heartbeat older than CONTRA_RUN_STALE_SECONDS decides (the tests set it low and
move heartbeats into the past: they never wait on the clock). The real SIGKILLs are in
tests/faults/test_collection_child_killed.py."""

from datetime import timedelta

import pytest
from django.db.models import Count, Sum
from django.utils import timezone

from revenue.models import CollectionRun, InboundLine, ScheduleRow
from revenue.services import collection as collection_service
from revenue.services.collection import (
    CollectionKilled,
    collection_collect,
    collection_run_create,
    collection_run_execute,
    collection_run_lost,
    collection_runs_recover,
)
from revenue.services.run_lease import RunLease, run_worker_gone
from revenue.tasks import collection_runs_resume_task
from tests.revenue.test_collection import rows


@pytest.fixture
def killed_run(ledger):
    """What a SIGKILL mid-run leaves: 30 lines staged, a run marked Running with a heartbeat
    of a moment ago, and its lease free (its process is gone)."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(30, with_invoices=False))
    run = collection_run_create(trigger="ADMIN")
    CollectionRun.objects.filter(pk=run.pk).update(
        status="RUNNING", started_at=timezone.now(), heartbeat_at=timezone.now(), period=202601
    )
    return run.pk


@pytest.fixture
def live_holder():
    """Hold a run's lease as a live worker would, from another session / open file."""
    leases = []

    def hold(run_id: int) -> None:
        lease = RunLease(run_id)
        assert lease.acquire()
        leases.append(lease)

    yield hold
    for lease in leases:
        lease.release()


def assert_worker_lost(pk: int, taken_over_by: int | None) -> None:
    run = CollectionRun.objects.get(pk=pk)
    assert run.status == "FAILED" and run.finished_at is not None
    assert run.message.startswith("Worker lost: "), run.message
    assert "Each of its lines is either collected, with all its effects, or untouched" in (
        run.message
    )
    if taken_over_by is not None:
        assert f"run {taken_over_by}, which takes over, collects the rest." in run.message


def test_i9_a_redelivered_task_takes_over_its_killed_attempt_despite_a_fresh_heartbeat(
    killed_run,
):
    assert run_worker_gone(killed_run)
    run = collection_run_execute(run_id=killed_run)
    assert (run.status, run.collected) == ("SUCCEEDED", 30)
    assert not InboundLine.objects.exclude(status="COLLECTED").exists()
    assert run_worker_gone(run.pk)  # the lease is given back


def test_i9_a_duplicate_delivery_leaves_a_run_a_live_worker_holds(
    killed_run, live_holder, monkeypatch
):
    monkeypatch.setattr(collection_service, "LEASE_WAIT", 0.2)
    live_holder(killed_run)
    assert not run_worker_gone(killed_run)
    run = collection_run_execute(run_id=killed_run)
    assert (run.status, run.collected) == ("RUNNING", 0)
    assert not InboundLine.objects.filter(status="COLLECTED").exists()
    assert collection_runs_recover() is None  # beat's job leaves it too


def test_i9_a_held_lease_is_never_lost_however_old_the_heartbeat(
    killed_run, live_holder, settings, monkeypatch
):
    """A live worker in a long batch: its heartbeat is far past the threshold, its lease
    is held. Neither beat's job, nor a new run, nor its own task delivered again takes it
    for lost."""
    monkeypatch.setattr(collection_service, "LEASE_WAIT", 0.2)
    settings.CONTRA_RUN_STALE_SECONDS = 1
    CollectionRun.objects.filter(pk=killed_run).update(
        heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    live_holder(killed_run)
    heartbeat = CollectionRun.objects.get(pk=killed_run).heartbeat_at
    assert not collection_run_lost(killed_run, heartbeat)
    assert collection_runs_recover() is None
    assert collection_run_execute(run_id=killed_run).status == "RUNNING"
    other = collection_collect(trigger="COMMAND")
    assert other.status == "SUCCEEDED"
    assert CollectionRun.objects.get(pk=killed_run).status == "RUNNING"


def test_i9_beat_marks_a_run_whose_worker_died_failed_and_a_new_run_collects_the_rest(
    killed_run,
):
    run = collection_runs_recover()
    assert run is not None and run.pk != killed_run
    assert (run.trigger, run.status, run.collected) == ("BEAT", "SUCCEEDED", 30)
    assert_worker_lost(killed_run, taken_over_by=run.pk)
    assert "its worker's process is gone (its lease is free)" in (
        CollectionRun.objects.get(pk=killed_run).message
    )
    assert collection_runs_recover() is None
    assert CollectionRun.objects.filter(status="INTERRUPTED").count() == 0


def test_i9_beat_marks_a_lost_run_failed_even_with_nothing_left_to_collect(killed_run):
    collection_collect(trigger="COMMAND")  # collects the 30 lines, marks the run FAILED
    assert_worker_lost(killed_run, taken_over_by=None)
    dead = collection_run_create(trigger="ADMIN")
    CollectionRun.objects.filter(pk=dead.pk).update(
        status="RUNNING", started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    assert collection_runs_recover() is None  # nothing to collect: no new run
    assert_worker_lost(dead.pk, taken_over_by=None)
    assert "no line was left to collect" in CollectionRun.objects.get(pk=dead.pk).message
    assert not CollectionRun.objects.filter(status="RUNNING").exists()


def test_i9_the_beat_task_returns_the_run_that_took_over(killed_run):
    taken = collection_runs_resume_task.apply().get()
    run = CollectionRun.objects.get(pk=taken)
    assert (run.trigger, run.status, run.collected) == ("BEAT", "SUCCEEDED", 30)
    assert_worker_lost(killed_run, taken_over_by=taken)
    assert collection_runs_resume_task.apply().get() is None


def test_i9_a_new_run_marks_a_dead_run_failed_and_leaves_a_live_one(killed_run, live_holder):
    live = collection_run_create(trigger="ADMIN")
    CollectionRun.objects.filter(pk=live.pk).update(
        status="RUNNING", started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    live_holder(live.pk)
    run = collection_collect(trigger="COMMAND")
    assert (run.status, run.collected) == ("SUCCEEDED", 30)
    statuses = dict(CollectionRun.objects.values_list("pk", "status"))
    assert (statuses[killed_run], statuses[live.pk]) == ("FAILED", "RUNNING")
    assert_worker_lost(killed_run, taken_over_by=run.pk)


def test_i9_contra_run_stale_seconds_worker_lost_run_failed_rest_collected_exactly_once(
    ledger, settings, monkeypatch
):
    """I9 where a lease cannot tell (no ``fcntl``): a run killed after two of its batches
    is Running with a fresh heartbeat: not lost. Once its heartbeat is older than
    CONTRA_RUN_STALE_SECONDS (set to 5, the heartbeat moved 6 s into the past), beat's
    tick marks it FAILED ("worker lost") and a new run collects the remaining lines,
    each exactly once."""
    monkeypatch.setattr(RunLease, "reliable", property(lambda lease: False))
    settings.CONTRA_RUN_STALE_SECONDS = 5
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(30, with_invoices=False))
    real = collection_service._collect_batch
    calls = {"n": 0}

    def dying(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise CollectionKilled("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(collection_service, "_collect_batch", dying)
    with pytest.raises(CollectionKilled):
        collection_collect(trigger="ADMIN", batch_size=7)
    monkeypatch.setattr(collection_service, "_collect_batch", real)
    killed = CollectionRun.objects.get()
    assert (killed.status, killed.collected) == ("RUNNING", 14)

    now = timezone.now()
    CollectionRun.objects.filter(pk=killed.pk).update(heartbeat_at=now - timedelta(seconds=4))
    assert collection_runs_recover() is None  # 4 s: younger than the threshold, alive
    assert collection_run_execute(run_id=killed.pk).status == "RUNNING"  # no duplicate
    assert InboundLine.objects.filter(status="COLLECTED").count() == 14

    CollectionRun.objects.filter(pk=killed.pk).update(heartbeat_at=now - timedelta(seconds=6))
    run = collection_runs_recover()
    assert (run.trigger, run.status, run.collected, run.stopped) == ("BEAT", "SUCCEEDED", 16, 0)
    assert_worker_lost(killed.pk, taken_over_by=run.pk)
    assert "worker lost: no heartbeat for more than 5 seconds" in (
        CollectionRun.objects.get(pk=killed.pk).message.lower()
    )
    assert not InboundLine.objects.exclude(status="COLLECTED").exists()
    assert CollectionRun.objects.aggregate(n=Sum("collected"))["n"] == 30  # once each
    per_line = ScheduleRow.objects.values("line").annotate(n=Count("id"))
    assert len(per_line) == 30 and {row["n"] for row in per_line} == {12}
    assert collection_runs_recover() is None


class SlowClock:
    """``time`` for collection.py alone: every reading is ``step`` seconds after the last,
    as if each step of the run took that long."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def monotonic(self) -> float:
        self.now += self.step
        return self.now


def test_i9_a_live_run_writes_its_heartbeat_before_every_slow_step(ledger, monkeypatch):
    """I9: with batches that each take longer than a quarter of CONTRA_RUN_STALE_SECONDS
    (60), the heartbeat is written before every batch, not only with the batch's commit,
    so a live run never looks lost to a heartbeat."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(30, with_invoices=False))
    monkeypatch.setattr(collection_service, "time", SlowClock(step=20.0))
    real = collection_service._phase_step
    seen = []

    def step(*, run, **kwargs):
        heartbeat = CollectionRun.objects.values_list("heartbeat_at", flat=True).get(pk=run.pk)
        seen.append((heartbeat, timezone.now()))
        result = real(run=run, **kwargs)
        seen[-1] = (*seen[-1], timezone.now())
        return result

    monkeypatch.setattr(collection_service, "_phase_step", step)
    run = collection_collect(trigger="COMMAND", batch_size=7)
    assert (run.status, run.collected) == ("SUCCEEDED", 30)
    assert len(seen) > 5
    for (_, _, ended), (heartbeat, _, _) in zip(seen, seen[1:], strict=False):
        assert heartbeat > ended  # written after the previous step, before this one


def test_i9_a_run_marked_lost_while_it_works_stops_and_the_taker_collects_the_rest(
    ledger, monkeypatch
):
    """A run its worker was taken for lost by a heartbeat (a lease that cannot tell) finds
    itself FAILED at its next heartbeat: it stops there, and the run that took over
    collects the rest, each line once."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(rows(30, with_invoices=False))
    monkeypatch.setattr(collection_service, "time", SlowClock(step=20.0))
    real = collection_service._collect_batch

    def then_taken_for_lost(*, run, **kwargs):
        result = real(run=run, **kwargs)
        CollectionRun.objects.filter(pk=run.pk).update(status="FAILED", message="Worker lost: …")
        return result

    monkeypatch.setattr(collection_service, "_collect_batch", then_taken_for_lost)
    first = collection_collect(trigger="COMMAND", batch_size=7)
    assert (first.status, first.collected, first.message) == ("FAILED", 7, "Worker lost: …")
    monkeypatch.setattr(collection_service, "_collect_batch", real)
    rest = collection_collect(trigger="COMMAND", batch_size=7)
    assert (rest.status, rest.collected) == ("SUCCEEDED", 23)
    assert not InboundLine.objects.exclude(status="COLLECTED").exists()
