"""Shared builders for the billing tests (B1–B7, C3, C4): an activated subscription,
a billing run on a date, the live invoice lines of a product."""

import datetime as dt
from decimal import Decimal

from djmoney.money import Money

from orders.models import (
    BillingFrequency,
    BillingRun,
    BillingType,
    ChargeType,
    InvoiceLine,
    OrderItem,
)
from orders.services import order_activate
from orders.services.billing import (
    billing_run_execute,
)
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory

D = dt.date
USD = "USD"
START_2025, END_2025 = D(2025, 1, 1), D(2025, 12, 31)


def usd(amount: str) -> Money:
    return Money(amount, USD)


def item_for(start, end, frequency=BillingFrequency.MONTHLY, total="1200.00"):
    """An unsaved recurring order product (periods and amounts are pure arithmetic)."""
    return OrderItem(
        charge_type=ChargeType.RECURRING,
        billing_frequency=frequency,
        service_start_date=start,
        service_end_date=end,
        quantity=Decimal("1"),
        total=usd(total),
    )


def subscription(
    *,
    start=START_2025,
    end=END_2025,
    quantity="1",
    unit_price="1200.00",
    frequency=BillingFrequency.MONTHLY,
    billing_type=BillingType.ADVANCE,
    tax_rate="0",
):
    """An activated order with one recurring product (OV3's by default: 1200.00 over 2025,
    monthly, in advance: 100.00 a period)."""
    order = OrderFactory(effective_date=start, end_date=end)
    item = OrderItemFactory(
        order=order,
        product=ProductFactory(recurring=True),
        quantity=Decimal(quantity),
        unit_price=usd(unit_price),
        service_start_date=start,
        service_end_date=end,
        billing_frequency=frequency,
        billing_type=billing_type,
        tax_rate=Decimal(tax_rate),
    )
    order = order_activate(order=order, user=None)
    item.refresh_from_db()
    return order, item


def run(day, **kwargs) -> BillingRun:
    return billing_run_execute(run_date=day, trigger=BillingRun.Trigger.COMMAND, **kwargs)


def lines_of(item):
    return list(InvoiceLine.objects.filter(order_item=item, is_void=False).order_by("period_start"))


def bill_through_april(item):
    for day in (D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1), D(2025, 4, 1)):
        run(day)
    assert [line.period_start.month for line in lines_of(item)] == [1, 2, 3, 4]
