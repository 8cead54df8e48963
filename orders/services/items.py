"""Order products: checks (O2, O4, O7), pricing and derived amounts."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from core.models import AuditAction
from core.services import audit_record, money_round

from ..models import Order, OrderItem, OrderKind, PriceBookEntry, RevenueMethod
from .totals import order_totals_refresh

ZERO = Decimal("0")


def _entry_for(*, order: Order, item: OrderItem) -> PriceBookEntry | None:
    if item.price_book_entry_id:
        return item.price_book_entry
    if not (order.price_book_id and item.product_id):
        return None
    return (
        PriceBookEntry.objects.filter(
            price_book_id=order.price_book_id,
            product_id=item.product_id,
            list_price_currency=str(order.currency),
            is_active=True,
        )
        .select_related("price_book", "product")
        .first()
    )


def order_item_problems(*, order: Order, item: OrderItem) -> list[BusinessRuleRefused]:
    """Every reason ``item`` cannot be saved on ``order`` (empty list: it can).

    Reads only; shared by the admin form (errors on fields) and the services (refusals).
    """
    problems: list[BusinessRuleRefused] = []

    def refuse(rule: str, field: str, message: str) -> None:
        problems.append(BusinessRuleRefused(rule=rule, field=field, message=message))

    if order.pk and not order.is_draft:
        refuse(
            "O4",
            "order",
            f"order {order} is {order.get_status_display()}: "
            "its products can only change while it is Draft",
        )
    if order.kind == OrderKind.REDUCTION:
        refuse(
            "R5",
            "order",
            f"{order} is a reduction order: its items come from the original order's "
            "Reduce form (or a cancellation) and cannot be added or edited here",
        )
        return problems
    if not item.product_id:
        refuse("O2", "product", "choose a product")
        return problems
    product = item.product
    currency = str(order.currency)
    if order.kind == OrderKind.STANDARD and (item.quantity is None or item.quantity <= 0):
        refuse("O7", "quantity", f"quantity must be greater than 0 (got {item.quantity})")
    if item.unit_price is not None:
        if item.unit_price.amount < 0:
            refuse("O7", "unit_price", f"unit price must be 0 or more (got {item.unit_price})")
        if str(item.unit_price.currency) != currency:
            refuse(
                "O2",
                "unit_price",
                f"unit price is in {item.unit_price.currency} but the order is in {currency}",
            )
    if not order.price_book_id:
        refuse("O2", "price_book_entry", "the order has no price book: choose one first")
    else:
        entry = _entry_for(order=order, item=item)
        if entry is None:
            refuse(
                "O2",
                "price_book_entry",
                f"{product.name} has no active {currency} price in price book "
                f"{order.price_book.name}",
            )
        else:
            if entry.product_id != item.product_id:
                refuse(
                    "O2",
                    "price_book_entry",
                    f"the price book entry is for {entry.product}, not {product.name}",
                )
            if entry.price_book_id != order.price_book_id:
                refuse(
                    "O2",
                    "price_book_entry",
                    f"the price book entry belongs to "
                    f"{entry.price_book.name}, not the order's {order.price_book.name}",
                )
            if entry.currency != currency:
                refuse(
                    "O2",
                    "price_book_entry",
                    f"the price book entry is in {entry.currency} but the order is in {currency}",
                )
    if item.tax_rate is not None and not (ZERO <= item.tax_rate <= Decimal(100)):
        refuse("O7", "tax_rate", f"tax rate must be between 0 and 100 % (got {item.tax_rate})")
    start = item.service_start_date or order.effective_date
    end = item.service_end_date or (order.end_date if product.is_recurring else None)
    if product.is_recurring and not end:
        refuse(
            "O2",
            "service_end_date",
            f"{product.name} is recurring: it needs a service end date (or an order end date)",
        )
    if start and end and end < start:
        refuse("O2", "service_end_date", f"service end date {end} is before its start {start}")
    return problems


def _apply_derived_fields(*, order: Order, item: OrderItem) -> None:
    """Pricing and derived amounts: list price, unit price default, total, tax, defaults."""
    product = item.product
    currency = str(order.currency)
    entry = _entry_for(order=order, item=item)
    item.price_book_entry = entry
    item.list_price = entry.list_price
    if item.unit_price is None:
        item.unit_price = entry.list_price
    item.charge_type = product.charge_type
    item.service_start_date = item.service_start_date or order.effective_date
    if product.is_recurring:
        item.service_end_date = item.service_end_date or order.end_date
        item.billing_frequency = item.billing_frequency or product.default_billing_frequency
        item.revenue_method = item.revenue_method or product.default_revenue_method
    else:
        item.billing_frequency = ""
        item.revenue_method = RevenueMethod.IMMEDIATE
    if item.tax_rate is None:
        item.tax_rate = ZERO
    total = money_round(amount=item.quantity * item.unit_price.amount, currency=currency)
    item.total = Money(total, currency)
    item.tax_amount = Money(
        money_round(amount=total * item.tax_rate / Decimal(100), currency=currency), currency
    )
    if order.kind == OrderKind.STANDARD:
        item.available_quantity = item.quantity  # nothing can be reduced before activation
    else:
        item.available_quantity = ZERO  # R8: a reduction cannot itself be reduced


def order_item_save(*, item: OrderItem, user, comment: str = "") -> OrderItem:
    """O2, O4, O7: check, price and save one order product of a draft order."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=item.order_id)
        item.order = order
        problems = order_item_problems(order=order, item=item)
        if problems:
            raise BusinessRulesRefused(problems)
        is_new = item.pk is None
        _apply_derived_fields(order=order, item=item)
        if is_new:
            last = order.items.aggregate(last=Max("line_number"))["last"] or 0
            item.line_number = last + 1
        item.full_clean(exclude=["order"], validate_unique=False, validate_constraints=False)
        item.save()
        audit_record(
            document=order,
            actor=user,
            action=AuditAction.PRODUCT_ADDED if is_new else AuditAction.PRODUCT_CHANGED,
            comment=comment,
            data={
                "line": item.line_number,
                "product": item.product.sku,
                "quantity": str(item.quantity),
                "unit_price": str(item.unit_price),
                "total": str(item.total),
            },
        )
        order_totals_refresh(order=order)
    return item


def order_item_delete(*, item: OrderItem, user) -> None:
    """O4: order products are deleted only while the order is Draft."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=item.order_id)
        if not order.is_draft:
            raise BusinessRuleRefused(
                rule="O4",
                field="order",
                message=f"order {order} is {order.get_status_display()}: "
                "its products can only be deleted while it is Draft",
            )
        data = {"line": item.line_number, "product": item.product.sku}
        item.delete()
        audit_record(document=order, actor=user, action=AuditAction.PRODUCT_DELETED, data=data)
        order_totals_refresh(order=order)
