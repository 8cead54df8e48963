"""The journal (S3–S5): read-only entries, a trial balance of the filtered set, CSV export."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from core.paginator import EstimatedCountPaginator

from ..models import JournalEntry
from ..models.choices import Account
from ..models.periods import period_label
from ..selectors import journal_export_rows
from .common import ReadOnlyAdmin, amount_text, changelist_rows, csv_download, money_html
from .filters import PeriodFilter, PostedFilter
from .journal_filters import (
    AccountsFilter,
    ContractFilter,
    CurrencyFilter,
    CustomerFilter,
    EntryTypeFilter,
    ItemFilter,
    PeriodRangeFilter,
    SoLineFilter,
    SourceTypesFilter,
)

ZERO = Decimal("0")
BALANCE = "_balance"  # ?_balance=1: total a filtered set of any size
ACCOUNT_ORDER = {value: rank for rank, value in enumerate(Account.values)}


@dataclass
class BalanceRow:
    account: str
    currency: str
    dr: Decimal = ZERO
    cr: Decimal = ZERO
    sides: int = 0

    @property
    def label(self) -> str:
        return Account(self.account).label if self.account in Account.values else self.account

    @property
    def net(self) -> Decimal:
        return self.dr - self.cr

    @property
    def dr_text(self) -> str:
        return amount_text(self.dr, self.currency)

    @property
    def cr_text(self) -> str:
        return amount_text(self.cr, self.currency)

    @property
    def net_text(self) -> str:
        return amount_text(abs(self.net), self.currency)

    @property
    def net_side(self) -> str:
        """A debit balance (Dr) or a credit balance (Cr)."""
        return "Dr" if self.net > 0 else "Cr" if self.net < 0 else ""


@dataclass
class CurrencyTotal:
    currency: str
    rows: list[BalanceRow] = field(default_factory=list)

    @property
    def dr(self) -> Decimal:
        return sum((r.dr for r in self.rows), ZERO)

    @property
    def cr(self) -> Decimal:
        return sum((r.cr for r in self.rows), ZERO)

    @property
    def balanced(self) -> bool:
        return self.dr == self.cr

    @property
    def dr_text(self) -> str:
        return amount_text(self.dr, self.currency)

    @property
    def cr_text(self) -> str:
        return amount_text(self.cr, self.currency)


def balance_of(entries) -> list[CurrencyTotal]:
    """Debits and credits per account and currency of a set of entries (two queries)."""
    rows: dict[tuple[str, str], BalanceRow] = {}
    base = entries.order_by()
    for side, account_field in (("dr", "dr_account"), ("cr", "cr_account")):
        sums = base.values_list(account_field, "amount_currency").annotate(
            total=Sum("amount"), n=Count("pk")
        )
        for account, currency, total, n in sums:
            row = rows.setdefault((account, currency), BalanceRow(account, currency))
            setattr(row, side, getattr(row, side) + (total or ZERO))
            row.sides += n
    totals: dict[str, CurrencyTotal] = {}
    for (_, currency), row in sorted(
        rows.items(), key=lambda item: (item[0][1], ACCOUNT_ORDER.get(item[0][0], 99))
    ):
        totals.setdefault(currency, CurrencyTotal(currency)).rows.append(row)
    return list(totals.values())


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    change_list_template = "admin/revenue/journalentry/change_list.html"
    list_display = (
        "period_text",
        "line_link",
        "source_type",
        "entry_type",
        "dr_account",
        "cr_account",
        "amount_text",
        "posted",
    )
    list_display_links = ("period_text",)
    # the last ones are what a report figure's drill-down sets (close.md)
    list_filter = (
        PeriodFilter,
        EntryTypeFilter,
        AccountsFilter,
        PostedFilter,
        SourceTypesFilter,
        CurrencyFilter,
        PeriodRangeFilter,
        ContractFilter,
        CustomerFilter,
        ItemFilter,
        SoLineFilter,
    )
    search_fields = ("line__so_line_id",)
    search_help_text = "SO_LINE_ID"
    list_select_related = ("line",)
    list_per_page = 100
    # Millions of entries: newest period first, by id within it (journal_period index,
    # no join to order by SO line), the count exact up to 10,000 then estimated, and no
    # second COUNT(*) of every entry.
    ordering = ("-period", "-id")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    balance_limit = EstimatedCountPaginator.exact_limit
    fields = (
        ("period", "posted"),
        "line_link",
        ("source_type", "entry_type"),
        ("dr_account", "cr_account"),
        "amount",
        "inbound_link",
    )
    readonly_fields = ("line_link", "inbound_link")

    @admin.display(description="period", ordering="period")
    def period_text(self, obj):
        return period_label(obj.period)

    @admin.display(description="SO line", ordering="line__so_line_id")
    def line_link(self, obj):
        url = reverse("admin:revenue_soline_change", args=[obj.line_id])
        return format_html('<a href="{}">{}</a>', url, obj.line.so_line_id)

    @admin.display(description="amount", ordering="amount")
    def amount_text(self, obj):
        return money_html(obj.amount)

    @admin.display(description="inbound line")
    def inbound_link(self, obj):
        if not obj.inbound_line_id:
            return "— (manual action or period close)"
        url = reverse("admin:revenue_inboundline_change", args=[obj.inbound_line_id])
        return format_html('<a href="{}">#{}</a>', url, obj.inbound_line_id)

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="revenue_journalentry_export",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        asked = request.GET.get(BALANCE) == "1"
        if BALANCE in request.GET:  # not a lookup of the change list
            request.GET = request.GET.copy()
            del request.GET[BALANCE]
        extra_context = {**(extra_context or {}), "export_query": request.GET.urlencode()}
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            cl = context["cl"]
            # S3: the trial balance of what is shown, summed on every view up to
            # ``balance_limit`` entries; a larger set (the whole journal, a busy period)
            # is summed when asked (a link), not on every page view
            if asked or cl.result_count <= self.balance_limit:
                context["balance"] = balance_of(cl.queryset)
            else:
                query = request.GET.copy()
                query[BALANCE] = "1"
                context["balance_url"] = f"?{query.urlencode()}"
        return response

    def export_view(self, request):
        """The filtered entries in the interchange ``journal`` columns."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        queryset = changelist_rows(self, request)
        if isinstance(queryset, HttpResponseRedirect):  # a parameter the list refuses
            return queryset
        return csv_download(
            kind="journal", rows=journal_export_rows(queryset), filename="journal.csv"
        )
