"""Demo data for `manage.py load_demo`: built through the services, so it has history."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

from django.utils import timezone
from djmoney.money import Money

from .models import (
    Account,
    BillingFrequency,
    BillingType,
    ChargeType,
    Order,
    OrderItem,
    PriceBook,
    PriceBookEntry,
    Product,
    RevenueMethod,
)
from .services import order_activate, order_fulfil, order_item_save, order_items_fulfil, order_save

D = dt.date
# The demo's "today": inside its open period (revenue.demo.OPEN_PERIOD, 2026-11), so the
# billing documents it makes are dated in that period whatever the real date (close.md M5)
DEMO_TODAY = D(2026, 11, 20)


@contextmanager
def demo_today(day: dt.date = DEMO_TODAY):
    """Run the demo's services as of ``day``: they date invoices, credit memos, returns and
    reductions by ``timezone.localdate()``. Only a call without a value is moved; the
    clock (``timezone.now``) keeps the real time."""
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return day if value is None else real(value, timezone)

    with mock.patch.object(timezone, "localdate", localdate):
        yield day


ACCOUNTS = [
    ("ACC-1001", "Acme Corporation", "USD", "Dana Reyes", "ap@acme.example"),
    ("ACC-1002", "Globex GmbH", "EUR", "Jonas Keller", "rechnungen@globex.example"),
    ("ACC-1003", "Initech Ltd", "GBP", "Priya Shah", "accounts@initech.example"),
    ("ACC-1004", "Umbrella Health", "USD", "Marcus Lee", "payables@umbrella.example"),
    ("ACC-1005", "Stark Logistics", "USD", "Eva Novak", "finance@stark.example"),
]
# sku, name, charge type, frequency, billing type, revenue method, is_fee, USD list price
PRODUCTS = [
    (
        "CLOUD-LIC",
        "Contra Cloud licence",
        ChargeType.RECURRING,
        BillingFrequency.MONTHLY,
        BillingType.ADVANCE,
        RevenueMethod.RATABLE_DAILY,
        False,
        "1200.00",
    ),
    (
        "SUP-PREM",
        "Premium support",
        ChargeType.RECURRING,
        BillingFrequency.ANNUAL,
        BillingType.ADVANCE,
        RevenueMethod.RATABLE_MONTHLY,
        False,
        "5000.00",
    ),
    (
        "ANL-ADD",
        "Analytics add-on",
        ChargeType.RECURRING,
        BillingFrequency.QUARTERLY,
        BillingType.ARREARS,
        RevenueMethod.RATABLE_MONTHLY,
        False,
        "240.00",
    ),
    (
        "SVC-ONB",
        "Onboarding services",
        ChargeType.ONE_TIME,
        BillingFrequency.MONTHLY,
        BillingType.ADVANCE,
        RevenueMethod.IMMEDIATE,
        False,
        "2500.00",
    ),
    (
        "HW-X1",
        "Edge router X1",
        ChargeType.ONE_TIME,
        BillingFrequency.MONTHLY,
        BillingType.ADVANCE,
        RevenueMethod.IMMEDIATE,
        False,
        "899.00",
    ),
    (
        "FEE-RESTOCK",
        "Restocking fee",
        ChargeType.ONE_TIME,
        BillingFrequency.MONTHLY,
        BillingType.ADVANCE,
        RevenueMethod.IMMEDIATE,
        True,
        "25.00",
    ),
    (
        "FEE-SHIP",
        "Return shipping fee",
        ChargeType.ONE_TIME,
        BillingFrequency.MONTHLY,
        BillingType.ADVANCE,
        RevenueMethod.IMMEDIATE,
        True,
        "8.10",
    ),
]
FX = {"USD": Decimal("1"), "EUR": Decimal("0.92"), "GBP": Decimal("0.79")}

# reference, account, currency, price book, effective, end, target status, items
# items: (sku, quantity, unit price or None, tax %, start, end)
ORDERS = [
    (
        "DEMO-01",
        "ACC-1001",
        "USD",
        "Standard 2026",
        D(2026, 11, 1),
        D(2027, 10, 31),
        "DRAFT",
        [
            ("CLOUD-LIC", 20, None, "8.25", None, None),
            ("SVC-ONB", 1, "2000.00", "8.25", None, None),
        ],
    ),
    (
        "DEMO-02",
        "ACC-1001",
        "USD",
        "Standard 2026",
        D(2026, 1, 1),
        D(2026, 12, 31),
        "ACTIVATED",
        [("CLOUD-LIC", 100, "1200.00", "0", None, None)],
    ),
    (
        "DEMO-03",
        "ACC-1002",
        "EUR",
        "Standard 2026",
        D(2026, 3, 1),
        D(2027, 2, 28),
        "ACTIVATED",
        [
            ("SUP-PREM", 1, None, "19", None, None),
            ("ANL-ADD", 10, None, "19", None, None),
            ("SVC-ONB", 1, None, "19", None, None),
        ],
    ),
    (
        "DEMO-04",
        "ACC-1003",
        "GBP",
        "Standard 2026",
        D(2026, 2, 15),
        None,
        "FULFILLED",
        [("HW-X1", 12, None, "20", None, None), ("SVC-ONB", 1, None, "20", None, None)],
    ),
    (
        "DEMO-05",
        "ACC-1004",
        "USD",
        "Partner 2026",
        D(2026, 9, 1),
        None,
        "PARTIAL",
        [("HW-X1", 10, None, "0", None, None), ("SVC-ONB", 2, None, "0", None, None)],
    ),
    ("DEMO-06", "ACC-1005", "USD", "Standard 2026", D(2026, 11, 20), None, "DRAFT", []),
    (
        "DEMO-07",
        "ACC-1005",
        "USD",
        "Standard 2026",
        D(2025, 1, 1),
        D(2025, 12, 31),
        "FULFILLED",
        [("CLOUD-LIC", 1, "1200.00", "0", None, None), ("HW-X1", 3, None, "6.5", None, None)],
    ),
]


def _reference_data() -> dict[str, int]:
    created = {"accounts": 0, "products": 0, "price book entries": 0}
    for number, name, currency, contact, email in ACCOUNTS:
        _, new = Account.objects.get_or_create(
            number=number,
            defaults={
                "name": name,
                "currency": currency,
                "billing_contact_name": contact,
                "billing_contact_email": email,
            },
        )
        created["accounts"] += new
    standard, _ = PriceBook.objects.get_or_create(
        name="Standard 2026", defaults={"description": "List prices for 2026"}
    )
    partner, _ = PriceBook.objects.get_or_create(
        name="Partner 2026", defaults={"description": "Reseller prices: 20 % off list, USD"}
    )
    for sku, name, charge, freq, btype, method, is_fee, usd in PRODUCTS:
        product, new = Product.objects.get_or_create(
            sku=sku,
            defaults={
                "name": name,
                "charge_type": charge,
                "default_billing_frequency": freq,
                "default_billing_type": btype,
                "default_revenue_method": method,
                "is_fee": is_fee,
            },
        )
        created["products"] += new
        for currency, rate in FX.items():
            price = (Decimal(usd) * rate).quantize(Decimal("0.01"))
            _, new = PriceBookEntry.objects.get_or_create(
                price_book=standard,
                product=product,
                list_price_currency=currency,
                defaults={"list_price": Money(price, currency)},
            )
            created["price book entries"] += new
        partner_price = (Decimal(usd) * Decimal("0.8")).quantize(Decimal("0.01"))
        _, new = PriceBookEntry.objects.get_or_create(
            price_book=partner,
            product=product,
            list_price_currency="USD",
            defaults={"list_price": Money(partner_price, "USD")},
        )
        created["price book entries"] += new
    return created


@demo_today()
def orders_demo_load() -> dict[str, int]:
    """Create what is missing; leave what exists (idempotent by account/SKU/reference)."""
    created = _reference_data()
    created["orders"] = 0
    existing = set(
        Order.objects.filter(reference__startswith="DEMO-").values_list("reference", flat=True)
    )
    for reference, account_no, currency, book, start, end, target, items in ORDERS:
        if reference in existing:
            continue
        order = order_save(
            order=Order(
                account=Account.objects.get(number=account_no),
                currency=currency,
                price_book=PriceBook.objects.get(name=book),
                effective_date=start,
                end_date=end,
                reference=reference,
                description=f"Demo order ({target.lower()})",
            ),
            user=None,
            comment="demo data",
        )
        for sku, qty, price, tax, item_start, item_end in items:
            order_item_save(
                item=OrderItem(
                    order=order,
                    product=Product.objects.get(sku=sku),
                    quantity=Decimal(qty),
                    tax_rate=Decimal(tax),
                    unit_price=Money(price, currency) if price else None,
                    service_start_date=item_start,
                    service_end_date=item_end,
                ),
                user=None,
            )
        if target in {"ACTIVATED", "FULFILLED", "PARTIAL"}:
            order_activate(order=order, user=None, comment="demo data")
        if target == "FULFILLED":
            order_fulfil(order=order, user=None, comment="delivered")
        if target == "PARTIAL":
            first = order.items.order_by("line_number").first()
            order_items_fulfil(
                order=order,
                quantities={first.pk: Decimal(4)},
                user=None,
                comment="first shipment: 4 routers",
            )
        created["orders"] += 1
    return {k: v for k, v in created.items() if v}
