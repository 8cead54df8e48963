"""Orders, reduction orders, cancellations, invoices and credit memos as the API shows
them (read), and what a request to create one holds (write: checked by the services)."""

from __future__ import annotations

from rest_framework import serializers

from orders.models import (
    BillingFrequency,
    BillingType,
    CreditMemo,
    CreditMemoLine,
    Invoice,
    InvoiceLine,
    Order,
    OrderItem,
)

from ..views.common import AmountField

TOTALS = ("net_total", "tax_total", "gross_total")


class DocumentSummarySerializer(serializers.Serializer):
    """An order, invoice or credit memo named on another one: number, status, totals."""

    number = serializers.CharField()
    status = serializers.CharField()
    currency = serializers.CharField()
    net_total = AmountField()
    tax_total = AmountField()
    gross_total = AmountField()


class OrderItemSerializer(serializers.ModelSerializer):
    so_line_id = serializers.CharField(read_only=True)
    sku = serializers.CharField(source="product.sku")
    product = serializers.CharField(source="product.name")
    unit_price = AmountField()
    list_price = AmountField()
    total = AmountField()
    tax_amount = AmountField()
    original_line = serializers.SerializerMethodField()

    class Meta:
        model = OrderItem
        fields = [
            "line_number",
            "so_line_id",
            "sku",
            "product",
            "quantity",
            "unit_price",
            "list_price",
            "tax_rate",
            "total",
            "tax_amount",
            "service_start_date",
            "service_end_date",
            "charge_type",
            "billing_frequency",
            "billing_type",
            "revenue_method",
            "available_quantity",
            "fulfilled_quantity",
            "return_initiated_quantity",
            "returned_quantity",
            "canceled_quantity",
            "contract_action",
            "terminated_date",
            "original_line",
        ]

    def get_original_line(self, item) -> str | None:
        """Reduction and cancellation items: the SO line id of the product they reduce."""
        original = item.original_order_item
        return original.so_line_id if original is not None else None


class OrderSerializer(serializers.ModelSerializer):
    """An order in a list: its header and totals."""

    account = serializers.CharField(source="account.number")
    account_name = serializers.CharField(source="account.name")
    price_book = serializers.CharField(source="price_book.name", allow_null=True, default=None)
    currency = serializers.CharField()
    original_order = serializers.CharField(
        source="original_order.number", allow_null=True, default=None
    )
    net_total = AmountField()
    tax_total = AmountField()
    gross_total = AmountField()

    class Meta:
        model = Order
        fields = [
            "number",
            "kind",
            "status",
            "account",
            "account_name",
            "price_book",
            "currency",
            "effective_date",
            "end_date",
            "reference",
            "original_order",
            *TOTALS,
            "activated_at",
            "created_at",
        ]


class OrderDetailSerializer(OrderSerializer):
    """One order: its products, reduction orders, invoices and credit memos."""

    products = OrderItemSerializer(source="items", many=True)
    reduction_orders = DocumentSummarySerializer(source="reductions", many=True)
    invoices = DocumentSummarySerializer(many=True)
    credit_memos = DocumentSummarySerializer(many=True)

    class Meta(OrderSerializer.Meta):
        fields = [
            *OrderSerializer.Meta.fields,
            "description",
            "revenue_batch_id",
            "products",
            "reduction_orders",
            "invoices",
            "credit_memos",
        ]


class ReductionOrderDetailSerializer(OrderSerializer):
    """A reduction order or cancellation: its items and the credit memos it caused."""

    items = OrderItemSerializer(many=True)
    credit_memos = DocumentSummarySerializer(source="source_credit_memos", many=True)

    class Meta(OrderSerializer.Meta):
        fields = [
            *OrderSerializer.Meta.fields,
            "description",
            "revenue_batch_id",
            "items",
            "credit_memos",
        ]


# --- write ---------------------------------------------------------------------------

QTY = {"max_digits": 16, "decimal_places": 2}
MONEY = {"max_digits": 18, "decimal_places": 2}


class OrderProductInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=60)
    quantity = serializers.DecimalField(**QTY)
    unit_price = serializers.DecimalField(
        required=False, allow_null=True, help_text="Empty: the price book's list price", **MONEY
    )
    tax_rate = serializers.DecimalField(
        max_digits=7, decimal_places=4, required=False, allow_null=True
    )
    service_start_date = serializers.DateField(required=False, allow_null=True)
    service_end_date = serializers.DateField(required=False, allow_null=True)
    billing_frequency = serializers.ChoiceField(
        BillingFrequency.choices, required=False, allow_blank=True
    )
    billing_type = serializers.ChoiceField(BillingType.choices, required=False)


class OrderCreateSerializer(serializers.Serializer):
    """A Draft standard order and its products (O1, O2, O7)."""

    account = serializers.CharField(max_length=30, help_text="The account's number")
    price_book = serializers.CharField(max_length=120, help_text="The price book's name or id")
    currency = serializers.CharField(
        max_length=3, required=False, help_text="Default: the account's currency"
    )
    effective_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False, allow_null=True)
    reference = serializers.CharField(max_length=80, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    products = OrderProductInputSerializer(many=True, allow_empty=True, required=False)


class ReductionLineInputSerializer(serializers.Serializer):
    line_number = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="The original order's line"
    )
    quantity = serializers.DecimalField(**QTY, help_text="Positive: what to reduce")
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)


class ReductionCreateSerializer(serializers.Serializer):
    """A Draft reduction order of an Activated or Fulfilled order (R1-R8)."""

    original_order = serializers.CharField(max_length=20)
    effective_date = serializers.DateField(required=False, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    lines = ReductionLineInputSerializer(many=True)


class CancellationRecordSerializer(serializers.Serializer):
    """One ``orders_import`` record (interchange.md); the service checks every value."""

    original_order = serializers.CharField()
    line_number = serializers.IntegerField()
    contract_action = serializers.CharField(help_text="CANCEL")
    quantity = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Minus")
    terminated_date = serializers.DateField()
    billing_frequency = serializers.CharField()
    activate = serializers.BooleanField(required=False, default=True)
    comment = serializers.CharField(required=False)


# --- billing -----------------------------------------------------------------------------


class InvoiceLineSerializer(serializers.ModelSerializer):
    so_line_id = serializers.CharField(source="order_item.so_line_id")
    net = AmountField()
    tax = AmountField()

    class Meta:
        model = InvoiceLine
        fields = [
            "line_number",
            "so_line_id",
            "period_start",
            "period_end",
            "quantity",
            "net",
            "tax",
            "is_void",
        ]


class InvoiceSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.number")
    order = serializers.CharField(source="order.number")
    currency = serializers.CharField()
    net_total = AmountField()
    tax_total = AmountField()
    gross_total = AmountField()

    class Meta:
        model = Invoice
        fields = ["number", "status", "account", "order", "invoice_date", "currency", *TOTALS]


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "posted_at", "voided_at", "lines"]


class CreditMemoLineSerializer(InvoiceLineSerializer):
    invoice_line = serializers.CharField(
        source="invoice_line.inv_line_id", allow_null=True, default=None
    )

    class Meta(InvoiceLineSerializer.Meta):
        model = CreditMemoLine
        fields = [*InvoiceLineSerializer.Meta.fields, "invoice_line"]


class CreditMemoSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.number")
    order = serializers.CharField(source="order.number")
    source_order = serializers.CharField(
        source="source_order.number", allow_null=True, default=None
    )
    currency = serializers.CharField()
    net_total = AmountField()
    tax_total = AmountField()
    gross_total = AmountField()

    class Meta:
        model = CreditMemo
        fields = [
            "number",
            "status",
            "source",
            "account",
            "order",
            "source_order",
            "memo_date",
            "currency",
            *TOTALS,
            "reason",
        ]


class CreditMemoDetailSerializer(CreditMemoSerializer):
    lines = CreditMemoLineSerializer(many=True)

    class Meta(CreditMemoSerializer.Meta):
        fields = [*CreditMemoSerializer.Meta.fields, "issued_at", "voided_at", "lines"]
