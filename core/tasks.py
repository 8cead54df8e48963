"""Celery tasks shared by every app: thin, idempotent, safe to retry."""

from celery import shared_task
from django.utils import timezone


@shared_task(bind=True, acks_late=True, ignore_result=False)
def worker_heartbeat(self) -> dict:
    """Answer from whichever worker took the job: proves the broker and a worker run."""
    return {"worker": self.request.hostname, "at": timezone.now().isoformat()}
