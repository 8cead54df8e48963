"""Periods (S1, S2): open / closed months, closing through the service, GL transfer files."""

from __future__ import annotations

import os
from collections import defaultdict
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin_objects import object_or_404
from core.exceptions import BusinessRuleRefused
from core.fsm_admin import TransitionAdminMixin
from core.parsing import ascii_int

from ..forms import PeriodOpenForm
from ..models import JournalEntry, Period
from ..models.periods import period_label
from ..reports.checklist import (
    WARNING,
    checklist_blockers,
    checklist_run,
    close_blocked_events,
)
from ..services.periods import REASON_MAX, period_close, period_open, period_parse, trial_balance
from .common import AttachingChangeList, RevenueAdmin, amount_text, badge
from .journal import BalanceRow, CurrencyTotal

CLOSE_INTRO = (
    "Every entry of the period is posted, held rows roll into the next month, the "
    "trial balance is kept and the GL transfer file is written; then the next month opens. "
    "Nothing is ever booked into a closed period again."
)


class PeriodCloseForm(forms.Form):
    """M4: with a blocker on the checklist the close goes ahead only when forced, with a
    reason (audited on the close event)."""

    force = forms.BooleanField(
        required=False, label="Close despite the blockers (force)", initial=False
    )
    reason = forms.CharField(
        required=False,
        max_length=REASON_MAX,
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        help_text="Why the close goes ahead despite the blockers: kept in the period's "
        "history with the blockers it overrode.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("force") and not (cleaned.get("reason") or "").strip():
            self.add_error(
                "reason", "Reason: a forced close needs a reason (why close despite the blockers)."
            )
        return cleaned


def balance_from_json(rows: list[dict]) -> list[CurrencyTotal]:
    totals: dict[str, CurrencyTotal] = {}
    for row in rows:
        line = BalanceRow(
            row["account"], row["currency"], Decimal(row["dr"]), Decimal(row["cr"]), row["n"]
        )
        totals.setdefault(row["currency"], CurrencyTotal(row["currency"])).rows.append(line)
    return list(totals.values())


def _closed_totals(rows: list[dict]) -> tuple[int, list[tuple[str, str]]]:
    """Entries and debits per currency from a kept trial balance: each entry is counted
    on its debit and its credit row (``n``), and its amount is one debit (S3)."""
    debits: dict[str, Decimal] = defaultdict(Decimal)
    sides = 0
    for row in rows:
        debits[row["currency"]] += Decimal(row["dr"])
        sides += row["n"]
    return sides // 2, [(amount_text(debits[c], c), c) for c in sorted(debits)]


def period_close_service(*, obj, name: str, user, comment: str = ""):
    """The Close button of a period's page: closes it (and any open before it, S2)."""
    return period_close(actor=user, through=obj.pk)


@admin.register(Period)
class PeriodAdmin(TransitionAdminMixin, RevenueAdmin):
    transitions = {"close": period_close_service}
    change_list_template = "admin/revenue/period/change_list.html"
    change_form_template = "admin/revenue/period/change_form.html"
    list_display = (
        "period_text",
        "status_badge",
        "opened_at",
        "closed_at",
        "closed_by",
        "entry_count",
        "debits",
        "credits",
        "gl_link",
    )
    list_display_links = ("period_text",)
    list_filter = ("status",)
    list_select_related = ("closed_by",)
    fields = ("period_text", "status_badge", "opened_at", ("closed_at", "closed_by"), "gl_link")
    readonly_fields = flatten(fields)

    @staticmethod
    def get_fsm_block_label(fsm_field_name):
        return "Period"

    def has_add_permission(self, request):
        return False  # S1: the first period is opened below; the rest by closing

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status == Period.Status.CLOSED:
            return False  # S1: a closed period never changes; its page is a view
        return super().has_change_permission(request, obj)

    def has_close_permission(self, request):
        return request.user.has_perm("revenue.close_period")

    # --- list ---------------------------------------------------------------------------
    def get_changelist(self, request, **kwargs):
        return AttachingChangeList

    def attach_page(self, rows) -> None:
        """Entry counts and totals per currency of the page's periods. A closed period's
        come from the trial balance kept at its close (nothing is booked into it again,
        S1), the others' from one query (summing every period's entries took 300 ms with
        2M entries)."""
        live = [p.pk for p in rows if p.status != Period.Status.CLOSED]
        sums = (
            JournalEntry.objects.filter(period__any=live)
            .values_list("period", "amount_currency")
            .annotate(n=Count("pk"), total=Sum("amount"))
            .order_by("period", "amount_currency")
        )
        counts, totals = defaultdict(int), defaultdict(list)
        for period, currency, n, total in sums:
            counts[period] += n
            totals[period].append((amount_text(total, currency), currency))
        for row in rows:
            if row.status == Period.Status.CLOSED:
                counts[row.pk], totals[row.pk] = _closed_totals(row.trial_balance)
            row._entries, row._totals = counts[row.pk], totals[row.pk]

    @admin.display(description="period", ordering="id")
    def period_text(self, obj):
        return format_html("{} <span class='quiet'>({})</span>", obj.label, obj.pk)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.status, obj.get_status_display())

    @admin.display(description="entries")
    def entry_count(self, obj):
        count = getattr(obj, "_entries", None)
        if count is None:
            count = JournalEntry.objects.filter(period=obj.pk).count()
        url = reverse("admin:revenue_journalentry_changelist") + f"?period={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, count)

    def _totals(self, obj):
        totals = getattr(obj, "_totals", None) or []
        if not totals:
            return "—"
        return format_html_join(
            "", '<div class="contra-num">{} <span class="revenue-cur">{}</span></div>', totals
        )

    @admin.display(description="debits")
    def debits(self, obj):
        return self._totals(obj)  # S3: every entry is a balanced pair

    @admin.display(description="credits")
    def credits(self, obj):
        return self._totals(obj)

    @admin.display(description="GL transfer file")
    def gl_link(self, obj):
        if not obj.gl_file:
            return "—"
        url = reverse("admin:revenue_period_gl", args=[obj.pk])
        return format_html(
            '<a href="{}" class="revenue-download" title="Download the GL transfer file">{}</a>',
            url,
            os.path.basename(obj.gl_file.name),
        )

    def changelist_view(self, request, extra_context=None):
        open_period = Period.objects.filter(status=Period.Status.OPEN).first()
        extra_context = {
            **(extra_context or {}),
            "open_period": open_period,
            "can_close": self.has_close_permission(request) and open_period is not None,
            "can_open": request.user.has_perm("revenue.add_period") and not Period.objects.exists(),
        }
        return super().changelist_view(request, extra_context)

    # --- change page --------------------------------------------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            **self.history_context(request, object_id),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        period = self.get_object(request, object_id)
        if period is not None:
            rows = period.trial_balance if period.status == Period.Status.CLOSED else None
            extra_context["balance"] = balance_from_json(
                rows if rows is not None else trial_balance(period=period.pk)
            )
            extra_context["entries_url"] = (
                reverse("admin:revenue_journalentry_changelist") + f"?period={period.pk}"
            )
            # M4: why the monthly auto-close did not close it (newest first)
            extra_context["close_blocked"] = list(close_blocked_events(period=period.pk)[:12])
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        """Nothing to save: a period changes only through period_close (S2)."""

    def log_change(self, request, obj, message):
        """The close is in the audit trail (core.AuditEvent); no empty 'changed' entry."""

    # the Close button: the same service and messages as the close page
    def transition_refused(self, request, obj, name, refusal) -> None:
        self._close_refused(request, refusal, force=False)

    def transition_done(self, request, obj, name, result) -> None:
        self._close_done(request, result, force=False)

    def _close(self, request, period_id: int, *, force: bool = False, reason: str = "") -> bool:
        try:
            closed = period_close(actor=request.user, through=period_id, force=force, reason=reason)
        except BusinessRuleRefused as refusal:
            self._close_refused(request, refusal, force=force)
            return False
        self._close_done(request, closed, force=force)
        return True

    def _close_refused(self, request, refusal: BusinessRuleRefused, *, force: bool) -> None:
        self.message_refusal(request, refusal)
        if refusal.rule == "M4" and refusal.field == "force" and not force:
            self.message_user(
                request,
                format_html(
                    'The <a href="{}">close page</a> shows the checklist and closes '
                    "with a reason despite the blockers.",
                    reverse("admin:revenue_period_close"),
                ),
                messages.INFO,
            )

    def _close_done(self, request, closed, *, force: bool) -> None:
        opened = Period.objects.filter(status=Period.Status.OPEN).first()
        names = ", ".join(period_label(p.pk) for p in closed)
        forced = " despite the checklist's blockers (forced; reason recorded)" if force else ""
        self.message_user(
            request,
            f"{names} closed{forced}: entries posted, GL transfer file written; "
            f"{opened.label if opened else 'no period'} is open.",
            messages.SUCCESS,
        )

    # --- views: close, open first, GL download ------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("close/", view(self.close_view), name="revenue_period_close"),
            path("open/", view(self.open_view), name="revenue_period_open"),
            path("<path:object_id>/gl/", view(self.gl_view), name="revenue_period_gl"),
            *super().get_urls(),
        ]

    def close_view(self, request):
        """M4 then S2: the checklist first; with a blocker the close needs *force* and a
        reason. A refusal is a message on this page again, never an error page."""
        if not self.has_close_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:revenue_period_changelist")
        period = Period.objects.filter(status=Period.Status.OPEN).first()
        if request.method == "POST":
            # the page closes the open period (an earlier one: the service says it is
            # already after it); a later value (thirty digits) would close every period up
            # to it, past December 2999
            posted = request.POST.get("period", "")
            number = ascii_int(posted, max_digits=12)
            if period is None or number is None or number > period.pk:
                self.message_user(
                    request,
                    f"{posted[:20]!r} is not the open period "
                    f"({period.label if period else 'none is open'}): nothing was closed.",
                    messages.ERROR,
                )
                return HttpResponseRedirect(changelist)
            form = PeriodCloseForm(request.POST)
            if form.is_valid():
                force = form.cleaned_data["force"]
                reason = form.cleaned_data["reason"] if force else ""
                if self._close(request, number, force=force, reason=reason):
                    return HttpResponseRedirect(changelist)
                period = Period.objects.filter(status=Period.Status.OPEN).first()
                if period is None or period.pk > number:
                    return HttpResponseRedirect(changelist)  # S1: already after it
        else:
            form = PeriodCloseForm()
        if period is None:
            self.message_user(request, "There is no open period to close.", messages.ERROR)
            return HttpResponseRedirect(changelist)
        return self._close_page(request, period, form, changelist)

    def _close_page(self, request, period: Period, form, changelist: str):
        rows = checklist_run(period=period.pk, started_at=timezone.now())
        blockers = checklist_blockers(rows)
        entries = JournalEntry.objects.filter(period=period.pk)
        facts = format_html(
            "{} entries, {} not posted yet · file GL_{}.csv",
            entries.count(),
            entries.filter(posted=False).count(),
            period.pk,
        )
        return self.admin_page(
            request,
            "admin/revenue/period/close.html",
            {
                "title": f"Close period {period.label}?",
                "intro": CLOSE_INTRO,
                "period": period,
                "facts": facts,
                "checks": rows,
                "blockers": len(blockers),
                "warnings": sum(1 for row in rows if row.severity == WARNING),
                "form": form,
                "submit_label": f"Close {period.label}",
                "cancel_url": changelist,
            },
        )

    def open_view(self, request):
        if not request.user.has_perm("revenue.add_period"):
            raise PermissionDenied
        form = PeriodOpenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                period = period_open(
                    period=period_parse(form.cleaned_data["period"]), actor=request.user
                )
            except BusinessRuleRefused as refusal:
                form.add_error("period" if refusal.field == "period" else None, str(refusal))
            else:
                self.message_user(request, f"{period.label} is open.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:revenue_period_changelist"))
        return self.admin_page(
            request,
            "admin/revenue/action_confirm.html",
            {
                "title": "Open the first period",
                "intro": "A period is a calendar month. Exactly one is open; the ledger "
                "books into it and moves forward only by closing it.",
                "form": form,
                "submit_label": "Open period",
                "cancel_url": reverse("admin:revenue_period_changelist"),
            },
        )

    def gl_view(self, request, object_id):
        period = object_or_404(Period, object_id)
        if not self.has_view_permission(request, period):
            raise PermissionDenied
        if not period.gl_file:
            raise Http404("This period has no GL transfer file (it is not closed).")
        return FileResponse(
            period.gl_file.open("rb"),
            as_attachment=True,
            filename=os.path.basename(period.gl_file.name),
            content_type="text/csv",
        )
