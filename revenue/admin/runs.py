"""Collection runs (I6, I8): counts, live progress, *Collect now* and the beat schedule."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django_celery_beat.models import PeriodicTask

from core.parsing import ascii_int

from ..models import CollectionRun
from ..services.collection import collection_pending_count, collection_request
from .common import ReadOnlyAdmin, badge

BEAT_TASK = "Revenue: collect inbound lines"
COUNTS = ("total", "collected", "stopped", "waiting", "validated", "skipped")


def duration_text(run: CollectionRun) -> str:
    if not run.started_at:
        return ""
    seconds = int(((run.finished_at or timezone.now()) - run.started_at).total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def when(value) -> str:
    return date_format(timezone.localtime(value), "Y-m-d H:i:s") if value else ""


def when_cell(run: CollectionRun, name: str, value):
    """Date over time, so the list stays narrow; the poller rewrites it as one line."""
    if not value:
        return live(run, name, "")
    local = timezone.localtime(value)
    return format_html(
        '<span data-run="{}" data-field="{}">{}<br>{}</span>',
        run.pk,
        name,
        date_format(local, "Y-m-d"),
        date_format(local, "H:i:s"),
    )


def run_state(run: CollectionRun) -> dict:
    """What the list shows of a run; the progress view sends the same as JSON."""
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": run.get_status_display(),
        "active": run.is_active,
        "percent": run.percent,
        "processed": run.processed,
        **{name: getattr(run, name) for name in COUNTS},
        "started": when(run.started_at),
        "finished": when(run.finished_at),
        "duration": duration_text(run),
        "message": run.message,
    }


def live(run: CollectionRun, name: str, value) -> str:
    """A cell the progress poller updates (data-run / data-field)."""
    return format_html('<span data-run="{}" data-field="{}">{}</span>', run.pk, name, value)


def count_column(name: str):
    """A list column that shows one of the run's counts and updates while it runs."""

    @admin.display(description=name, ordering=name)
    def column(self, obj):
        return live(obj, name, getattr(obj, name))

    column.__name__ = f"{name}_count"
    return column


@admin.register(CollectionRun)
class CollectionRunAdmin(ReadOnlyAdmin):
    change_list_template = "admin/revenue/collectionrun/change_list.html"
    change_form_template = "admin/revenue/collectionrun/change_form.html"
    list_display = (
        "id",
        "trigger",
        "requested_by",
        "status_badge",
        "progress",
        *(f"{name}_count" for name in COUNTS),
        "started",
        "finished",
        "duration",
        "message_text",
    )
    # no filter sidebar: the width goes to the counts and the progress bars
    list_select_related = ("requested_by",)
    fields = (
        ("status_badge", "progress"),
        ("trigger", "requested_by", "task_id"),
        "period",
        tuple(f"{name}_count" for name in COUNTS),
        ("processed", "batches"),
        ("created_at", "started", "finished", "duration"),
        "heartbeat_at",
        "message_text",
    )
    readonly_fields = (
        "status_badge",
        "progress",
        *(f"{name}_count" for name in COUNTS),
        "started",
        "finished",
        "duration",
        "message_text",
    )

    class Media:
        js = ["revenue/runs.js"]

    def has_collect_permission(self, request) -> bool:
        return request.user.has_perm("revenue.collect_now")

    # --- live cells ---------------------------------------------------------------------
    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<span data-run="{}" data-field="status" data-active="{}">{}</span>',
            obj.pk,
            "1" if obj.is_active else "0",
            badge(obj.status, obj.get_status_display()),
        )

    @admin.display(description="progress")
    def progress(self, obj):
        return format_html(
            '<span class="revenue-run-progress" data-run="{}" data-field="progress" '
            'title="{} of {} lines"><span class="contra-progress"><span style="width:{}%">'
            '</span></span> <span class="pct">{}%</span></span>',
            obj.pk,
            obj.processed,
            obj.total,
            obj.percent,
            obj.percent,
        )

    total_count = count_column("total")
    collected_count = count_column("collected")
    stopped_count = count_column("stopped")
    waiting_count = count_column("waiting")
    validated_count = count_column("validated")
    skipped_count = count_column("skipped")

    @admin.display(description="started", ordering="started_at")
    def started(self, obj):
        return when_cell(obj, "started", obj.started_at)

    @admin.display(description="finished", ordering="finished_at")
    def finished(self, obj):
        return when_cell(obj, "finished", obj.finished_at)

    @admin.display(description="duration")
    def duration(self, obj):
        return live(obj, "duration", duration_text(obj))

    @admin.display(description="message")
    def message_text(self, obj):
        return format_html(
            '<span class="revenue-run-message" data-run="{}" data-field="message">{}</span>',
            obj.pk,
            obj.message,
        )

    # --- views --------------------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("collect/", view(self.collect_view), name="revenue_collectionrun_collect"),
            path("progress/", view(self.progress_view), name="revenue_collectionrun_progress"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        task = (
            PeriodicTask.objects.select_related("interval", "crontab")
            .filter(name=BEAT_TASK)
            .first()
        )
        extra_context = {
            **(extra_context or {}),
            "can_collect": self.has_collect_permission(request),
            "pending": collection_pending_count(),
            "beat_task": task,
            "beat_schedule": (task.interval or task.crontab) if task else None,
            "beat_url": reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
            if task
            else "",
        }
        return super().changelist_view(request, extra_context)

    def collect_view(self, request):
        """I6: *Collect now* records a queued run and hands it to a Celery worker."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_collect_permission(request):
            raise PermissionDenied
        run = collection_request(actor=request.user)
        self.message_user(
            request,
            f"Run {run.pk} queued: a Celery worker picks it up; its progress shows below.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:revenue_collectionrun_changelist"))

    def progress_view(self, request):
        """I8: the state of the runs ``?ids=1,2`` for the progress bars (polled by runs.js)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        asked = (ascii_int(i.strip()) for i in request.GET.get("ids", "").split(",")[:200])
        ids = [pk for pk in asked if pk is not None]  # '²', 5,000 digits: no run
        runs = CollectionRun.objects.filter(pk__in=ids).order_by("-pk")
        states = [run_state(run) for run in runs]
        return JsonResponse({"runs": states, "active": any(state["active"] for state in states)})
