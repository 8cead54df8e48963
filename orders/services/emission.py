"""What the order side sends to revenue (O9, R9, B5, B6, C5; interchange.md emission table).

Every business event stages its inbound lines through revenue's public staging service, in
the caller's transaction: the lines exist exactly when the business change does. The
revenue app never reads order tables; these rows are all it learns.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from core.exceptions import BusinessRuleRefused
from core.services import currency_exponent, money_round
from revenue.services.inbound import (
    inbound_batch_withdraw,
    inbound_batches_collected,
    inbound_stage,
)

from ..models import CreditMemo, CreditMemoSource, Invoice, Order, OrderItem, OrderKind

SOURCE = "SERVICE"


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


def _amount(value: Decimal) -> str:
    return f"{value:.2f}" if isinstance(value, Decimal) else str(value)


def _item_end(item: OrderItem) -> date | None:
    return item.service_end_date or item.service_start_date


def _list_of(item: OrderItem, sell: Decimal) -> Decimal:
    """Extended list price matching an extended sell price of ``item`` (same share)."""
    unit, listed = item.unit_price.amount, item.list_price.amount
    currency = str(item.total.currency)
    if unit:
        return money_round(amount=sell * listed / unit, currency=currency)
    return money_round(amount=listed * abs(item.quantity), currency=currency) * (
        -1 if sell < 0 else 1
    )


def _common(order: Order, item: OrderItem) -> dict[str, str]:
    currency = str(order.currency)
    return {
        "CUSTOMER": order.account.number,
        "ITEM": item.product.sku,
        "CURR": currency,
        "F_CUR": currency,
    }


def so_rows(order: Order) -> list[dict[str, str]]:
    """O9: one SO per order product; ESP = total, ELP = list price × quantity."""
    rows = []
    for item in order.items.select_related("product").order_by("line_number"):
        currency = str(order.currency)
        rows.append(
            {
                "TRAN_TYPE": "SO",
                "SO_NUM": order.number,
                "SO_LINE_ID": item.so_line_id,
                "SO_DATE": _d(order.effective_date),
                **_common(order, item),
                "ORD_QTY": str(item.quantity),
                "EXT_LST_PRC": _amount(
                    money_round(amount=item.list_price.amount * item.quantity, currency=currency)
                ),
                "EXT_SLL_PRC": _amount(item.total.amount),
                "START_DATE": _d(item.service_start_date),
                "END_DATE": _d(_item_end(item)),
                "REV_METHOD": item.revenue_method or "IMMEDIATE",
            }
        )
    return rows


def rord_rows(reduction: Order) -> list[dict[str, str]]:
    """R9, C5: one RORD per item; ORIG_SO_LINE_ID = the original's SO line, quantity
    positive, ESP and ELP negative, dates = the reduced range. The revenue contract stays
    the original order's (RC_KEY), since every effect belongs to the original line (P1)."""
    original_order = reduction.original_order
    rows = []
    items = reduction.items.select_related("product", "original_order_item__order")
    for item in items.order_by("line_number"):
        original = item.original_order_item
        rows.append(
            {
                "TRAN_TYPE": "RORD",
                "SO_NUM": reduction.number,
                "SO_LINE_ID": item.so_line_id,
                "ORIG_SO_LINE_ID": original.so_line_id,
                "SO_DATE": _d(reduction.effective_date),
                **_common(reduction, item),
                "ORD_QTY": str(-item.quantity),
                "EXT_LST_PRC": _amount(_list_of(item, item.total.amount)),
                "EXT_SLL_PRC": _amount(item.total.amount),
                "START_DATE": _d(item.service_start_date),
                "END_DATE": _d(_item_end(item)),
                "RC_KEY": original_order.number,
            }
        )
    return rows


def inv_rows(invoice: Invoice) -> list[dict[str, str]]:
    """B5: one INV per invoice line, dated by its billing period."""
    order = invoice.order
    rows = []
    lines = invoice.lines.filter(is_void=False).select_related(
        "order_item__product", "order_item__order"
    )
    for line in lines.order_by("line_number"):
        item = line.order_item
        rows.append(
            {
                "TRAN_TYPE": "INV",
                "SO_NUM": order.number,
                "SO_LINE_ID": item.so_line_id,
                "SO_DATE": _d(order.effective_date),
                "INV_NUM": invoice.number,
                "INV_LINE_ID": f"{invoice.number}-{line.line_number}",
                "INV_DATE": _d(invoice.invoice_date),
                **_common(order, item),
                "ORD_QTY": str(item.quantity),
                "INV_QTY": str(line.quantity),
                "EXT_LST_PRC": _amount(_list_of(item, line.net.amount)),
                "EXT_SLL_PRC": _amount(line.net.amount),
                "START_DATE": _d(line.period_start),
                "END_DATE": _d(line.period_end),
            }
        )
    return rows


def cm_rows(memo: CreditMemo) -> list[dict[str, str]]:
    """B6: CM-RO per line for reductions and cancellations, CM-R for returns; negative."""
    order = memo.order
    tran_type = "CM-R" if memo.source == CreditMemoSource.RETURN else "CM-RO"
    rows = []
    lines = memo.lines.filter(is_void=False).select_related(
        "order_item__product", "order_item__order"
    )
    # a CM-RO names its RORD by the reduction item's SO line (P8 finds the contra by it)
    reduced_by = {}
    if tran_type == "CM-RO" and memo.source_order_id:
        reduced_by = {
            item.original_order_item_id: item.so_line_id
            for item in memo.source_order.items.select_related("order")
        }
    for line in lines.order_by("line_number"):
        item = line.order_item
        row = {
            "TRAN_TYPE": tran_type,
            "SO_NUM": order.number,
            "SO_LINE_ID": item.so_line_id,
            "SO_DATE": _d(order.effective_date),
            "INV_NUM": memo.number,
            "INV_LINE_ID": f"{memo.number}-{line.line_number}",
            "INV_DATE": _d(memo.memo_date),
            **_common(order, item),
            "INV_QTY": str(line.quantity),
            "EXT_LST_PRC": _amount(_list_of(item, -line.net.amount)),
            "EXT_SLL_PRC": _amount(-line.net.amount),
            "START_DATE": _d(line.period_start),
            "END_DATE": _d(line.period_end),
        }
        if tran_type == "CM-RO":
            row["ORIG_SO_LINE_ID"] = item.so_line_id
            row["SO_LINE_ID"] = reduced_by.get(item.pk) or item.so_line_id
        rows.append(row)
    return rows


AMOUNT_COLUMNS = ("EXT_LST_PRC", "EXT_SLL_PRC")


def _in_currency(row: dict[str, str]) -> dict[str, str]:
    """Amounts written with the decimals the row's currency has, when that loses nothing:
    "70.00" is "70" in JPY (I2 stops an amount with more decimals than its currency has;
    a true fraction of a yen stays as it is, and is stopped)."""
    exponent = currency_exponent(row["CURR"])
    if exponent >= 2:
        return row
    for column in AMOUNT_COLUMNS:
        amount = Decimal(row[column])
        if amount == money_round(amount=amount, currency=row["CURR"]):
            row[column] = f"{amount:.{exponent}f}"
    return row


def _stage(rows: list[dict[str, str]], *, document, user) -> int | None:
    if not rows:
        return None
    rows = [_in_currency(row) for row in rows]
    batch = inbound_stage(rows=rows, source=SOURCE, filename=str(document), actor=user)
    return batch.pk


def emission_order_activated(*, order: Order, user) -> int | None:
    """O9 (standard order: SO lines) or R9/C5 (reduction or cancellation: RORD lines)."""
    rows = rord_rows(order) if order.kind == OrderKind.REDUCTION else so_rows(order)
    return _stage(rows, document=order, user=user)


def emission_invoice_posted(*, invoice: Invoice, user) -> int | None:
    """B5: INV lines. A fee invoice bills a change order nothing else announced: its SO
    lines go first, in the same batch (T14; the revenue method is IMMEDIATE)."""
    rows = inv_rows(invoice)
    if invoice.order.kind == OrderKind.CHANGE:
        rows = so_rows(invoice.order) + rows
    return _stage(rows, document=invoice, user=user)


def emission_credit_memo_issued(*, credit_memo: CreditMemo, user) -> int | None:
    return _stage(cm_rows(credit_memo), document=credit_memo, user=user)


def emission_collected(*, batch_ids: Iterable[int | None]) -> int:
    """How many of these batches' lines revenue has collected already."""
    return sum(inbound_batches_collected(batch_ids=[b for b in batch_ids if b]).values())


def emission_withdraw(*, batch_id: int | None, user, rule: str, document, reason: str = "") -> int:
    """R11, B5, B6, O5: take back the staged lines of an undone document. Revenue keeps
    them, status ``WITHDRAWN`` with ``reason`` (I4): never collected, never deleted; a
    document activated or posted again stages a new batch. Refused under ``rule``
    (nothing withdrawn) once revenue has collected any of them."""
    if not batch_id:
        return 0
    try:
        return inbound_batch_withdraw(batch_id=batch_id, actor=user, reason=reason)
    except BusinessRuleRefused as refusal:
        raise BusinessRuleRefused(
            rule=rule,
            field="status",
            message=f"{document} cannot be undone: {refusal.message}",
        ) from refusal
