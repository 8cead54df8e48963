"""Invoices, credit memos and billing runs (B rules): read-only documents whose status
changes only through ``orders.services.billing``; a printable page for each document."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import flatten
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from rangefilter.filters import DateRangeFilter

from core.admin_objects import object_or_404
from core.exceptions import BusinessRuleRefused
from core.fsm_admin import TransitionAdminMixin, services_of

from ..credit_explanation import credit_explanation
from ..models import (
    BillingRun,
    CreditMemo,
    CreditMemoLine,
    CreditMemoStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from ..services.billing import CREDIT_MEMO_TRANSITIONS, INVOICE_TRANSITIONS
from .common import (
    MoneyPreviewMixin,
    ServiceOnlyChangeMixin,
    admin_link,
    audit_events,
    badge,
    message_refusal,
    order_link,
    revenue_batch_link,
    status_badge,
)
from .revenue_links import revenue_tools


def period_text(line) -> str:
    return f"{line.period_start:%Y-%m-%d} – {line.period_end:%Y-%m-%d}"


class ReadOnlyLineInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="period")
    def period(self, obj):
        return period_text(obj)

    @admin.display(description="product")
    def product(self, obj):
        return obj.order_item.product.name

    @admin.display(description="void")
    def void(self, obj):
        return badge("VOID", "Void") if obj.is_void else ""


class InvoiceLineInline(ReadOnlyLineInline):
    model = InvoiceLine
    fields = ("line_number", "so_line", "product", "period", "quantity", "net", "tax", "void")
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("order_item__order", "order_item__product", "invoice")
        )

    @admin.display(description="order product")
    def so_line(self, obj):
        return obj.order_item.so_line_id


class CreditMemoLineInline(ReadOnlyLineInline):
    model = CreditMemoLine
    fields = (
        "line_number",
        "so_line",
        "product",
        "invoice_line_id_text",
        "period",
        "quantity",
        "net",
        "tax",
        "void",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "order_item__order", "order_item__product", "invoice_line__invoice", "credit_memo"
            )
        )

    @admin.display(description="credits (order product)")
    def so_line(self, obj):
        return obj.order_item.so_line_id

    @admin.display(description="invoice line")
    def invoice_line_id_text(self, obj):
        return obj.invoice_line.inv_line_id if obj.invoice_line_id else "—"


class DocumentAdmin(
    MoneyPreviewMixin, TransitionAdminMixin, ServiceOnlyChangeMixin, admin.ModelAdmin
):
    """Shared by invoices and credit memos: transitions through their services, the
    history panel, a printable page."""

    list_per_page = 50
    print_template = ""
    print_related = ("order_item__order", "order_item__product")

    # --- columns --------------------------------------------------------------------
    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return status_badge(obj)

    @admin.display(description="account", ordering="account__name")
    def account_name(self, obj):
        return admin_link(obj.account, obj.account.name, model="account")

    @admin.display(description="order", ordering="order__number")
    def order_number(self, obj):
        return order_link(obj.order)

    @admin.display(description="revenue")
    def revenue_batch(self, obj):
        return revenue_batch_link(obj.revenue_batch_id)

    # --- page -----------------------------------------------------------------------
    def get_urls(self):
        meta = self.model._meta
        return [
            path(
                "<path:object_id>/print/",
                self.admin_site.admin_view(self.print_view),
                name=f"{meta.app_label}_{meta.model_name}_print",
            ),
            *super().get_urls(),
        ]

    def page_context(self, request, obj) -> dict:
        """What the document's page shows beside its fields (panels)."""
        return {}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            obj = self.get_object(request, object_id)
            if obj is not None:
                extra_context["audit_events"] = audit_events(obj)
                extra_context["document_tools"] = revenue_tools(request, numbers=[obj.number])
                extra_context.update(self.page_context(request, obj))
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BusinessRuleRefused as refusal:
            message_refusal(self, request, refusal)
            return HttpResponseRedirect(request.get_full_path())

    def has_delete_permission(self, request, obj=None):
        return False  # documents are voided, never deleted

    def print_view(self, request, object_id):
        """A clean standalone page (no admin chrome) that prints on A4 and Letter."""
        doc = object_or_404(self.model.objects.select_related("account", "order"), object_id)
        if not self.has_view_or_change_permission(request, doc):
            raise PermissionDenied
        lines = list(doc.lines.select_related(*self.print_related).order_by("line_number"))
        context = {"doc": doc, "lines": lines, **self.print_context(doc, lines)}
        return TemplateResponse(request, self.print_template, context)

    def print_context(self, doc, lines) -> dict:
        return {}


@admin.register(Invoice)
class InvoiceAdmin(DocumentAdmin):
    transitions = services_of(INVOICE_TRANSITIONS, keyword="invoice")
    status_path = (InvoiceStatus.DRAFT, InvoiceStatus.POSTED)
    confirm_transitions = frozenset({"post", "void"})
    change_form_template = "admin/orders/invoice/change_form.html"
    print_template = "orders/print/invoice.html"
    list_display = (
        "number",
        "account_name",
        "order_number",
        "invoice_date",
        "status_display",
        "net_total",
        "tax_total",
        "gross_total",
        "revenue_batch",
    )
    list_filter = (
        "status",
        ("account", admin.RelatedOnlyFieldListFilter),
        ("invoice_date", DateRangeFilter),
    )
    search_fields = ("number", "order__number", "account__name", "account__number")
    list_select_related = ("account", "order")
    inlines = [InvoiceLineInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "status_display"),
                    "account_name",
                    "order_number",
                    ("invoice_date", "currency"),
                    "billing_run_link",
                )
            },
        ),
        ("Totals", {"fields": (("net_total", "tax_total", "gross_total"),)}),
        (
            "Posting",
            {
                "fields": (
                    ("posted_at", "posted_by"),
                    ("voided_at", "voided_by"),
                    "revenue_batch",
                )
            },
        ),
    )
    readonly_fields = (
        "status_display",
        "account_name",
        "order_number",
        "billing_run_link",
        "revenue_batch",
    )

    @admin.display(description="billing run")
    def billing_run_link(self, obj):
        return admin_link(obj.billing_run) if obj.billing_run_id else "—"


@admin.register(CreditMemo)
class CreditMemoAdmin(DocumentAdmin):
    transitions = services_of(CREDIT_MEMO_TRANSITIONS, keyword="credit_memo")
    status_path = (CreditMemoStatus.DRAFT, CreditMemoStatus.ISSUED)
    confirm_transitions = frozenset({"issue", "void"})
    change_form_template = "admin/orders/creditmemo/change_form.html"
    print_template = "orders/print/credit_memo.html"
    print_related = (*DocumentAdmin.print_related, "invoice_line__invoice")
    list_display = (
        "number",
        "account_name",
        "order_number",
        "source_display",
        "memo_date",
        "status_display",
        "net_total",
        "tax_total",
        "gross_total",
        "revenue_batch",
    )
    list_filter = (
        "status",
        "source",
        ("account", admin.RelatedOnlyFieldListFilter),
        ("memo_date", DateRangeFilter),
    )
    search_fields = (
        "number",
        "order__number",
        "source_order__number",
        "account__name",
        "account__number",
    )
    list_select_related = ("account", "order", "source_order")
    inlines = [CreditMemoLineInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "status_display"),
                    "account_name",
                    "order_number",
                    "source_display",
                    "reason",
                    ("memo_date", "currency"),
                )
            },
        ),
        ("Totals credited", {"fields": (("net_total", "tax_total", "gross_total"),)}),
        (
            "Issue",
            {
                "fields": (
                    ("issued_at", "issued_by"),
                    ("voided_at", "voided_by"),
                    "revenue_batch",
                )
            },
        ),
    )
    readonly_fields = (
        "status_display",
        "account_name",
        "order_number",
        "source_display",
        "revenue_batch",
    )

    @admin.display(description="source", ordering="source")
    def source_display(self, obj):
        if obj.source_order_id is None:
            return obj.get_source_display()
        return format_html("{} {}", obj.get_source_display(), order_link(obj.source_order))

    def page_context(self, request, obj) -> dict:
        return {"credit_explanations": [credit_explanation(memo=obj)]}

    def print_context(self, doc, lines) -> dict:
        invoices = {line.invoice_line.invoice.number for line in lines if line.invoice_line_id}
        return {"credited_invoices": sorted(invoices), "source_order": doc.source_order}


@admin.register(BillingRun)
class BillingRunAdmin(admin.ModelAdmin):
    """B4: what each billing pass did. Runs are started by beat, *Bill now* or the command."""

    list_display = (
        "id",
        "run_date",
        "trigger",
        "status_display",
        "orders_seen",
        "invoices_created",
        "lines_created",
        "refused",
        "started_at",
        "finished_at",
        "started_by",
    )
    list_filter = ("status", "trigger", ("run_date", DateRangeFilter))
    list_select_related = ("started_by",)
    fields = (
        ("run_date", "trigger", "status_display"),
        ("started_at", "finished_at", "started_by"),
        ("orders_seen", "invoices_created", "lines_created", "refused"),
        "notes",
    )
    readonly_fields = flatten(fields)

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return badge(obj.status, obj.get_status_display())

    @admin.display(description="messages")
    def notes(self, obj):
        from .reduce import billing_run_notes

        notes = billing_run_notes(obj)
        if not notes:
            return "—"
        return format_html("<br>".join(["{}"] * len(notes)), *notes)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
