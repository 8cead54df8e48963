"""List filters that take a typed value, for foreign keys with too many rows to list (the
order and return lists share them)."""

from __future__ import annotations

import re

from django.contrib import admin
from django.db.models import Q

from ..models import Account

ACCOUNT_NUMBER = re.compile(r"^[A-Za-z]+-\d+$")


def accounts_matching(text: str):
    """The accounts a typed value means: ACC-000123 (any case), or part of a name."""
    if ACCOUNT_NUMBER.match(text):
        return Account.objects.filter(number__iexact=text)
    return Account.objects.filter(Q(name__icontains=text) | Q(number__iexact=text))


class InputFilter(admin.SimpleListFilter):
    """A list filter that takes a typed value (a text box) instead of listing choices."""

    template = "admin/orders/input_filter.html"
    placeholder = ""

    def lookups(self, request, model_admin):
        return [("", "")]  # shown always; the template draws the box

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {}

    def text(self) -> str:
        return (self.value() or "").strip()[:100]

    def choices(self, changelist):
        """One choice: the other filters' parameters, kept as hidden inputs."""
        others = [
            (key, value) for key, value in changelist.params.items() if key != self.parameter_name
        ]
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
            "query_parts": others,
            "value": self.value() or "",
            "placeholder": self.placeholder,
        }


class AccountFilter(InputFilter):
    """The account typed in a box (ACC-000123, or part of its name): a list of every account
    that has orders would be tens of thousands of links, and finding them a DISTINCT over
    every order."""

    title = "account"
    parameter_name = "account"
    placeholder = "ACC-000123 or a name"

    def queryset(self, request, queryset):
        """The accounts are looked up first (one small query) and the orders filtered by
        their ids: as a subquery the planner cannot tell how many orders one account has,
        and walks the date index of every order looking for a small account's few."""
        text = self.text()
        if not text:
            return queryset
        found = accounts_matching(text).order_by().values_list("pk", flat=True)
        return queryset.filter(account_id__in=list(found))
