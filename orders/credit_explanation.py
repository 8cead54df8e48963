"""How a credit memo's figures were computed, in the words and figures an accountant checks
(R9, C4, T8, B7): for each credited invoice line, the billed period, the period's amount,
the units and days taken off, the credit; and why the memo differs from the reduction's
own total (only invoiced periods are credited; a credit stops at what is left on the
invoice line). A read shared by the credit memo, reduction and RMA pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from djmoney.money import Money

from core.amounts import money_text

from .models import CreditMemo, CreditMemoSource, Order, OrderItem
from .services.billing_periods import (
    ONE_DAY,
    Reduction,
    deduction,
    is_one_time,
    overlap,
    period_amounts,
    reduction_of,
)
from .services.reduction_rules import inclusive_days


def dates(start: date, end: date) -> str:
    """1 Jul – 30 Sep 2026; one day: 1 Jul 2026."""
    if start == end:
        return f"{start.day} {start:%b %Y}"
    left = f"{start.day} {start:%b}" if start.year == end.year else f"{start.day} {start:%b %Y}"
    return f"{left} – {end.day} {end:%b %Y}"


@dataclass
class CreditRow:
    """One credited invoice line and how its credit was found."""

    line_number: int
    item_id: int
    product: str
    so_line_id: str
    invoice_id: int | None
    invoice_number: str
    billed_period: tuple[date, date]
    billed: Money  # what the invoice line billed
    period_amount: Money | None  # the period's share of the product's total (B3)
    units: Decimal  # units taken off
    of_units: Decimal  # the product's units
    days: tuple[int, int] | None  # (days credited, days of the period); None: one-time
    credited_period: tuple[date, date]
    credit: Money
    capped: bool  # B7: stopped at what was left uncredited on the invoice line

    @property
    def formula(self) -> str:
        """What the credit is, as a product of its factors."""
        if self.period_amount is None:
            return money_text(self.credit)
        parts = [
            money_text(self.period_amount),
            f"{self.units.normalize():f}/{self.of_units.normalize():f} units",
        ]
        if self.days is not None and self.days[0] != self.days[1]:
            parts.append(f"{self.days[0]}/{self.days[1]} days")
        return " × ".join(parts)


@dataclass
class CreditExplanation:
    memo: CreditMemo
    rows: list[CreditRow] = field(default_factory=list)
    document_net: Money | None = None  # the reduction's own total (negative), if any
    sentences: list[str] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return self.document_net is not None and -self.document_net != self.memo.net_total


def _lines(memo: CreditMemo):
    return list(
        memo.lines.filter(is_void=False)
        .select_related("order_item__product", "invoice_line__invoice")
        .order_by("line_number")
    )


def _reductions(memo: CreditMemo) -> dict[int, Reduction]:
    """The reduced units and range per original product of the memo's reduction order."""
    if memo.source_order_id is None or memo.source == CreditMemoSource.RETURN:
        return {}
    items = OrderItem.objects.filter(order_id=memo.source_order_id).select_related(
        "original_order_item"
    )
    return {
        item.original_order_item_id: reduction_of(
            reduction_item=item, original=item.original_order_item
        )
        for item in items
        if item.original_order_item_id and item.quantity
    }


def _returned_units(lines) -> dict[int, Decimal]:
    """A return memo's units per product: the first line of each product carries them."""
    units: dict[int, Decimal] = {}
    for line in lines:
        units.setdefault(line.order_item_id, line.quantity)
    return units


def credit_explanation(*, memo: CreditMemo) -> CreditExplanation:
    lines = _lines(memo)
    explanation = CreditExplanation(memo=memo)
    reductions = _reductions(memo)
    returned = _returned_units(lines) if memo.source == CreditMemoSource.RETURN else {}
    amounts: dict[int, dict] = {}
    for line in lines:
        item = line.order_item
        if item.pk not in amounts:
            amounts[item.pk] = period_amounts(item=item)
        invoice_line = line.invoice_line
        billed_period = (
            (invoice_line.period_start, invoice_line.period_end)
            if invoice_line
            else (line.period_start, line.period_end)
        )
        reduced = reductions.get(item.pk)
        units = reduced.quantity if reduced else returned.get(item.pk, line.quantity)
        amount = amounts[item.pk].get(billed_period[0])
        credited_period = (line.period_start, line.period_end)
        days = None
        expected = line.net.amount
        if amount is not None and not is_one_time(item):
            days = (inclusive_days(*credited_period), inclusive_days(*billed_period))
            taken = Reduction(
                item_id=item.pk,
                quantity=units,
                start=credited_period[0],
                end=credited_period[1],
                is_cancel=False,
            )
            expected = deduction(item=item, period=billed_period, amount=amount, reduction=taken)
        explanation.rows.append(
            CreditRow(
                line_number=line.line_number,
                item_id=item.pk,
                product=item.product.name,
                so_line_id=item.so_line_id,
                invoice_id=invoice_line.invoice_id if invoice_line else None,
                invoice_number=invoice_line.invoice.number if invoice_line else "",
                billed_period=billed_period,
                billed=invoice_line.net if invoice_line else line.net,
                period_amount=amount if not is_one_time(item) else None,
                units=units,
                of_units=item.quantity,
                days=days,
                credited_period=credited_period,
                credit=line.net,
                capped=line.net.amount < expected,
            )
        )
    if reductions:
        amount, currency = Order.objects.values_list("net_total", "net_total_currency").get(
            pk=memo.source_order_id
        )
        explanation.document_net = Money(amount, currency)
    explanation.sentences = _sentences(explanation, reductions)
    return explanation


def _not_invoiced(reductions: dict[int, Reduction], rows: list[CreditRow]) -> list[str]:
    """The parts of each reduced range that no credited invoice period covers: not
    invoiced yet, so nothing to credit."""
    gaps = []
    for item_id, reduced in reductions.items():
        periods = sorted(row.billed_period for row in rows if row.item_id == item_id)
        cursor = reduced.start
        for period in periods:
            part = overlap(period, (reduced.start, reduced.end))
            if part is None:
                continue
            if part[0] > cursor:
                gaps.append(dates(cursor, part[0] - ONE_DAY))
            cursor = max(cursor, part[1] + ONE_DAY)
        if cursor <= reduced.end:
            gaps.append(dates(cursor, reduced.end))
    return gaps


def _sentences(explanation: CreditExplanation, reductions: dict[int, Reduction]) -> list[str]:
    memo, rows = explanation.memo, explanation.rows
    if not rows:
        return []
    first = min(row.credited_period[0] for row in rows)
    last = max(row.credited_period[1] for row in rows)
    sentences = []
    if memo.source == CreditMemoSource.RETURN:
        sentences.append(
            "The returned units give back their share of each invoiced period: the period's "
            "amount × returned units / the product's units."
        )
    elif explanation.document_net is not None:
        taken = money_text(explanation.document_net, negate=True)
        sentences.append(
            f"{memo.source_order} takes {taken} off the order: units × unit price × days "
            "taken off ÷ days of the product's term."
        )
        same = "" if explanation.differs else " (the same amount)"
        sentences.append(
            f"The credit memo gives back {money_text(memo.net_total)}{same} for what was already "
            f"invoiced, {dates(first, last)}: each invoiced period's amount × units taken off "
            "÷ units × days credited ÷ days of the period."
        )
        gaps = _not_invoiced(reductions, rows)
        if gaps:
            sentences.append(
                f"Not invoiced yet, so not credited: {', '.join(gaps)}. "
                "Later invoices bill the reduced quantity."
            )
    if any(row.capped for row in rows):
        sentences.append(
            "A credit marked “capped” stops at what was left uncredited on its invoice line "
            "(earlier credit memos had given back part of it)."
        )
    return sentences
