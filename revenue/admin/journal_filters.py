"""The journal list's filters that a report figure's drill-down sets (close.md: "every
figure links to the rows behind it"): currency, contract / customer / item / SO line, a
range of periods and one or more accounts. Each costs no query until it is used, and then
at most one (the SO lines of a contract, customer or item, looked up first)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Q

from core.parsing import ascii_int

from ..models import SoLine
from ..models.choices import EntryType
from ..models.journal import RELEASE_ACCOUNTS, RELEASE_PAIR
from ..models.periods import period_label
from .filters import AccountFilter, SourceTypeFilter

LINE_LIST_LIMIT = 2000  # more lines than this: filtered by a join instead of their ids


class CurrencyFilter(admin.SimpleListFilter):
    """The entries in one currency (the currencies Contra takes: no DISTINCT over the
    journal)."""

    title = "currency"
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        return [(code, code) for code in settings.CURRENCIES]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(amount_currency=self.value().strip().upper()[:3])
        return queryset


class SeveralValues:
    """A list filter whose value may be several, comma-separated (``RELEASE,CATCH_UP``): the
    combination shows as a choice of its own, selected."""

    def values(self) -> list[str]:
        return [v for v in (self.value() or "").split(",") if v]

    def lookups(self, request, model_admin):
        choices = list(super().lookups(request, model_admin))
        values = self.values()
        if len(values) > 1:
            names = dict(choices)
            choices.append((self.value(), " + ".join(str(names.get(v, v)) for v in values)))
        return choices


class AccountsFilter(SeveralValues, AccountFilter):
    """Entries that touch an account on either side; ``REVENUE,ADJ_REVENUE`` (a report's
    figure on the ASC 606 basis) any of several."""

    def queryset(self, request, queryset):
        accounts = self.values()
        if len(accounts) <= 1:
            return super().queryset(request, queryset)
        touching = queryset.filter(Q(dr_account__in=accounts) | Q(cr_account__in=accounts))
        if any(a in RELEASE_ACCOUNTS for a in accounts):
            return touching
        return touching.exclude(RELEASE_PAIR)  # reads journal_other_accounts


class EntryTypeChoices(admin.SimpleListFilter):
    title = "entry type"
    parameter_name = "entry_type__exact"  # the parameter of Django's own filter of the field

    def lookups(self, request, model_admin):
        return EntryType.choices


class EntryTypeFilter(SeveralValues, EntryTypeChoices):
    """The entry type, or several (a roll-forward's releases: RELEASE, CATCH_UP)."""

    def queryset(self, request, queryset):
        values = self.values()
        return queryset.filter(entry_type__in=values) if values else queryset


class SourceTypesFilter(SeveralValues, SourceTypeFilter):
    """The source type, or several (a roll-forward's credit memos: CM, CM-R, CM-RO)."""

    def queryset(self, request, queryset):
        values = self.values()
        return queryset.filter(source_type__in=values) if values else queryset


class LineFieldFilter(admin.SimpleListFilter):
    """The entries of the SO lines with a typed value (an RC_KEY, a customer…): the lines
    are looked up first (one query), then the entries by line id (the line index)."""

    template = "admin/reports/input_filter.html"
    lookup = ""
    placeholder = ""

    def lookups(self, request, model_admin):
        return [("", "")]  # shown always; the template draws the box

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {}

    def choices(self, changelist):
        others = [(k, v) for k, v in changelist.params.items() if k != self.parameter_name]
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
            "query_parts": others,
            "value": self.value() or "",
            "placeholder": self.placeholder,
        }

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        value = value.strip()[:200]
        ids = list(
            SoLine.objects.filter(**{self.lookup: value})
            .order_by()
            .values_list("pk", flat=True)[: LINE_LIST_LIMIT + 1]
        )
        if len(ids) > LINE_LIST_LIMIT:
            return queryset.filter(**{f"line__{self.lookup}": value})
        return queryset.filter(line_id__in=ids)


class ContractFilter(LineFieldFilter):
    title = "contract (RC_KEY)"
    parameter_name = "contract"
    lookup = "contract__rc_key"
    placeholder = "RC_KEY"


class CustomerFilter(LineFieldFilter):
    title = "customer"
    parameter_name = "customer"
    lookup = "customer"
    placeholder = "customer, exactly"


class ItemFilter(LineFieldFilter):
    title = "item"
    parameter_name = "item"
    lookup = "item"
    placeholder = "item, exactly"


class SoLineFilter(LineFieldFilter):
    title = "SO line"
    parameter_name = "so_line"
    lookup = "so_line_id"
    placeholder = "SO_LINE_ID, exactly"


def period_value(text: str) -> int:
    value = str(text).strip()
    period = ascii_int(value, max_digits=6)
    if len(value) != 6 or period is None or not 1 <= period % 100 <= 12:
        raise IncorrectLookupParameters(f"'{text[:20]}' is not a period (YYYYMM)")
    return period


class PeriodRangeFilter(admin.ListFilter):
    """Periods from / to (YYYYMM, either or both): ``period__gte`` / ``period__lte``."""

    title = "period range"
    template = "admin/reports/range_filter.html"
    parameters = ("period__gte", "period__lte")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in self.parameters:
            if name in params:
                self.used_parameters[name] = params.pop(name)[-1]

    def has_output(self) -> bool:
        return True

    def expected_parameters(self):
        return list(self.parameters)

    def queryset(self, request, queryset):
        lookups = {
            name: period_value(value) for name, value in self.used_parameters.items() if value
        }
        return queryset.filter(**lookups) if lookups else queryset

    def choices(self, changelist):
        others = [(k, v) for k, v in changelist.params.items() if k not in self.parameters]
        values = {name: self.used_parameters.get(name, "") for name in self.parameters}
        labels = []
        for name, word in (("period__gte", "from"), ("period__lte", "to")):
            period = ascii_int(values[name], max_digits=6)
            if period is not None and len(values[name]) == 6:
                labels.append(f"{word} {period_label(period)}")
        yield {
            "selected": not any(values.values()),
            "query_string": changelist.get_query_string(remove=list(self.parameters)),
            "query_parts": others,
            "gte": values["period__gte"],
            "lte": values["period__lte"],
            "label": " ".join(labels),
        }
