"""Returns and cancels: every *Return items* of an RMA and every simple return or cancel
(T8, T12, T13), with the documents it created and its refund (T9). Read only: they are
made by the services, from the RMA page or the order page."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from rangefilter.filters import DateRangeFilter

from orders.admin.common import admin_link, badge, order_link

from ..models import ReturnOrderLine, ReturnProcessing
from .base import STYLESHEET, OrderNumberFilter, money_cell, returns_link


@admin.register(ReturnProcessing)
class ReturnProcessingAdmin(admin.ModelAdmin):
    change_form_template = "admin/returns/returnprocessing/change_form.html"
    list_display = (
        "number",
        "kind_badge",
        "rma_link",
        "order_display",
        "change_orders",
        "credit_memo_link",
        "fee_invoice_link",
        "credited_display",
        "fees_display",
        "refund_display",
        "created_at",
    )
    list_filter = ("kind", OrderNumberFilter, ("created_at", DateRangeFilter))
    search_fields = ("number", "order__number", "return_order__number")
    search_help_text = "Processing number, order number or RMA number."
    list_select_related = (
        "return_order",
        "order",
        "change_order",
        "fee_change_order",
        "credit_memo",
        "fee_invoice",
        "refund",
    )
    list_per_page = 50
    fields = (
        ("number", "kind_badge"),
        "rma_link",
        "order_display",
        "change_orders",
        ("credit_memo_link", "credited_display"),
        ("fee_invoice_link", "fees_display"),
        "refund_display",
        "comment",
        ("created_at", "created_by"),
    )
    readonly_fields = (
        "number",
        "kind_badge",
        "rma_link",
        "order_display",
        "change_orders",
        "credit_memo_link",
        "credited_display",
        "fee_invoice_link",
        "fees_display",
        "refund_display",
        "comment",
        "created_at",
        "created_by",
    )

    class Media:
        css = {"all": (STYLESHEET,)}

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @staticmethod
    def _refund(obj):
        return getattr(obj, "refund", None)

    # --- columns --------------------------------------------------------------------
    @admin.display(description="kind", ordering="kind")
    def kind_badge(self, obj):
        return badge(obj.kind, obj.get_kind_display())

    @admin.display(description="RMA", ordering="return_order__number")
    def rma_link(self, obj):
        if obj.return_order_id is None:
            return format_html('<span class="contra-sub">{}</span>', "none (simple)")
        return returns_link(obj.return_order, obj.return_order.number, model="returnorder")

    @admin.display(description="order", ordering="order__number")
    def order_display(self, obj):
        return order_link(obj.order)

    @admin.display(description="change orders")
    def change_orders(self, obj):
        parts = []
        if obj.change_order_id:
            parts.append(format_html("{}", order_link(obj.change_order)))
        if obj.fee_change_order_id:
            parts.append(
                format_html(
                    '{} <span class="contra-sub">fees</span>', order_link(obj.fee_change_order)
                )
            )
        if not parts:
            return "—"
        return format_html("<br>".join(["{}"] * len(parts)), *parts)

    @admin.display(description="credit memo", ordering="credit_memo__number")
    def credit_memo_link(self, obj):
        if obj.credit_memo_id is None:
            return format_html('<span class="contra-sub">{}</span>', "none: nothing billed")
        return admin_link(obj.credit_memo, obj.credit_memo.number, model="creditmemo")

    @admin.display(description="fee invoice", ordering="fee_invoice__number")
    def fee_invoice_link(self, obj):
        if obj.fee_invoice_id is None:
            return "—"
        return admin_link(obj.fee_invoice, obj.fee_invoice.number, model="invoice")

    @admin.display(description="credited", ordering="credited")
    def credited_display(self, obj):
        return money_cell(obj.credited)

    @admin.display(description="fees", ordering="fees")
    def fees_display(self, obj):
        return money_cell(obj.fees)

    @admin.display(description="refund", ordering="refund__status")
    def refund_display(self, obj):
        refund = self._refund(obj)
        if refund is None:
            if obj.credit_memo_id:
                return format_html('<span class="contra-pending">{}</span>', "not ensured yet")
            return "—"
        return format_html(
            "{} {} {}",
            returns_link(refund, refund.number, model="refund"),
            refund.amount,
            badge(refund.status, refund.get_status_display()),
        )

    # --- page -----------------------------------------------------------------------
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        # get_object: an id that is not one ('abc', thirty digits) is "not found", not a 500
        processing = self.get_object(request, object_id) if object_id else None
        if processing is not None:
            extra_context["processed_lines"] = list(
                ReturnOrderLine.objects.filter(processing=processing)
                .select_related("product", "return_order", "order_item__order")
                .order_by("line_number")
            )
        return super().changeform_view(request, object_id, form_url, extra_context)
