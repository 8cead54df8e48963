"""SO lines and revenue contracts (S6–S11, A1): read-only pages with the schedule, the
waterfall chart and the manual actions of S10 (hold, release, change revenue dates)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.exceptions import BusinessRuleRefused

from ..forms import DatesChangeForm, ReasonForm
from ..models import RevenueContract, SoLine
from ..models.choices import YesNo
from ..selectors import open_period_id, so_lines_with_amounts
from ..services.manual import so_line_dates_change, so_line_hold, so_line_release
from .charts import so_line_schedule, waterfall_svg
from .common import ReadOnlyAdmin, badge, money_html
from .filters import CurrencyFilter
from .staging import plain

MANUAL = {
    "hold": ("Hold revenue", "Hold", so_line_hold),
    "release": ("Release held revenue", "Release", so_line_release),
    "dates": ("Change revenue dates", "Change dates", so_line_dates_change),
}
INTRO = {
    "hold": "S10: the line releases nothing from the open period on; what it booked there "
    "and later is reversed and kept as held (deferred) until it is released.",
    "release": "S10: everything due catches up in the open period; later periods release "
    "in their own period.",
    "dates": "S10: the future rows are rebuilt over the new dates; recognized revenue is not "
    "touched. The line is marked for V7.",
}


@admin.register(SoLine)
class SoLineAdmin(ReadOnlyAdmin):
    change_form_template = "admin/revenue/soline/change_form.html"
    list_display = (
        "so_line_id",
        "contract_link",
        "customer",
        "item",
        "currency_code",
        "esp",
        "recognized",
        "deferred",
        "method",
        "revenue_dates",
        "returned",
        "hold_and_v7",
    )
    list_filter = (
        "rev_method",
        "hold",
        "return_flag",
        CurrencyFilter,
        "dates_changed",
        "manually_released",
    )
    search_fields = ("so_line_id", "so_num", "customer", "contract__rc_key")
    search_help_text = "SO_LINE_ID, SO_NUM, customer or RC_KEY."
    list_select_related = ("contract",)
    actions = ["hold_selected", "release_selected"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("so_line_id", "contract_link"),
                    ("so_num", "so_date"),
                    ("customer", "item"),
                )
            },
        ),
        (
            "Amounts",
            {
                "fields": (
                    ("currency_code", "f_cur", "quantity_text"),
                    ("elp", "esp"),
                    ("recognized", "deferred"),
                    ("ssp_pct_text", "ssp_price_text", "ext_ssp_text"),
                    ("allocated_text", "carve_text"),
                )
            },
        ),
        (
            "Revenue",
            {
                "fields": (
                    ("rev_method", "return_flag"),
                    ("start_date", "end_date"),
                    ("rev_start_date", "rev_end_date"),
                    ("hold_badge", "v7_mark"),
                )
            },
        ),
    )
    readonly_fields = (
        "contract_link",
        "currency_code",
        "quantity_text",
        "elp",
        "esp",
        "recognized",
        "deferred",
        "ssp_pct_text",
        "ssp_price_text",
        "ext_ssp_text",
        "allocated_text",
        "carve_text",
        "hold_badge",
        "v7_mark",
    )

    def get_queryset(self, request):
        return so_lines_with_amounts(super().get_queryset(request))

    def has_manage_schedule_permission(self, request, obj=None):
        return request.user.has_perm("revenue.manage_schedule")

    # --- columns ------------------------------------------------------------------------
    @admin.display(description="contract (RC_KEY)", ordering="contract__rc_key")
    def contract_link(self, obj):
        url = reverse("admin:revenue_soline_changelist") + f"?contract__id__exact={obj.contract_id}"
        return format_html('<a href="{}">{}</a>', url, obj.contract.rc_key)

    @admin.display(description="currency", ordering="ext_sll_prc_currency")
    def currency_code(self, obj):
        return obj.currency

    @admin.display(description="EXT_SLL_PRC", ordering="ext_sll_prc")
    def esp(self, obj):
        return money_html(obj.ext_sll_prc, code=False)

    @admin.display(description="EXT_LST_PRC")
    def elp(self, obj):
        return money_html(obj.ext_lst_prc, code=False)

    @admin.display(description="ORD_QTY")
    def quantity_text(self, obj):
        return plain(obj.quantity)

    @admin.display(description="SSP_PCT")
    def ssp_pct_text(self, obj):
        return plain(obj.ssp_pct) or "—"

    @admin.display(description="SSP_PRICE")
    def ssp_price_text(self, obj):
        return plain(obj.ssp_price) or "—"

    @admin.display(description="EXT_SSP")
    def ext_ssp_text(self, obj):
        return money_html(obj.ext_ssp, code=False)

    @admin.display(description="ALLOCATED")
    def allocated_text(self, obj):
        return money_html(obj.allocated, code=False)

    @admin.display(description="CARVE")
    def carve_text(self, obj):
        return money_html(obj.carve, code=False)

    @admin.display(description="method", ordering="rev_method")
    def method(self, obj):
        short = {"IMMEDIATE": "Immediate", "RATABLE_MONTHLY": "Monthly", "RATABLE_DAILY": "Daily"}
        return format_html(
            '<span title="{}">{}</span>', obj.get_rev_method_display(), short.get(obj.rev_method)
        )

    @admin.display(description="returned", ordering="return_flag")
    def returned(self, obj):
        return "Y" if obj.return_flag == YesNo.YES else "—"

    def _returned(self, obj) -> bool:
        return obj.return_flag == YesNo.YES  # P2: amounts shown empty

    @admin.display(description="recognized", ordering="recognized_amount")
    def recognized(self, obj):
        if self._returned(obj):
            return "—"
        return money_html(obj.recognized_amount, obj.currency, code=False)

    @admin.display(description="deferred", ordering="deferred_amount")
    def deferred(self, obj):
        if self._returned(obj):
            return "—"
        return money_html(obj.deferred_amount, obj.currency, code=False)

    @admin.display(description="revenue dates", ordering="rev_start_date")
    def revenue_dates(self, obj):
        changed = obj.dates_changed
        return format_html(
            '<span class="revenue-dates{}" title="{}">{} –<br>{}</span>',
            " changed" if changed else "",
            f"changed by hand; original {obj.start_date} – {obj.end_date}" if changed else "",
            obj.rev_start_date,
            obj.rev_end_date,
        )

    @admin.display(description="hold", ordering="hold")
    def hold_badge(self, obj):
        if obj.hold:
            return badge("HOLD", "On hold", "S10: manual deferral, releases nothing")
        return "—"

    @admin.display(description="hold · V7", ordering="hold")
    def hold_and_v7(self, obj):
        """The hold badge and the V7 mark in one narrow column of the list."""
        marks = [m for m in (self.hold_badge(obj), self.v7_mark(obj)) if m != "—"]
        return format_html_join(" ", "{}", ((m,) for m in marks)) if marks else "—"

    @admin.display(description="V7", ordering="dates_changed")
    def v7_mark(self, obj):
        if not obj.marked_for_v7:
            return "—"
        why = ["revenue dates changed"] if obj.dates_changed else []
        why += ["held / released by hand"] if obj.manually_released else []
        return format_html(
            '<span class="revenue-v7" title="V7 (RPRO-00356): {}">V7</span>', ", ".join(why)
        )

    # --- change page --------------------------------------------------------------------
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self.history_context(request, object_id)}
        line = self.get_object(request, object_id) if object_id else None
        if line is not None:
            schedule = so_line_schedule(line, open_period=open_period_id())
            extra_context.update(
                schedule=schedule,
                waterfall=waterfall_svg(schedule),
                transactions=line.transactions.order_by("collected_at", "id"),
                journal=line.journal.order_by("period", "id"),
                can_manage=self.has_manage_schedule_permission(request),
            )
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            *(
                path(
                    f"<path:object_id>/{kind}/",
                    view(self.manual_view),
                    {"kind": kind},
                    name=f"revenue_soline_{kind}",
                )
                for kind in MANUAL
            ),
            *super().get_urls(),
        ]

    def manual_view(self, request, object_id, kind):
        """S10 hold / release / change revenue dates, through revenue.services.manual."""
        if not self.has_manage_schedule_permission(request):
            raise PermissionDenied
        line = get_object_or_404(self.get_queryset(request), pk=object_id)
        title, label, service = MANUAL[kind]
        change_url = reverse("admin:revenue_soline_change", args=[line.pk])
        form_class = DatesChangeForm if kind == "dates" else ReasonForm
        initial = {"start_date": line.rev_start_date, "end_date": line.rev_end_date}
        form = form_class(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            if kind == "dates":
                data["start"], data["end"] = data.pop("start_date"), data.pop("end_date")
            try:
                service(line=line, actor=request.user, **data)
            except BusinessRuleRefused as refusal:
                field = refusal.field if refusal.field in form.fields else None
                form.add_error(field, str(refusal))
            else:
                self.message_user(request, f"{line}: {title.lower()} done.", messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        return self.admin_page(
            request,
            "admin/revenue/action_confirm.html",
            {
                "title": f"{title}: {line}",
                "original": line,
                "intro": INTRO[kind],
                "objects": [(line, self.summary(line))],
                "form": form,
                "submit_label": label,
                "cancel_url": change_url,
            },
        )

    def summary(self, line) -> str:
        return format_html(
            "{} – {} · recognized {} · deferred {}{}",
            line.rev_start_date,
            line.rev_end_date,
            money_html(line.recognized_amount, line.currency),
            money_html(line.deferred_amount, line.currency),
            " · on hold" if line.hold else "",
        )

    # --- bulk actions -------------------------------------------------------------------
    def _bulk(self, request, queryset, kind: str):
        title, label, service = MANUAL[kind]
        form = ReasonForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if not form.is_bound or not form.is_valid():
            return self.admin_page(
                request,
                "admin/revenue/action_confirm.html",
                {
                    "title": f"{title}: {queryset.count()} SO line(s)",
                    "intro": INTRO[kind],
                    "objects": [(line, self.summary(line)) for line in queryset[:200]],
                    "selected": queryset.values_list("pk", flat=True),
                    "action": f"{kind}_selected",
                    "form": form,
                    "submit_label": label,
                },
            )
        done, problems = 0, []
        for line in queryset.order_by("so_line_id"):
            try:
                service(line=line, actor=request.user, reason=form.cleaned_data["reason"])
                done += 1
            except BusinessRuleRefused as refusal:
                problems.append(str(refusal))
        if done:
            self.message_user(request, f"{title}: {done} line(s) done.", messages.SUCCESS)
        self.message_refusals(request, problems, what="line(s)")
        return None

    @admin.action(description="Hold revenue of selected lines", permissions=["manage_schedule"])
    def hold_selected(self, request, queryset):
        return self._bulk(request, queryset, "hold")

    @admin.action(
        description="Release held revenue of selected lines", permissions=["manage_schedule"]
    )
    def release_selected(self, request, queryset):
        return self._bulk(request, queryset, "release")


@admin.register(RevenueContract)
class RevenueContractAdmin(ReadOnlyAdmin):
    list_display = ("rc_key", "line_count", "created_at", "lines_link")
    search_fields = ("rc_key", "lines__so_line_id")
    fields = ("rc_key", "created_at", "line_count", "lines_link")
    readonly_fields = fields

    def get_queryset(self, request):
        lines = (
            SoLine.objects.filter(contract=OuterRef("pk"))
            .order_by()
            .values("contract")
            .annotate(n=Count("pk"))
            .values("n")
        )
        count = Coalesce(Subquery(lines, output_field=IntegerField()), 0)
        return super().get_queryset(request).annotate(_lines=count)

    @admin.display(description="SO lines", ordering="_lines")
    def line_count(self, obj):
        return obj._lines

    @admin.display(description="")
    def lines_link(self, obj):
        url = reverse("admin:revenue_soline_changelist") + f"?contract__id__exact={obj.pk}"
        return format_html('<a href="{}">Show its SO lines ›</a>', url)
