"""Invoices, credit memos and billing runs (orders.md, B rules). Data, constraints and
FSM statuses only: periods, amounts and emission live in ``orders/services/billing.py``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition
from djmoney.models.fields import CurrencyField, MoneyField
from djmoney.settings import CURRENCY_CHOICES

from .orders import MONEY, QTY, Order, OrderItem, user_stamp
from .reference import Account


class InvoiceStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    POSTED = "POSTED", "Posted"
    VOID = "VOID", "Void"


class CreditMemoStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    ISSUED = "ISSUED", "Issued"
    VOID = "VOID", "Void"


class CreditMemoSource(models.TextChoices):
    REDUCTION = "REDUCTION", "Reduction order"
    CANCELLATION = "CANCELLATION", "Cancellation"
    RETURN = "RETURN", "Return"


class BillingRun(models.Model):
    """One pass of the billing job (B4): who started it, for which date, what it made."""

    class Trigger(models.TextChoices):
        BEAT = "BEAT", "Celery beat"
        ADMIN = "ADMIN", "Bill now (admin)"
        COMMAND = "COMMAND", "billing_run"

    class Status(models.TextChoices):
        RUNNING = "RUNNING", "Running"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"

    run_date = models.DateField(help_text="Periods due on or before this date are billed.")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = user_stamp()
    orders_seen = models.PositiveIntegerField(default=0)
    invoices_created = models.PositiveIntegerField(default=0)
    lines_created = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0, help_text="Orders a rule kept from billing.")
    messages = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Billing run {self.pk} for {self.run_date}"


class Invoice(FSMModelMixin, models.Model):
    """B5: an invoice of one order. Posting emits INV inbound lines."""

    number = models.CharField(max_length=20, unique=True, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="invoices")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    invoice_date = models.DateField(default=timezone.localdate, db_index=True)
    status = FSMField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT, protected=True
    )
    currency = CurrencyField(
        default=settings.DEFAULT_CURRENCY, max_length=3, choices=CURRENCY_CHOICES
    )
    net_total = MoneyField(default=0, editable=False, **MONEY)
    tax_total = MoneyField(default=0, editable=False, **MONEY)
    gross_total = MoneyField(default=0, editable=False, **MONEY)
    billing_run = models.ForeignKey(
        BillingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    posted_at = models.DateTimeField(null=True, blank=True, editable=False)
    posted_by = user_stamp()
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    voided_by = user_stamp()
    revenue_batch_id = models.PositiveBigIntegerField(
        null=True, blank=True, editable=False, help_text="Inbound batch of its INV lines."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-invoice_date", "-id"]
        permissions = [
            ("post_invoice", "Can post invoices"),
            ("void_invoice", "Can void invoices"),
            ("bill_order", "Can run billing (Bill now)"),
        ]
        indexes = [models.Index(fields=["status", "invoice_date"])]

    def __str__(self) -> str:
        return self.number or "new invoice"

    @transition(
        field=status,
        source=InvoiceStatus.DRAFT,
        target=InvoiceStatus.POSTED,
        permission="orders.post_invoice",
        custom={"label": "Post", "help_text": "Post and send INV lines to revenue"},
    )
    def post(self, *, by=None) -> None:
        self.posted_at = timezone.now()
        self.posted_by = by

    @transition(
        field=status,
        source=[InvoiceStatus.DRAFT, InvoiceStatus.POSTED],
        target=InvoiceStatus.VOID,
        permission="orders.void_invoice",
        custom={
            "label": "Void",
            "help_text": "Only while revenue has not collected its lines and nothing "
            "was credited against it",
            "form": "orders.forms.TransitionReasonForm",
        },
    )
    def void(self, *, by=None) -> None:
        self.voided_at = timezone.now()
        self.voided_by = by


class InvoiceLine(models.Model):
    """One order product for one billing period (B3). Unique per product and period (B4)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    order_item = models.ForeignKey(
        OrderItem, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    quantity = models.DecimalField(**QTY)
    net = MoneyField(**MONEY)
    tax = MoneyField(default=0, **MONEY)
    is_void = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["invoice", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "line_number"], name="invoiceline_number_unique"
            ),
            models.UniqueConstraint(
                fields=["order_item", "period_start"],
                condition=models.Q(is_void=False),
                name="invoiceline_one_per_item_period",  # B4: never billed twice
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="invoiceline_period_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.inv_line_id

    @property
    def inv_line_id(self) -> str:
        return f"{self.invoice.number}-{self.line_number}"

    @property
    def gross(self):
        return self.net + self.tax


class CreditMemo(FSMModelMixin, models.Model):
    """B6: a credit of an order's invoiced amounts. Issuing emits CM-RO or CM-R lines."""

    number = models.CharField(max_length=20, unique=True, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credit_memos")
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        related_name="credit_memos",
        help_text="The order whose invoices are credited.",
    )
    source = models.CharField(max_length=12, choices=CreditMemoSource.choices)
    source_order = models.ForeignKey(
        Order,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="source_credit_memos",
        help_text="The reduction order or cancellation that caused it.",
    )
    memo_date = models.DateField(default=timezone.localdate, db_index=True)
    status = FSMField(
        max_length=10,
        choices=CreditMemoStatus.choices,
        default=CreditMemoStatus.DRAFT,
        protected=True,
    )
    currency = CurrencyField(
        default=settings.DEFAULT_CURRENCY, max_length=3, choices=CURRENCY_CHOICES
    )
    net_total = MoneyField(default=0, editable=False, **MONEY)
    tax_total = MoneyField(default=0, editable=False, **MONEY)
    gross_total = MoneyField(default=0, editable=False, **MONEY)
    reason = models.CharField(max_length=200, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    issued_by = user_stamp()
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    voided_by = user_stamp()
    revenue_batch_id = models.PositiveBigIntegerField(
        null=True, blank=True, editable=False, help_text="Inbound batch of its CM lines."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-memo_date", "-id"]
        permissions = [
            ("issue_creditmemo", "Can issue credit memos"),
            ("void_creditmemo", "Can void credit memos"),
        ]
        indexes = [models.Index(fields=["status", "memo_date"])]

    def __str__(self) -> str:
        return self.number or "new credit memo"

    @transition(
        field=status,
        source=CreditMemoStatus.DRAFT,
        target=CreditMemoStatus.ISSUED,
        permission="orders.issue_creditmemo",
        custom={"label": "Issue", "help_text": "Issue and send CM lines to revenue"},
    )
    def issue(self, *, by=None) -> None:
        self.issued_at = timezone.now()
        self.issued_by = by

    @transition(
        field=status,
        source=[CreditMemoStatus.DRAFT, CreditMemoStatus.ISSUED],
        target=CreditMemoStatus.VOID,
        permission="orders.void_creditmemo",
        custom={
            "label": "Void",
            "help_text": "Only while revenue has not collected its lines",
            "form": "orders.forms.TransitionReasonForm",
        },
    )
    def void(self, *, by=None) -> None:
        self.voided_at = timezone.now()
        self.voided_by = by


class CreditMemoLine(models.Model):
    """The credited part of one invoice line (B7: never more than was invoiced).
    Amounts are positive: what is given back."""

    credit_memo = models.ForeignKey(CreditMemo, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    order_item = models.ForeignKey(
        OrderItem,
        on_delete=models.PROTECT,
        related_name="credit_lines",
        help_text="The original order product whose billing is credited.",
    )
    invoice_line = models.ForeignKey(
        InvoiceLine,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_lines",
    )
    period_start = models.DateField()
    period_end = models.DateField()
    quantity = models.DecimalField(**QTY)
    net = MoneyField(**MONEY)
    tax = MoneyField(default=0, **MONEY)
    is_void = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["credit_memo", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_memo", "line_number"], name="creditmemoline_number_unique"
            ),
            models.CheckConstraint(condition=models.Q(net__gte=0), name="creditmemoline_net_gte_0"),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="creditmemoline_period_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.cm_line_id

    @property
    def cm_line_id(self) -> str:
        return f"{self.credit_memo.number}-{self.line_number}"

    @property
    def gross(self):
        return self.net + self.tax
