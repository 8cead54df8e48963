"""What a return or cancel creates (T8, T9 check, T14 through the orders services): the
negative change order of the returned or canceled units, the positive change order of
the fees, the credit memo and the fee invoice. Shared by RMA processing (T6–T10) and the
simple return and cancel (T12, T13).

``documents_plan`` works everything out and checks T9 before anything is written;
``documents_create`` writes. Callers hold the order's and the order products' locks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from core.lifecycle import document_transition
from core.models import AuditAction
from core.services import audit_record, money_round, sequence_next, sum_exact
from orders.models import (
    ChargeType,
    CreditMemo,
    CreditMemoLine,
    CreditMemoSource,
    Invoice,
    InvoiceLine,
    Order,
    OrderItem,
    OrderKind,
    PriceBookEntry,
    Product,
    RevenueMethod,
)
from orders.services import order_totals_refresh
from orders.services.billing import invoice_create_posted
from orders.services.credit_memos import credit_lines_for_units, credit_memo_create_issued

from ..models import ReturnProcessing
from .fees import fee_net_tax

ZERO = Decimal("0")


@dataclass(frozen=True)
class Units:
    """``quantity`` units of an order product returned or canceled."""

    item: OrderItem
    quantity: Decimal


@dataclass
class FeeCharge:
    """A fee charged on a returned or canceled product (gross: tax included)."""

    item: OrderItem
    fee_product: Product
    gross: Decimal
    description: str = ""
    reason: str = ""
    order_item: OrderItem | None = None  # its fee order product, once created


@dataclass
class DocumentsPlan:
    units: list[Units]
    fees: list[FeeCharge]
    credit_lines: list[CreditMemoLine] = field(default_factory=list)
    currency: str = "USD"

    @property
    def credit_gross(self) -> Decimal:
        return sum((line.net.amount + line.tax.amount for line in self.credit_lines), ZERO)

    @property
    def fee_gross(self) -> Decimal:
        return sum((fee.gross for fee in self.fees), ZERO)


def documents_plan(*, order: Order, units: list[Units], fees: list[FeeCharge]) -> DocumentsPlan:
    """T8, T13, B7: the credit lines of the units (billed periods only, never more than
    was invoiced); T9: refused, with nothing created, when the fees exceed the credit."""
    plan = DocumentsPlan(units=units, fees=[f for f in fees if f.gross > 0])
    plan.currency = str(order.currency)
    # one credit per product, whatever the number of its lines: B7 caps it against the
    # invoice lines once (two lines of one product would each see the other's credit as
    # still open), and it is rounded once
    per_item: dict[int, Units] = {}
    for unit in units:
        seen = per_item.get(unit.item.pk)
        quantity = unit.quantity + (seen.quantity if seen else ZERO)
        per_item[unit.item.pk] = Units(item=unit.item, quantity=quantity)
    for unit in per_item.values():
        plan.credit_lines += credit_lines_for_units(item=unit.item, quantity=unit.quantity)
    if plan.fee_gross > plan.credit_gross:
        currency = plan.currency
        products = ", ".join(sorted({f.item.so_line_id for f in plan.fees}))
        raise BusinessRuleRefused(
            rule="T9",
            field="fees",
            message=f"the fees ({Money(plan.fee_gross, currency)}) on {products} exceed the "
            f"credit memo ({Money(plan.credit_gross, currency)}) they would be taken from: "
            "a fee may not exceed the refund. Nothing was created",
        )
    return plan


def _change_order(*, order: Order, user, today: date, description: str) -> Order:
    change = Order(
        kind=OrderKind.CHANGE,
        original_order=order,
        account_id=order.account_id,
        price_book_id=order.price_book_id,
        currency=order.currency,
        effective_date=today,
        description=description,
        number=f"CO-{sequence_next(name='CO'):06d}",
        created_by=user if getattr(user, "pk", None) else None,
    )
    change.full_clean(exclude=["status", "account", "price_book", "original_order"])
    change.save()
    audit_record(
        document=change,
        actor=user,
        action=AuditAction.CREATED,
        to_state=change.status,
        comment=description,
        data={"original_order": order.number},
    )
    return change


def _advance(change: Order, user, names: list[str], comment: str) -> None:
    """Activate (and fulfil) a change order: its items are final as the return made them.
    Not ``order_activate``: a change order stages no SO lines of its own (T14)."""
    for name in names:
        document_transition(  # a consequence of the return (T14), not the user's own step
            document=change,
            name=name,
            user=user,
            reason=comment,
            rule="T14",
            noun="change orders",
            check_permission=False,
        )


def _taken_before(units: list[Units]) -> dict[int, Decimal]:
    """Units of each product already on negative change orders (earlier returns and
    cancels; change orders are never undone)."""
    rows = (
        OrderItem.objects.filter(
            original_order_item_id__in=[unit.item.pk for unit in units],
            order__kind=OrderKind.CHANGE,
            quantity__lt=0,
        )
        .values_list("original_order_item_id")
        .annotate(taken=Sum("quantity"))
        .order_by()
    )
    taken: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for item_id, quantity in rows:
        taken[item_id] = -sum_exact(quantity)
    return taken


def _net_tax(item: OrderItem, quantity: Decimal) -> tuple[Decimal, Decimal]:
    """Net and tax of ``quantity`` units, rounded as the order product rounds its own."""
    currency = str(item.total.currency)
    net = money_round(amount=item.unit_price.amount * quantity, currency=currency)
    return net, money_round(amount=net * item.tax_rate / Decimal(100), currency=currency)


def _negative_items(change: Order, units: list[Units]) -> list[OrderItem]:
    """T8: one item per returned product: quantity, net and tax negative. Cumulative
    rounding over every return and cancel of a product, so that returning all its units
    in parts takes off exactly its total and tax (1.5 + 1.5 of 3 × 33.33: 50.00 then
    49.99, as the 99.99 it cost)."""
    items = []
    taken = _taken_before(units)
    for number, unit in enumerate(units, start=1):
        item = unit.item
        currency = str(item.total.currency)
        before = taken[item.pk]
        taken[item.pk] = before + unit.quantity
        net_to, tax_to = _net_tax(item, taken[item.pk])
        net_from, tax_from = _net_tax(item, before)
        net, tax = net_to - net_from, tax_to - tax_from
        items.append(
            OrderItem(
                order=change,
                line_number=number,
                product_id=item.product_id,
                price_book_entry_id=item.price_book_entry_id,
                quantity=-unit.quantity,
                unit_price=item.unit_price,
                list_price=item.list_price,
                tax_rate=item.tax_rate,
                total=Money(-net, currency),
                tax_amount=Money(-tax, currency),
                service_start_date=item.service_start_date,
                service_end_date=item.service_end_date,
                charge_type=item.charge_type,
                billing_frequency=item.billing_frequency,
                billing_type=item.billing_type,
                revenue_method=item.revenue_method,
                original_order_item=item,
            )
        )
    return OrderItem.objects.bulk_create(items)


def _fee_items(change: Order, fees: list[FeeCharge], today: date) -> list[OrderItem]:
    """T8: one fulfilled order product per fee (quantity 1, taxed like the product it is
    charged on); T14: recognized at once (IMMEDIATE)."""
    currency = str(change.currency)
    entries = {
        e.product_id: e.pk
        for e in PriceBookEntry.objects.filter(
            price_book_id=change.price_book_id,
            product_id__in=[f.fee_product.pk for f in fees],
            list_price_currency=currency,
        )
    }
    items = []
    for number, fee in enumerate(fees, start=1):
        net, tax = fee_net_tax(gross=fee.gross, tax_rate=fee.item.tax_rate, currency=currency)
        items.append(
            OrderItem(
                order=change,
                line_number=number,
                product=fee.fee_product,
                price_book_entry_id=entries.get(fee.fee_product.pk),
                quantity=Decimal(1),
                unit_price=Money(net, currency),
                list_price=Money(net, currency),
                tax_rate=fee.item.tax_rate,
                total=Money(net, currency),
                tax_amount=Money(tax, currency),
                service_start_date=today,
                charge_type=ChargeType.ONE_TIME,
                revenue_method=RevenueMethod.IMMEDIATE,
                available_quantity=Decimal(1),
                fulfilled_quantity=Decimal(1),
                original_order_item=fee.item,
            )
        )
    items = OrderItem.objects.bulk_create(items)
    for fee, item in zip(fees, items, strict=True):
        fee.order_item = item
    return items


def documents_create(
    *, order: Order, processing: ReturnProcessing, plan: DocumentsPlan, user, today: date, what: str
) -> ReturnProcessing:
    """T8: write the change orders, the credit memo (issued: CM-R lines staged, T14) and
    the fee invoice (posted: the fee's SO and INV lines staged, T14), and link them to
    ``processing``. The plan was checked by ``documents_plan`` (T9)."""
    currency = plan.currency
    comment = f"{processing.number}: {what}"
    change = _change_order(order=order, user=user, today=today, description=comment)
    _negative_items(change, plan.units)
    order_totals_refresh(order=change)
    _advance(change, user, ["activate"], comment)
    processing.change_order = change

    if plan.fees:
        fee_order = _change_order(
            order=order, user=user, today=today, description=f"{comment} (fees)"
        )
        items = _fee_items(fee_order, plan.fees, today)
        order_totals_refresh(order=fee_order)
        _advance(fee_order, user, ["activate", "fulfil"], comment)
        lines = [
            InvoiceLine(
                line_number=number,
                order_item=item,
                period_start=today,
                period_end=today,
                quantity=item.quantity,
                net=item.total,
                tax=item.tax_amount,
            )
            for number, item in enumerate(items, start=1)
        ]
        invoice: Invoice = invoice_create_posted(
            order=fee_order, lines=lines, user=user, invoice_date=today, comment=comment
        )
        fee_order.revenue_batch_id = invoice.revenue_batch_id
        fee_order.save(update_fields=["revenue_batch_id"])
        processing.fee_change_order = fee_order
        processing.fee_invoice = invoice
        processing.fees = invoice.gross_total

    if plan.credit_lines:
        memo: CreditMemo = credit_memo_create_issued(
            order=order,
            source=CreditMemoSource.RETURN,
            source_order=change,
            lines=plan.credit_lines,
            user=user,
            reason=comment,
            comment=comment,
        )
        processing.credit_memo = memo
        processing.credited = memo.gross_total
    else:
        processing.credited = Money(ZERO, currency)
    if not plan.fees:
        processing.fees = Money(ZERO, currency)
    processing.save()
    return processing


def processing_start(*, kind: str, order: Order, user, comment: str, return_order=None):
    """A numbered processing record for the documents to hang on."""
    processing = ReturnProcessing(
        number=f"RP-{sequence_next(name='RP'):06d}",
        kind=kind,
        return_order=return_order,
        order=order,
        currency=order.currency,
        credited=Money(ZERO, str(order.currency)),
        fees=Money(ZERO, str(order.currency)),
        comment=comment,
        created_by=user if getattr(user, "pk", None) else None,
    )
    processing.save()
    return processing
