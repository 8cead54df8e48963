"""RMAs, their lines and processings, and refunds as the API shows them; what a request
to create an RMA, return its items or settle a refund holds (checked by the services)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from returns.models import (
    FeeAmountType,
    Refund,
    ReturnOrder,
    ReturnOrderLine,
    ReturnProcessing,
    ReturnReason,
)

from ..views.common import AmountField


class _Number(serializers.CharField):
    """The number of a related document (None when there is none)."""

    def __init__(self, source: str, **kwargs):
        super().__init__(source=f"{source}.number", allow_null=True, default=None, **kwargs)


class ReturnLineSerializer(serializers.ModelSerializer):
    so_line_id = serializers.SerializerMethodField()
    sku = serializers.CharField(source="product.sku")
    unit_price = AmountField()
    tax_amount = AmountField()
    fee_total = AmountField()
    fee_charged = AmountField()
    product_line = serializers.IntegerField(
        source="product_line.line_number", allow_null=True, default=None
    )
    split_from = serializers.IntegerField(
        source="split_from.line_number", allow_null=True, default=None
    )

    class Meta:
        model = ReturnOrderLine
        fields = [
            "line_number",
            "type",
            "status",
            "so_line_id",
            "sku",
            "quantity_expected",
            "quantity_received",
            "quantity_returned",
            "quantity_rejected",
            "quantity_canceled",
            "reason",
            "unit_price",
            "tax_rate",
            "tax_amount",
            "fee_amount",
            "fee_amount_type",
            "fee_description",
            "fee_total",
            "fee_charged",
            "product_line",
            "split_from",
            "processed_at",
        ]

    def get_so_line_id(self, line) -> str | None:
        """The order product returned (a fee line's fee product once processed)."""
        return line.order_item.so_line_id if line.order_item_id else None


class RefundSummarySerializer(serializers.ModelSerializer):
    amount = AmountField()

    class Meta:
        model = Refund
        fields = ["number", "status", "amount", "gateway_reference"]


class ProcessingSerializer(serializers.ModelSerializer):
    change_order = _Number("change_order")
    fee_change_order = _Number("fee_change_order")
    credit_memo = _Number("credit_memo")
    fee_invoice = _Number("fee_invoice")
    currency = serializers.CharField()
    credited = AmountField()
    fees = AmountField()
    refund = serializers.SerializerMethodField()

    class Meta:
        model = ReturnProcessing
        fields = [
            "number",
            "kind",
            "change_order",
            "fee_change_order",
            "credit_memo",
            "fee_invoice",
            "currency",
            "credited",
            "fees",
            "comment",
            "created_at",
            "refund",
        ]

    @extend_schema_field(RefundSummarySerializer(allow_null=True))
    def get_refund(self, processing):
        refund = getattr(processing, "refund", None)
        return RefundSummarySerializer(refund).data if refund is not None else None


class ReturnOrderSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    account = serializers.CharField(source="account.number")
    currency = serializers.CharField()
    credited_total = AmountField()
    fees_total = AmountField()
    refund_total = AmountField()

    class Meta:
        model = ReturnOrder
        fields = [
            "number",
            "order",
            "account",
            "status",
            "currency",
            "reason",
            "comment",
            "credited_total",
            "fees_total",
            "refund_total",
            "created_at",
            "submitted_at",
            "approved_at",
            "closed_at",
            "canceled_at",
        ]


class ReturnOrderDetailSerializer(ReturnOrderSerializer):
    lines = ReturnLineSerializer(many=True)
    processings = ProcessingSerializer(many=True)

    class Meta(ReturnOrderSerializer.Meta):
        fields = [*ReturnOrderSerializer.Meta.fields, "lines", "processings"]


class RefundSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.number")
    return_order = _Number("return_order")
    processing = _Number("processing")
    credit_memo = _Number("credit_memo")
    fee_invoices = serializers.SlugRelatedField(many=True, read_only=True, slug_field="number")
    currency = serializers.CharField()
    credit_total = AmountField()
    fees_total = AmountField()
    amount = AmountField()

    class Meta:
        model = Refund
        fields = [
            "number",
            "status",
            "account",
            "return_order",
            "processing",
            "credit_memo",
            "fee_invoices",
            "currency",
            "credit_total",
            "fees_total",
            "amount",
            "gateway_reference",
            "failure_reason",
            "created_at",
            "completed_at",
        ]


# --- write ---------------------------------------------------------------------------

QTY = {"max_digits": 16, "decimal_places": 2}
REASONS = ReturnReason.choices


class FeeInputSerializer(serializers.Serializer):
    """T4, T5: a fee on the returned units (percentages as 10 for 10 %)."""

    amount = serializers.DecimalField(max_digits=18, decimal_places=4)
    amount_type = serializers.ChoiceField(FeeAmountType.choices)
    fee_product = serializers.CharField(max_length=60, help_text="The fee product's SKU")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    reason = serializers.ChoiceField(REASONS, required=False, allow_blank=True)


class RmaLineInputSerializer(serializers.Serializer):
    line_number = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="The order's line"
    )
    quantity = serializers.DecimalField(**QTY, help_text="Quantity expected back")
    reason = serializers.ChoiceField(
        REASONS, required=False, allow_blank=True, help_text="Default: the RMA's reason"
    )
    fees = FeeInputSerializer(many=True, required=False)


class RmaCreateSerializer(serializers.Serializer):
    """An RMA of an Activated or Fulfilled standard order (T1-T5), as *Create RMA…*."""

    order = serializers.CharField(max_length=20, help_text="The order's number")
    reason = serializers.ChoiceField(REASONS, required=False, allow_blank=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    submit = serializers.BooleanField(
        required=False, default=True, help_text="False: save it as a Draft"
    )
    lines = RmaLineInputSerializer(many=True)


class ReturnQuantitiesSerializer(serializers.Serializer):
    line_number = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="The RMA's product line"
    )
    returned = serializers.DecimalField(**QTY)
    to_cancel = serializers.DecimalField(**QTY, required=False, default=0)
    rejected = serializers.DecimalField(**QTY, required=False, default=0)


class ReturnItemsSerializer(serializers.Serializer):
    """*Return items…* (T6-T10): quantities per open product line."""

    lines = ReturnQuantitiesSerializer(many=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    ensure_refund = serializers.BooleanField(required=False, default=True)


class SettleSerializer(serializers.Serializer):
    """The gateway's answer (T9): refunded (with its reference) or failed (with why)."""

    outcome = serializers.ChoiceField(["refunded", "failed"])
    gateway_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate(self, data):
        if data["outcome"] == "refunded" and not data.get("gateway_reference", "").strip():
            raise serializers.ValidationError(
                {"gateway_reference": ["enter the gateway reference of the payment"]}
            )
        return data
