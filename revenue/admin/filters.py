"""List filters of the revenue admin that Django cannot derive from a field."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q

from ..models import InboundBatch, JournalEntry, SoLine, ValidationRule
from ..models.choices import Account
from ..models.periods import period_label
from ..services.collection import SYSTEM_ERROR
from ..services.parsing import PARSE_ERROR


class ErrorCodeFilter(admin.SimpleListFilter):
    """Lines stopped with one code: the registry's codes, plus parse (I2) and system (I9)."""

    title = "error code"
    parameter_name = "error_code"

    def lookups(self, request, model_admin):
        codes = [(PARSE_ERROR, f"{PARSE_ERROR} · I2 value could not be parsed")]
        codes += [
            (rule.code, f"{rule.code} · {rule.rule} {rule.message}")
            for rule in ValidationRule.objects.order_by("sort")
        ]
        codes.append((SYSTEM_ERROR, f"{SYSTEM_ERROR} · I9 system error while collecting"))
        return codes

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(error_codes__contains=self.value())
        return queryset


class RecentBatchFilter(admin.SimpleListFilter):
    """The last batches (upload redirects here with ?batch=B)."""

    title = "batch"
    parameter_name = "batch"
    recent = 8

    def lookups(self, request, model_admin):
        batches = list(InboundBatch.objects.order_by("-id")[: self.recent])
        chosen = self.value()
        if chosen and chosen.isdigit() and int(chosen) not in {b.pk for b in batches}:
            batches += list(InboundBatch.objects.filter(pk=int(chosen)))
        return [
            (
                str(b.pk),
                f"#{b.pk} {b.filename or b.get_source_display()} · {b.created_at:%Y-%m-%d %H:%M}",
            )
            for b in batches
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(batch_id=int(value))
        return queryset


class PeriodFilter(admin.SimpleListFilter):
    """The periods that have entries, newest first."""

    title = "period"
    parameter_name = "period"

    def lookups(self, request, model_admin):
        periods = (
            JournalEntry.objects.order_by("-period").values_list("period", flat=True).distinct()
        )
        return [(str(p), period_label(p)) for p in periods[:60]]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(period=int(value))
        return queryset


class AccountFilter(admin.SimpleListFilter):
    """Entries that touch an account on either side."""

    title = "account (debit or credit)"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return Account.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Q(dr_account=self.value()) | Q(cr_account=self.value()))
        return queryset


class CurrencyFilter(admin.SimpleListFilter):
    """The currencies SO lines are in (not every currency the system knows)."""

    title = "currency"
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        codes = (
            SoLine.objects.order_by("ext_sll_prc_currency")
            .values_list("ext_sll_prc_currency", flat=True)
            .distinct()
        )
        return [(code, code) for code in codes]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(ext_sll_prc_currency=self.value())
        return queryset
