"""Fixtures of the returns tests: TV1's order product (4 units at 25.00, tax 8 %, billed
and fulfilled) and a fee product."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from djmoney.money import Money

from orders.models import OrderItem, Product
from orders.services import order_fulfil
from orders.services.billing import billing_run_execute
from returns.services import FeeInput, ReturnLineInput, return_order_create
from tests.factories import OrderItemFactory, ProductFactory, make_order


@pytest.fixture
def fee_product(db) -> Product:
    return ProductFactory(name="Restocking fee", sku="FEE-RESTOCK", is_fee=True)


def tv_order(*, quantity="4", price="25.00", tax="8", fulfil=True, bill=True, user=None):
    """TV1's order: 4 units at 25.00, tax 8 % (net 100.00, tax 8.00), billed, fulfilled."""
    order = make_order(lines=(), effective_date=dt.date(2026, 1, 1))
    OrderItemFactory(
        order=order,
        quantity=Decimal(quantity),
        unit_price=Money(price, "USD"),
        tax_rate=Decimal(tax),
        service_start_date=dt.date(2026, 1, 1),
    )
    from orders.services import order_activate

    order = order_activate(order=order, user=user)
    if bill:
        billing_run_execute(run_date=dt.date(2026, 1, 1), trigger="COMMAND", orders=[order])
    if fulfil:
        order = order_fulfil(order=order, user=user)
    return order


@pytest.fixture
def tv1_order(db):
    return tv_order()


@pytest.fixture
def tv1_item(tv1_order) -> OrderItem:
    return tv1_order.items.get()


def fee(fee_product, amount, amount_type="AMOUNT_WITH_TAX", **kwargs) -> FeeInput:
    return FeeInput(
        amount=Decimal(str(amount)), amount_type=amount_type, fee_product=fee_product, **kwargs
    )


def rma_for(item, quantity, *, fees=(), reason="DAMAGED", user=None, approve=True):
    """An RMA of ``quantity`` units of ``item`` (submitted, approved by default)."""
    from returns.services import return_order_transition

    rma = return_order_create(
        order=item.order,
        lines=[
            ReturnLineInput(
                order_item=item, quantity=Decimal(quantity), reason=reason, fees=list(fees)
            )
        ],
        user=user,
    )
    if approve:
        rma = return_order_transition(return_order=rma, name="approve", user=user)
    return rma


# --- helpers of the rule, refund, end-to-end and concurrency tests ---------------------


def open_line(rma, **filters):
    """The one open product line of ``rma`` (filters narrow it down)."""
    from returns.models import LineStatus, LineType

    return rma.lines.get(type=LineType.ORDER_PRODUCT, status=LineStatus.OPEN, **filters)


def process(rma, line, returned, to_cancel=0, rejected=0, *, user=None, **kwargs):
    """*Return items* of one product line: ``returned`` / ``to_cancel`` / ``rejected``."""
    from returns.services import ReturnQuantities, return_items_process

    quantities = ReturnQuantities(
        returned=Decimal(str(returned)),
        to_cancel=Decimal(str(to_cancel)),
        rejected=Decimal(str(rejected)),
    )
    return return_items_process(
        return_order=rma, quantities={line.pk: quantities}, user=user, **kwargs
    )


def audit_actions(document) -> list[str]:
    """The audit events of ``document``, oldest first (T15)."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import AuditEvent

    return list(
        AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(document, for_concrete_model=False),
            object_id=str(document.pk),
        )
        .order_by("at", "id")
        .values_list("action", flat=True)
    )


def refusals(excinfo) -> list:
    """Every refusal a ``pytest.raises`` caught (one, or the several of a
    BusinessRulesRefused)."""
    return list(getattr(excinfo.value, "refusals", [excinfo.value]))


def create_rma(item, *lines, submit=True, user=None):
    """An RMA of ``item`` with ``(quantity, reason[, fees])`` lines (submitted by default,
    not approved)."""
    return return_order_create(
        order=item.order,
        lines=[
            ReturnLineInput(
                order_item=item,
                quantity=Decimal(str(quantity)),
                reason=reason,
                fees=list(more[0]) if more else [],
            )
            for quantity, reason, *more in lines
        ],
        user=user,
        submit=submit,
    )


@pytest.fixture
def clerk(db):
    """An ops clerk with the order views and both return permissions (no superuser)."""
    from tests.returns.order_flow_helpers import PERMS, user_with

    return user_with(PERMS)


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


@pytest.fixture
def tv1_rma(tv1_item, fee_product):
    """TV1: 3 of 4 expected, reason DAMAGED, a PERCENTAGE 10 fee (8.10); approved."""
    return rma_for(tv1_item, 3, fees=[fee(fee_product, 10, "PERCENTAGE")])
