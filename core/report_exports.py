"""Large report downloads (close.md M6): written by a Celery worker into MEDIA_ROOT, with
progress the admin shows as a bar, then a link to the file.

The worker rebuilds the report from the page's filters (the same form, so the file is what
the page showed) and writes it with ``write_xlsx`` in constant memory; every few thousand
rows it records how many it wrote. Running an export twice writes it once.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .admin_reports import AdminReport, admin_report_get, admin_report_options
from .models import ReportExport

ASYNC_ROWS = 20_000  # an XLSX estimated larger than this is written by a worker
PROGRESS_ROWS = 2_000  # progress is recorded at most every so many rows…
PROGRESS_SECONDS = 1.0  # …and at least this long apart
FOLDER = "reports"
STALE_AFTER = timedelta(hours=6)  # queued or running this long: no worker is on it any more
KEEP_FOR = timedelta(days=7)  # a finished export's file is kept this long, then removed

log = logging.getLogger(__name__)


def report_export_request(
    *, report: AdminReport, query: dict, estimate: int, user, fmt: str = "xlsx"
) -> ReportExport:
    """Record an export and hand it to a worker once the record is committed."""
    from .tasks import report_export_task

    export = ReportExport.objects.create(
        report=report.slug,
        fmt=fmt,
        params=dict(query),
        rows_estimate=max(0, int(estimate)),
        requested_by=user if getattr(user, "pk", None) else None,
    )
    transaction.on_commit(lambda: report_export_task.delay(export.pk))
    return export


def _counted(rows, export_id: int):
    """The rows, recording how many went past (not on every row: a write per second)."""
    done, recorded, last = 0, 0, time.monotonic()
    for row in rows:
        yield row
        done += 1
        if done - recorded >= PROGRESS_ROWS and time.monotonic() - last >= PROGRESS_SECONDS:
            ReportExport.objects.filter(pk=export_id).update(rows_done=done)
            recorded, last = done, time.monotonic()
    ReportExport.objects.filter(pk=export_id).update(rows_done=done)


def report_export_run(*, export_id: int) -> ReportExport:
    """Write the export's file (idempotent: a finished export is left as it is)."""
    from revenue.reports.output import write_xlsx

    export = ReportExport.objects.get(pk=export_id)
    if export.status == ReportExport.Status.DONE:
        return export
    report = admin_report_get(export.report)
    if report is None:  # a worker that has not loaded the admin yet
        from django.contrib import admin

        admin.autodiscover()
        report = admin_report_get(export.report)
    ReportExport.objects.filter(pk=export.pk).update(
        status=ReportExport.Status.RUNNING, started_at=timezone.now(), rows_done=0, message=""
    )
    try:
        if report is None:
            raise ValueError(f"no report '{export.report}'")
        form, options = admin_report_options(report, export.params)
        if options is None:
            raise ValueError(f"the filters are not valid: {form.errors.as_text()}")
        built = report.builder(**options)
        built.rows = _counted(built.rows, export.pk)
        basis = f"-{built.basis}" if getattr(built, "basis", "") else ""  # M1–M3
        name = f"{FOLDER}/{export.report}-{built.period}{basis}-{export.pk}.{export.fmt}"
        path = Path(settings.MEDIA_ROOT) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_xlsx(built, str(path))
    except Exception as problem:  # recorded on the export, shown on its page
        ReportExport.objects.filter(pk=export.pk).update(
            status=ReportExport.Status.FAILED,
            finished_at=timezone.now(),
            message=str(problem)[:2000],
        )
        raise
    ReportExport.objects.filter(pk=export.pk).update(
        status=ReportExport.Status.DONE, finished_at=timezone.now(), file=name
    )
    export.refresh_from_db()
    return export


def report_export_state(export: ReportExport) -> dict:
    """What the progress page shows (and polls as JSON)."""
    return {
        "id": export.pk,
        "status": export.status,
        "status_label": export.get_status_display(),
        "active": export.is_active,
        "percent": export.percent,
        "rows_done": export.rows_done,
        "rows_estimate": export.rows_estimate,
        "message": export.message,
    }


def report_exports_tidy(*, now=None) -> dict:
    """M6, hourly (beat): an export queued or running for longer than STALE_AFTER is marked
    failed, saying so (its worker stopped or none took it: the page stops polling and the
    user can ask again); an export finished more than KEEP_FOR ago is removed with its file.
    Safe to run twice: a second run finds nothing to do."""
    now = now or timezone.now()
    active = (ReportExport.Status.QUEUED, ReportExport.Status.RUNNING)
    stale = ReportExport.objects.filter(status__in=active, created_at__lt=now - STALE_AFTER)
    hours = int(STALE_AFTER.total_seconds() // 3600)
    failed = stale.update(
        status=ReportExport.Status.FAILED,
        finished_at=now,
        message=f"No worker finished this export within {hours} hours; request it again "
        "from the report's page.",
    )
    removed = files = 0
    old = ReportExport.objects.filter(
        status__in=(ReportExport.Status.DONE, ReportExport.Status.FAILED)
    )
    for export in old.filter(finished_at__lt=now - KEEP_FOR).iterator():
        if export.file:
            try:
                export.file.delete(save=False)
                files += 1
            except OSError as problem:  # a file already gone or unreadable: the row goes
                log.warning(
                    "report export %s: file %s not removed: %s", export.pk, export.file, problem
                )
        export.delete()
        removed += 1
    if failed or removed:
        log.info("report exports: %s marked failed, %s removed (%s files)", failed, removed, files)
    return {"failed": failed, "removed": removed, "files": files}
