"""RMAs and refunds (interchange.md "HTTP API"; returns.md T rules): thin views over
``returns/services``; the admin's permissions."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.exceptions import BusinessRuleRefused
from orders.models import Order, Product
from returns.models import Refund, ReturnOrder, ReturnOrderLine, ReturnProcessing
from returns.services import (
    FeeInput,
    ReturnLineInput,
    ReturnQuantities,
    refund_transition,
    return_items_process,
    return_order_create,
    return_order_transition,
)

from ..permissions import ModelPermissions
from ..serializers.returns import (
    ProcessingSerializer,
    RefundSerializer,
    ReturnItemsSerializer,
    ReturnOrderDetailSerializer,
    ReturnOrderSerializer,
    RmaCreateSerializer,
    SettleSerializer,
)
from .common import TransitionOptionsSerializer, id_renamer, refuse

RMA_FILTERS = [
    OpenApiParameter("status", str, description="DRAFT, SUBMITTED, APPROVED, CLOSED, CANCELED"),
    OpenApiParameter("order", str, description="the order's number"),
    OpenApiParameter("account", str, description="the account's number"),
]
OUTCOMES = {"refunded": "succeed", "failed": "fail"}


def _filtered(documents, params):
    if params.get("status"):
        documents = documents.filter(status=params["status"].upper())
    if params.get("order"):
        documents = documents.filter(order__number=params["order"])
    if params.get("account"):
        documents = documents.filter(account__number=params["account"])
    return documents


def _processings():
    return ReturnProcessing.objects.select_related(
        "change_order", "fee_change_order", "credit_memo", "fee_invoice", "refund"
    ).order_by("id")


class ReturnOrderViewSet(viewsets.ReadOnlyModelViewSet, mixins.CreateModelMixin):
    """RMAs by number. GET lists them (filters ``status``, ``order``, ``account``) or
    shows one with its lines and processings; POST creates one (T1-T5, as *Create RMA…*);
    POST ``submit/``, ``approve/``, ``close/``, ``cancel/`` (T11) and ``return-items/``
    (T6-T10: quantities per product line; its documents and refund)."""

    model = ReturnOrder
    permission_classes = [ModelPermissions]
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    write_permissions = {
        "create": ("returns.add_returnorder",),
        "submit": ("returns.change_returnorder",),
        "approve": ("returns.approve_returnorder",),
        "close": ("returns.close_returnorder",),
        "cancel": ("returns.cancel_returnorder",),
        "return_items": ("returns.process_returnorder",),
    }

    def get_serializer_class(self):
        return ReturnOrderSerializer if self.action == "list" else ReturnOrderDetailSerializer

    def get_queryset(self):
        rmas = ReturnOrder.objects.select_related("order", "account")
        if self.action == "list":
            return _filtered(rmas, self.request.query_params).order_by("-id")
        lines = ReturnOrderLine.objects.select_related(
            "order_item__order", "product", "product_line", "split_from"
        ).order_by("line_number")
        return rmas.prefetch_related(
            Prefetch("lines", queryset=lines), Prefetch("processings", queryset=_processings())
        )

    def _answer(self, rma, status=200):
        rma = self.get_queryset().get(pk=rma.pk)
        return Response(ReturnOrderDetailSerializer(rma).data, status=status)

    @extend_schema(parameters=RMA_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=RmaCreateSerializer, responses={201: ReturnOrderDetailSerializer})
    def create(self, request, *args, **kwargs):
        form = RmaCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        order = Order.objects.filter(number=data["order"]).first()
        if order is None:
            raise ValidationError({"order": [f"there is no order {data['order']}"]})
        by_line = dict(order.items.values_list("line_number", "pk"))
        skus = {fee["fee_product"] for line in data["lines"] for fee in line.get("fees", [])}
        fee_products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
        problems = {}
        for i, line in enumerate(data["lines"]):
            if line["line_number"] not in by_line:
                problems[f"lines[{i}].line_number"] = [f"{order} has no line {line['line_number']}"]
            for j, fee in enumerate(line.get("fees", [])):
                if fee["fee_product"] not in fee_products:
                    where = f"lines[{i}].fees[{j}].fee_product"
                    problems[where] = [f"there is no product {fee['fee_product']}"]
        if problems:
            raise ValidationError(problems)
        reason = data.get("reason") or ""
        lines = [
            ReturnLineInput(
                order_item=by_line[line["line_number"]],
                quantity=line["quantity"],
                reason=line.get("reason") or reason,
                fees=[
                    FeeInput(
                        amount=fee["amount"],
                        amount_type=fee["amount_type"],
                        fee_product=fee_products[fee["fee_product"]],
                        description=fee.get("description") or "",
                        reason=fee.get("reason") or "",
                    )
                    for fee in line.get("fees", [])
                ],
            )
            for line in data["lines"]
        ]
        index_of = {}
        for index, line in enumerate(lines):
            index_of.setdefault(line.item_id, index)
        rename = id_renamer(
            {"quantity": "quantity", "reason": "reason", "fee": "fees"}, index_of, "lines"
        )
        try:
            rma = return_order_create(
                order=order,
                lines=lines,
                user=request.user,
                reason=reason,
                comment=data["comment"],
                submit=data["submit"],
            )
        except BusinessRuleRefused as refusal:
            refuse(refusal, rename=lambda f: "lines" if f == "items" else rename(f), conflict=False)
        return self._answer(rma, status=201)

    def _transition(self, request, name: str):
        form = TransitionOptionsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        rma = self.get_object()
        try:
            rma = return_order_transition(
                return_order=rma,
                name=name,
                user=request.user,
                comment=form.validated_data["reason"],
            )
        except BusinessRuleRefused as refusal:
            refuse(refusal)
        return self._answer(rma)

    @extend_schema(request=TransitionOptionsSerializer, responses=ReturnOrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, number=None):
        return self._transition(request, "submit")

    @extend_schema(request=TransitionOptionsSerializer, responses=ReturnOrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, number=None):
        return self._transition(request, "approve")

    @extend_schema(request=TransitionOptionsSerializer, responses=ReturnOrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, number=None):
        return self._transition(request, "close")

    @extend_schema(request=TransitionOptionsSerializer, responses=ReturnOrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, number=None):
        return self._transition(request, "cancel")

    @extend_schema(request=ReturnItemsSerializer, responses={201: ProcessingSerializer})
    @action(detail=True, methods=["post"], url_path="return-items")
    def return_items(self, request, number=None):
        """T6-T10: per product line the quantity returned (and to cancel, rejected); its
        change orders, credit memo, fee invoice and (unless ``ensure_refund`` is false)
        refund. A bad quantity is a 400 naming ``lines[i].returned``."""
        form = ReturnItemsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        rma = self.get_object()
        by_line = dict(rma.lines.values_list("line_number", "pk"))
        missing = {
            f"lines[{i}].line_number": [f"{rma} has no line {line['line_number']}"]
            for i, line in enumerate(data["lines"])
            if line["line_number"] not in by_line
        }
        if missing:
            raise ValidationError(missing)
        quantities, index_of = {}, {}
        for index, line in enumerate(data["lines"]):
            pk = by_line[line["line_number"]]
            index_of.setdefault(pk, index)
            quantities[pk] = ReturnQuantities(
                returned=line["returned"], to_cancel=line["to_cancel"], rejected=line["rejected"]
            )
        rename = id_renamer({"returned": "returned"}, index_of, "lines")
        try:
            processing = return_items_process(
                return_order=rma,
                quantities=quantities,
                user=request.user,
                comment=data["comment"],
                ensure_refund=data["ensure_refund"],
            )
        except BusinessRuleRefused as refusal:
            refuse(refusal, rename=rename, inputs=("lines",))
        processing = _processings().get(pk=processing.pk)
        return Response(ProcessingSerializer(processing).data, status=201)


class RefundViewSet(viewsets.ReadOnlyModelViewSet):
    """Refunds by number (T9). GET lists them (filters ``status``, ``order``,
    ``account``) or shows one; POST ``settle/`` records the gateway's answer:
    ``{"outcome": "refunded", "gateway_reference": …}`` or ``{"outcome": "failed",
    "reason": …}``."""

    model = Refund
    serializer_class = RefundSerializer
    permission_classes = [ModelPermissions]
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    write_permissions = {"settle": ("returns.settle_refund",)}

    def get_queryset(self):
        refunds = Refund.objects.select_related(
            "account", "return_order", "processing", "credit_memo"
        ).prefetch_related("fee_invoices")
        params = self.request.query_params
        if params.get("order"):
            refunds = refunds.filter(processing__order__number=params["order"])
            params = {k: v for k, v in params.items() if k != "order"}
        return _filtered(refunds, params).order_by("-id")

    @extend_schema(parameters=RMA_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=SettleSerializer, responses=RefundSerializer)
    @action(detail=True, methods=["post"])
    def settle(self, request, number=None):
        form = SettleSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        refund = self.get_object()
        try:
            refund = refund_transition(
                refund=refund,
                name=OUTCOMES[data["outcome"]],
                user=request.user,
                comment=data["reason"],
                gateway_reference=data.get("gateway_reference", "").strip(),
            )
        except BusinessRuleRefused as refusal:
            rename = {"comment": "reason"}
            refuse(refusal, rename=lambda f: rename.get(f or "", f), inputs=("reason",))
        return Response(RefundSerializer(self.get_queryset().get(pk=refund.pk)).data)
