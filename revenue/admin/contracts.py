"""Revenue contracts (A1–A4): the lines grouped by RC_KEY with their SSP inputs, Ext SSP,
allocation and carve, totals per currency and a chart of net ESP against allocated."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import OuterRef, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.paginator import EstimatedCountPaginator
from core.queries import correlated_count

from ..models import RevenueContract, SoLine
from ..selectors_ledger import contract_lines, contract_totals, contracts_sums
from .charts_allocation import allocation_chart
from .common import AttachingChangeList, ReadOnlyAdmin, amount_text
from .staging import plain


def _per_currency(rows, attr: str, *, pooled_only: bool = False) -> str:
    """One amount per currency, stacked in the cell; — for a currency none of whose lines
    has an SSP when the amount is an allocation (A3)."""
    if not rows:
        return "—"
    return format_html_join(
        "",
        '<div class="contra-num{}">{} <span class="revenue-cur">{}</span></div>',
        (
            (
                " revenue-negative" if getattr(t, attr) < 0 else "",
                amount_text(getattr(t, attr), t.currency) if t.pooled or not pooled_only else "—",
                t.currency,
            )
            for t in rows
        ),
    )


def _money(value) -> str:
    return "" if value is None else amount_text(value)


def line_rows(lines) -> list[dict]:
    """The contract page's lines as texts (amounts in each line's currency)."""
    rows = []
    for line in lines:
        c, net = line.currency, line.net_sll_prc
        reduced = net - line.ext_sll_prc.amount
        rows.append(
            {
                "pk": line.pk,
                "so_line_id": line.so_line_id,
                "item": line.item,
                "currency": c,
                "esp": amount_text(line.ext_sll_prc.amount, c),
                "net": amount_text(net, c),
                "reduced": amount_text(reduced, c) if reduced else "",
                "ssp_pct": plain(line.ssp_pct),
                "ssp_price": plain(line.ssp_price),
                "ext_ssp": _money(line.ext_ssp),
                "allocated": _money(line.allocated),
                "carve": _money(line.carve),
                "returned": line.is_returned,
                "outside": "no SSP" if line.ext_ssp is None and not line.is_returned else "",
            }
        )
    return rows


def total_rows(totals) -> list[dict]:
    return [
        {
            "currency": t.currency,
            "lines": t.lines,
            "esp": amount_text(t.esp, t.currency),
            "net": amount_text(t.net, t.currency),
            "ext_ssp": amount_text(t.ext_ssp, t.currency),
            "allocated": amount_text(t.allocated, t.currency),
            "carve": amount_text(t.carve, t.currency),
            "pool_net": amount_text(t.pool_net, t.currency),
            "pool_lines": t.lines - t.outside,
            "outside": t.outside,
            "balanced": t.balanced,
        }
        for t in totals
    ]


@admin.register(RevenueContract)
class RevenueContractAdmin(ReadOnlyAdmin):
    change_form_template = "admin/revenue/revenuecontract/change_form.html"
    change_list_template = "admin/revenue/revenuecontract/change_list.html"
    list_display = ("rc_key", "line_count", "net_esp", "allocated", "carve", "created_at")
    search_fields = ("rc_key",)  # see get_search_results
    search_help_text = "RC_KEY or one of its SO_LINE_IDs, whole or its beginning."
    show_full_result_count = False  # hundreds of thousands of contracts: core.paginator
    paginator = EstimatedCountPaginator
    fields = (("rc_key", "created_at"), "lines_link")
    readonly_fields = ("rc_key", "created_at", "lines_link")

    def get_queryset(self, request):
        lines = SoLine.objects.filter(contract=OuterRef("pk")).order_by().values("contract")
        return super().get_queryset(request).annotate(_lines=correlated_count(lines))

    def get_search_results(self, request, queryset, search_term):
        """Contracts whose RC_KEY or one of whose SO_LINE_IDs starts with the term, as typed
        or in capitals: both read through the keys' pattern indexes (a contains-search
        over both joined read every contract and line: a second with 277k contracts)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        keys, lines = Q(), Q()
        for prefix in dict.fromkeys((term, term.upper())):
            keys |= Q(rc_key__startswith=prefix)
            lines |= Q(so_line_id__startswith=prefix)
        matching = (
            RevenueContract.objects.filter(keys)
            .order_by()
            .values("pk")
            .union(SoLine.objects.filter(lines).order_by().values("contract_id"))
        )
        return queryset.filter(pk__in=matching), False

    # --- list: sums per page in one query ------------------------------------------------
    def get_changelist(self, request, **kwargs):
        return AttachingChangeList

    def attach_page(self, rows) -> None:
        sums = contracts_sums(row.pk for row in rows)
        for row in rows:
            row._sums = sums.get(row.pk, [])

    def _sums(self, obj):
        sums = getattr(obj, "_sums", None)
        if sums is None:
            sums = obj._sums = contracts_sums([obj.pk]).get(obj.pk, [])
        return sums

    @admin.display(description="SO lines", ordering="_lines")
    def line_count(self, obj):
        url = reverse("admin:revenue_soline_changelist") + f"?contract__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj._lines)

    @admin.display(description="Σ net ESP")
    def net_esp(self, obj):
        return _per_currency(self._sums(obj), "net")

    @admin.display(description="Σ allocated")
    def allocated(self, obj):
        return _per_currency(self._sums(obj), "allocated", pooled_only=True)

    @admin.display(description="Σ carve")
    def carve(self, obj):
        return _per_currency(self._sums(obj), "carve", pooled_only=True)

    @admin.display(description="SO lines")
    def lines_link(self, obj):
        url = reverse("admin:revenue_soline_changelist") + f"?contract__id__exact={obj.pk}"
        return format_html('{} · <a href="{}">show them in the SO line list ›</a>', obj._lines, url)

    # --- change page ---------------------------------------------------------------------
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self.history_context(request, object_id)}
        contract = self.get_object(request, object_id) if object_id else None
        if contract is not None:
            lines = contract_lines(contract.pk)
            totals = contract_totals(lines)
            extra_context.update(
                lines=lines,
                totals=totals,
                line_rows=line_rows(lines),
                total_rows=total_rows(totals),
                charts=[(t, allocation_chart(lines, t.currency)) for t in totals],
            )
        return super().changeform_view(request, object_id, form_url, extra_context)
