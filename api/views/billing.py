"""Invoices and credit memos (orders.md B5, B6): read only, by number, lines in detail;
and the billing ↔ revenue reconciliation of a period (close.md M5)."""

from __future__ import annotations

import io

from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.views import APIView

from orders.models import CreditMemo, CreditMemoLine, Invoice, InvoiceLine
from orders.reports.reconcile import billing_reconcile_report
from revenue.reports.output import write_json
from revenue.services.periods import period_parse

from ..permissions import ModelPermissions
from ..serializers.orders import (
    CreditMemoDetailSerializer,
    CreditMemoSerializer,
    InvoiceDetailSerializer,
    InvoiceSerializer,
)

FILTERS = [
    OpenApiParameter("status", str),
    OpenApiParameter("account", str, description="the account's number"),
    OpenApiParameter("order", str, description="the order's number"),
]


def _filtered(documents, params):
    if params.get("status"):
        documents = documents.filter(status=params["status"].upper())
    if params.get("account"):
        documents = documents.filter(account__number=params["account"])
    if params.get("order"):
        documents = documents.filter(order__number=params["order"])
    return documents


class BillingDocumentViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ModelPermissions]
    lookup_field = "number"
    lookup_value_regex = "[^/]+"

    def get_serializer_class(self):
        return self.list_serializer if self.action == "list" else self.detail_serializer

    @extend_schema(parameters=FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class InvoiceViewSet(BillingDocumentViewSet):
    """Invoices: GET lists them (filters ``status``, ``account``, ``order``) or shows one
    with its lines."""

    model = Invoice
    list_serializer, detail_serializer = InvoiceSerializer, InvoiceDetailSerializer

    def get_queryset(self):
        invoices = Invoice.objects.select_related("account", "order")
        if self.action == "list":
            return _filtered(invoices, self.request.query_params).order_by("-id")
        lines = InvoiceLine.objects.select_related("order_item__order").order_by("line_number")
        return invoices.prefetch_related(Prefetch("lines", queryset=lines))


class CreditMemoViewSet(BillingDocumentViewSet):
    """Credit memos: GET lists them (filters ``status``, ``account``, ``order``) or shows
    one with its lines."""

    model = CreditMemo
    list_serializer, detail_serializer = CreditMemoSerializer, CreditMemoDetailSerializer

    def get_queryset(self):
        memos = CreditMemo.objects.select_related("account", "order", "source_order")
        if self.action == "list":
            return _filtered(memos, self.request.query_params).order_by("-id")
        lines = CreditMemoLine.objects.select_related(
            "order_item__order", "invoice_line__invoice"
        ).order_by("line_number")
        return memos.prefetch_related(Prefetch("lines", queryset=lines))


class BillingReconcileView(APIView):
    """M5: every line of the billing documents dated in a period against the revenue lines
    emitted for it, as ``billing_reconcile --format json`` gives it (``report``,
    ``period``, ``rows``, ``totals``, ``unexplained``; amounts as strings). Query
    parameters as the command's options: ``period`` (YYYYMM, default the open period) and
    ``currency``. Read with the permission the admin's reconciliation page needs (view
    invoices)."""

    model = Invoice
    permission_classes = [ModelPermissions]

    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, description="YYYYMM (default: the open period)"),
            OpenApiParameter("currency", str, description="only documents in this currency"),
        ],
        responses={200: dict},
    )
    def get(self, request):
        params = request.query_params
        period = params.get("period")
        period = period_parse(period, field="period") if period else None  # else 400
        report = billing_reconcile_report(period=period, currency=params.get("currency") or None)
        out = io.StringIO()
        write_json(report, out)
        return HttpResponse(out.getvalue(), content_type="application/json")
