"""Inbound staging (I1–I5): lines as received, their errors, review, upload and export.

Every write goes through revenue.services.inbound; refusals become messages.
"""

from __future__ import annotations

import csv
import logging

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from core.exceptions import BusinessRuleRefused
from core.paginator import EstimatedCountPaginator
from core.parsing import ascii_int

from ..forms import InboundLineForm, InboundUploadForm, review_list_form
from ..models import InboundBatch, InboundLine, SoLine
from ..models.choices import LineStatus
from ..selectors import staging_export_rows
from ..services.inbound import (
    EDITABLE_FIELDS,
    InboundFileRefused,
    inbound_file_stage,
    inbound_line_delete,
    inbound_line_update,
    inbound_lines_retry,
    inbound_review_set,
)
from ..services.parsing import COLUMNS
from .common import (
    RevenueAdmin,
    ServiceListEditMixin,
    change_link,
    changelist_rows,
    csv_download,
    money_html,
)
from .filters import ErrorCodeFilter, RecentBatchFilter
from .inbound_documents import DocumentFilter, ServiceLineMixin
from .inbound_review import RordReviewFilter, RordReviewMixin
from .staging import FIXED, error_lines, line_badge, raw_rows

log = logging.getLogger(__name__)


@admin.register(InboundLine)
class InboundLineAdmin(ServiceLineMixin, RordReviewMixin, ServiceListEditMixin, RevenueAdmin):
    list_done_message = "RORD Review Completed changed on {n} line(s)."
    form = InboundLineForm
    change_list_template = "admin/revenue/inboundline/change_list.html"
    change_form_template = "admin/revenue/inboundline/change_form.html"
    list_display = (
        "id",
        "batch_link",
        "row",
        "tran_type_code",
        "so_line_id",
        "orig_so_line_id",
        "documents",
        "esp",
        "status_badge",
        "error_list",
        "rord_review_completed",
        "collected",
    )
    list_display_links = ("id",)
    list_editable = ("rord_review_completed",)
    list_filter = (
        DocumentFilter,  # shown only while chosen (the document pages link to it)
        RordReviewFilter,
        "status",
        "tran_type",
        ErrorCodeFilter,
        RecentBatchFilter,
        "waiting",
    )
    search_fields = ("so_line_id", "orig_so_line_id", "inv_line_id", "so_num")
    search_help_text = "SO_LINE_ID, ORIG_SO_LINE_ID, INV_LINE_ID, SO_NUM or a staging id (#123)."
    list_select_related = ("batch",)
    # a million staged lines: no COUNT(*) of all of them, the filtered count exact up to
    # 10,000 then estimated (newest first: Meta.ordering -id, the primary key)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = [
        "review_and_collect",
        "review_yes",
        "review_clear",
        "retry_selected",
        "delete_selected_lines",
    ]
    readonly_fields = (
        "status_badge",
        "batch_link",
        "row_number",
        "line_key",
        "ref_line_id",
        "so_line_link",
        "document_links",
        "collected_at",
        "run_link",
        "created_at",
        "withdrawn_at",
        "withdrawn_reason",
    )
    fieldsets = (
        (
            "Staging",
            {
                "fields": (
                    ("status_badge", "collected_at"),
                    ("batch_link", "row_number", "created_at"),
                    ("line_key", "ref_line_id", "so_line_link"),
                    "document_links",
                    "run_link",
                )
            },
        ),
        (
            "Transaction",
            {
                "fields": (
                    ("tran_type", "so_num"),
                    ("so_line_id", "orig_so_line_id"),
                    "so_date",
                    ("inv_num", "inv_line_id", "inv_date"),
                    ("customer", "item"),
                )
            },
        ),
        (
            "Amounts",
            {
                "fields": (
                    ("ord_qty", "inv_qty"),
                    ("ext_lst_prc", "ext_sll_prc"),
                    ("curr", "f_cur"),
                    ("ssp_pct", "ssp_price"),
                )
            },
        ),
        (
            "Revenue",
            {
                "fields": (
                    ("start_date", "end_date", "rev_method"),
                    "rc_key",
                    ("cancel_flag", "return_flag", "rord_review_completed"),
                )
            },
        ),
    )

    # --- permissions: lines arrive through the three doors only (I1) -------------------
    def has_add_permission(self, request):
        return False

    def has_upload_permission(self, request):
        return request.user.has_perm("revenue.add_inboundline")

    def has_review_permission(self, request):
        return request.user.has_perm("revenue.review_inboundline")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status in FIXED:
            return False  # I4: collected and withdrawn lines are read-only
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status in FIXED:
            return False  # I4: withdrawn lines stay recorded
        return super().has_delete_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        staging, *rest = super().get_fieldsets(request, obj)
        if obj is None or obj.status != LineStatus.WITHDRAWN:
            return [staging, *rest]
        # I4: when and why the service that staged it took it back
        return [staging, ("Withdrawn", {"fields": (("withdrawn_at", "withdrawn_reason"),)}), *rest]

    # --- list ---------------------------------------------------------------------------
    def get_changelist_form(self, request, **kwargs):
        can_review = self.has_review_permission(request)
        return super().get_changelist_form(
            request, form=review_list_form(can_review=can_review), **kwargs
        )

    def get_search_results(self, request, queryset, search_term):
        found, duplicates = super().get_search_results(request, queryset, search_term)
        staging_id = ascii_int(search_term.strip().lstrip("#"))  # '#²': no id to add
        if staging_id is not None:
            found = found | queryset.filter(pk=staging_id)
        return found, duplicates

    @admin.display(description="batch", ordering="batch_id")
    def batch_link(self, obj):
        url = reverse("admin:revenue_inboundline_changelist") + f"?batch={obj.batch_id}"
        return format_html('<a href="{}" title="{}">#{}</a>', url, obj.batch, obj.batch_id)

    @admin.display(description="row", ordering="row_number")
    def row(self, obj):
        return obj.row_number

    @admin.display(description="collected at", ordering="collected_at")
    def collected(self, obj):
        if not obj.collected_at:
            return "—"
        local = timezone.localtime(obj.collected_at)
        return format_html("{}<br>{}", date_format(local, "Y-m-d"), date_format(local, "H:i"))

    @admin.display(description="TRAN_TYPE", ordering="tran_type")
    def tran_type_code(self, obj):
        if obj.tran_type:
            return format_html('<span class="revenue-type">{}</span>', obj.tran_type)
        return format_html('<span class="quiet">{}</span>', obj.raw.get("TRAN_TYPE") or "—")

    @admin.display(description="EXT_SLL_PRC", ordering="ext_sll_prc")
    def esp(self, obj):
        if obj.ext_sll_prc is None:
            raw = obj.raw.get("EXT_SLL_PRC")
            return format_html('<span class="quiet">{}</span>', raw) if raw else "—"
        return money_html(obj.ext_sll_prc, obj.curr or None)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return line_badge(obj)

    @admin.display(description="errors")
    def error_list(self, obj):
        return error_lines(obj)

    @admin.display(description="SO line")
    def so_line_link(self, obj):
        line = obj.line or SoLine.objects.filter(so_line_id=obj.ref_line_id).first()
        if line is None:
            return format_html(
                '<span class="quiet">{} (not collected yet)</span>', obj.ref_line_id or "—"
            )
        return change_link(line)

    @admin.display(description="collection run")
    def run_link(self, obj):
        return change_link(obj.run) if obj.run_id else "—"

    # --- change page --------------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload_view), name="revenue_inboundline_upload"),
            path("export/", view(self.export_view), name="revenue_inboundline_export"),
            *super().get_urls(),
        ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self.history_context(request, object_id)}
        line = self.get_object(request, object_id) if object_id else None
        if line is not None:
            extra_context["raw_rows"] = raw_rows(line)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        """I4 through inbound_line_update; the review flag through inbound_review_set (I5)."""
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in EDITABLE_FIELDS and name != "rord_review_completed"
        }
        if changes:
            inbound_line_update(line=obj, changes=changes, actor=request.user)
        if "rord_review_completed" in form.changed_data:
            value = form.cleaned_data["rord_review_completed"] or "N"
            try:
                inbound_review_set(line_ids=[obj.pk], value=value, actor=request.user)
            except BusinessRuleRefused as refusal:
                self.message_refusal(request, refusal)
            else:
                self.list_saved(request)

    def delete_model(self, request, obj):
        inbound_line_delete(line=obj, actor=request.user)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except BusinessRuleRefused as refusal:
            self.message_refusal(request, refusal)
            return HttpResponseRedirect(reverse("admin:revenue_inboundline_changelist"))

    # --- actions ------------------------------------------------------------------------
    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # ours goes through inbound_line_delete (I4)
        return actions

    def _review(self, request, queryset, value: str) -> None:
        done, problems = 0, []
        for line in queryset.order_by("pk"):
            try:
                done += inbound_review_set(line_ids=[line.pk], value=value, actor=request.user)
            except BusinessRuleRefused as refusal:
                problems.append(refusal.message)
        if done:
            self.message_user(
                request,
                f"RORD Review Completed = {value} on {done} line(s).",
                level=messages.SUCCESS,
            )
        elif not problems:
            self.message_user(request, f"The selected lines already had {value}.")
        self.message_refusals(request, problems, what="line(s)")

    @admin.action(description="Mark RORD Review Completed (Y)", permissions=["review"])
    def review_yes(self, request, queryset):
        self._review(request, queryset, "Y")

    @admin.action(description="Clear RORD Review Completed (N)", permissions=["review"])
    def review_clear(self, request, queryset):
        self._review(request, queryset, "N")

    @admin.action(description="Retry at next collection", permissions=["change"])
    def retry_selected(self, request, queryset):
        selected = queryset.count()
        count = inbound_lines_retry(lines=queryset, actor=request.user)
        self.message_user(
            request,
            f"{count} stopped line(s) will be retried at the next collection.",
            level=messages.SUCCESS if count else messages.WARNING,
        )
        if count < selected:
            self.message_user(
                request,
                f"{selected - count} not queued: only stopped lines are retried, and a line "
                "with values that could not be parsed must be edited first.",
                level=messages.WARNING,
            )

    @admin.action(
        description="Delete selected inbound lines (not collected)", permissions=["delete"]
    )
    def delete_selected_lines(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            return self.admin_page(
                request,
                "admin/revenue/action_confirm.html",
                {
                    "title": "Delete inbound lines?",
                    "intro": "The lines are deleted from staging and the deletion is kept "
                    "in the audit trail. Collected and withdrawn lines cannot be deleted, "
                    "nor lines the order service staged (change their document instead).",
                    "objects": [(line, line_badge(line)) for line in queryset[:200]],
                    "selected": queryset.values_list("pk", flat=True),
                    "action": "delete_selected_lines",
                    "submit_label": "Yes, delete",
                    "danger": True,
                },
            )
        deleted, problems = 0, []
        for line in queryset.order_by("pk"):
            try:
                inbound_line_delete(line=line, actor=request.user)
                deleted += 1
            except BusinessRuleRefused as refusal:
                problems.append(refusal.message)
        if deleted:
            self.message_user(
                request, f"Deleted {deleted} inbound line(s).", level=messages.SUCCESS
            )
        self.message_refusals(request, problems, what="deletion(s)")
        return None

    # --- upload (I1) and export ---------------------------------------------------------
    def upload_view(self, request):
        if not self.has_upload_permission(request):
            raise PermissionDenied
        form = InboundUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = inbound_file_stage(
                    stream=upload,
                    filename=upload.name,
                    source=InboundBatch.SourceKind.UPLOAD,
                    actor=request.user,
                )
            except InboundFileRefused as refused:
                form.add_error("file", str(refused))
            except (csv.Error, DatabaseError) as problem:
                # a file the reader or the database chokes on is still a page, not a 500;
                # nothing was staged (inbound_stage is one transaction)
                log.exception("upload of %s could not be staged", upload.name)
                form.add_error("file", f"{upload.name} could not be staged: {problem}")
            else:
                self.message_user(
                    request,
                    f"Staged {batch.line_count} lines (batch {batch.pk}); "
                    f"{batch.error_count} with values that could not be parsed.",
                    level=messages.WARNING if batch.error_count else messages.SUCCESS,
                )
                url = reverse("admin:revenue_inboundline_changelist")
                return HttpResponseRedirect(f"{url}?batch={batch.pk}")
        return self.admin_page(
            request,
            "admin/revenue/inboundline/upload.html",
            {"title": "Upload inbound lines", "form": form, "columns": COLUMNS},
        )

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        queryset = changelist_rows(self, request)
        if isinstance(queryset, HttpResponseRedirect):  # a parameter the list refuses
            return queryset
        return csv_download(
            kind="staging", rows=staging_export_rows(queryset), filename="staging.csv"
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            **self.review_context(request),
            "can_upload": self.has_upload_permission(request),
            "export_query": request.GET.urlencode(),
        }
        return super().changelist_view(request, extra_context)
