"""Refunds (T9): what each processing pays back (credit memo − fee invoices). The gateway
is out of scope: ops *Mark refunded*, *Mark failed* (with why) or *Retry*, one refund on
its page or many from the list, always through ``refund_transition``."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from rangefilter.filters import DateRangeFilter

from core.amounts import money_text
from core.exceptions import BusinessRuleRefused
from core.fsm_admin import TransitionAdminMixin
from orders.admin.common import (
    ServiceOnlyChangeMixin,
    admin_link,
    audit_events,
    message_refusal,
)

from ..models import Refund, RefundStatus
from ..services import REFUND_TRANSITIONS, refund_transition
from .base import STYLESHEET, money_cell, returns_link, safe_next
from .base import status_badge_of as status_badge

SETTLE_PERMISSION = "returns.settle_refund"
LABELS = {"succeed": "Mark refunded", "fail": "Mark failed", "retry": "Retry"}
DONE = {"succeed": "marked refunded", "fail": "marked failed", "retry": "sent again"}


GATEWAY_REFERENCE_HELP = (
    "The payment's id at the gateway (its transaction or refund id), so the refund can be "
    "found there. Kept on the refund; the refunds list searches it."
)


class RefundPaidForm(forms.Form):
    """*Mark refunded*: the gateway's reference of the payment, and a note."""

    gateway_reference = forms.CharField(
        label="Gateway reference", max_length=100, help_text=GATEWAY_REFERENCE_HELP
    )
    comment = forms.CharField(
        label="Note (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Kept in the refund's history.",
    )


class RefundFailedForm(forms.Form):
    """*Mark failed*: why (required), and the gateway's reference of the attempt."""

    comment = forms.CharField(
        label="Why the refund failed",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept on the refund and in its history.",
    )
    gateway_reference = forms.CharField(
        label="Gateway reference (optional)",
        max_length=100,
        required=False,
        help_text=GATEWAY_REFERENCE_HELP,
    )


class FailReasonForm(forms.Form):
    comment = forms.CharField(
        label="Why the refunds failed",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept on each refund and in its history.",
    )


def refund_transition_service(
    *, obj, name: str, user, comment: str = "", gateway_reference: str = ""
):
    return refund_transition(
        refund=obj, name=name, user=user, comment=comment, gateway_reference=gateway_reference
    )


@admin.register(Refund)
class RefundAdmin(TransitionAdminMixin, ServiceOnlyChangeMixin, admin.ModelAdmin):
    transitions = dict.fromkeys(REFUND_TRANSITIONS, refund_transition_service)
    status_path = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)
    confirm_transitions = frozenset({"succeed", "retry"})  # money paid, or to be paid again
    fsm_forms = {"succeed": RefundPaidForm, "fail": RefundFailedForm}

    def describe_money(self, dry, obj, name):
        amount = money_text(obj.amount)
        if name == "succeed":
            return [f"records {amount} as paid back to {obj.account}"]
        return [f"asks the gateway to pay {amount} back to {obj.account} again"]

    change_form_template = "admin/returns/refund/change_form.html"
    list_display = (
        "number",
        "account_link",
        "rma_link",
        "credit_memo_link",
        "fee_invoice_links",
        "credit",
        "fees",
        "amount_display",
        "status_display",
        "created_at",
        "completed_at",
    )
    list_filter = ("status", ("created_at", DateRangeFilter))
    search_fields = (
        "number",
        "account__name",
        "account__number",
        "credit_memo__number",
        "gateway_reference",
    )
    search_help_text = (
        "Refund number, account name or number, credit memo number, gateway reference."
    )
    list_select_related = ("account", "return_order", "processing", "credit_memo")
    list_per_page = 50
    actions = ["mark_refunded", "mark_failed"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "status_display"),
                    "account_link",
                    "rma_link",
                    "credit_memo_link",
                    "fee_invoice_links",
                    "currency",
                )
            },
        ),
        ("Amounts", {"fields": (("credit_total", "fees_total", "amount"),)}),
        (
            "Payment",
            {
                "fields": (
                    "gateway_reference",
                    "failure_reason",
                    ("created_at", "created_by"),
                    ("completed_at", "completed_by"),
                )
            },
        ),
    )
    readonly_fields = (
        "status_display",
        "account_link",
        "rma_link",
        "credit_memo_link",
        "fee_invoice_links",
    )

    class Media:
        css = {"all": (STYLESHEET,)}

    def has_delete_permission(self, request, obj=None):
        return False  # refunds are settled or failed, never deleted

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("fee_invoices")

    # --- columns --------------------------------------------------------------------
    @admin.display(description="account", ordering="account__name")
    def account_link(self, obj):
        return admin_link(obj.account, obj.account.name, model="account")

    @admin.display(description="RMA / processing")
    def rma_link(self, obj):
        processing = returns_link(obj.processing, obj.processing.number, model="returnprocessing")
        if obj.return_order_id is None:
            return format_html('{} <span class="contra-sub">simple</span>', processing)
        rma = returns_link(obj.return_order, obj.return_order.number, model="returnorder")
        return format_html('{}<br><span class="contra-sub">{}</span>', rma, processing)

    @admin.display(description="credit memo", ordering="credit_memo__number")
    def credit_memo_link(self, obj):
        return admin_link(obj.credit_memo, obj.credit_memo.number, model="creditmemo")

    @admin.display(description="fee invoices")
    def fee_invoice_links(self, obj):
        invoices = list(obj.fee_invoices.all())
        if not invoices:
            return "—"
        return format_html_join(
            ", ", "{}", ((admin_link(i, i.number, model="invoice"),) for i in invoices)
        )

    @admin.display(description="credit", ordering="credit_total")
    def credit(self, obj):
        return money_cell(obj.credit_total)

    @admin.display(description="fees", ordering="fees_total")
    def fees(self, obj):
        return money_cell(obj.fees_total)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj):
        return format_html('<strong class="contra-num">{}</strong>', obj.amount)

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        if obj.failure_reason and obj.status == "FAILED":
            return format_html(
                '{}<br><span class="contra-sub contra-negative">{}</span>',
                status_badge(obj),
                obj.failure_reason,
            )
        return status_badge(obj)

    # --- actions on the list --------------------------------------------------------
    def has_settle_permission(self, request):
        return request.user.has_perm(SETTLE_PERMISSION)

    def _settle_all(self, request, queryset, name: str, comment: str = "") -> None:
        done = 0
        for refund in queryset.order_by("pk"):
            try:
                refund_transition(refund=refund, name=name, user=request.user, comment=comment)
                done += 1
            except BusinessRuleRefused as refusal:
                message_refusal(self, request, refusal, prefix=f"{refund}: ")
        if done:
            self.message_user(request, f"{done} refund(s) {DONE[name]}.", level=messages.SUCCESS)

    @admin.action(description="Mark selected refunds refunded", permissions=["settle"])
    def mark_refunded(self, request, queryset):
        self._settle_all(request, queryset, "succeed")

    @admin.action(description="Mark selected refunds failed…", permissions=["settle"])
    def mark_failed(self, request, queryset):
        """An intermediate page asks why (T9: a failed refund keeps its reason)."""
        form = FailReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._settle_all(request, queryset, "fail", form.cleaned_data["comment"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Mark refunds failed",
            "refunds": list(queryset.select_related("account")),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/returns/refund/mark_failed.html", context)

    # --- one refund from the RMA page -----------------------------------------------
    def get_urls(self):
        return [
            path(
                "<path:object_id>/settle/",
                self.admin_site.admin_view(require_POST(self.settle_view)),
                name="returns_refund_settle",
            ),
            *super().get_urls(),
        ]

    def settle_view(self, request, object_id):
        """POST ``transition`` (succeed / fail / retry), ``comment``, ``next``."""
        if not request.user.has_perm(SETTLE_PERMISSION):
            raise PermissionDenied
        refund = self.get_object(request, object_id)
        if refund is None:
            raise Http404("No refund with this id")
        if not self.has_view_or_change_permission(request, refund):
            raise PermissionDenied
        back = safe_next(request, reverse("admin:returns_refund_change", args=[refund.pk]))
        name = request.POST.get("transition", "")
        if name not in REFUND_TRANSITIONS:
            self.message_user(request, f"{refund}: there is no action {name!r}.", messages.ERROR)
            return HttpResponseRedirect(back)
        comment = request.POST.get("comment", "")[:300]
        reference = request.POST.get("gateway_reference", "").strip()
        if name == "succeed" and not reference:
            self.message_user(
                request,
                f"{refund}: enter the gateway reference of the payment to mark it refunded.",
                messages.ERROR,
            )
            return HttpResponseRedirect(back)
        try:
            refund = refund_transition(
                refund=refund,
                name=name,
                user=request.user,
                comment=comment,
                gateway_reference=reference,
            )
        except BusinessRuleRefused as refusal:
            message_refusal(self, request, refusal)
        else:
            self.message_user(
                request,
                f"{refund} ({refund.amount}): {DONE[name]}, now {refund.get_status_display()}.",
                level=messages.SUCCESS,
            )
        return HttpResponseRedirect(back)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            refund = self.get_object(request, object_id)
            if refund is not None:
                extra_context["audit_events"] = audit_events(refund)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BusinessRuleRefused as refusal:
            message_refusal(self, request, refusal)
            return HttpResponseRedirect(request.get_full_path())
