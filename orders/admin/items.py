"""Order products inline (O2, O4, O7 checks on the fields) and the fulfilment form."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.functional import cached_property

from core.admin_objects import SafeAutocompleteSelect, is_key

from ..models import OrderItem, Product
from ..services import order_item_problems


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


class OrderItemForm(forms.ModelForm):
    class Meta:
        model = OrderItem
        fields = (
            "product",
            "quantity",
            "unit_price",
            "tax_rate",
            "service_start_date",
            "service_end_date",
            "billing_frequency",
            "billing_type",
            "revenue_method",
        )

    def clean(self):
        cleaned = super().clean()
        if self.cleaned_data.get("DELETE") or self.errors:
            return cleaned
        item = self.instance
        if "product" in self.changed_data:
            item.price_book_entry = None  # re-priced from the order's price book (O2)
        for name, value in cleaned.items():
            if name in {f.name for f in OrderItem._meta.fields}:
                setattr(item, name, value)
        for problem in order_item_problems(order=item.order, item=item):
            field = problem.field if problem.field in self.fields else None
            self.add_error(field, str(problem))
        return cleaned


class OrderItemInline(admin.TabularInline):
    """O4: editable only while the order is Draft; read-only afterwards."""

    model = OrderItem
    form = OrderItemForm
    formset = OrderItemFormSet
    extra = 0
    autocomplete_fields = ("product",)
    readonly_amounts = (
        "list_price",
        "total",
        "tax_amount",
        "available_quantity",
        "fulfilled_quantity",
    )
    fields = ("line_number", *OrderItemForm.Meta.fields, *readonly_amounts)
    readonly_fields = ("line_number", *readonly_amounts)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return plain_related_widget(super().formfield_for_dbfield(db_field, request, **kwargs))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "product":
            kwargs["widget"] = PrefetchedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

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
