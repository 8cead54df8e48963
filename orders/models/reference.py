"""Reference data: customers, products, price books (orders.md, Reference data)."""

from django.conf import settings
from django.db import models
from djmoney.models.fields import CurrencyField, MoneyField
from djmoney.models.validators import MinMoneyValidator
from djmoney.settings import CURRENCY_CHOICES


class ChargeType(models.TextChoices):
    ONE_TIME = "ONE_TIME", "One-time"
    RECURRING = "RECURRING", "Recurring"


class BillingFrequency(models.TextChoices):
    MONTHLY = "MONTHLY", "Monthly"
    QUARTERLY = "QUARTERLY", "Quarterly"
    SEMIANNUAL = "SEMIANNUAL", "Semiannual"
    ANNUAL = "ANNUAL", "Annual"

    @property
    def months(self) -> int:
        return {"MONTHLY": 1, "QUARTERLY": 3, "SEMIANNUAL": 6, "ANNUAL": 12}[self.value]


class BillingType(models.TextChoices):
    ADVANCE = "ADVANCE", "In advance"
    ARREARS = "ARREARS", "In arrears"


class RevenueMethod(models.TextChoices):
    IMMEDIATE = "IMMEDIATE", "Immediate"
    RATABLE_MONTHLY = "RATABLE_MONTHLY", "Ratable, monthly"
    RATABLE_DAILY = "RATABLE_DAILY", "Ratable, daily"


class ContractAction(models.TextChoices):
    NEW = "NEW", "New"
    CANCEL = "CANCEL", "Cancel"


class Account(models.Model):
    """A customer."""

    number = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=200, db_index=True)
    currency = CurrencyField(
        verbose_name="default currency",
        default=settings.DEFAULT_CURRENCY,
        max_length=3,
        choices=CURRENCY_CHOICES,
    )
    billing_contact_name = models.CharField(max_length=200, blank=True)
    billing_contact_email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class Product(models.Model):
    name = models.CharField(max_length=200)
    sku = models.CharField("SKU", max_length=60, unique=True)
    charge_type = models.CharField(
        max_length=12, choices=ChargeType.choices, default=ChargeType.ONE_TIME
    )
    default_billing_frequency = models.CharField(
        max_length=12, choices=BillingFrequency.choices, default=BillingFrequency.MONTHLY
    )
    default_billing_type = models.CharField(
        max_length=10, choices=BillingType.choices, default=BillingType.ADVANCE
    )
    default_revenue_method = models.CharField(
        max_length=20, choices=RevenueMethod.choices, default=RevenueMethod.RATABLE_DAILY
    )
    is_fee = models.BooleanField(
        "fee product", default=False, help_text="Used for return and restocking fees."
    )
    is_delivery_charge = models.BooleanField(
        default=False,
        help_text="Shipping charged on orders: returned as a delivery charge line of an RMA.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} [{self.sku}]"

    @property
    def is_recurring(self) -> bool:
        return self.charge_type == ChargeType.RECURRING


class PriceBook(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PriceBookEntry(models.Model):
    """The list price of one product in one currency in one price book."""

    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="price_entries")
    list_price = MoneyField(
        max_digits=18,
        decimal_places=2,
        default_currency=settings.DEFAULT_CURRENCY,
        validators=[MinMoneyValidator(0)],
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "price book entries"
        ordering = ["price_book", "product__name", "list_price_currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_book", "product", "list_price_currency"],
                name="pricebookentry_one_price_per_currency",
            ),
            models.CheckConstraint(
                condition=models.Q(list_price__gte=0), name="pricebookentry_list_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} @ {self.list_price} ({self.price_book.name})"

    def validate_constraints(self, exclude=None):
        """One price per product and currency in a price book, checked before the database
        refuses it (a 500): a form edits the currency through ``list_price``, so Django
        leaves the currency column out of its checks, and the price book's page leaves out
        the price book (its inline's key) although the formset has set it."""
        if exclude is not None and "list_price" not in exclude:
            exclude = set(exclude) - {"list_price_currency"}
            if self.price_book_id is not None:
                exclude.discard("price_book")
        super().validate_constraints(exclude=exclude)

    @property
    def currency(self) -> str:
        return str(self.list_price_currency)
