"""Revenue contracts (A1–A4): the lines grouped by RC_KEY with their SSP inputs, Ext SSP,
allocation and carve, totals per currency and a chart of net ESP against allocated; the
carve booked (recognized, deferred), the allocation versions and contractual against
ASC 606 revenue per period (carve.md K9)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import OuterRef, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.paginator import EstimatedCountPaginator
from core.queries import correlated_count

from ..models import RevenueContract, SoLine
from ..models.periods import period_label
from ..reports.checks import carve_flagged_contract_ids
from ..selectors import open_period_id, so_lines_with_amounts
from ..selectors_ledger import contract_totals, contracts_sums
from .carve_panels import carve_totals, contract_versions, line_carve, treatment_label
from .charts_allocation import allocation_chart
from .charts_carve import basis_chart, contract_revenue_bases
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


def _ssp_input(line) -> str:
    if line.ssp_pct is not None:
        return f"{plain(line.ssp_pct)} %"
    if line.ssp_price is not None:
        return f"price {plain(line.ssp_price)}"
    return ""


def line_rows(lines, treatment: str = "") -> list[dict]:
    """The contract page's lines as texts (amounts in each line's currency); the carve
    columns need ``carve_recognized`` (``so_lines_with_amounts``)."""
    rows = []
    for line in lines:
        c, net = line.currency, line.net_sll_prc
        reduced = net - line.ext_sll_prc.amount
        split = line_carve(line, treatment)
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
                "carve_negative": split.has_carve and split.carve < 0,
                "carve_recognized": amount_text(split.recognized, c),
                "carve_deferred": amount_text(split.deferred, c),
                "treatment": treatment_label(split.treatment, short=True),
                "treatment_long": treatment_label(split.treatment),
                "ssp_input": _ssp_input(line),
                "returned": line.is_returned,
                "outside": "no SSP" if line.ext_ssp is None and not line.is_returned else "",
            }
        )
    return rows


def total_rows(totals, carves=None) -> list[dict]:
    """Per currency; Σ carve, recognized and deferred over every line with a carve
    (``carves``: ``carve_totals``), Σ carve = 0 when the allocation is whole."""
    carves = carves or {}
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
            **_carve_total(carves.get(t.currency), t.currency),
        }
        for t in totals
    ]


def _carve_total(t, currency: str) -> dict:
    if t is None or not t.lines:
        return {"carve_recognized": "", "carve_deferred": "", "carve_balanced": True}
    return {
        "carve": amount_text(t.carve, currency),
        "carve_recognized": amount_text(t.recognized, currency),
        "carve_deferred": amount_text(t.deferred, currency),
        "carve_balanced": t.balanced,
        "carve_outside": amount_text(t.outside, currency) if t.outside else "",
    }


class CarveWarningFilter(admin.SimpleListFilter):
    """The contracts a carve check of the pre-close checklist warns about (carve.md K10),
    one choice per check: one grouped query (``carve_flagged_contract_ids``), then the
    contracts by id. No facet counts (each would run that query again)."""

    title = "carve warning"
    parameter_name = "carve_warning"
    CHOICES = (
        ("unbalanced", "Carve does not add up to zero"),
        ("booked", "Booked carve differs from a line's carve"),
        ("liability", "Released, adjustment liability left"),
        ("currencies", "Lines in several currencies"),
        ("partial_ssp", "Some lines without an SSP"),
    )

    def lookups(self, request, model_admin):
        return self.CHOICES

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {}

    def queryset(self, request, queryset):
        flag = self.value()
        if flag is None:
            return queryset
        if flag not in dict(self.CHOICES):
            raise IncorrectLookupParameters(f"carve warning: {flag[:30]!r} is not a choice")
        return queryset.filter(pk__any=sorted(carve_flagged_contract_ids(flag)))


@admin.register(RevenueContract)
class RevenueContractAdmin(ReadOnlyAdmin):
    change_form_template = "admin/revenue/revenuecontract/change_form.html"
    change_list_template = "admin/revenue/revenuecontract/change_list.html"
    list_display = ("rc_key", "line_count", "net_esp", "allocated", "carve", "created_at")
    search_fields = ("rc_key",)  # see get_search_results
    search_help_text = "RC_KEY or one of its SO_LINE_IDs, whole or its beginning."
    list_filter = (CarveWarningFilter,)  # the checklist's carve warnings
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
            open_period = open_period_id()
            lines = list(
                so_lines_with_amounts(
                    SoLine.objects.filter(contract_id=contract.pk), period=open_period or 0
                ).order_by("ext_sll_prc_currency", "so_line_id")
            )  # one query, the carve booked through the open period with each line
            totals = contract_totals(lines)
            treatment = contract.treatment
            bases = contract_revenue_bases(contract.pk)
            extra_context.update(
                lines=lines,
                totals=totals,
                line_rows=line_rows(lines, treatment),
                total_rows=total_rows(totals, carve_totals(lines, treatment)),
                charts=[(t, allocation_chart(lines, t.currency)) for t in totals],
                treatment=treatment_label(treatment),
                versions=contract_versions(contract.pk),
                open_period=period_label(open_period) if open_period else "",
                basis_charts=[
                    basis_chart(
                        rows,
                        currency,
                        open_period=open_period,
                        id=f"chart-basis-{currency}",
                        title=f"{currency}: contractual and ASC 606 revenue per period",
                    )
                    for currency, rows in sorted(bases.items())
                ],
            )
        return super().changeform_view(request, object_id, form_url, extra_context)
