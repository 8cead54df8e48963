"""M6: report exports that no worker finishes do not poll for ever, and old files go."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from core.models import ReportExport
from core.report_exports import KEEP_FOR, STALE_AFTER, report_exports_tidy
from core.tasks import report_exports_tidy_task

pytestmark = pytest.mark.django_db


def _export(status, *, created, finished=None, content=None):
    export = ReportExport.objects.create(report="balances", params={}, status=status)
    if content is not None:
        export.file.save(f"balances-{export.pk}.xlsx", ContentFile(content), save=True)
    ReportExport.objects.filter(pk=export.pk).update(created_at=created, finished_at=finished)
    return export


def test_m6_stale_exports_fail_in_words_and_old_ones_go_with_their_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    now = timezone.now()
    long_ago = now - STALE_AFTER - timedelta(minutes=1)
    queued_stale = _export("QUEUED", created=long_ago)
    running_stale = _export("RUNNING", created=long_ago)
    running_fresh = _export("RUNNING", created=now - timedelta(minutes=5))
    old_done = _export(
        "DONE", created=long_ago, finished=now - KEEP_FOR - timedelta(hours=1), content=b"x"
    )
    recent_done = _export("DONE", created=long_ago, finished=now - timedelta(days=1), content=b"y")
    old_file = tmp_path / old_done.file.name
    assert old_file.exists()

    assert report_exports_tidy(now=now) == {"failed": 2, "removed": 1, "files": 1}

    for export in (queued_stale, running_stale):
        export.refresh_from_db()
        assert export.status == "FAILED" and not export.is_active
        assert "No worker finished this export within 6 hours" in export.message
    running_fresh.refresh_from_db()
    assert running_fresh.status == "RUNNING"
    assert not ReportExport.objects.filter(pk=old_done.pk).exists()
    assert not old_file.exists()
    recent_done.refresh_from_db()
    assert (tmp_path / recent_done.file.name).exists()
    # a second run finds nothing: safe to retry
    assert report_exports_tidy(now=now) == {"failed": 0, "removed": 0, "files": 0}


def test_m6_a_missing_file_does_not_stop_the_tidy(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    now = timezone.now()
    gone = _export("DONE", created=now - KEEP_FOR * 2, finished=now - KEEP_FOR * 2, content=b"x")
    (tmp_path / gone.file.name).unlink()
    assert report_exports_tidy(now=now)["removed"] == 1
    assert not ReportExport.objects.exists()


def test_m6_the_tidy_is_an_hourly_beat_job():
    task = PeriodicTask.objects.get(name="Reports: tidy the exports")
    assert task.task == "core.tasks.report_exports_tidy_task" and task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("15", "*")
    assert report_exports_tidy_task.apply().get() == {"failed": 0, "removed": 0, "files": 0}
