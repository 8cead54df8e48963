"""RMA return orders, their line items, return processings and refunds (returns.md).

Data, constraints and FSM statuses only: every rule (T1–T15) lives in
``returns/services``. Change orders, credit memos and fee invoices are the orders app's
documents; a ``ReturnProcessing`` links the ones one *Return items* (or one simple return
or cancel) created, and the refund that pays it out.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition
from djmoney.models.fields import CurrencyField, MoneyField
from djmoney.settings import CURRENCY_CHOICES

from orders.models import Account, CreditMemo, Invoice, Order, OrderItem, Product
from orders.models.orders import MONEY, QTY, user_stamp

ZERO = Decimal("0")


class ReturnStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    SUBMITTED = "SUBMITTED", "Submitted"
    APPROVED = "APPROVED", "Approved"
    CLOSED = "CLOSED", "Closed"
    CANCELED = "CANCELED", "Canceled"


class LineType(models.TextChoices):
    ORDER_PRODUCT = "ORDER_PRODUCT", "Order product"
    FEE = "FEE", "Fee"
    DELIVERY_CHARGE = "DELIVERY_CHARGE", "Delivery charge"


class LineStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    PROCESSED = "PROCESSED", "Processed"
    CANCELED = "CANCELED", "Canceled"


class ReturnReason(models.TextChoices):
    DAMAGED = "DAMAGED", "Damaged"
    DEFECTIVE = "DEFECTIVE", "Defective"
    DUPLICATE_ORDER = "DUPLICATE_ORDER", "Duplicate order"
    WRONG_ITEM = "WRONG_ITEM", "Wrong item"
    WRONG_QUANTITY = "WRONG_QUANTITY", "Wrong quantity"
    NOT_SATISFIED = "NOT_SATISFIED", "Not satisfied"
    OUTDATED = "OUTDATED", "Outdated"
    OTHER = "OTHER", "Other"


class FeeAmountType(models.TextChoices):
    """T5: how a fee's amount is read."""

    AMOUNT_WITH_TAX = "AMOUNT_WITH_TAX", "Amount with tax"
    AMOUNT_WITHOUT_TAX = "AMOUNT_WITHOUT_TAX", "Amount without tax (product's tax added)"
    PERCENTAGE = "PERCENTAGE", "Percentage of price + tax"
    PERCENTAGE_GROSS = "PERCENTAGE_GROSS", "Percentage of the gross amount"

    @property
    def is_percentage(self) -> bool:
        return self in (FeeAmountType.PERCENTAGE, FeeAmountType.PERCENTAGE_GROSS)


class ReturnOrder(FSMModelMixin, models.Model):
    """An RMA: what a customer asked to return from one standard order (T1)."""

    number = models.CharField(max_length=20, unique=True, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="return_orders")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="return_orders")
    status = FSMField(
        max_length=10, choices=ReturnStatus.choices, default=ReturnStatus.DRAFT, protected=True
    )
    currency = CurrencyField(
        default=settings.DEFAULT_CURRENCY, max_length=3, choices=CURRENCY_CHOICES
    )
    reason = models.CharField(
        "reason for return", max_length=20, choices=ReturnReason.choices, blank=True
    )
    comment = models.TextField(blank=True)
    # Derived by the services from its processings (credit memos, fee invoices, refunds).
    credited_total = MoneyField(default=0, editable=False, **MONEY)
    fees_total = MoneyField(default=0, editable=False, **MONEY)
    refund_total = MoneyField(default=0, editable=False, **MONEY)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = user_stamp()
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = user_stamp()
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    canceled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "return order (RMA)"
        verbose_name_plural = "return orders (RMA)"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("approve_returnorder", "Can approve return orders"),
            ("process_returnorder", "Can return items of return orders"),
            ("close_returnorder", "Can close return orders"),
            ("cancel_returnorder", "Can cancel return orders and their lines"),
            ("simple_return", "Can submit simple returns and cancels"),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.number or "new return order"

    @property
    def is_open(self) -> bool:
        return self.status in (ReturnStatus.DRAFT, ReturnStatus.SUBMITTED, ReturnStatus.APPROVED)

    # --- transitions: status and stamps only; services check the rules (T11) ---
    @transition(
        field=status,
        source=ReturnStatus.DRAFT,
        target=ReturnStatus.SUBMITTED,
        custom={"label": "Submit", "help_text": "Send the prepared return for approval"},
    )
    def submit(self, *, by=None) -> None:
        self.submitted_at = timezone.now()

    @transition(
        field=status,
        source=ReturnStatus.SUBMITTED,
        target=ReturnStatus.APPROVED,
        permission="returns.approve_returnorder",
        custom={"label": "Approve", "help_text": "Allow its items to be returned"},
    )
    def approve(self, *, by=None) -> None:
        self.approved_at = timezone.now()
        self.approved_by = by

    @transition(
        field=status,
        source=ReturnStatus.APPROVED,
        target=ReturnStatus.CLOSED,
        permission="returns.close_returnorder",
        custom={"label": "Close", "help_text": "Once every product line is processed"},
    )
    def close(self, *, by=None) -> None:
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=[ReturnStatus.DRAFT, ReturnStatus.SUBMITTED, ReturnStatus.APPROVED],
        target=ReturnStatus.CANCELED,
        permission="returns.cancel_returnorder",
        custom={
            "label": "Cancel",
            "help_text": "Cancel its open lines and give back their quantities",
            "form": "orders.forms.TransitionReasonForm",
        },
    )
    def cancel(self, *, by=None) -> None:
        self.canceled_at = timezone.now()


class ReturnOrderLine(models.Model):
    """A return order line item (ROLI). Product lines point at the order product they
    return; a fee line belongs to one product line and has no order product until it is
    processed (T4), then points at its fee order product. A split line points at the line
    it was split from (T6, T7). Processed and canceled lines never change again."""

    return_order = models.ForeignKey(ReturnOrder, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField(editable=False)
    type = models.CharField(max_length=16, choices=LineType.choices)
    status = models.CharField(max_length=10, choices=LineStatus.choices, default=LineStatus.OPEN)
    order_item = models.ForeignKey(
        OrderItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="return_lines",
        help_text="Product lines: the order product returned. Fee lines: the fee's order "
        "product on the fee change order, once processed.",
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="return_lines",
        help_text="The product returned, or the fee product of a fee line.",
    )
    quantity_expected = models.DecimalField(**QTY)
    quantity_received = models.DecimalField(default=ZERO, **QTY)
    quantity_returned = models.DecimalField(default=ZERO, **QTY)
    quantity_rejected = models.DecimalField(default=ZERO, **QTY)
    quantity_canceled = models.DecimalField(default=ZERO, **QTY)
    reason = models.CharField(
        "reason for return", max_length=20, choices=ReturnReason.choices, blank=True
    )
    unit_price = MoneyField(**MONEY)
    tax_rate = models.DecimalField("tax rate (%)", max_digits=7, decimal_places=4, default=ZERO)
    tax_amount = MoneyField(default=0, help_text="Tax of the expected quantity.", **MONEY)
    # --- fees (T4, T5) ---
    fee_amount = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="As entered: money, or a percentage for the percentage types.",
    )
    fee_amount_type = models.CharField(max_length=20, choices=FeeAmountType.choices, blank=True)
    fee_description = models.CharField(max_length=200, blank=True)
    fee_total = MoneyField(
        null=True, blank=True, help_text="The fee for the expected quantity.", **MONEY
    )
    fee_charged = MoneyField(null=True, blank=True, help_text="What processing charged.", **MONEY)
    product_line = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fees",
        help_text="Fee lines: the product line the fee belongs to.",
    )
    split_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="splits",
        help_text="The line this one was split from when part of it was processed.",
    )
    processing = models.ForeignKey(
        "ReturnProcessing",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    processed_by = user_stamp()

    class Meta:
        verbose_name = "return order line item"
        ordering = ["return_order", "line_number"]
        indexes = [models.Index(fields=["order_item", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["return_order", "line_number"], name="returnline_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity_expected__gte=0)
                & models.Q(quantity_received__gte=0)
                & models.Q(quantity_returned__gte=0)
                & models.Q(quantity_rejected__gte=0)
                & models.Q(quantity_canceled__gte=0),
                name="returnline_quantities_gte_0",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    quantity_expected__gte=models.F("quantity_returned")
                    + models.F("quantity_rejected")
                    + models.F("quantity_canceled")
                ),
                name="returnline_never_more_than_expected",  # T6
            ),
            models.CheckConstraint(
                condition=~models.Q(type="FEE") | models.Q(product_line__isnull=False),
                name="returnline_fee_has_product_line",  # T4
            ),
            models.CheckConstraint(
                condition=models.Q(type="FEE") | models.Q(order_item__isnull=False),
                name="returnline_product_has_order_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.return_order}-{self.line_number}" if self.return_order_id else "new line"

    @property
    def is_fee(self) -> bool:
        return self.type == LineType.FEE

    @property
    def is_open(self) -> bool:
        return self.status == LineStatus.OPEN

    @property
    def fee_product(self) -> Product | None:
        return self.product if self.is_fee else None


class ProcessingKind(models.TextChoices):
    RMA_RETURN = "RMA_RETURN", "RMA return"
    SIMPLE_RETURN = "SIMPLE_RETURN", "Simple return"
    SIMPLE_CANCEL = "SIMPLE_CANCEL", "Simple cancel"


class ReturnProcessing(models.Model):
    """One *Return items* of an RMA, or one simple return or cancel (T8, T12, T13): the
    change orders, credit memo and fee invoice it created."""

    number = models.CharField(max_length=20, unique=True, editable=False)
    kind = models.CharField(max_length=14, choices=ProcessingKind.choices)
    return_order = models.ForeignKey(
        ReturnOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="processings"
    )
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="return_processings")
    change_order = models.ForeignKey(
        Order,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The negative change order of the returned or canceled products.",
    )
    fee_change_order = models.ForeignKey(
        Order,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The positive change order of the fees.",
    )
    credit_memo = models.ForeignKey(
        CreditMemo, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fee_invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    currency = CurrencyField(
        default=settings.DEFAULT_CURRENCY, max_length=3, choices=CURRENCY_CHOICES
    )
    credited = MoneyField(default=0, help_text="Credit memo total (gross).", **MONEY)
    fees = MoneyField(default=0, help_text="Fee invoice total (gross).", **MONEY)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = user_stamp()

    class Meta:
        verbose_name = "return or cancel"
        verbose_name_plural = "returns and cancels"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number or "new return"


class RefundStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    SUCCEEDED = "SUCCEEDED", "Refunded"
    FAILED = "FAILED", "Failed"


class Refund(FSMModelMixin, models.Model):
    """T9: what is paid back for one processing: its credit memo less its fee invoices.
    The payment itself is the gateway's; ops record the outcome."""

    number = models.CharField(max_length=20, unique=True, editable=False)
    processing = models.OneToOneField(
        ReturnProcessing, on_delete=models.PROTECT, related_name="refund"
    )
    return_order = models.ForeignKey(
        ReturnOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="refunds")
    credit_memo = models.ForeignKey(CreditMemo, on_delete=models.PROTECT, related_name="refunds")
    fee_invoices = models.ManyToManyField(Invoice, blank=True, related_name="refunds")
    currency = CurrencyField(
        default=settings.DEFAULT_CURRENCY, max_length=3, choices=CURRENCY_CHOICES
    )
    credit_total = MoneyField(**MONEY)
    fees_total = MoneyField(**MONEY)
    amount = MoneyField(**MONEY)
    status = FSMField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING, protected=True
    )
    gateway_reference = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = user_stamp()
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_by = user_stamp()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("settle_refund", "Can mark refunds refunded or failed")]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="refund_amount_gte_0"),
        ]

    def __str__(self) -> str:
        return self.number or "new refund"

    @transition(
        field=status,
        source=RefundStatus.PENDING,
        target=RefundStatus.SUCCEEDED,
        permission="returns.settle_refund",
        custom={"label": "Mark refunded", "help_text": "The gateway paid the customer"},
    )
    def succeed(self, *, by=None) -> None:
        self.completed_at = timezone.now()
        self.completed_by = by
        self.failure_reason = ""

    @transition(
        field=status,
        source=RefundStatus.PENDING,
        target=RefundStatus.FAILED,
        permission="returns.settle_refund",
        custom={
            "label": "Mark failed",
            "help_text": "The gateway refused the payment",
            "form": "orders.forms.TransitionReasonForm",
        },
    )
    def fail(self, *, by=None) -> None:
        self.completed_at = timezone.now()
        self.completed_by = by

    @transition(
        field=status,
        source=RefundStatus.FAILED,
        target=RefundStatus.PENDING,
        permission="returns.settle_refund",
        custom={"label": "Retry", "help_text": "Send the payment again"},
    )
    def retry(self, *, by=None) -> None:
        self.completed_at = None
        self.completed_by = None
