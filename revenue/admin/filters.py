"""List filters of the revenue admin that Django cannot derive from a field."""

from __future__ import annotations

from django.contrib import admin
from django.db import connections
from django.db.models import Count, Q

from core.parsing import ascii_int

from ..models import InboundBatch, InboundLine, JournalEntry, SoLine, ValidationRule
from ..models.choices import Account, LineStatus, TranType
from ..models.journal import RELEASE_ACCOUNTS, RELEASE_PAIR, SCHEDULE, STORED
from ..models.periods import period_label
from ..selectors import open_period_id
from ..services.collection import SYSTEM_ERROR
from ..services.parsing import PARSE_ERROR


def stopped_code_counts() -> dict[str, int]:
    """How many stopped lines carry each error code (a line with two codes counts under
    both). Read from the ``inbound_error_codes`` index of stopped lines, one row per
    combination of codes."""
    counts: dict[str, int] = {}
    combinations = (
        InboundLine.objects.filter(status=LineStatus.ERROR)
        .exclude(error_codes="")
        .values_list("error_codes")
        .annotate(n=Count("id"))
        .order_by()
    )
    for codes, n in combinations:
        for code in dict.fromkeys(codes.split(";")):
            counts[code] = counts.get(code, 0) + n
    return counts


class ErrorCodeFilter(admin.SimpleListFilter):
    """Lines stopped with one code: the codes stopped lines carry now, each with its count
    and what it means (the registry's codes, plus parse and system errors)."""

    title = "error code"
    parameter_name = "error_code"

    def lookups(self, request, model_admin):
        counts = stopped_code_counts()
        chosen = self.value()
        if chosen and chosen not in counts:
            counts[chosen] = 0  # the chosen code stays listed after its lines are fixed
        meaning = {
            PARSE_ERROR: "a value could not be read",
            SYSTEM_ERROR: "system error while collecting",
        }
        rules = ValidationRule.objects.filter(code__in=counts).order_by("sort")
        meaning |= {rule.code: rule.message for rule in rules}
        order = [PARSE_ERROR, *(rule.code for rule in rules), SYSTEM_ERROR]
        order += sorted(set(counts) - set(order))
        return [
            (code, f"{code} · {meaning.get(code, 'unknown code')} ({counts[code]:,})")
            for code in order
            if code in counts
        ]

    def queryset(self, request, queryset):
        """Only stopped lines carry codes (collection clears them). The matching ids come
        from the small ``inbound_error_codes`` index of stopped lines (read without the
        table): a code on a few hundred of a million lines is found without reading the
        heap row of every stopped line."""
        if self.value():
            stopped = InboundLine.objects.filter(
                status=LineStatus.ERROR, error_codes__contains=self.value()
            )
            return queryset.filter(pk__in=stopped.values("pk"))
        return queryset


class RecentBatchFilter(admin.SimpleListFilter):
    """The last batches (upload redirects here with ?batch=B)."""

    title = "batch"
    parameter_name = "batch"
    recent = 8

    def lookups(self, request, model_admin):
        batches = list(InboundBatch.objects.order_by("-id")[: self.recent])
        chosen = ascii_int(self.value())
        if chosen is not None and chosen not in {b.pk for b in batches}:
            batches += list(InboundBatch.objects.filter(pk=chosen))
        return [
            (
                str(b.pk),
                f"#{b.pk} {b.filename or b.get_source_display()} · {b.created_at:%Y-%m-%d %H:%M}",
            )
            for b in batches
        ]

    def queryset(self, request, queryset):
        value = ascii_int(self.value())  # not an id ('abc', '²', 5,000 digits): ignored
        if value is not None:
            return queryset.filter(batch_id=value)
        return queryset


# The distinct periods of one table of the journal, newest first, one index probe each (a
# loose index scan): a DISTINCT would read every entry. Run on each table the journal view
# reads, through its own index: ``journal_period`` for the stored entries and
# ``schedule_entry_period`` for the rows that book an entry (PostgreSQL does not take the
# view's max() from the indexes of its branches: it read every entry, 250 ms at 20,000).
DISTINCT_PERIODS = """
WITH RECURSIVE p(period) AS (
    SELECT max(period) FROM {table} WHERE {where}
    UNION ALL
    SELECT (SELECT max(period) FROM {table} WHERE {where} AND period < p.period) FROM p
    WHERE p.period IS NOT NULL
)
SELECT period FROM p WHERE period IS NOT NULL LIMIT %s
"""
JOURNAL_TABLES = ((STORED, "TRUE"), (SCHEDULE, "entry IS NOT NULL"))


def journal_periods(limit: int = 60) -> list[int]:
    """The periods that have journal entries, newest first (at most ``limit``)."""
    connection = connections[JournalEntry.objects.db]
    periods: set[int] = set()
    with connection.cursor() as cursor:
        for table, where in JOURNAL_TABLES:
            sql = DISTINCT_PERIODS.format(table=connection.ops.quote_name(table), where=where)
            cursor.execute(sql, [limit])
            periods.update(row[0] for row in cursor.fetchall())
    return sorted(periods, reverse=True)[:limit]


class PeriodFilter(admin.SimpleListFilter):
    """The periods that have entries, newest first."""

    title = "period"
    parameter_name = "period"

    def lookups(self, request, model_admin):
        return [(str(p), period_label(p)) for p in journal_periods()]

    def queryset(self, request, queryset):
        value = ascii_int(self.value())  # not a period number: ignored
        if value is not None:
            return queryset.filter(period=value)
        return queryset


class AccountFilter(admin.SimpleListFilter):
    """Entries that touch an account on either side."""

    title = "account (debit or credit)"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return Account.choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        touching = queryset.filter(Q(dr_account=value) | Q(cr_account=value))
        if value in RELEASE_ACCOUNTS:
            return touching
        # implied by the account, said so that the list reads ``journal_other_accounts``
        return touching.exclude(RELEASE_PAIR)


class PostedFilter(admin.SimpleListFilter):
    """Posted or not (the ``posted__exact`` of Django's own filter). Entries are posted only
    when their period closes (S2), so a posted entry is in a period before the open one:
    saying so lets the newest-first list start at the last closed period instead of
    reading past every entry of the open and future periods."""

    title = "posted"
    parameter_name = "posted__exact"

    def lookups(self, request, model_admin):
        return [("1", "Yes"), ("0", "No")]

    def queryset(self, request, queryset):
        if self.value() == "0":
            return queryset.filter(posted=False)
        if self.value() == "1":
            posted = queryset.filter(posted=True)
            open_period = open_period_id()
            return posted.filter(period__lt=open_period) if open_period else posted
        return queryset


class SourceTypeFilter(admin.SimpleListFilter):
    """The source of an entry: a schedule source (SO, INV) or the line type that booked it
    (CM-R, RORD, CM-RO …): the known types, not a DISTINCT over millions of entries."""

    title = "source type"
    parameter_name = "source_type"

    def lookups(self, request, model_admin):
        return [(value, value) for value in TranType.values]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(source_type=self.value())
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
