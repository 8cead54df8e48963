"""Reduction orders and cancellations (R, C rules): list, read-only page, Activate /
Deactivate through ``order_transition`` (which hands them to the reduction services)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, IntegerField, OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from rangefilter.filters import DateRangeFilter

from core.exceptions import BusinessRuleRefused
from core.fsm_admin import TransitionAdminMixin

from ..credit_explanation import credit_explanation
from ..models import (
    ContractAction,
    CreditMemo,
    CreditMemoStatus,
    Order,
    OrderItem,
    OrderStatus,
    ReductionOrder,
)
from .common import (
    MoneyPreviewMixin,
    OrderServicesAdminMixin,
    ServiceOnlyChangeMixin,
    admin_link,
    audit_events,
    badge,
    dates_text,
    message_refusal,
    order_transition_service,
    revenue_batch_link,
    status_badge,
)
from .revenue_links import order_so_line_ids, revenue_tools


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [("cancellation", "Cancellation"), ("reduction", "Reduction")]

    def queryset(self, request, queryset):
        if self.value() == "cancellation":
            return queryset.filter(_is_cancel=True)
        if self.value() == "reduction":
            return queryset.filter(_is_cancel=False)
        return queryset


class ReductionItemInline(admin.TabularInline):
    """R5, R6, C1: what each item reduces; never edited by hand."""

    model = OrderItem
    fk_name = "order"
    extra = 0
    can_delete = False
    verbose_name = "reduction item"
    verbose_name_plural = "reduction items"
    fields = (
        "line_number",
        "reduces",
        "product",
        "quantity",
        "unit_price",
        "total",
        "tax_amount",
        "service_dates",
        "contract_action",
        "terminated_date",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("product", "order", "original_order_item__order")
        )

    @admin.display(description="reduces (SO line)")
    def reduces(self, obj):
        original = obj.original_order_item
        return original.so_line_id if original else "—"

    @admin.display(description="service dates")
    def service_dates(self, obj):
        return dates_text(obj.service_start_date, obj.service_end_date)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReductionOrder)
class ReductionOrderAdmin(
    OrderServicesAdminMixin,
    ServiceOnlyChangeMixin,
    MoneyPreviewMixin,
    TransitionAdminMixin,
    admin.ModelAdmin,
):
    transitions = dict.fromkeys(("activate", "deactivate"), order_transition_service)
    transition_permission = "orders.create_reduction_order"  # R1: only those who may reduce
    status_path = (OrderStatus.DRAFT, OrderStatus.ACTIVATED)
    confirm_transitions = frozenset({"activate", "deactivate"})  # RORD lines, credit memos
    change_form_template = "admin/orders/reductionorder/change_form.html"
    list_display = (
        "number",
        "original_link",
        "account_name",
        "kind_badge",
        "status_display",
        "effective_date",
        "net_total",
        "gross_total",
        "credit_memo_link",
    )
    list_filter = (
        "status",
        KindFilter,
        ("account", admin.RelatedOnlyFieldListFilter),
        ("effective_date", DateRangeFilter),
    )
    search_fields = ("number", "original_order__number", "account__name", "account__number")
    list_select_related = ("account", "original_order")
    list_per_page = 50
    inlines = [ReductionItemInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "kind_badge", "status_display"),
                    "original_link",
                    "account_name",
                    ("price_book", "currency"),
                    "effective_date",
                    "description",
                )
            },
        ),
        ("Totals", {"fields": (("net_total", "tax_total", "gross_total"),)}),
        (
            "Activation",
            {"fields": (("activated_at", "activated_by"), "created_by", "revenue_batch")},
        ),
        ("Credit memos", {"fields": ("credit_memos",)}),
    )
    readonly_fields = (
        "kind_badge",
        "status_display",
        "original_link",
        "account_name",
        "revenue_batch",
        "credit_memos",
    )

    def get_queryset(self, request):
        cancels = OrderItem.objects.filter(
            order=OuterRef("pk"), contract_action=ContractAction.CANCEL
        )
        memos = (
            CreditMemo.objects.filter(source_order=OuterRef("pk"))
            .exclude(status=CreditMemoStatus.VOID)
            .order_by("-id")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                _is_cancel=Exists(cancels),
                _memo_id=Subquery(memos.values("id")[:1], output_field=IntegerField()),
                _memo_number=Subquery(memos.values("number")[:1]),
            )
        )

    # --- columns --------------------------------------------------------------------
    @admin.display(description="original order", ordering="original_order__number")
    def original_link(self, obj):
        return admin_link(obj.original_order, model="order")

    @admin.display(description="account", ordering="account__name")
    def account_name(self, obj):
        return admin_link(obj.account, obj.account.name, model="account")

    @admin.display(description="kind", ordering="_is_cancel")
    def kind_badge(self, obj):
        if obj._is_cancel:
            return badge("CANCEL", "Cancellation", "Ends a recurring product early")
        return badge("REDUCTION", "Reduction", "Reduces quantities")

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return status_badge(obj)

    @admin.display(description="credit memo")
    def credit_memo_link(self, obj):
        if not obj._memo_id:
            return "—"
        return admin_link(CreditMemo(pk=obj._memo_id), obj._memo_number)

    @admin.display(description="revenue")
    def revenue_batch(self, obj):
        return revenue_batch_link(obj.revenue_batch_id)

    @admin.display(description="credit memos")
    def credit_memos(self, obj):
        memos = list(obj.source_credit_memos.order_by("id"))
        if not memos:
            return "None: nothing billed was reduced."
        return format_html(
            "<br>".join(["{}"] * len(memos)),
            *(
                format_html(
                    '{} {} {} net ({} with tax) <a href="#credit-explanation-{}" '
                    'class="contra-sub">{}</a>',
                    admin_link(memo),
                    status_badge(memo),
                    memo.net_total,
                    memo.gross_total,
                    memo.pk,
                    "how it was computed" if memo.status != CreditMemoStatus.VOID else "",
                )
                for memo in memos
            ),
        )

    # --- page -----------------------------------------------------------------------
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            obj = self.get_object(request, object_id)
            if obj is not None:
                extra_context["audit_events"] = audit_events(obj, Order, ReductionOrder)
                extra_context["document_tools"] = revenue_tools(
                    request, numbers=[obj.number], so_line_ids=order_so_line_ids(obj)
                )
                memos = obj.source_credit_memos.exclude(status=CreditMemoStatus.VOID)
                extra_context["credit_explanations"] = [
                    credit_explanation(memo=memo)
                    for memo in memos.select_related("source_order").order_by("id")
                ]
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BusinessRuleRefused as refusal:
            message_refusal(self, request, refusal)
            return HttpResponseRedirect(request.get_full_path())
