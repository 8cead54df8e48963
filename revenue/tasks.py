"""Celery jobs of the sub-ledger: thin, idempotent wrappers over the services (I6, S2)."""

from celery import shared_task

from .models import CollectionRun
from .services.collection import (
    collection_pending_count,
    collection_run_create,
    collection_run_execute,
    collection_runs_recover,
)
from .services.periods import period_close_due
from .services.totals import ledger_totals_compact


@shared_task(bind=True, acks_late=True)
def collect_inbound_task(self, run_id: int | None = None) -> dict:
    """I6: run collection. Beat calls it without a run (one is recorded only when there is
    work); *Collect now* passes the run it recorded. A finished run is not run twice."""
    if run_id is None:
        if not collection_pending_count():
            return {"run": None, "status": "nothing to collect"}
        run_id = collection_run_create(
            trigger=CollectionRun.Trigger.BEAT, task_id=self.request.id or ""
        ).pk
    elif self.request.id:
        CollectionRun.objects.filter(pk=run_id, task_id="").update(task_id=self.request.id)
    run = collection_run_execute(run_id=run_id)
    return {
        "run": run.pk,
        "status": run.status,
        "collected": run.collected,
        "stopped": run.stopped,
        "waiting": run.waiting,
    }


@shared_task(bind=True, acks_late=True)
def collection_runs_resume_task(self) -> int | None:
    """I9: beat's minute job (*Revenue: resume collection runs whose worker died*; the
    name is the beat entry's, migration 0018): collection runs marked Running whose worker
    is lost (a whole worker killed: its message is not delivered again before the broker's
    visibility timeout) are marked FAILED, and a new run takes over their remaining lines
    here. Returns that run's id (None: nothing lost, or nothing left to collect)."""
    run = collection_runs_recover(task_id=self.request.id or "")
    return run.pk if run is not None else None


@shared_task(acks_late=True)
def close_period_task() -> list[int]:
    """S2: the monthly job; closes only when AUTO_CLOSE_PERIOD = Y and the month ended."""
    return [period.id for period in period_close_due()]


@shared_task(acks_late=True)
def ledger_totals_compact_task(period: int | None = None) -> int:
    """M6: the nightly job; folds the ledger totals' deltas into one row per key."""
    return ledger_totals_compact(period=period)
