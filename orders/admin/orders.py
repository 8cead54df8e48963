"""Order admin: thin. Every write goes through orders.services; refusals become messages."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from rangefilter.filters import DateRangeFilter

from core.admin_objects import SafeChoicesAdminMixin, admin_object_for_page
from core.exceptions import BusinessRuleRefused
from core.fsm_admin import TransitionAdminMixin
from core.paginator import EstimatedCountPaginator
from core.parsing import ascii_int

from ..models import Order, OrderItem, OrderKind, OrderStatus, ReductionOrder
from ..services import (
    order_item_delete,
    order_item_save,
    order_items_fulfil,
    order_save,
)
from .common import (
    MoneyPreviewMixin,
    OrderServicesAdminMixin,
    audit_events,
    order_transition_service,
    refusals_of,
)
from .extensions import extension_context, extension_urls
from .filters import AccountFilter
from .items import FulfilItemsForm, OrderItemInline, plain_related_widget
from .reduce import BILL_PERMISSION, OrderReductionViewsMixin, bill_orders, order_panels
from .revenue_links import order_so_line_ids, revenue_tools


def with_fulfilment(orders):
    """The list's *fulfilled* column: sums of each order's products, as correlated
    subqueries (not a GROUP BY over the join): the database works them out for the page's
    50 rows only, whatever the number of orders."""
    items = OrderItem.objects.filter(order=OuterRef("pk")).order_by().values("order")

    def total_of(expression):
        return Subquery(
            items.annotate(total=Sum(expression)).values("total"),
            output_field=DecimalField(max_digits=18, decimal_places=2),
        )

    return orders.annotate(
        _reduced=total_of(F("quantity") - F("available_quantity")),
        _sold=total_of(F("quantity")),
        _fulfilled=total_of(F("fulfilled_quantity")),
        _canceled=total_of(F("canceled_quantity")),
    )


class OrderChangeList(ChangeList):
    """The sums on the list only: the order page reads its order three times (form,
    panels, transitions) and would build the four subqueries each time."""

    def get_queryset(self, request, exclude_parameters=None):
        return with_fulfilment(super().get_queryset(request, exclude_parameters))


class OrderKindFilter(admin.ChoicesFieldListFilter):
    """Kinds this list shows: reduction orders have their own list."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] != OrderKind.REDUCTION.label:
                yield choice


@admin.register(Order)
class OrderAdmin(
    OrderServicesAdminMixin,
    OrderReductionViewsMixin,
    MoneyPreviewMixin,
    TransitionAdminMixin,
    SafeChoicesAdminMixin,
    admin.ModelAdmin,
):
    """Standard and change orders. Reduction orders have their own admin (R, C rules)."""

    transitions = dict.fromkeys(("activate", "deactivate", "fulfil"), order_transition_service)
    status_path = (OrderStatus.DRAFT, OrderStatus.ACTIVATED, OrderStatus.FULFILLED)
    confirm_transitions = frozenset({"activate", "deactivate"})  # stage / withdraw revenue
    change_form_template = "admin/orders/order/change_form.html"
    list_display = (
        "number_display",
        "account_link",
        "reference",
        "status_badge",
        "fulfilment",
        "effective_date",
        "net",
        "tax",
        "gross",
    )
    list_display_links = ("number_display",)
    list_filter = (
        "status",
        ("kind", OrderKindFilter),
        AccountFilter,  # typed: listing every account with orders is a DISTINCT over all
        ("effective_date", DateRangeFilter),
    )
    search_fields = ("number", "reference", "account__name", "account__number")
    list_select_related = ("account",)
    date_hierarchy = None
    list_per_page = 50
    # a million orders: no COUNT(*) of all of them next to the filtered count, and the
    # filtered count exact up to 10,000 then estimated (core.paginator)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    autocomplete_fields = ("account",)
    inlines = [OrderItemInline]
    actions = ["activate_selected", "fulfil_selected", "bill_selected"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "kind",
                    "status_badge",
                    "account",
                    "price_book",
                    "currency",
                    "effective_date",
                    "end_date",
                    "reference",
                    "description",
                )
            },
        ),
        ("Totals", {"fields": ("net_total", "tax_total", "gross_total")}),
        (
            "Activation",
            {
                "fields": ("original_order", "activated_at", "activated_by", "created_by"),
                "classes": ("collapse",),
            },
        ),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return plain_related_widget(super().formfield_for_dbfield(db_field, request, **kwargs))

    # --- list -----------------------------------------------------------------------
    @admin.display(description="account", ordering="account__name")
    def account_link(self, obj):
        url = reverse("admin:orders_account_change", args=[obj.account_id])
        return format_html('<a href="{}">{}</a>', url, obj.account.name)

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(kind=OrderKind.REDUCTION)  # their own

    def get_changelist(self, request, **kwargs):
        return OrderChangeList

    @admin.display(description="number", ordering="number")
    def number_display(self, obj):
        if obj.kind == OrderKind.STANDARD:
            return obj.number
        return format_html(
            '{} <span class="contra-kind">{}</span>', obj.number, obj.get_kind_display()
        )

    @admin.display(description="fulfilled")
    def fulfilment(self, obj):
        """O6, T13: fulfilled units of what is still sold (quantity − reductions − units
        canceled before fulfilment)."""
        sold, reduced = obj._sold or Decimal(0), obj._reduced or Decimal(0)
        fulfilled, canceled = obj._fulfilled or Decimal(0), obj._canceled or Decimal(0)
        due = sold - reduced - canceled if obj.kind == OrderKind.STANDARD else 0
        if not due or obj.status == OrderStatus.DRAFT:
            return "—"
        share = min(int(fulfilled * 100 / due), 100)
        return format_html(
            '<span class="contra-progress" title="{} of {} units"><span style="width:{}%">'
            "</span></span> {}%",
            fulfilled.normalize(),
            due.normalize(),
            share,
            share,
        )

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<span class="contra-badge {}">{}</span>', obj.status, obj.get_status_display()
        )

    @admin.display(description="net", ordering="net_total")
    def net(self, obj):
        return obj.net_total

    @admin.display(description="tax", ordering="tax_total")
    def tax(self, obj):
        return obj.tax_total

    @admin.display(description="gross", ordering="gross_total")
    def gross(self, obj):
        return obj.gross_total

    # --- change form ----------------------------------------------------------------
    def get_readonly_fields(self, request, obj=None):
        readonly = [
            "number",
            "kind",
            "status",
            "status_badge",
            "net_total",
            "tax_total",
            "gross_total",
            "original_order",
            "activated_at",
            "activated_by",
            "created_by",
        ]
        if obj is not None and not obj.is_draft:
            # O3: account, price book and currency are fixed once activated; O4 the rest.
            readonly += ["account", "price_book", "currency", "effective_date", "end_date"]
        return readonly

    def get_urls(self):
        return [
            path(
                "<path:object_id>/fulfil-items/",
                self.admin_site.admin_view(self.fulfil_items_view),
                name="orders_order_fulfil_items",
            ),
            *self.reduction_urls(),
            *extension_urls(self),
            *super().get_urls(),
        ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            order = self.get_object(request, object_id)
            if order is not None:
                extra_context["audit_events"] = audit_events(order, Order)
                extra_context.update(order_panels(request, order))
                extra_context.update(extension_context(request, order))
                extra_context["document_tools"] = revenue_tools(
                    request, numbers=[order.number], so_line_ids=order_so_line_ids(order)
                )
            elif (pk := ascii_int(str(object_id))) is not None and (  # '²': not an id
                ReductionOrder.objects.filter(pk=pk).exists()
            ):
                url = reverse("admin:orders_reductionorder_change", args=[pk])
                return HttpResponseRedirect(url)
            extra_context["can_fulfil"] = request.user.has_perm("orders.fulfil_order")
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BusinessRuleRefused as refusal:  # a rule broken between form check and save
            for problem in refusals_of(refusal):
                self.message_user(request, str(problem), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        order_save(order=obj, user=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not OrderItem:
            return super().save_formset(request, form, formset, change)
        # The admin's change message reads these lists (Django's own save_existing_objects
        # sets them); every write goes through the services (O2, O4, O7).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for item_form in formset.forms:
            if not hasattr(item_form, "cleaned_data") or not item_form.has_changed():
                continue
            item = item_form.instance
            if formset.can_delete and formset._should_delete_form(item_form):
                if item.pk:
                    order_item_delete(item=item, user=request.user)
                    formset.deleted_objects.append(item)
                continue
            is_new = item.pk is None
            item.order = form.instance
            order_item_save(item=item, user=request.user)
            if is_new:
                formset.new_objects.append(item)
            else:
                formset.changed_objects.append((item, item_form.changed_data))

    @admin.action(description="Activate selected orders…", permissions=["activate"])
    def activate_selected(self, request, queryset):
        """Stages revenue lines: confirmed first, on a page that says what for each."""
        return self.bulk_transition(request, queryset, "activate")

    @admin.action(description="Fulfil selected orders", permissions=["fulfil"])
    def fulfil_selected(self, request, queryset):
        return self.bulk_transition(request, queryset, "fulfil", confirm=False)

    @admin.action(description="Bill now (selected orders)", permissions=["bill"])
    def bill_selected(self, request, queryset):
        """B4: bill the due periods of the selected orders now."""
        bill_orders(self, request, queryset)

    def has_bill_permission(self, request):
        return request.user.has_perm(BILL_PERMISSION)

    def has_activate_permission(self, request):
        return request.user.has_perm("orders.activate_order")

    def has_fulfil_permission(self, request):
        return request.user.has_perm("orders.fulfil_order")

    # --- partial fulfilment (O6) ----------------------------------------------------
    def fulfil_items_view(self, request, object_id):
        order = admin_object_for_page(
            self, request, object_id, permission="orders.fulfil_order", queryset=Order.objects
        )
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        if order.status != OrderStatus.ACTIVATED:
            self.message_user(
                request,
                f"Only Activated orders can be fulfilled ({order} "
                f"is {order.get_status_display()}).",
                level=messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        items = list(order.items.select_related("product"))
        form = FulfilItemsForm(request.POST or None, items=items)
        if request.method == "POST" and form.is_valid():
            quantities = {i.pk: form.cleaned_data.get(f"quantity_{i.pk}") or 0 for i in items}
            try:
                order = order_items_fulfil(
                    order=order,
                    quantities=quantities,
                    user=request.user,
                    comment=form.cleaned_data["comment"],
                )
            except BusinessRuleRefused as refusal:
                for problem in refusals_of(refusal):
                    field = problem.field if problem.field in form.fields else None
                    form.add_error(field, str(problem))
            else:
                self.message_user(
                    request,
                    f"{order}: fulfilment recorded ({order.get_status_display()}).",
                    level=messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        rows = [
            {
                "item": i,
                "field": form[f"quantity_{i.pk}"],
                "open": i.available_to_cancel,
            }
            for i in items
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": order,
            "form": form,
            "rows": rows,
            "title": f"Record fulfilment of {order}",
        }
        return TemplateResponse(request, "admin/orders/order/fulfil_items.html", context)
