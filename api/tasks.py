"""Celery jobs of the API: thin, idempotent wrappers over its services."""

from celery import shared_task

from .idempotency import idempotent_requests_purge


@shared_task(acks_late=True)
def idempotent_requests_purge_task() -> int:
    """Hourly (beat, migration 0002): ``Idempotency-Key`` records older than 24 hours are
    deleted. Returns how many."""
    return idempotent_requests_purge()
