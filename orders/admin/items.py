"""Order products inline (O2, O4, O7 checks on the fields) and the fulfilment form."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from djmoney.money import Money

from core.admin_objects import SafeAutocompleteSelect, is_key
from core.exceptions import BusinessRuleRefused
from core.fsm_admin import message_refusal

from ..models import OrderItem, Product
from ..services import order_item_problems, order_item_save


def plain_related_widget(formfield):
    """No add/change/delete/view icons next to a choice: lines pick, they don't edit."""
    widget = getattr(formfield, "widget", None)
    for flag in ("can_add_related", "can_change_related", "can_delete_related", "can_view_related"):
        if hasattr(widget, flag):
            setattr(widget, flag, False)
    return formfield


class PrefetchedAutocompleteSelect(SafeAutocompleteSelect):
    """Autocomplete whose selected option comes from a dict the formset filled in one
    query, instead of one query per row (Django's widget asks the database per form)."""

    prefetched: dict[str, object] | None = None

    def optgroups(self, name, value, attr=None):
        selected = {str(v) for v in value if str(v) not in self.choices.field.empty_values}
        known = self.prefetched or {}
        if not selected.issubset(known):
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for pk in sorted(selected):
            label = self.choices.field.label_from_instance(known[pk])
            options.append(self.create_option(name, pk, label, selected, len(options)))
        return [(None, options, 0)]


class OrderItemFormSet(BaseInlineFormSet):
    @cached_property
    def forms(self):
        forms = super().forms
        chosen = {str(f["product"].value()) for f in forms if f["product"].value()}
        pk = Product._meta.pk
        chosen = {value for value in chosen if is_key(pk, value)}  # not 'abc': not a 500
        products = {str(p.pk): p for p in Product.objects.filter(pk__in=chosen)}
        for form in forms:
            widget = form.fields["product"].widget
            getattr(widget, "widget", widget).prefetched = products
        return forms


class UnitPriceField(forms.DecimalField):
    """The unit price as an amount in the order's currency: no currency picker per line
    (an order has one currency, O3). Empty: the price book's list price."""

    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            min_value=Decimal(0),
            max_digits=16,
            decimal_places=2,
            label="Unit price",
            help_text="In the order's currency. Empty: the price book's list price.",
            widget=forms.NumberInput(attrs={"step": "0.01", "class": "contra-amount"}),
            **kwargs,
        )

    def prepare_value(self, value):
        return getattr(value, "amount", value)

    def has_changed(self, initial, data):
        return super().has_changed(getattr(initial, "amount", initial), data)


# the columns an operator edits on every line of the products inline
INLINE_FIELDS = (
    "product",
    "quantity",
    "unit_price",
    "service_start_date",
    "service_end_date",
    "billing_frequency",
)


class OrderItemForm(forms.ModelForm):
    """An order product's fields. The products inline shows those an operator edits on
    every line (``INLINE_FIELDS``); the product's own page shows all of them."""

    unit_price = UnitPriceField()

    class Meta:
        model = OrderItem
        fields = (*INLINE_FIELDS, "tax_rate", "billing_type", "revenue_method")

    def clean(self):
        cleaned = super().clean()
        if self.cleaned_data.get("DELETE") or self.errors:
            return cleaned
        item = self.instance
        if "product" in self.changed_data:
            item.price_book_entry = None  # re-priced from the order's price book (O2)
        if cleaned.get("order") is not None:  # the inline's parent, saved or about to be
            item.order = cleaned["order"]
        for name in self._meta.fields:
            if name in cleaned and name != "unit_price":
                setattr(item, name, cleaned[name])
        if "unit_price" in cleaned:
            amount, currency = cleaned["unit_price"], item.order.currency
            item.unit_price = None if amount is None else Money(amount, currency)
        for problem in order_item_problems(order=item.order, item=item):
            field = problem.field if problem.field in self.fields else None
            self.add_error(field, str(problem))
        return cleaned


class OrderItemFieldsMixin:
    """The product picker and plain choices of an order product's form (the inline and
    the product's own page)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return plain_related_widget(super().formfield_for_dbfield(db_field, request, **kwargs))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "product":
            kwargs["widget"] = PrefetchedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OrderItemInline(OrderItemFieldsMixin, admin.TabularInline):
    """O4: editable only while the order is Draft; read-only afterwards. The columns an
    operator edits on every line; tax, billing type, revenue method and the quantities on
    the product's own page (the *details* link)."""

    model = OrderItem
    form = OrderItemForm
    formset = OrderItemFormSet
    extra = 0
    autocomplete_fields = ("product",)
    fields = ("line_number", *INLINE_FIELDS, "total", "details")
    readonly_fields = ("line_number", "total", "details")

    @admin.display(description="")
    def details(self, obj):
        if obj is None or obj.pk is None:
            return ""
        url = reverse("admin:orders_orderitem_change", args=[obj.pk])
        return format_html('<a href="{}" class="contra-details">details</a>', url)

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None or obj.is_draft else 0

    def _draft_only(self, request, obj):
        return obj is None or obj.is_draft

    def has_add_permission(self, request, obj=None):
        return self._draft_only(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._draft_only(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._draft_only(request, obj) and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "price_book_entry", "order")


class FulfilItemsForm(forms.Form):
    comment = forms.CharField(
        label="Comment", required=False, widget=forms.TextInput(attrs={"size": 60})
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"quantity_{item.pk}"] = forms.DecimalField(
                label=f"Line {item.line_number}",
                required=False,
                min_value=Decimal(0),
                max_digits=16,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"size": 8}),
            )


@admin.register(OrderItem)
class OrderItemAdmin(OrderItemFieldsMixin, admin.ModelAdmin):
    """An order product's own page, opened from its order: every field, editable while
    the order is Draft (O4), saved through ``order_item_save``. Products are added and
    removed on the order's page; the index does not list them."""

    form = OrderItemForm
    autocomplete_fields = ("product",)
    list_display = ("__str__", "product", "quantity", "total")
    list_select_related = ("order", "product")
    search_fields = ("order__number", "product__sku", "product__name")
    amounts = ("list_price", "total", "tax_amount")
    quantities = (
        "available_quantity",
        "fulfilled_quantity",
        "return_initiated_quantity",
        "returned_quantity",
        "canceled_quantity",
    )
    fieldsets = (
        (None, {"fields": ("order_link", "line_number", *INLINE_FIELDS)}),
        ("Tax, billing and revenue", {"fields": ("tax_rate", "billing_type", "revenue_method")}),
        ("Amounts", {"fields": amounts}),
        ("Quantities", {"fields": quantities}),
    )
    readonly_fields = ("order_link", "line_number", *amounts, *quantities)

    @admin.display(description="order")
    def order_link(self, obj):
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order)

    def get_queryset(self, request):
        related = ("order", "order__account", "product", "price_book_entry")
        return super().get_queryset(request).select_related(*related)

    def has_module_permission(self, request):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        draft = obj is None or obj.order.is_draft
        return draft and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        order_item_save(item=obj, user=request.user)

    def log_change(self, request, obj, message):
        """The audit trail of the order records the change (``order_item_save``)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BusinessRuleRefused as refusal:  # the order changed since the form was shown
            message_refusal(self, request, refusal)
            return HttpResponseRedirect(request.get_full_path())

    def response_change(self, request, obj):
        if "_continue" in request.POST:
            return super().response_change(request, obj)
        self.message_user(request, f"{obj}: saved.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[obj.order_id]))
