"""M5 billing ↔ revenue reconciliation in the admin's "Reports" (close.md): the orders app
owns it (it knows the documents); each document links to its invoice or credit memo."""

from __future__ import annotations

from django.urls import reverse

from core.admin_reports import admin_report_register
from revenue.admin.reports import PeriodFilters

from ..models import CreditMemo, Invoice
from ..reports.documents import DocumentLineKeys, period_dates
from ..reports.reconcile import billing_reconcile_report, reconcile_currency, reconcile_period
from ..reports.reconcile_totals import billing_reconcile_totals


class ReconcileFilters(PeriodFilters):
    """The documents dated in a period (default the open one), in a currency or all."""

    basis = None  # billing has no carve basis
    field_order = ["period", "currency"]


def reconcile_links(rows, options):
    """Each document number → its invoice or credit memo page (two queries a page)."""
    numbers = {row["document"] for row in rows if row.get("document")}
    urls = {}
    for model, name in ((Invoice, "invoice"), (CreditMemo, "creditmemo")):
        for number, pk in model.objects.filter(number__in=numbers).values_list("number", "pk"):
            urls[number] = reverse(f"admin:orders_{name}_change", args=[pk])

    def link(row, key, sub):
        return urls.get(row.get("document"), "") if key == "document" else ""

    return link


def reconcile_keys(*, period=None, currency=None, **_) -> DocumentLineKeys:
    """The rows table pages over the period's document lines: a page reads its own."""
    first, last = period_dates(reconcile_period(period))
    return DocumentLineKeys(first=first, last=last, currency=reconcile_currency(currency))


def reconcile_estimate(**options) -> int:
    """The document lines of the report: a row each."""
    return reconcile_keys(**options).count()


admin_report_register(
    "billing-reconcile",
    title="Billing ↔ revenue reconciliation",
    builder=billing_reconcile_report,
    permission="orders.view_invoice",
    filters=ReconcileFilters,
    totals=billing_reconcile_totals,
    groups=reconcile_keys,
    group_noun="document line",
    links=reconcile_links,
    estimate=reconcile_estimate,
    description="Every line of the period's invoices and credit memos against the "
    "revenue lines emitted for it; revenue lines no document explains listed apart.",
    order=50,
)
