"""I9 (issue 18): a run marked Running is alive while its worker holds the run's lease
(PostgreSQL: a session advisory lock; SQLite: a flock). Whatever its heartbeat says, a run
whose lease is free lost its worker: a task delivered again takes it over, beat's minute
job resumes it, a new run marks it Interrupted. A run whose lease is held is left alone.
The real SIGKILLs are in tests/faults/test_collection_child_killed.py."""

import pytest
from django.utils import timezone

from revenue.models import CollectionRun, InboundLine
from revenue.services import collection as collection_service
from revenue.services.collection import (
    collection_collect,
    collection_run_create,
    collection_run_execute,
    collection_runs_resume,
)
from revenue.services.run_lease import RunLease, run_worker_gone
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
    assert collection_runs_resume() is None  # beat's job leaves it too


def test_i9_beat_resumes_a_run_whose_worker_died(killed_run):
    assert collection_runs_resume() == killed_run
    run = CollectionRun.objects.get(pk=killed_run)
    assert (run.status, run.collected) == ("SUCCEEDED", 30)
    assert collection_runs_resume() is None


def test_i9_a_new_run_marks_a_dead_run_interrupted_and_leaves_a_live_one(killed_run, live_holder):
    live = collection_run_create(trigger="ADMIN")
    CollectionRun.objects.filter(pk=live.pk).update(
        status="RUNNING", started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    live_holder(live.pk)
    run = collection_collect(trigger="COMMAND")
    assert (run.status, run.collected) == ("SUCCEEDED", 30)
    statuses = dict(CollectionRun.objects.values_list("pk", "status"))
    assert (statuses[killed_run], statuses[live.pk]) == ("INTERRUPTED", "RUNNING")
