"""Large report downloads (close.md M6): written by a Celery worker into MEDIA_ROOT, with
progress the admin shows as a bar, then a link to the file.

The worker rebuilds the report from the page's filters (the same form, so the file is what
the page showed) and writes it with ``write_xlsx`` in constant memory; every few thousand
rows it records how many it wrote. Running an export twice writes it once.
"""

from __future__ import annotations

import time
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
        name = f"{FOLDER}/{export.report}-{built.period}-{export.pk}.{export.fmt}"
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
