"""B4: the record of a billing run while it works, and of a run whose worker was killed.

Each order is billed in its own transaction, so a worker killed mid-run loses nothing and
the next run bills what it left; but the killed run's record stayed *Running* with no
counts, forever. On PostgreSQL a working run holds a session advisory lock named after it;
a killed worker's session ends and releases it. Every run starts by closing the records of
runs whose lock is free: *Failed*, with what their committed invoices show and why.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from ..models import BillingRun, Invoice

LOCK_SPACE = 0x42494C4C  # "BILL": the advisory lock space of working billing runs


def _lock(function: str, run_id: int):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [LOCK_SPACE, run_id])
        return cursor.fetchone()[0]


def billing_run_begin(*, run_date, trigger: str, started_by) -> BillingRun:
    """Record a run and, on PostgreSQL, hold its lock before anyone can see it running."""
    with transaction.atomic():
        run = BillingRun.objects.create(run_date=run_date, trigger=trigger, started_by=started_by)
        if connection.vendor == "postgresql":
            _lock("pg_advisory_lock", run.pk)
    return run


def billing_run_release(run: BillingRun) -> None:
    if connection.vendor == "postgresql":
        _lock("pg_advisory_unlock", run.pk)


def billing_runs_interrupted_close() -> list[int]:
    """B4: mark *Failed* the runs still *Running* whose worker is gone (their lock is
    free), with the invoices they committed. Returns their ids."""
    if connection.vendor != "postgresql":
        return []
    closed = []
    for run_id in BillingRun.objects.filter(status=BillingRun.Status.RUNNING).values_list(
        "pk", flat=True
    ):
        if not _lock("pg_try_advisory_lock", run_id):
            continue  # its worker is still at it
        try:
            made = Invoice.objects.filter(billing_run_id=run_id).aggregate(
                invoices=Count("pk", distinct=True), lines=Count("lines")
            )
            message = (
                f"interrupted: its worker stopped after {made['invoices']} invoice(s); "
                "each order is billed whole or not at all, and later runs bill the rest"
            )
            BillingRun.objects.filter(pk=run_id, status=BillingRun.Status.RUNNING).update(
                status=BillingRun.Status.FAILED,
                finished_at=timezone.now(),
                orders_seen=made["invoices"],  # at least: its own count died with it
                invoices_created=made["invoices"],
                lines_created=made["lines"],
                messages=[{"order": "", "rule": "B4", "message": message}],
            )
            closed.append(run_id)
        finally:
            _lock("pg_advisory_unlock", run_id)
    return closed
