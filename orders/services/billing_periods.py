"""Billing periods and per-period amounts (B1, B3), and what activated reductions and
cancellations take off a period (R9, C3, C4). Pure arithmetic on order products: no
writes, no locks; ``billing.py`` and ``credit_memos.py`` decide what to do with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from djmoney.money import Money

from core.services import money_round, money_split

from ..models import BillingFrequency, BillingType, ChargeType, ContractAction, OrderItem

ZERO = Decimal("0")
ONE_DAY = timedelta(days=1)

Period = tuple[date, date]


def days(start: date, end: date) -> int:
    """Days of an inclusive range (0 when it is empty)."""
    return max((end - start).days + 1, 0)


def overlap(a: Period, b: Period) -> Period | None:
    """The common part of two inclusive ranges, or None."""
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return (start, end) if start <= end else None


def is_one_time(item: OrderItem) -> bool:
    return item.charge_type != ChargeType.RECURRING or not item.billing_frequency


def frequency_months(item: OrderItem) -> int:
    return BillingFrequency(item.billing_frequency).months


def _schedule(item: OrderItem) -> list[tuple[Period, Period]]:
    """(period, full period) pairs: period k starts at start + k × months (calendar months,
    anchored on the start day: Jan 31 → Feb 28 → Mar 31); the last one is capped at the
    service end date, its full period is the one the schedule would have made."""
    start = item.service_start_date
    if is_one_time(item):
        return [((start, start), (start, start))]
    end = item.service_end_date or start
    months = frequency_months(item)
    pairs: list[tuple[Period, Period]] = []
    k = 0
    period_start = start
    while period_start <= end:
        next_start = start + relativedelta(months=(k + 1) * months)
        full = (period_start, next_start - ONE_DAY)
        pairs.append(((period_start, min(full[1], end)), full))
        k += 1
        period_start = next_start
    return pairs


def billing_periods(*, item: OrderItem) -> list[Period]:
    """B1: the billing periods of an order product, from its service start date.
    One-time products have one period (start, start), billed on activation."""
    if item.service_start_date is None:
        return []
    return [period for period, _full in _schedule(item)]


def period_weights(*, item: OrderItem) -> list[Decimal]:
    """B3: a full period weighs its frequency's months, a partial one its share of days."""
    if item.service_start_date is None:
        return []
    if is_one_time(item):
        return [Decimal(1)]
    months = Decimal(frequency_months(item))
    return [months * days(*period) / days(*full) for period, full in _schedule(item)]


def period_amounts(*, item: OrderItem) -> dict[date, Money]:
    """B3: the product's total split over its periods (cumulative rounding: the parts add
    up to the total), keyed by period start."""
    periods = billing_periods(item=item)
    if not periods:
        return {}
    parts = money_split(total=item.total, weights=period_weights(item=item))
    return {period[0]: part for period, part in zip(periods, parts, strict=True)}


@dataclass(frozen=True)
class Reduction:
    """An activated reduction (or cancellation) item of one original product."""

    item_id: int
    quantity: Decimal  # positive: how many units are taken off
    start: date
    end: date
    is_cancel: bool


def reduction_of(*, reduction_item: OrderItem, original: OrderItem) -> Reduction:
    """The reduced quantity and range of a reduction item. A cancellation (C1, C2) takes
    the full quantity off from its terminated date + 1 to the original's end (C4)."""
    is_cancel = reduction_item.contract_action == ContractAction.CANCEL
    start = reduction_item.service_start_date or original.service_start_date
    end = reduction_item.service_end_date or original.service_end_date or start
    terminated = reduction_item.terminated_date or original.terminated_date
    if is_cancel and terminated:
        start = terminated + ONE_DAY
        end = original.service_end_date or end
    return Reduction(
        item_id=reduction_item.pk,
        quantity=-reduction_item.quantity,
        start=start,
        end=end,
        is_cancel=is_cancel,
    )


def covered_days(*, item: OrderItem, period: Period, reduction: Reduction) -> tuple[int, int]:
    """(days of ``period`` the reduction covers, days of ``period``); one-time products
    reduce in quantity only (R6), so the one period is always fully covered."""
    if is_one_time(item):
        return 1, 1
    common = overlap(period, (reduction.start, reduction.end))
    return (days(*common) if common else 0), days(*period)


def deduction(*, item: OrderItem, period: Period, amount: Money, reduction: Reduction) -> Decimal:
    """R9, C4: what a reduction takes off a period's amount:
    round(amount × reduced qty / qty × covered days / period days)."""
    covered, total_days = covered_days(item=item, period=period, reduction=reduction)
    if not covered or not item.quantity:
        return ZERO
    value = amount.amount * reduction.quantity / item.quantity * covered / total_days
    return money_round(amount=value, currency=str(amount.currency))


def period_quantity(*, item: OrderItem, period: Period, reductions: list[Reduction]) -> Decimal:
    """Quantity billed for a period: the product's quantity less the reductions that cover
    the whole period (one-time: every activated reduction)."""
    taken = ZERO
    for reduction in reductions:
        covered, total_days = covered_days(item=item, period=period, reduction=reduction)
        if covered and covered == total_days:
            taken += reduction.quantity
    return max(item.quantity - taken, ZERO)


EARLIEST = date(1900, 1, 1)


def due_date(*, item: OrderItem, period: Period) -> date:
    """B2: the first run date on which ``period`` is due (``is_due`` from then on)."""
    if is_one_time(item):
        return EARLIEST
    if item.billing_type == BillingType.ARREARS:
        return period[1] + ONE_DAY
    return period[0]


def is_due(*, item: OrderItem, period: Period, run_date: date) -> bool:
    """B2: ADVANCE bills a period once it has started, ARREARS once it has ended; a
    one-time product is due as soon as its order is activated. C3: nothing that starts
    after the product's terminated date is ever billed."""
    if item.terminated_date and period[0] > item.terminated_date:
        return False
    if is_one_time(item):
        return True
    if item.billing_type == BillingType.ARREARS:
        return period[1] < run_date
    return period[0] <= run_date
