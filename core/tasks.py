"""Celery tasks shared by every app: thin, idempotent, safe to retry."""

from celery import shared_task
from django.utils import timezone


@shared_task(bind=True, acks_late=True, ignore_result=False)
def worker_heartbeat(self) -> dict:
    """Answer from whichever worker took the job: proves the broker and a worker run."""
    return {"worker": self.request.hostname, "at": timezone.now().isoformat()}


@shared_task(bind=True, acks_late=True)
def report_export_task(self, export_id: int) -> dict:
    """M6: write a large report download (core.report_exports); a finished one is kept."""
    from .models import ReportExport
    from .report_exports import report_export_run

    if self.request.id:
        ReportExport.objects.filter(pk=export_id, task_id="").update(task_id=self.request.id)
    export = report_export_run(export_id=export_id)
    return {"export": export.pk, "status": export.status, "rows": export.rows_done}


@shared_task(acks_late=True)
def report_exports_tidy_task() -> dict:
    """M6, hourly: stale exports marked failed, old ones removed with their files."""
    from .report_exports import report_exports_tidy

    return report_exports_tidy()
