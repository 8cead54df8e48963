"""Inbound batches (I1): one arrival of lines, read-only, with its line counts."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import flatten
from django.db.models import F, OuterRef, Q
from django.urls import reverse
from django.utils.html import format_html

from core.queries import correlated_count

from ..models import InboundBatch, InboundLine
from ..models.choices import LineStatus
from .common import ReadOnlyAdmin

# Correlated counts, worked out for the page's rows only (one query for the page). Each
# is read from an index alone: new, stopped and withdrawn lines from ``inbound_open_batch``
# (lines not collected only), all lines from ``inbound_batch_key``; collected = all − new −
# stopped − withdrawn (counting collected lines directly reads every line of the batch
# from the table). Withdrawn lines (I4) are neither new, stopped nor collected.
COUNTS = {
    "_lines": Q(),
    "_new": Q(status=LineStatus.NEW),
    "_stopped": Q(status=LineStatus.ERROR),
    "_withdrawn": Q(status=LineStatus.WITHDRAWN),
}
COLLECTED = F("_lines") - F("_new") - F("_stopped") - F("_withdrawn")


def _count(condition: Q):
    lines = InboundLine.objects.filter(condition, batch=OuterRef("pk"))
    return correlated_count(lines.order_by().values("batch"))


def lines_url(batch_id: int, **filters) -> str:
    query = "".join(f"&{key}={value}" for key, value in filters.items())
    return f"{reverse('admin:revenue_inboundline_changelist')}?batch={batch_id}{query}"


@admin.register(InboundBatch)
class InboundBatchAdmin(ReadOnlyAdmin):
    change_form_template = "admin/revenue/inboundbatch/change_form.html"
    list_display = (
        "id",
        "source",
        "filename",
        "created_at",
        "created_by",
        "line_count",
        "error_count",
        "new",
        "collected",
        "stopped",
        "withdrawn",
        "lines_link",
    )
    list_filter = ("source",)
    search_fields = ("filename", "=id")
    list_select_related = ("created_by",)
    fields = (
        ("source", "filename"),
        ("created_at", "created_by"),
        ("line_count", "error_count"),
        ("new", "collected", "stopped", "withdrawn"),
        "lines_link",
    )
    readonly_fields = flatten(fields)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(**{name: _count(condition) for name, condition in COUNTS.items()})
        )

    @admin.display(description="new", ordering="_new")
    def new(self, obj):
        return obj._new

    @admin.display(description="collected", ordering=COLLECTED)
    def collected(self, obj):
        return obj._lines - obj._new - obj._stopped - obj._withdrawn

    @admin.display(description="stopped / waiting", ordering="_stopped")
    def stopped(self, obj):
        if not obj._stopped:
            return 0
        url = lines_url(obj.pk, status__exact=LineStatus.ERROR)
        return format_html('<a class="revenue-bad" href="{}">{}</a>', url, obj._stopped)

    @admin.display(description="withdrawn", ordering="_withdrawn")
    def withdrawn(self, obj):
        """I4: taken back by the service that staged them (never collected)."""
        if not obj._withdrawn:
            return 0
        url = lines_url(obj.pk, status__exact=LineStatus.WITHDRAWN)
        return format_html('<a href="{}">{}</a>', url, obj._withdrawn)

    @admin.display(description="lines")
    def lines_link(self, obj):
        return format_html('<a href="{}">Show the {} lines</a>', lines_url(obj.pk), obj.line_count)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self.history_context(request, object_id)}
        return super().changeform_view(request, object_id, form_url, extra_context)
