"""Form widgets every page shares.

``DateInput`` is the one date input of the admin and its forms: the browser's own date
picker (``<input type="date">``, ISO values), so a date is typed and picked the same way
on the order, the reduction, the return and the revenue pages."""

from __future__ import annotations

from django import forms
from django.db import models


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs={"class": "contra-date", **(attrs or {})}, format="%Y-%m-%d")


def native_dates(model_admin) -> None:
    """Give a registered ModelAdmin and its inline classes the shared date input for their
    date fields, unless a class chose a widget of its own (its ``formfield_overrides``).
    The admin instance merged Django's defaults (the calendar widget) when it was made, so
    its dict is updated; an inline class is made per request, so its class gets it."""
    if models.DateField not in type(model_admin).formfield_overrides:
        model_admin.formfield_overrides[models.DateField] = {"widget": DateInput}
    for inline in model_admin.inlines:
        if models.DateField not in inline.formfield_overrides:
            inline.formfield_overrides = {
                **inline.formfield_overrides,
                models.DateField: {"widget": DateInput},
            }
