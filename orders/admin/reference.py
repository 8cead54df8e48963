from django.contrib import admin
from django.db.models import Count, F, OuterRef, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from core.admin_objects import SafeChoicesAdminMixin
from core.queries import correlated_count

from ..models import Account, Order, OrderKind, PriceBook, PriceBookEntry, Product

LATEST_ORDERS = 20


class AccountOrderInline(admin.TabularInline):
    """The account's latest orders, read-only, newest first, each linking to its page (a
    large account has thousands: the account page links to all of them in the order
    list)."""

    model = Order
    fk_name = "account"
    extra = 0
    show_change_link = True
    can_delete = False
    fields = ("number", "kind", "status", "effective_date", "end_date", "gross_total")
    readonly_fields = fields
    ordering = ("-effective_date", "-id")
    verbose_name_plural = f"latest orders (up to {LATEST_ORDERS})"

    def get_queryset(self, request):
        newest = [F("effective_date").desc(), F("id").desc()]
        rank = Window(RowNumber(), partition_by=F("account"), order_by=newest)
        return super().get_queryset(request).annotate(_rank=rank).filter(_rank__lte=LATEST_ORDERS)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def order_count():
    """The account's orders, counted for the rows shown only (a correlated count, not a
    GROUP BY over every order)."""
    return correlated_count(
        Order.objects.filter(account=OuterRef("pk")).order_by().values("account")
    )


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    inlines = [AccountOrderInline]
    list_display = (
        "name",
        "number",
        "currency",
        "billing_contact_email",
        "order_count",
        "is_active",
    )
    list_filter = ("is_active", "currency")
    search_fields = ("name", "number", "billing_contact_name", "billing_contact_email")
    ordering = ("name",)
    readonly_fields = ("orders_link",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_order_count=order_count())

    @admin.display(description="orders", ordering="_order_count")
    def order_count(self, obj):
        return obj._order_count

    @admin.display(description="orders")
    def orders_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:orders_order_changelist") + "?" + urlencode({"account": obj.number})
        listed = obj.orders.exclude(kind=OrderKind.REDUCTION).count()  # as the order list
        return format_html('<a href="{}">All {} orders of this account</a>', url, listed)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "sku",
        "charge_type",
        "default_billing_frequency",
        "default_billing_type",
        "default_revenue_method",
        "is_fee",
        "is_active",
    )
    list_filter = (
        "charge_type",
        "default_billing_frequency",
        "default_revenue_method",
        "is_fee",
        "is_active",
    )
    search_fields = ("name", "sku")


class PriceBookEntryInline(SafeChoicesAdminMixin, admin.TabularInline):
    model = PriceBookEntry
    extra = 1
    autocomplete_fields = ("product",)
    fields = ("product", "list_price", "is_active")


@admin.register(PriceBook)
class PriceBookAdmin(admin.ModelAdmin):
    list_display = ("name", "entry_count", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    inlines = [PriceBookEntryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_entry_count=Count("entries"))

    @admin.display(description="entries", ordering="_entry_count")
    def entry_count(self, obj):
        return obj._entry_count


@admin.register(PriceBookEntry)
class PriceBookEntryAdmin(SafeChoicesAdminMixin, admin.ModelAdmin):
    list_display = ("product", "price_book", "list_price", "is_active")
    list_filter = ("price_book", "list_price_currency", "is_active")
    list_select_related = ("product", "price_book")
    search_fields = ("product__name", "product__sku", "price_book__name")
    autocomplete_fields = ("product",)
