"""Celery jobs of the order side: thin, idempotent wrappers over the services (B4)."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from .models import BillingRun
from .services.billing import billing_run_execute


@shared_task(acks_late=True)
def billing_run_task(run_date: str | None = None) -> dict:
    """B4: the daily billing run (beat). Idempotent by construction: periods already
    billed are never billed again, so a retried or doubled job does no harm."""
    day = dt.date.fromisoformat(run_date) if run_date else timezone.localdate()
    run = billing_run_execute(run_date=day, trigger=BillingRun.Trigger.BEAT)
    return {
        "run": run.pk,
        "run_date": day.isoformat(),
        "status": run.status,
        "orders": run.orders_seen,
        "invoices": run.invoices_created,
        "lines": run.lines_created,
        "refused": run.refused,
    }
