"""Orders and order products (orders.md, O rules). Data, constraints, FSM status only:
every rule that needs more than the row itself lives in ``orders/services``."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition
from djmoney.models.fields import CurrencyField, MoneyField
from djmoney.models.validators import MinMoneyValidator
from djmoney.settings import CURRENCY_CHOICES

from .reference import (
    Account,
    BillingFrequency,
    BillingType,
    ChargeType,
    ContractAction,
    PriceBook,
    PriceBookEntry,
    Product,
    RevenueMethod,
)

QTY = {"max_digits": 16, "decimal_places": 2}
MONEY = {"max_digits": 18, "decimal_places": 2, "default_currency": settings.DEFAULT_CURRENCY}
ZERO = Decimal("0")


def user_stamp() -> models.ForeignKey:
    """Who did something to a document (kept when the user is deleted: SET_NULL)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )


class OrderKind(models.TextChoices):
    STANDARD = "STANDARD", "Standard"
    REDUCTION = "REDUCTION", "Reduction"
    CHANGE = "CHANGE", "Change"


class OrderStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    ACTIVATED = "ACTIVATED", "Activated"
    FULFILLED = "FULFILLED", "Fulfilled"


class Order(FSMModelMixin, models.Model):
    number = models.CharField(max_length=20, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=OrderKind.choices, default=OrderKind.STANDARD)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="orders")
    price_book = models.ForeignKey(
        PriceBook, on_delete=models.PROTECT, related_name="orders", null=True, blank=True
    )
    currency = CurrencyField(
        default=settings.DEFAULT_CURRENCY, max_length=3, choices=CURRENCY_CHOICES
    )
    effective_date = models.DateField(default=timezone.localdate, db_index=True)
    end_date = models.DateField(null=True, blank=True)
    status = FSMField(
        max_length=10, choices=OrderStatus.choices, default=OrderStatus.DRAFT, protected=True
    )
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)
    activated_by = user_stamp()
    original_order = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="derived_orders",
        help_text="The order a reduction or change order amends.",
    )
    reference = models.CharField(
        "customer reference", max_length=80, blank=True, db_index=True, help_text="PO number."
    )
    description = models.TextField(blank=True)
    # Derived from the order products by the services (net, tax, gross).
    net_total = MoneyField(default=0, editable=False, **MONEY)
    tax_total = MoneyField(default=0, editable=False, **MONEY)
    gross_total = MoneyField(default=0, editable=False, **MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = user_stamp()
    revenue_batch_id = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="Inbound batch of the SO / RORD lines its activation staged.",
    )

    class Meta:
        ordering = ["-effective_date", "-id"]
        permissions = [
            ("activate_order", "Can activate orders"),
            ("deactivate_order", "Can deactivate orders"),
            ("fulfil_order", "Can fulfil orders"),
            ("create_reduction_order", "Create Reduction Orders"),  # R1
        ]
        indexes = [
            models.Index(fields=["status", "effective_date"]),
            # the admin list's default order: newest first, a page at a time
            models.Index(fields=["-effective_date", "-id"], name="order_newest_first"),
            # the admin list of one account (and a status), newest first: a page and its
            # count read from the index alone (reduction orders have their own list)
            models.Index(
                fields=["account", "-effective_date", "-id", "status"],
                name="order_account_newest",
                condition=~models.Q(kind="REDUCTION"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="STANDARD", original_order__isnull=True)
                | (~models.Q(kind="STANDARD") & models.Q(original_order__isnull=False)),
                name="order_original_iff_not_standard",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("effective_date")),
                name="order_end_after_effective",
            ),
        ]

    def __str__(self) -> str:
        return self.number or "new order"

    @property
    def is_draft(self) -> bool:
        return self.status == OrderStatus.DRAFT

    # --- transitions: status and stamps only; services check the rules (O2, O5, O6) ---
    @transition(
        field=status,
        source=OrderStatus.DRAFT,
        target=OrderStatus.ACTIVATED,
        permission="orders.activate_order",
        custom={"label": "Activate", "help_text": "Lock the order and send it to revenue"},
    )
    def activate(self, *, by=None) -> None:
        self.activated_at = timezone.now()
        self.activated_by = by

    @transition(
        field=status,
        source=OrderStatus.ACTIVATED,
        target=OrderStatus.FULFILLED,
        permission="orders.fulfil_order",
        # change orders of fees are fulfilled by the returns services (T8)
        conditions=[lambda order: order.kind != OrderKind.REDUCTION],
        custom={"label": "Fulfil", "help_text": "Fulfil everything not reduced"},
    )
    def fulfil(self, *, by=None) -> None:
        """Status only: ``order_fulfil`` sets the fulfilled quantities (O6)."""

    @transition(
        field=status,
        source=OrderStatus.ACTIVATED,
        target=OrderStatus.DRAFT,
        permission="orders.deactivate_order",
        custom={
            "label": "Deactivate",
            "help_text": "Back to draft (only without reductions, invoices or revenue)",
            "form": "orders.forms.TransitionReasonForm",
        },
    )
    def deactivate(self, *, by=None) -> None:
        self.activated_at = None
        self.activated_by = None


class ReductionOrderManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(kind=OrderKind.REDUCTION)


class ReductionOrder(Order):
    """Reduction orders and cancellations (R, C rules): their own admin list."""

    objects = ReductionOrderManager()

    class Meta:
        proxy = True
        verbose_name = "reduction order"
        ordering = ["-effective_date", "-id"]

    def save(self, *args, **kwargs):
        self.kind = OrderKind.REDUCTION
        return super().save(*args, **kwargs)


class OrderItem(models.Model):
    """An order product. Reduction items carry negative quantity and total (R5)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    line_number = models.PositiveIntegerField(editable=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    price_book_entry = models.ForeignKey(
        PriceBookEntry, on_delete=models.PROTECT, related_name="order_items", null=True, blank=True
    )
    quantity = models.DecimalField(**QTY)
    unit_price = MoneyField(
        null=True,
        blank=True,
        validators=[MinMoneyValidator(0)],
        help_text="Leave empty to use the price book's list price.",
        **MONEY,
    )
    list_price = MoneyField(default=0, editable=False, **MONEY)
    tax_rate = models.DecimalField(
        "tax rate (%)", max_digits=7, decimal_places=4, default=ZERO, help_text="e.g. 20 for 20 %"
    )
    total = MoneyField(default=0, editable=False, **MONEY)
    tax_amount = MoneyField(default=0, editable=False, **MONEY)
    service_start_date = models.DateField(null=True, blank=True)
    service_end_date = models.DateField(
        null=True, blank=True, help_text="Required for recurring products."
    )
    charge_type = models.CharField(max_length=12, choices=ChargeType.choices, editable=False)
    billing_frequency = models.CharField(
        max_length=12, choices=BillingFrequency.choices, blank=True
    )
    billing_type = models.CharField(
        max_length=10, choices=BillingType.choices, default=BillingType.ADVANCE
    )
    revenue_method = models.CharField(max_length=20, choices=RevenueMethod.choices, blank=True)
    available_quantity = models.DecimalField(
        default=ZERO, editable=False, help_text="What can still be reduced.", **QTY
    )
    fulfilled_quantity = models.DecimalField(default=ZERO, editable=False, **QTY)
    return_initiated_quantity = models.DecimalField(default=ZERO, editable=False, **QTY)
    returned_quantity = models.DecimalField(default=ZERO, editable=False, **QTY)
    canceled_quantity = models.DecimalField(
        default=ZERO,
        editable=False,
        help_text="Units canceled before fulfilment by a simple cancel.",
        **QTY,
    )
    original_order_item = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reduction_items",
        editable=False,
    )
    contract_action = models.CharField(
        max_length=10, choices=ContractAction.choices, default=ContractAction.NEW, editable=False
    )
    revised_order_item = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revisions",
        editable=False,
    )
    terminated_date = models.DateField(null=True, blank=True, editable=False)
    next_bill_date = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="When its next unbilled period falls due; empty: nothing left to "
        "bill. Lets the billing run visit only the orders with something due.",
    )

    class Meta:
        verbose_name = "order product"
        ordering = ["order", "line_number"]
        indexes = [
            models.Index(
                fields=["next_bill_date"],
                condition=models.Q(next_bill_date__isnull=False),
                name="orderitem_next_bill_date",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="orderitem_line_unique"),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="orderitem_unit_price_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(available_quantity__gte=0),
                name="orderitem_available_quantity_gte_0",
            ),
            models.CheckConstraint(
                condition=models.Q(fulfilled_quantity__gte=0),
                name="orderitem_fulfilled_quantity_gte_0",
            ),
            models.CheckConstraint(
                condition=models.Q(returned_quantity__gte=0)
                & models.Q(return_initiated_quantity__gte=0)
                & models.Q(canceled_quantity__gte=0),
                name="orderitem_return_quantities_gte_0",
            ),
            models.CheckConstraint(
                condition=models.Q(service_end_date__isnull=True)
                | models.Q(service_start_date__isnull=True)
                | models.Q(service_end_date__gte=models.F("service_start_date")),
                name="orderitem_service_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.so_line_id

    @property
    def so_line_id(self) -> str:
        """Stable revenue line id: ``<order number>-<line number>`` (interchange.md)."""
        return f"{self.order.number}-{self.line_number}" if self.order_id else "new line"

    @property
    def gross_total(self):
        return self.total + self.tax_amount

    @property
    def reduced_quantity(self) -> Decimal:
        """Activated reductions so far (quantity − available)."""
        return self.quantity - self.available_quantity

    @property
    def to_fulfil_quantity(self) -> Decimal:
        """O6, T13: what is still sold and can be fulfilled (not reduced, not canceled)."""
        return self.quantity - self.reduced_quantity - self.canceled_quantity

    @property
    def available_to_return(self) -> Decimal:
        """T2: fulfilled − return initiated. Fulfilled units a later reduction or cancel
        took off are no longer sold, so they are not returned either (never below 0)."""
        sold = min(self.fulfilled_quantity, self.to_fulfil_quantity)
        return max(sold - self.return_initiated_quantity, ZERO)

    @property
    def reducible_quantity(self) -> Decimal:
        """R7 with T2, T13: what a reduction can still take: the available quantity less
        the units canceled or on their way back (return initiated)."""
        taken = self.canceled_quantity + self.return_initiated_quantity
        return max(self.available_quantity - taken, ZERO)

    @property
    def available_to_cancel(self) -> Decimal:
        """T13: what is sold and not fulfilled yet."""
        return max(self.to_fulfil_quantity - self.fulfilled_quantity, ZERO)
