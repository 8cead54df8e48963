"""B4: the record of a billing run whose worker died is closed by the next run; the record
of a run still at work (its session holds the run's advisory lock) is left alone."""

import threading

import pytest
from django.db import connection, connections

from orders.models import BillingRun, Invoice
from orders.services.billing_runs import billing_run_begin, billing_runs_interrupted_close
from tests.faults.workers import sessions_gone
from tests.orders.billing_helpers import D, run, subscription

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's (CI runs it)"
    ),
]


def test_b4_a_dead_runs_record_is_closed_with_its_invoices_a_live_one_left_alone():
    subscription()
    billed = run(D(2025, 3, 1))  # January–March: one invoice of three lines
    assert (billed.invoices_created, billed.lines_created) == (1, 3)
    # what a SIGKILL mid-run leaves: the run still RUNNING, its counts never written
    BillingRun.objects.filter(pk=billed.pk).update(
        status="RUNNING", finished_at=None, orders_seen=0, invoices_created=0, lines_created=0
    )
    started, release = threading.Event(), threading.Event()
    live = {}

    def working_run():  # another worker, mid-run: its session holds its run's lock
        try:
            live["run"] = billing_run_begin(
                run_date=D(2025, 3, 1), trigger="COMMAND", started_by=None
            )
            started.set()
            release.wait(30)
        finally:
            connections.close_all()

    worker = threading.Thread(target=working_run)
    worker.start()
    try:
        assert started.wait(30)
        assert billing_runs_interrupted_close() == [billed.pk]
        assert BillingRun.objects.get(pk=live["run"].pk).status == "RUNNING"
    finally:
        release.set()
        worker.join(30)
    dead = BillingRun.objects.get(pk=billed.pk)
    assert (dead.status, dead.orders_seen, dead.invoices_created, dead.lines_created) == (
        "FAILED",
        1,
        1,
        3,
    )
    assert dead.finished_at and dead.messages[0]["rule"] == "B4"
    assert "stopped after 1 invoice(s)" in dead.messages[0]["message"]
    assert Invoice.objects.get().billing_run_id == dead.pk
    # once its session is gone, the other run is closed by the next billing run itself
    sessions_gone()
    later = run(D(2025, 3, 1))
    assert (later.status, later.invoices_created) == ("SUCCEEDED", 0)
    assert BillingRun.objects.get(pk=live["run"].pk).status == "FAILED"
