"""Ids that reach the admin from a URL or a form: one that is not an id of the model is
"not found" or a field error, never a 500; the object a custom page acts on is one the
user may view or change."""

from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404

# what every database here stores in an integer key (SQLite refuses larger Python ints
# with an OverflowError instead of finding nothing)
BIGGEST_KEY = 2**63


def object_or_404(queryset, object_id, **filters):
    """``get_object_or_404(queryset, pk=object_id)`` for an id taken from the URL: one that
    is not an id of the model ('abc', '1.5', '1\\x00', thirty digits) is not found either
    (Django's own change pages answer the same way)."""
    try:
        return get_object_or_404(queryset, pk=object_id, **filters)
    except (ValueError, TypeError, OverflowError, ValidationError):
        raise Http404(f"No object with the id {str(object_id)[:40]!r}.") from None


def admin_object_for_page(model_admin, request, object_id, *, permission: str, queryset=None):
    """The object a custom admin page (*Record fulfilment…*, *Hold revenue*…) acts on.
    Its own permission is not enough, as on Django's change pages the user must also be
    allowed to view or change the object: 403 without either, 404 for an id that is not
    one (checked after the page's permission, so the ids are not probed through it)."""
    if not request.user.has_perm(permission):
        raise PermissionDenied
    if queryset is None:
        queryset = model_admin.get_queryset(request)
    obj = object_or_404(queryset, object_id)
    if not model_admin.has_view_or_change_permission(request, obj):
        raise PermissionDenied
    return obj


def is_key(field, value) -> bool:
    """Whether ``value`` as received can be looked up in ``field`` (a key column)."""
    try:
        python = field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    return not isinstance(python, int) or -BIGGEST_KEY <= python < BIGGEST_KEY


class SafeAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete shows the submitted choice again by looking it up; a value
    that is no id ('abc', thirty digits) raised there (a 500) instead of the field's own
    "Select a valid choice" error. Such values are simply not looked up."""

    def optgroups(self, name, value, attr=None):
        target = self.field.target_field
        kept = [v for v in value if v in (None, "") or is_key(target, v)]
        return super().optgroups(name, kept, attr)


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A submitted id beyond any key is "not a valid value" (Django's ``__in`` lookup
    passes it to SQLite, which raises OverflowError)."""

    def _check_values(self, value):
        key = self.to_field_name or "pk"
        field = self.queryset.model._meta.get_field(key) if key != "pk" else None
        field = field or self.queryset.model._meta.pk
        for pk in value or ():
            if pk not in self.empty_values and not is_key(field, pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": str(pk)[:40]},
                )
        return super()._check_values(value)


class SafeChoicesAdminMixin:
    """For a ModelAdmin or an inline: autocompletes and many-to-many choices that answer
    a malformed submitted id with a field error."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", BoundedModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)
