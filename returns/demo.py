"""Demo data of the returns app: RMAs in every status with fees and refunds, a delivery
charge returned, a simple return and a simple cancel. Built through the services (so
every document has its history and its revenue lines). Idempotent: by order reference."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from orders.demo import demo_today
from orders.models import (
    Account,
    BillingRun,
    ChargeType,
    Order,
    OrderItem,
    PriceBook,
    PriceBookEntry,
    Product,
    RevenueMethod,
)
from orders.services import order_activate, order_fulfil, order_item_save, order_save
from orders.services.billing import billing_run_execute

from .models import LineType, Refund, ReturnOrder
from .services import (
    FeeInput,
    ReturnLineInput,
    ReturnQuantities,
    SimpleLineInput,
    refund_transition,
    return_items_process,
    return_line_cancel,
    return_order_create,
    return_order_transition,
    simple_cancel_submit,
    simple_return_submit,
)

D = dt.date
SHIPPING = ("SHIP-STD", "Standard shipping", "15.00")

# reference, account, effective date, fulfil?, items (sku, quantity, tax %)
ORDERS = [
    ("DEMO-R1", "ACC-1004", D(2026, 10, 1), True, [("HW-X1", 6, "8"), ("SHIP-STD", 1, "8")]),
    ("DEMO-R2", "ACC-1005", D(2026, 10, 12), True, [("HW-X1", 8, "8"), ("SHIP-STD", 1, "8")]),
    ("DEMO-R3", "ACC-1001", D(2026, 11, 2), True, [("HW-X1", 4, "8.25")]),
    ("DEMO-R4", "ACC-1004", D(2026, 11, 9), False, [("HW-X1", 5, "0")]),
]


def _shipping_product() -> Product:
    sku, name, price = SHIPPING
    product, _ = Product.objects.get_or_create(
        sku=sku,
        defaults={
            "name": name,
            "charge_type": ChargeType.ONE_TIME,
            "default_revenue_method": RevenueMethod.IMMEDIATE,
            "is_delivery_charge": True,
        },
    )
    book = PriceBook.objects.get(name="Standard 2026")
    PriceBookEntry.objects.get_or_create(
        price_book=book,
        product=product,
        list_price_currency="USD",
        defaults={"list_price": Money(price, "USD")},
    )
    return product


def _order(reference, account, effective, fulfil, items) -> Order:
    order = order_save(
        order=Order(
            account=Account.objects.get(number=account),
            currency="USD",
            price_book=PriceBook.objects.get(name="Standard 2026"),
            effective_date=effective,
            reference=reference,
            description="Demo order for returns",
        ),
        user=None,
        comment="demo data",
    )
    for sku, qty, tax in items:
        order_item_save(
            item=OrderItem(
                order=order,
                product=Product.objects.get(sku=sku),
                quantity=Decimal(qty),
                tax_rate=Decimal(tax),
                service_start_date=effective,
            ),
            user=None,
        )
    order = order_activate(order=order, user=None, comment="demo data")
    billing_run_execute(
        run_date=timezone.localdate(), trigger=BillingRun.Trigger.COMMAND, orders=[order]
    )
    if fulfil:
        order = order_fulfil(order=order, user=None, comment="delivered")
    return order


def _fee(sku: str, amount: str, amount_type: str, description: str = "") -> FeeInput:
    return FeeInput(
        amount=Decimal(amount),
        amount_type=amount_type,
        fee_product=Product.objects.get(sku=sku),
        description=description,
    )


def _rma(order, lines, *, reason="", comment="", submit=True) -> ReturnOrder:
    items = {item.product.sku: item for item in order.items.select_related("product")}
    return return_order_create(
        order=order,
        lines=[
            ReturnLineInput(
                order_item=items[sku], quantity=Decimal(qty), reason=why, fees=fees or []
            )
            for sku, qty, why, fees in lines
        ],
        user=None,
        reason=reason,
        comment=comment,
        submit=submit,
    )


def _return(rma, quantities: dict[str, tuple], comment: str):
    """Return items by product SKU: (returned, to cancel)."""
    lines = rma.lines.filter(status="OPEN").exclude(type=LineType.FEE).select_related("product")
    wanted = {
        line.pk: ReturnQuantities(
            returned=Decimal(quantities[line.product.sku][0]),
            to_cancel=Decimal(quantities[line.product.sku][1]),
        )
        for line in lines
        if line.product.sku in quantities
    }
    return return_items_process(return_order=rma, quantities=wanted, user=None, comment=comment)


def _approve(rma):
    return return_order_transition(return_order=rma, name="approve", user=None)


def _settle(processing, name: str, comment: str = "", reference: str = "") -> None:
    refund = Refund.objects.get(processing=processing)
    refund_transition(
        refund=refund, name=name, user=None, comment=comment, gateway_reference=reference
    )


def _build(orders: dict[str, Order]) -> int:
    restock_10 = _fee("FEE-RESTOCK", "10", "PERCENTAGE", "Restocking 10 %")
    r1, r2, r3, r4 = (orders[k] for k in ("DEMO-R1", "DEMO-R2", "DEMO-R3", "DEMO-R4"))

    # Draft: prepared by staff, not yet sent for approval
    _rma(r3, [("HW-X1", 1, "WRONG_ITEM", None)], comment="Customer called", submit=False)
    # Submitted: waiting for approval, with a restocking fee
    _rma(r1, [("HW-X1", 1, "DEFECTIVE", [restock_10])], comment="Dead on arrival")
    # Approved and partly received: 2 of 3 back, the split line still open, refund pending
    rma = _approve(
        _rma(
            r2,
            [
                (
                    "HW-X1",
                    3,
                    "DAMAGED",
                    [restock_10, _fee("FEE-SHIP", "8.10", "AMOUNT_WITH_TAX", "Return label")],
                )
            ],
            comment="Damaged in transit",
        )
    )
    _return(rma, {"HW-X1": (2, 0)}, "First box received")
    # Closed: everything back incl. the delivery charge, fee without tax, refunded
    rma = _approve(
        _rma(
            r1,
            [
                (
                    "HW-X1",
                    2,
                    "NOT_SATISFIED",
                    [_fee("FEE-RESTOCK", "25.00", "AMOUNT_WITHOUT_TAX", "Restocking")],
                ),
                ("SHIP-STD", 1, "NOT_SATISFIED", None),
            ],
            comment="Customer changed their mind",
        )
    )
    processing = _return(rma, {"HW-X1": (2, 0), "SHIP-STD": (1, 0)}, "All received")
    _settle(processing, "succeed", reference="PAY-RF-88213")
    return_order_transition(return_order=rma, name="close", user=None)
    # Canceled: the customer kept the goods after all
    rma = _rma(r2, [("HW-X1", 1, "OUTDATED", [restock_10])], comment="Asked for a refund")
    return_order_transition(
        return_order=rma, name="cancel", user=None, comment="Customer keeps the router"
    )
    # Approved: one returned and one canceled, the refund failed at the gateway; a second
    # line canceled outright
    rma = _approve(
        _rma(
            r3,
            [("HW-X1", 2, "DEFECTIVE", [_fee("FEE-RESTOCK", "5.00", "AMOUNT_WITH_TAX")])],
            comment="Two faulty units",
        )
    )
    processing = _return(rma, {"HW-X1": (1, 1)}, "One received, one not coming back")
    _settle(processing, "fail", comment="Card expired (gateway code 54)")
    canceled = _approve(_rma(r2, [("HW-X1", 1, "WRONG_QUANTITY", None)]))
    return_line_cancel(
        line=canceled.lines.get(), user=None, comment="Customer found the missing unit"
    )
    # Simple return with a fee, and a simple cancel of units not shipped yet
    items = {i.product.sku: i for i in r3.items.select_related("product")}
    simple_return_submit(
        order=r3,
        lines=[
            SimpleLineInput(
                order_item=items["HW-X1"],
                quantity=Decimal(1),
                reason="NOT_SATISFIED",
                fees=[_fee("FEE-RESTOCK", "15", "PERCENTAGE")],
            )
        ],
        user=None,
        comment="Returned at the counter",
    )
    items = {i.product.sku: i for i in r4.items.select_related("product")}
    simple_cancel_submit(
        order=r4,
        lines=[SimpleLineInput(order_item=items["HW-X1"], quantity=Decimal(2), reason="OTHER")],
        user=None,
        comment="Two routers no longer needed before shipping",
    )
    return ReturnOrder.objects.count()


@demo_today()
def returns_demo_load() -> dict[str, int]:
    """Create the demo returns once (they live on orders DEMO-R1 … DEMO-R4)."""
    if Order.objects.filter(reference="DEMO-R1").exists():
        return {}
    with transaction.atomic():
        _shipping_product()
        orders = {spec[0]: _order(*spec) for spec in ORDERS}
        rmas = _build(orders)
    return {"return orders": rmas}
