"""S6, S7: release schedules. Weights per period, cumulative rounding in minor units.

The weights of a (method, start, end) are computed once and cached as cumulative
fractions, so splitting a million lines costs a few integer operations per period.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from core.services import currency_exponent

from ..models.choices import RevMethod


def period_of(day: date) -> int:
    return day.year * 100 + day.month


def period_add(period: int, months: int) -> int:
    index = (period // 100) * 12 + (period % 100 - 1) + months
    return (index // 12) * 100 + index % 12 + 1


def period_first_day(period: int) -> date:
    return date(period // 100, period % 100, 1)


def period_last_day(period: int) -> date:
    year, month = divmod(period, 100)
    return date(year, month, calendar.monthrange(year, month)[1])


def months_covered(start: date, end: date):
    """(period, days covered, days in month) for every month from start to end."""
    period = period_of(start)
    last = period_of(end)
    while period <= last:
        first, final = period_first_day(period), period_last_day(period)
        covered = (min(end, final) - max(start, first)).days + 1
        yield period, covered, final.day
        period = period_add(period, 1)


def period_weights(method: str, start: date, end: date) -> list[tuple[int, Fraction]]:
    """S6: each period's weight. IMMEDIATE: all in the start's month; RATABLE_MONTHLY: the
    fraction of the month covered (a full month = 1); RATABLE_DAILY: the days covered."""
    if method == RevMethod.IMMEDIATE:
        return [(period_of(start), Fraction(1))]
    if method == RevMethod.RATABLE_MONTHLY:
        return [(p, Fraction(days, size)) for p, days, size in months_covered(start, end)]
    return [(p, Fraction(days)) for p, days, _ in months_covered(start, end)]


@lru_cache(maxsize=8192)
def cumulative_weights(method: str, start: date, end: date) -> tuple[tuple[int, int, int], ...]:
    """(period, numerator, denominator) of the cumulative share W≤i / W, exact."""
    weights = period_weights(method, start, end)
    whole = sum(w for _, w in weights)
    running = Fraction(0)
    out = []
    for period, weight in weights:
        running += weight
        share = running / whole
        out.append((period, share.numerator, share.denominator))
    return tuple(out)


def round_share(minor: int, numerator: int, denominator: int) -> int:
    """round(minor × n / d), half away from zero (ROUND_HALF_UP on the absolute value)."""
    magnitude = (2 * abs(minor) * numerator + denominator) // (2 * denominator)
    return magnitude if minor >= 0 else -magnitude


def split_minor(minor: int, cumulative: tuple[tuple[int, int, int], ...]) -> list[tuple[int, int]]:
    """S7: part i = round(total × W≤i / W) − round(total × W<i / W), in minor units."""
    out = []
    previous = 0
    for period, numerator, denominator in cumulative:
        upto = round_share(minor, numerator, denominator)
        out.append((period, upto - previous))
        previous = upto
    return out


def to_minor(amount: Decimal, exponent: int) -> int:
    return int(amount.scaleb(exponent).to_integral_value())


def from_minor(minor: int, exponent: int) -> Decimal:
    return Decimal(minor).scaleb(-exponent)


def schedule_split(
    *, total: Decimal, currency: str, method: str, start: date, end: date
) -> list[tuple[int, Decimal]]:
    """S6 + S7: ``total`` spread over the periods of ``start``–``end``; the parts add up to
    ``total`` exactly. Periods with a zero part are left out."""
    exponent = currency_exponent(currency)
    parts = split_minor(to_minor(total, exponent), cumulative_weights(method, start, end))
    return [(p, from_minor(m, exponent)) for p, m in parts if m]


def one_day_before(day: date) -> date:
    return day - timedelta(days=1)


def split_weighted(
    *, total: Decimal, currency: str, weights: list[tuple[int, Fraction]]
) -> list[tuple[int, Decimal]]:
    """S7 over given (period, weight) pairs: cumulative rounding, parts add up to ``total``."""
    whole = sum((w for _, w in weights), Fraction(0))
    if not weights or not whole:
        return []
    running = Fraction(0)
    cumulative = []
    for period, weight in weights:
        running += weight
        share = running / whole
        cumulative.append((period, share.numerator, share.denominator))
    exponent = currency_exponent(currency)
    parts = split_minor(to_minor(total, exponent), tuple(cumulative))
    return [(p, from_minor(m, exponent)) for p, m in parts if m]


def term_months(start: date, end: date) -> Fraction:
    """A2: the months from ``start`` to ``end`` + 1 day; a partial month counts as its days /
    the days of that month; at least 1 (1 Jan–31 Dec is 12, a one-day line is 1)."""
    stop = end + timedelta(days=1)
    whole = (stop.year - start.year) * 12 + stop.month - start.month
    while whole > 0 and _add_months(start, whole) > stop:
        whole -= 1
    anchor = _add_months(start, whole)
    days = (stop - anchor).days
    size = calendar.monthrange(anchor.year, anchor.month)[1]
    return max(Fraction(whole) + Fraction(days, size), Fraction(1))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
