"""SO lines (S6–S11, P1–P9, A2–A4): read-only pages with the schedule, the waterfall
chart, what each reduction reversed, the contra AR entries and the manual actions of S10
(hold, release, change revenue dates)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import F
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.admin_objects import admin_object_for_page
from core.document_links import document_link, document_urls
from core.exceptions import BusinessRuleRefused
from core.paginator import EstimatedCountPaginator

from ..forms import DatesChangeForm, ReasonForm
from ..models import SoLine
from ..models.choices import YesNo
from ..models.periods import period_label
from ..selectors import open_period_id, so_lines_with_amounts
from ..selectors_ledger import (
    so_line_contra,
    so_line_figures,
    so_line_net_billed,
    so_line_reductions,
)
from ..services.manual import so_line_dates_change, so_line_hold, so_line_release
from .carve_panels import so_line_carve_rows
from .charts import so_line_schedule, waterfall_chart
from .charts_carve import basis_chart, line_revenue_bases
from .charts_reductions import reductions_chart
from .common import ReadOnlyAdmin, amount_text, badge, money_html
from .filters import CurrencyFilter
from .ledger_panels import contra_table, figure_groups, reduction_table

MANUAL = {
    "hold": ("Hold revenue", "Hold", so_line_hold),
    "release": ("Release held revenue", "Release", so_line_release),
    "dates": ("Change revenue dates", "Change dates", so_line_dates_change),
}
INTRO = {
    "hold": "The line releases nothing from the open period on; what it booked there "
    "and later is reversed and kept as held (deferred) until it is released.",
    "release": "Everything due catches up in the open period; later periods release "
    "in their own period.",
    "dates": "The future rows are rebuilt over the new dates; recognized revenue is not "
    "touched. The line is marked as changed by hand: its RORDs stop with RPRO-00356 until "
    "reviewed.",
}


@admin.register(SoLine)
class SoLineAdmin(ReadOnlyAdmin):
    change_form_template = "admin/revenue/soline/change_form.html"
    change_list_template = "admin/revenue/soline/change_list.html"
    list_display = (
        "so_line_id",
        "contract_link",
        "customer_item",
        "currency_code",
        "esp",
        "net_esp",
        "recognized",
        "deferred",
        "allocation",
        "revenue_dates",
        "flags",
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
    show_full_result_count = False  # hundreds of thousands of lines: see core.paginator
    paginator = EstimatedCountPaginator
    actions = ["hold_selected", "release_selected"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("so_line_id", "contract_page"),
                    ("so_num_link", "so_date"),
                    ("customer", "item"),
                    ("currency_code", "f_cur"),
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
    readonly_fields = ("contract_page", "currency_code", "hold_badge", "v7_mark", "so_num_link")

    def get_queryset(self, request):
        net = F("ext_sll_prc") + F("rord_sll_prc") + F("cmr_sll_prc")  # N (P1–P5)
        lines = so_lines_with_amounts(super().get_queryset(request)).annotate(_net_esp=net)
        return lines.select_related("contract")

    def get_object(self, request, object_id, from_field=None):
        """The change page asks for its line three times (history, panels, form): read it
        once per request; it is read-only here."""
        cache = request.__dict__.setdefault("_revenue_lines", {})
        key = (object_id, from_field)
        if key not in cache:
            cache[key] = super().get_object(request, object_id, from_field)
        return cache[key]

    def has_manage_schedule_permission(self, request, obj=None):
        return request.user.has_perm("revenue.manage_schedule")

    # --- columns ------------------------------------------------------------------------
    @admin.display(description="contract (RC_KEY)", ordering="contract__rc_key")
    def contract_link(self, obj):
        url = reverse("admin:revenue_soline_changelist") + f"?contract__id__exact={obj.contract_id}"
        return format_html('<a href="{}">{}</a>', url, obj.contract.rc_key)

    @admin.display(description="customer · item", ordering="customer")
    def customer_item(self, obj):
        return format_html(
            '{}<div class="revenue-item">{}</div>', obj.customer or "—", obj.item or ""
        )

    @admin.display(description="revenue contract (RC_KEY)")
    def contract_page(self, obj):
        url = reverse("admin:revenue_revenuecontract_change", args=[obj.contract_id])
        return format_html(
            '<a href="{}">{}</a> <span class="quiet">· its lines and allocation</span>',
            url,
            obj.contract.rc_key,
        )

    @admin.display(description="SO_NUM")
    def so_num_link(self, obj):
        """The order it came from, a link when Contra has it (core.document_links)."""
        urls = getattr(obj, "_document_urls", None)
        return document_link(obj.so_num, document_urls([obj.so_num]) if urls is None else urls)

    @admin.display(description="currency", ordering="ext_sll_prc_currency")
    def currency_code(self, obj):
        return obj.currency

    @admin.display(description="EXT_SLL_PRC", ordering="ext_sll_prc")
    def esp(self, obj):
        return money_html(obj.ext_sll_prc, code=False)

    @admin.display(description="net ESP", ordering="_net_esp")
    def net_esp(self, obj):
        """N = ESP + Σ RORD + Σ CM-R (P1–P5): what the line still sells."""
        net = obj.net_sll_prc
        if net == obj.ext_sll_prc.amount:
            return money_html(net, obj.currency, code=False)
        return format_html(
            '<span class="revenue-reduced" title="ESP {} reduced by {}">{}</span>',
            amount_text(obj.ext_sll_prc.amount, obj.currency),
            amount_text(net - obj.ext_sll_prc.amount, obj.currency),
            money_html(net, obj.currency, code=False),
        )

    @admin.display(description="allocated · carve", ordering="allocated")
    def allocation(self, obj):
        """A3: allocated over its carve (allocated − net ESP); — without SSP."""
        if obj.allocated is None:
            return format_html(
                '<span class="quiet" title="{}">—</span>',
                "returned: out of the allocation pool"
                if obj.is_returned
                else "no SSP: out of the allocation pool",
            )
        carve = obj.carve.amount if obj.carve is not None else 0
        return format_html(
            '<div class="contra-num">{}</div><div class="revenue-carve{}">carve {}{}</div>',
            amount_text(obj.allocated),
            " negative" if carve < 0 else "",
            "+" if carve > 0 else "",
            amount_text(carve, obj.currency),
        )

    @admin.display(description="returned", ordering="return_flag")
    def returned(self, obj):
        if obj.is_returned:
            return format_html(
                '<span class="revenue-flag yes" title="{}">Y</span>',
                "Return flag Y: fully reduced or returned",
            )
        return "—"

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

    @admin.display(description="method · revenue dates", ordering="rev_start_date")
    def revenue_dates(self, obj):
        changed = obj.dates_changed
        short = {"IMMEDIATE": "Immediate", "RATABLE_MONTHLY": "Monthly", "RATABLE_DAILY": "Daily"}
        return format_html(
            '<span class="revenue-method" title="{}">{}</span><br>'
            '<span class="revenue-dates{}" title="{}">{} –<br>{}</span>',
            obj.get_rev_method_display(),
            short.get(obj.rev_method),
            " changed" if changed else "",
            f"changed by hand; original {obj.start_date} – {obj.end_date}" if changed else "",
            obj.rev_start_date,
            obj.rev_end_date,
        )

    @admin.display(description="hold", ordering="hold")
    def hold_badge(self, obj):
        if not obj.hold:
            return "—"
        held = badge("HOLD", "On hold", "Manual deferral: releases nothing")
        if obj.hold_period is None:
            return held
        return format_html(
            "{} since {} (releases nothing from that period on)",
            held,
            period_label(obj.hold_period),
        )

    @admin.display(description="returned · hold · by hand", ordering="return_flag")
    def flags(self, obj):
        """Return flag Y, the hold badge and the V7 mark in one narrow column of the list."""
        hold = badge("HOLD", "Hold", "On hold (manual deferral)") if obj.hold else "—"
        marks = [self.returned(obj), hold, self.v7_mark(obj)]
        marks = [m for m in marks if m != "—"]
        return format_html_join(" ", "{}", ((m,) for m in marks)) if marks else "—"

    @admin.display(description="changed by hand", ordering="dates_changed")
    def v7_mark(self, obj):
        if not obj.marked_for_v7:
            return "—"
        why = ["revenue dates changed"] if obj.dates_changed else []
        why += ["held / released by hand"] if obj.manually_released else []
        return format_html(
            '<span class="revenue-v7" title="{}: its RORDs stop with RPRO-00356 until reviewed">'
            "by hand</span>",
            ", ".join(why).capitalize(),
        )

    # --- change page --------------------------------------------------------------------
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self.history_context(request, object_id)}
        line = self.get_object(request, object_id) if object_id else None
        if line is not None:
            line._document_urls = document_urls([line.so_num], user=request.user)
            open_period = open_period_id()
            schedule = so_line_schedule(line, open_period=open_period)
            reductions = so_line_reductions(line, open_period=open_period)
            contra = so_line_contra(line, open_period=open_period)
            figures = so_line_figures(line, net_billed=so_line_net_billed(line))
            extra_context.update(
                schedule=schedule,
                waterfall=waterfall_chart(schedule),
                figure_groups=figure_groups(line, figures),
                reductions=reductions,
                reduction_table=reduction_table(reductions),
                reductions_chart=reductions_chart(reductions, contra)
                if reductions.reductions or contra
                else None,
                contra=contra,
                contra_rows=contra_table(contra, line.currency),
                contra_outstanding=amount_text(line.contra_balance, line.currency),
                carve=so_line_carve_rows(line, open_period=open_period),
                basis_chart=basis_chart(
                    line_revenue_bases(line.pk).get(line.currency, []),
                    line.currency,
                    open_period=open_period,
                    id="chart-basis",
                    title="Contractual and ASC 606 revenue per period",
                ),
                transactions=line.transactions.order_by("collected_at", "id"),
                # by content, as the export (ids of entries of schedule rows are negative)
                journal=line.journal.order_by(
                    "period", F("inbound_line_id").asc(nulls_first=True), "entry_type", "id"
                ),
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
        line = admin_object_for_page(self, request, object_id, permission="revenue.manage_schedule")
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
