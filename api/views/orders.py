"""Orders, reduction orders and cancellations (interchange.md "HTTP API"; orders.md O, R
and C rules): thin views over ``orders/services``; the admin's permissions."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch
from djmoney.money import Money
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from core.parsing import ascii_int
from orders.models import (
    Account,
    ContractAction,
    CreditMemo,
    Invoice,
    Order,
    OrderItem,
    OrderKind,
    PriceBook,
    Product,
    ReductionOrder,
)
from orders.services import order_item_save, order_save, order_transition
from orders.services.cancellations import cancellation_import
from orders.services.reduction_rules import PERMISSION as REDUCE_PERMISSION
from orders.services.reductions import ReductionLine, reduction_order_create

from ..permissions import ModelPermissions
from ..serializers.orders import (
    CancellationRecordSerializer,
    OrderCreateSerializer,
    OrderDetailSerializer,
    OrderSerializer,
    ReductionCreateSerializer,
    ReductionOrderDetailSerializer,
)
from .common import TransitionOptionsSerializer, id_renamer, refusals_of, refuse

ORDER_FILTERS = [
    OpenApiParameter("status", str, description="DRAFT, ACTIVATED or FULFILLED"),
    OpenApiParameter("account", str, description="the account's number"),
    OpenApiParameter("kind", str, description="STANDARD, REDUCTION or CHANGE"),
]
# what an order product refusal names → the field of the request's product
PRODUCT_FIELDS = {"product": "sku", "price_book_entry": "sku"}


def _filtered(orders, params):
    if params.get("status"):
        orders = orders.filter(status=params["status"].upper())
    if params.get("kind"):
        orders = orders.filter(kind=params["kind"].upper())
    if params.get("account"):
        orders = orders.filter(account__number=params["account"])
    if params.get("original_order"):
        orders = orders.filter(original_order__number=params["original_order"])
    return orders


def _items():
    return OrderItem.objects.select_related(
        "product", "order", "original_order_item__order"
    ).order_by("line_number")


class OrderTransitionsMixin:
    """POST ``{number}/<transition>/`` through ``order_transition`` (the lifecycle
    kernel); a refusal is a 409 naming the rule."""

    def _transition(self, request, name: str):
        form = TransitionOptionsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        order = self.get_object()
        if order.kind == OrderKind.REDUCTION and not request.user.has_perm(REDUCE_PERMISSION):
            raise PermissionDenied("reduction orders need Create Reduction Orders (R1)")
        try:
            order = order_transition(
                order=order, name=name, user=request.user, comment=form.validated_data["reason"]
            )
        except BusinessRuleRefused as refusal:
            refuse(refusal)
        order = self.get_queryset().get(pk=order.pk)
        return Response(self.detail_serializer(order, context={"request": request}).data)


class OrderViewSet(OrderTransitionsMixin, viewsets.ReadOnlyModelViewSet, mixins.CreateModelMixin):
    """Orders by number. GET lists them (filters ``status``, ``account``, ``kind``) or
    shows one with its products, reduction orders, invoices and credit memos; POST
    creates a Draft order with its products (O1, O2, O7); POST ``activate/`` (O2, O9),
    ``deactivate/`` (O5, with a ``reason``) and ``fulfil/`` (O6)."""

    model = Order
    permission_classes = [ModelPermissions]
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    write_permissions = {
        "create": ("orders.add_order", "orders.add_orderitem"),
        "activate": ("orders.activate_order",),
        "deactivate": ("orders.deactivate_order",),
        "fulfil": ("orders.fulfil_order",),
    }
    detail_serializer = OrderDetailSerializer

    def get_serializer_class(self):
        return OrderSerializer if self.action == "list" else OrderDetailSerializer

    def get_queryset(self):
        orders = Order.objects.select_related("account", "price_book", "original_order")
        if self.action == "list":
            return _filtered(orders, self.request.query_params).order_by("-id")
        return orders.prefetch_related(
            Prefetch("items", queryset=_items()),
            Prefetch(
                "derived_orders",
                queryset=Order.objects.filter(kind=OrderKind.REDUCTION).order_by("id"),
                to_attr="reductions",
            ),
            Prefetch("invoices", queryset=_by_id("invoices")),
            Prefetch("credit_memos", queryset=_by_id("credit_memos")),
        )

    @extend_schema(parameters=ORDER_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=OrderCreateSerializer, responses={201: OrderDetailSerializer})
    def create(self, request, *args, **kwargs):
        form = OrderCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        with transaction.atomic():
            order = self._order_create(data, request.user)
        order = self.get_queryset().get(pk=order.pk)
        return Response(self.detail_serializer(order, context={"request": request}).data, 201)

    def _order_create(self, data: dict, user) -> Order:
        account = Account.objects.filter(number=data["account"]).first()
        price_book = _price_book(data["price_book"])
        problems = {}
        if account is None:
            problems["account"] = [f"there is no account {data['account']}"]
        if price_book is None:
            problems["price_book"] = [f"there is no price book {data['price_book']}"]
        products = data.get("products", [])
        skus = {row["sku"] for row in products}
        found = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
        for index, row in enumerate(products):
            if row["sku"] not in found:
                problems[f"products[{index}].sku"] = [f"there is no product {row['sku']}"]
        end, start = data.get("end_date"), data.get("effective_date")
        if end and start and end < start:
            problems["end_date"] = [f"end date {end} is before the effective date {start}"]
        if problems:
            raise ValidationError(problems)
        currency = (data.get("currency") or str(account.currency)).upper()
        header = {k: data[k] for k in ("effective_date", "reference", "description") if k in data}
        try:
            order = order_save(
                order=Order(
                    kind=OrderKind.STANDARD,
                    account=account,
                    price_book=price_book,
                    currency=currency,
                    end_date=end,
                    **header,
                ),
                user=user,
                comment="created through the API",
            )
        except BusinessRuleRefused as refusal:
            refuse(refusal, conflict=False)
        refused: list[BusinessRuleRefused] = []
        for index, row in enumerate(products):
            price = row.get("unit_price")
            item = OrderItem(
                order=order,
                product=found[row["sku"]],
                quantity=row["quantity"],
                unit_price=Money(price, currency) if price is not None else None,
                tax_rate=row.get("tax_rate"),
                service_start_date=row.get("service_start_date"),
                service_end_date=row.get("service_end_date"),
                billing_frequency=row.get("billing_frequency") or "",
                **({"billing_type": row["billing_type"]} if row.get("billing_type") else {}),
            )
            try:
                order_item_save(item=item, user=user)
            except BusinessRuleRefused as refusal:
                for problem in refusals_of(refusal):
                    name = PRODUCT_FIELDS.get(problem.field or "", problem.field)
                    where = f"products[{index}]" + (f".{name}" if name else "")
                    refused.append(
                        BusinessRuleRefused(rule=problem.rule, message=problem.message, field=where)
                    )
        if refused:
            refuse(BusinessRulesRefused(refused), conflict=False)  # nothing stays (atomic)
        return order

    @extend_schema(request=TransitionOptionsSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, number=None):
        return self._transition(request, "activate")

    @extend_schema(request=TransitionOptionsSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, number=None):
        return self._transition(request, "deactivate")

    @extend_schema(request=TransitionOptionsSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def fulfil(self, request, number=None):
        return self._transition(request, "fulfil")


def _by_id(relation: str):
    model = Invoice if relation == "invoices" else CreditMemo
    return model.objects.order_by("id")


def _price_book(value: str) -> PriceBook | None:
    """A price book by its name, or by its id."""
    book = PriceBook.objects.filter(name=value).first()
    if book is None and (pk := ascii_int(value)) is not None:
        book = PriceBook.objects.filter(pk=pk).first()
    return book


class ReductionOrderViewSet(
    OrderTransitionsMixin, viewsets.ReadOnlyModelViewSet, mixins.CreateModelMixin
):
    """Reduction orders (and cancellations) by number. GET lists them (filters
    ``status``, ``account``, ``original_order``) or shows one with its items; POST creates
    a Draft reduction order (R1-R8); POST ``activate/`` (R7, R9) and ``deactivate/`` (R11).
    Every write needs Create Reduction Orders (R1)."""

    model = ReductionOrder
    permission_classes = [ModelPermissions]
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    write_permission_default = (REDUCE_PERMISSION,)
    detail_serializer = ReductionOrderDetailSerializer
    cancellations_only = False

    def get_serializer_class(self):
        return OrderSerializer if self.action == "list" else ReductionOrderDetailSerializer

    def get_queryset(self):
        orders = Order.objects.filter(kind=OrderKind.REDUCTION).select_related(
            "account", "price_book", "original_order"
        )
        if self.cancellations_only:
            cancel = OrderItem.objects.filter(contract_action=ContractAction.CANCEL)
            orders = orders.filter(pk__in=cancel.values("order_id"))
        if self.action == "list":
            return _filtered(orders, self.request.query_params).order_by("-id")
        return orders.prefetch_related(
            Prefetch("items", queryset=_items()),
            Prefetch("source_credit_memos", queryset=_by_id("credit_memos")),
        )

    @extend_schema(parameters=ORDER_FILTERS[:2])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=ReductionCreateSerializer, responses={201: ReductionOrderDetailSerializer}
    )
    def create(self, request, *args, **kwargs):
        form = ReductionCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        original = Order.objects.filter(number=data["original_order"]).first()
        if original is None:
            raise ValidationError(
                {"original_order": [f"there is no order {data['original_order']}"]}
            )
        by_line = dict(original.items.values_list("line_number", "pk"))
        missing = {
            f"lines[{i}].line_number": [f"{original} has no line {line['line_number']}"]
            for i, line in enumerate(data["lines"])
            if line["line_number"] not in by_line
        }
        if missing:
            raise ValidationError(missing)
        lines = [
            ReductionLine(
                item_id=by_line[line["line_number"]],
                quantity=line["quantity"],
                start_date=line.get("start_date"),
                end_date=line.get("end_date"),
            )
            for line in data["lines"]
        ]
        index_of = {}
        for index, line in enumerate(lines):
            index_of.setdefault(line.item_id, index)
        rename = id_renamer(
            {"quantity": "quantity", "start_date": "start_date", "end_date": "end_date"},
            index_of,
            "lines",
        )
        try:
            reduction = reduction_order_create(
                original=original,
                lines=lines,
                user=request.user,
                effective_date=data.get("effective_date"),
                comment=data["comment"],
            )
        except BusinessRuleRefused as refusal:
            refuse(refusal, rename=lambda f: "lines" if f == "items" else rename(f), conflict=False)
        reduction = self.get_queryset().get(pk=reduction.pk)
        return Response(self.detail_serializer(reduction, context={"request": request}).data, 201)

    @extend_schema(request=TransitionOptionsSerializer, responses=ReductionOrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, number=None):
        return self._transition(request, "activate")

    @extend_schema(request=TransitionOptionsSerializer, responses=ReductionOrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, number=None):
        return self._transition(request, "deactivate")


class CancellationViewSet(ReductionOrderViewSet):
    """Standalone cancellations (C1-C6): GET lists the cancellation orders; POST takes one
    ``orders_import`` record (``original_order, line_number, contract_action, quantity,
    terminated_date, billing_frequency``; optional ``activate``, ``comment``), a list of
    them or ``{"cancellations": [...]}``, all or nothing, checked as ``orders_import``
    checks them; the answer is the list of cancellation orders created. A refusal names
    the record's field: ``quantity`` for one record, ``[0].quantity`` in a list."""

    cancellations_only = True

    @extend_schema(
        request=CancellationRecordSerializer(many=True),
        responses={201: ReductionOrderDetailSerializer(many=True)},
    )
    def create(self, request, *args, **kwargs):
        body = request.data
        if isinstance(body, dict) and "cancellations" in body:
            body = body["cancellations"]
        if hasattr(body, "dict"):  # a form's fields: one value each
            body = body.dict()
        single = isinstance(body, dict)
        records = [dict(body)] if single else body
        if not isinstance(records, list):
            raise ValidationError({"body": ["send a cancellation record or a list of them"]})

        def rename(field: str | None) -> str | None:
            if field and field.startswith("[") and "]." in field:
                number, name = field[1:].split("].", 1)
                return name if single else f"[{int(number) - 1}].{name}"
            return "body" if field == "records" else field

        try:
            with transaction.atomic():
                created = cancellation_import(records=records, user=request.user)
        except BusinessRuleRefused as refusal:
            refuse(refusal, rename=rename, conflict=False)
        orders = self.get_queryset().filter(pk__in=[o.pk for o in created]).order_by("id")
        serializer = ReductionOrderDetailSerializer(orders, many=True, context={"request": request})
        return Response(serializer.data, 201)
