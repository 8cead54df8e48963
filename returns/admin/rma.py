"""Return orders (RMA): the list, and a read-only page whose status changes only through
``return_order_transition`` (Submit, Approve, Close, Cancel: T11). The page groups each
product line with its fees, links the documents every processing created (T8) and the
refund (T9), and offers *Return items…* (T6–T10), *Cancel line* and *Ensure refund*
(views in ``rma_views``). RMAs are created from the order page (*Create RMA…*)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from rangefilter.filters import DateRangeFilter

from core.exceptions import BusinessRuleRefused
from core.fsm_admin import TransitionAdminMixin
from orders.admin.common import (
    ServiceOnlyChangeMixin,
    admin_link,
    message_refusal,
)
from orders.admin.revenue_links import revenue_tools

from ..models import ReturnOrder, ReturnStatus
from ..selectors import (
    can_return_items,
    return_order_history,
    return_order_line_groups,
    return_order_processings,
    return_order_units,
    return_orders_with_summary,
)
from ..services import REFUND_TRANSITIONS, return_order_transition
from .base import (
    STYLESHEET,
    AccountFilter,
    OrderNumberFilter,
    ReasonFilter,
    money_cell,
    status_badge_of,
)
from .rma_views import PERMISSIONS, ReturnOrderViewsMixin


def quantity(value) -> str:
    """4, 2.5 (no trailing zeros)."""
    return f"{value.normalize():f}" if value is not None else "—"


LABELS = {"close": "Close RMA", "cancel": "Cancel RMA"}


def revenue_documents(processings) -> list[str]:
    """What the RMA's processings staged in revenue: the credit memo's CM-R lines, the fee
    invoice's INV lines and its change order's SO lines (T8, T14; the negative change
    order stages nothing of its own)."""
    documents = (
        document
        for p in processings
        for document in (p.credit_memo, p.fee_invoice, p.fee_change_order)
        if document is not None
    )
    return [document.number for document in documents]


def rma_transition_service(*, obj, name: str, user, comment: str = ""):
    return return_order_transition(return_order=obj, name=name, user=user, comment=comment)


def refund_counts(processings) -> list[tuple[str, int]]:
    """(status label, count) of the processings' refunds: "1 pending · 1 failed"."""
    counts: dict[str, int] = {}
    for processing in processings:
        if processing.the_refund is not None:
            label = processing.the_refund.get_status_display()
            counts[label] = counts.get(label, 0) + 1
    return list(counts.items())


@admin.register(ReturnOrder)
class ReturnOrderAdmin(
    ReturnOrderViewsMixin,
    TransitionAdminMixin,
    ServiceOnlyChangeMixin,
    admin.ModelAdmin,
):
    transitions = dict.fromkeys(("submit", "approve", "close", "cancel"), rma_transition_service)
    status_path = (
        ReturnStatus.DRAFT,
        ReturnStatus.SUBMITTED,
        ReturnStatus.APPROVED,
        ReturnStatus.CLOSED,
    )
    change_form_template = "admin/returns/returnorder/change_form.html"
    change_list_template = "admin/returns/returnorder/change_list.html"
    list_display = (
        "number",
        "order_link",
        "account_link",
        "status_display",
        "reason_display",
        "lines_summary",
        "units_summary",
        "credited",
        "fees",
        "refund",
        "created_at",
    )
    list_filter = (
        "status",
        ReasonFilter,
        OrderNumberFilter,
        AccountFilter,
        ("created_at", DateRangeFilter),
    )
    search_fields = (
        "number",
        "order__number",
        "account__name",
        "account__number",
        "comment",
    )
    search_help_text = "RMA number, order number, account name or number, comment."
    list_select_related = ("order", "account")
    list_per_page = 50
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "status_display"),
                    "order_link",
                    "account_link",
                    ("reason", "currency"),
                    "comment",
                )
            },
        ),
        (
            "Dates",
            {
                "fields": (
                    ("created_at", "created_by"),
                    "submitted_at",
                    ("approved_at", "approved_by"),
                    ("closed_at", "canceled_at"),
                ),
                "classes": ("collapse",),
            },
        ),
    )
    readonly_fields = ("status_display", "order_link", "account_link")

    class Media:
        css = {"all": (STYLESHEET,)}
        js = ("returns/rma.js",)

    def get_fsm_label(self, transition):
        return LABELS.get(transition.name) or super().get_fsm_label(transition)

    def has_delete_permission(self, request, obj=None):
        return False  # RMAs are canceled, never deleted

    def get_queryset(self, request):
        return return_orders_with_summary(super().get_queryset(request))

    # --- columns --------------------------------------------------------------------
    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj):
        return admin_link(obj.order, model="order")

    @admin.display(description="account", ordering="account__name")
    def account_link(self, obj):
        return admin_link(obj.account, obj.account.name, model="account")

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return status_badge_of(obj)

    @admin.display(description="reason", ordering="reason")
    def reason_display(self, obj):
        return obj.get_reason_display() or "—"

    @admin.display(description="lines", ordering="_lines")
    def lines_summary(self, obj):
        if not obj._lines:
            return "—"
        if not obj._open_lines:
            return format_html("{}", obj._lines)
        return format_html(
            '{} <span class="contra-sub">({} open)</span>', obj._lines, obj._open_lines
        )

    @admin.display(description="expected / returned", ordering="_expected")
    def units_summary(self, obj):
        return format_html(
            '<span class="contra-num">{} / {}</span>',
            quantity(obj._expected),
            quantity(obj._returned),
        )

    @admin.display(description="credited", ordering="credited_total")
    def credited(self, obj):
        return money_cell(obj.credited_total)

    @admin.display(description="fees", ordering="fees_total")
    def fees(self, obj):
        return money_cell(obj.fees_total)

    @admin.display(description="refund", ordering="refund_total")
    def refund(self, obj):
        return money_cell(obj.refund_total)

    # --- page -----------------------------------------------------------------------
    def changelist_view(self, request, extra_context=None):
        extra_context = {"create_from_order_help": True, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def page_context(self, request, rma: ReturnOrder) -> dict:
        """The panels of the RMA page: lines grouped with their fees, processings with
        their documents and refunds, totals, what the user may do."""
        user = request.user
        groups = return_order_line_groups(return_order=rma)
        processings = return_order_processings(return_order=rma)
        return {
            "groups": groups,
            "processings": processings,
            "units": return_order_units(groups),
            "line_count": sum(1 + len(group.fees) for group in groups),
            "can_return_items": can_return_items(rma, groups)
            and user.has_perm(PERMISSIONS["process"]),
            "can_cancel_lines": rma.is_open and user.has_perm(PERMISSIONS["cancel"]),
            "can_ensure_refund": user.has_perm(PERMISSIONS["process"]),
            "can_settle": user.has_perm(PERMISSIONS["settle"]),
            "settle_names": REFUND_TRANSITIONS,
            "refund_counts": refund_counts(processings),
            "document_tools": revenue_tools(request, numbers=revenue_documents(processings)),
            "audit_events": return_order_history(
                return_order=rma,
                refund_ids=[p.the_refund.pk for p in processings if p.the_refund is not None],
            ),
        }

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            rma = self.get_object(request, object_id)
            if rma is not None:
                extra_context.update(self.page_context(request, rma))
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BusinessRuleRefused as refusal:
            message_refusal(self, request, refusal)
            return HttpResponseRedirect(request.get_full_path())
