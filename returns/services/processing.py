"""*Return items* on an RMA (T6–T10): the quantities returned and canceled per product
line, the fee lines that follow them, split lines for what remains, and the documents
(T8) with the refund (T9)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from core.lifecycle import actor_of
from core.models import AuditAction
from core.services import audit_record
from orders.models import OrderItem
from orders.services.billing import billing_schedule_refresh

from ..models import (
    FeeAmountType,
    LineStatus,
    ProcessingKind,
    ReturnOrderLine,
    ReturnProcessing,
    ReturnStatus,
)
from .documents import FeeCharge, Units, documents_create, documents_plan, processing_start
from .fees import fee_part, number_problem
from .refunds import refund_ensure, return_order_totals_refresh
from .rma import _line_tax, _locked_lines, order_items_lock, return_order_lock

ZERO = Decimal("0")


@dataclass(frozen=True)
class ReturnQuantities:
    """T6: what happens to a product line's expected units now."""

    returned: Decimal
    to_cancel: Decimal = ZERO
    rejected: Decimal = ZERO

    @property
    def done(self) -> Decimal:
        return self.returned + self.to_cancel + self.rejected


def _decimals(qty: ReturnQuantities) -> ReturnQuantities:
    """The same quantities as Decimals (ints and strings are accepted as input)."""
    return ReturnQuantities(
        *(
            v if isinstance(v, Decimal) else Decimal(str(v))
            for v in (qty.returned, qty.to_cancel, qty.rejected)
        )
    )


def _problems(lines: dict[int, ReturnOrderLine], quantities) -> list[BusinessRuleRefused]:
    """T6 for every product line asked (``quantities`` gets its values as Decimals)."""
    problems = []

    def refuse(line_id, message):
        problems.append(
            BusinessRuleRefused(rule="T6", field=f"returned_{line_id}", message=message)
        )

    for line_id, qty in quantities.items():
        line = lines.get(int(line_id))
        if line is None:
            refuse(line_id, f"line {line_id} is not on this return order")
            continue
        if line.is_fee:
            refuse(
                line_id, f"line {line} is a fee: it follows its product line {line.product_line}"
            )
            continue
        if line.status != LineStatus.OPEN:
            refuse(line_id, f"line {line} is {line.get_status_display()}: it is read-only")
            continue
        problem = (
            number_problem(qty.returned, what="the quantity returned")
            or number_problem(qty.to_cancel, what="the quantity to cancel", allow_zero=True)
            or number_problem(qty.rejected, what="the quantity rejected", allow_zero=True)
        )
        if problem:
            refuse(line_id, f"line {line}: {problem}")
            continue
        qty = quantities[line_id] = _decimals(qty)
        if qty.done > line.quantity_expected:
            refuse(
                line_id,
                f"line {line}: returned {qty.returned.normalize():f} + to cancel "
                f"{qty.to_cancel.normalize():f} + rejected {qty.rejected.normalize():f} is more "
                f"than the {line.quantity_expected.normalize():f} expected",
            )
    if not quantities:
        problems.append(
            BusinessRuleRefused(
                rule="T6", field="lines", message="enter a quantity returned on at least one line"
            )
        )
    return problems


def _split(line: ReturnOrderLine, remainder: Decimal, number: int, **changes) -> ReturnOrderLine:
    """T6, T7: a new open line for the ``remainder`` expected units of ``line``."""
    split = ReturnOrderLine(
        return_order_id=line.return_order_id,
        line_number=number,
        type=line.type,
        order_item_id=None if line.is_fee else line.order_item_id,
        product_id=line.product_id,
        quantity_expected=remainder,
        reason=line.reason,
        unit_price=line.unit_price,
        tax_rate=line.tax_rate,
        tax_amount=_line_tax(line.unit_price, remainder, line.tax_rate),
        fee_amount=line.fee_amount,
        fee_amount_type=line.fee_amount_type,
        fee_description=line.fee_description,
        split_from=line,
        **changes,
    )
    split.save()
    return split


def _apply(line: ReturnOrderLine, qty: ReturnQuantities, processing, user, now) -> None:
    """T6: the processed line keeps what was done now and becomes read-only."""
    line.quantity_expected = qty.done
    line.quantity_returned = qty.returned
    line.quantity_rejected = qty.rejected
    line.quantity_received = qty.returned + qty.rejected
    line.quantity_canceled = qty.to_cancel
    line.status = LineStatus.PROCESSED
    line.processing = processing
    line.processed_at, line.processed_by = now, actor_of(user)
    if not line.is_fee:
        line.tax_amount = _line_tax(line.unit_price, qty.done, line.tax_rate)


def return_items_process(
    *,
    return_order,
    quantities: dict[int, ReturnQuantities],
    user,
    comment: str = "",
    ensure_refund: bool = True,
) -> ReturnProcessing:
    """T6–T10 on an Approved RMA, for the product lines in ``quantities`` (line id →
    quantities). Fee lines follow their product line with the same quantities: the fee
    charged is its share of the returned units (T7), the share of canceled or rejected
    units is never charged, the rest moves to a split fee line. Everything is checked,
    including T9 (fees ≤ credit), before anything is written. T10: returned quantities
    grow; canceled and rejected units give back their return-initiated quantity. The
    refund is ensured at once unless ``ensure_refund`` is False (T9)."""
    with transaction.atomic():
        order, rma = return_order_lock(return_order=return_order)
        if rma.status != ReturnStatus.APPROVED:
            raise BusinessRuleRefused(
                rule="T6",
                field="status",
                message=f"{rma} is {rma.get_status_display()}: items are returned only on an "
                "Approved return order",
            )
        lines = {line.pk: line for line in _locked_lines(rma)}
        quantities = {int(k): v for k, v in quantities.items()}
        problems = _problems(lines, quantities)
        if problems:
            raise BusinessRulesRefused(problems)
        items = order_items_lock(order=order)
        currency = str(rma.currency)
        units: list[Units] = []
        fees: list[FeeCharge] = []
        fee_plan = []  # (fee line, charged, its fee for the units done, the split's fee)
        for line_id, qty in quantities.items():
            line = lines[line_id]
            item = items[line.order_item_id]
            units.append(Units(item=item, quantity=qty.returned))
            for fee in (f for f in lines.values() if f.product_line_id == line.pk):
                if fee.status != LineStatus.OPEN:
                    continue
                total = fee.fee_total.amount
                whole = fee.quantity_expected
                charged = fee_part(total=total, part=qty.returned, whole=whole, currency=currency)
                done = fee_part(total=total, part=qty.done, whole=whole, currency=currency)
                fee_plan.append((fee, line, charged, done, total - done))
                fees.append(
                    FeeCharge(
                        item=item,
                        fee_product=fee.product,
                        gross=charged,
                        description=fee.fee_description,
                        reason=fee.reason,
                    )
                )
        plan = documents_plan(order=order, units=units, fees=fees)  # T9 before any write

        processing = processing_start(
            kind=ProcessingKind.RMA_RETURN,
            order=order,
            user=user,
            comment=comment,
            return_order=rma,
        )
        what = f"items returned on {rma}"
        documents_create(
            order=order,
            processing=processing,
            plan=plan,
            user=user,
            today=timezone.localdate(),
            what=what,
        )
        now = timezone.now()
        number = max(line.line_number for line in lines.values())
        splits: dict[int, ReturnOrderLine] = {}
        changed: list[ReturnOrderLine] = []
        for line_id, qty in quantities.items():
            line = lines[line_id]
            remainder = line.quantity_expected - qty.done
            _apply(line, qty, processing, user, now)
            changed.append(line)
            if remainder > 0:
                number += 1
                splits[line.pk] = _split(line, remainder, number)
            item = items[line.order_item_id]
            item.returned_quantity += qty.returned  # T10
            item.return_initiated_quantity -= qty.to_cancel + qty.rejected
        for (fee, line, charged, done, kept), charge in zip(fee_plan, fees, strict=True):
            whole = fee.quantity_expected
            remainder = whole - quantities[line.pk].done
            _apply(fee, quantities[line.pk], processing, user, now)
            fee.fee_total = Money(done, currency)
            fee.fee_charged = Money(charged, currency)
            fee.order_item = charge.order_item  # its fee order product (none if 0 charged)
            changed.append(fee)
            if remainder > 0:
                number += 1
                _split_fee(fee, whole, remainder, number, splits[line.pk], kept)
        ReturnOrderLine.objects.bulk_update(
            changed,
            [
                "quantity_expected",
                "quantity_returned",
                "quantity_rejected",
                "quantity_received",
                "quantity_canceled",
                "status",
                "processing",
                "processed_at",
                "processed_by",
                "tax_amount",
                "tax_amount_currency",
                "fee_total",
                "fee_total_currency",
                "fee_charged",
                "fee_charged_currency",
                "order_item",
            ],
        )
        OrderItem.objects.bulk_update(
            items.values(), ["returned_quantity", "return_initiated_quantity"]
        )
        billing_schedule_refresh(order=order)  # returned units are not billed again
        audit_record(
            document=rma,
            actor=user,
            action=AuditAction.ITEMS_RETURNED,
            comment=comment,
            data={
                "processing": processing.number,
                "lines": {
                    str(lines[k]): {
                        "returned": str(q.returned),
                        "canceled": str(q.to_cancel),
                        "rejected": str(q.rejected),
                    }
                    for k, q in quantities.items()
                },
                "credit_memo": str(processing.credit_memo or ""),
                "fee_invoice": str(processing.fee_invoice or ""),
            },
        )
        return_order_totals_refresh(return_order=rma)
        if ensure_refund and processing.credit_memo_id:
            refund_ensure(processing=processing, user=user)
        return processing


def _split_fee(fee, whole, remainder, number, product_line, kept) -> ReturnOrderLine:
    """T7: the fee's remainder on a split fee line of the split product line. A fixed
    amount is prorated with it (10.00 on 2 expected keeps 5.00 for the 1 left); a
    percentage stays the same percentage. Cumulative like the total: the split keeps the
    amount less the processed units' share, so splitting 10.00 on 3 one unit at a time
    keeps 6.67 then 3.33, as its fee total does (not a rounded share of a share)."""
    split = _split(fee, remainder, number, product_line=product_line)
    currency = str(fee.fee_total.currency)
    split.fee_total = Money(kept, currency)
    if not FeeAmountType(fee.fee_amount_type).is_percentage:
        split.fee_amount = fee.fee_amount - fee_part(
            total=fee.fee_amount, part=whole - remainder, whole=whole, currency=currency
        )
    split.save(update_fields=["fee_total", "fee_total_currency", "fee_amount"])
    return split
