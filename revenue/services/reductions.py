"""P1–P5: reversing an SO line's schedule for a RORD or a CM-R.

Let ``A`` = the reduction (abs ESP), ``D`` = the line's deferred amount (future periods),
``N`` = its remaining net sell price. Every row belongs to the original SO line (P1).

- Full (``A`` ≥ ``N``, P2): each future period's amount is reversed in its own period and
  everything recognized is reversed in the open period.
- Partial (P3): ``min(A, D)`` comes off future periods, first those the reduction's own
  dates cover (spread with the line's method over those dates, at most what each period
  holds), the rest from the remaining future periods, latest first; ``A − D`` (when
  positive) comes off recognized revenue in the open period.
- Inside a period, invoice-source amounts go before SO-source amounts (P4).

Reversal rows in future periods are the *scheduled* reversals: their journal pairs are
posted when their period closes (S2). The line's state holds every closed period's
amounts in the open period (``states_load``), which is what "recognized" means here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from ..models import SoLine
from ..models.choices import RowKind, Source
from .ledger import Booker, LineState
from .splits import period_weights, split_weighted, term_months

ZERO = Decimal("0")
SOURCES_FIRST = (Source.INV, Source.SO)  # P4


@dataclass
class Reduction:
    """What one RORD / CM-R did to its line."""

    amount: Decimal  # what was asked (A)
    deferred: Decimal = ZERO  # reversed from future periods
    recognized: Decimal = ZERO  # reversed in the open period from recognized revenue
    full: bool = False

    @property
    def reversed(self) -> Decimal:
        return self.deferred + self.recognized


def _reverse(
    *, booker: Booker, line: SoLine, state: LineState, period: int, amount: Decimal, inbound_id
) -> Decimal:
    """Take up to ``amount`` off ``period``: INV source first, then SO (P4). Returns what
    was taken, never more than the period holds."""
    left = amount
    for source in SOURCES_FIRST:
        if left <= 0:
            break
        have = state.get(period, source)
        take = min(left, have)
        if take <= 0:
            continue
        _reversal(booker, line, state, period, source, take, inbound_id)
        left -= take
    return amount - left


def _reversal(booker, line, state, period, source, amount, inbound_id) -> None:
    """One REVERSAL row of ``amount`` off (period, source), in the line's state too."""
    booker.schedule(
        line=line,
        period=period,
        source=source,
        amount=-amount,
        kind=RowKind.REVERSAL,
        inbound_id=inbound_id,
        held=line.hold,
        catch_up=False,
    )
    state.add(period, source, -amount)


def _held_by(state: LineState, period: int) -> Decimal:
    return max(state.get(period, Source.INV), ZERO) + max(state.get(period, Source.SO), ZERO)


def reduction_book(
    *,
    booker: Booker,
    line: SoLine,
    state: LineState,
    amount: Decimal,
    start: date | None,
    end: date | None,
    inbound_id: int | None,
) -> Reduction:
    """Reverse ``amount`` (> 0) of ``line``'s schedule (P2–P4). The caller updates the
    line's totals and flags from the result."""
    result = Reduction(amount=amount)
    remaining = line.net_sll_prc
    if amount <= 0 or remaining <= 0:
        return result
    open_period = booker.open
    if amount >= remaining:
        return _full(booker=booker, line=line, state=state, inbound_id=inbound_id, result=result)
    future = [p for p in sorted({p for p, _ in state.amounts}) if p > open_period]
    deferred = sum((_held_by(state, p) for p in future), ZERO)
    take = min(amount, deferred)
    placed = ZERO
    if take > 0 and start and end and end >= start:
        weights = [
            (period, weight)
            for period, weight in period_weights(line.rev_method, start, end)
            if period > open_period
        ]
        for period, share in split_weighted(total=take, currency=line.currency, weights=weights):
            placed += _reverse(
                booker=booker,
                line=line,
                state=state,
                period=period,
                amount=share,
                inbound_id=inbound_id,
            )
    for period in reversed(future):
        if placed >= take:
            break
        placed += _reverse(
            booker=booker,
            line=line,
            state=state,
            period=period,
            amount=take - placed,
            inbound_id=inbound_id,
        )
    result.deferred = placed
    rest = amount - placed
    if rest > 0:
        result.recognized = _reverse(
            booker=booker,
            line=line,
            state=state,
            period=open_period,
            amount=rest,
            inbound_id=inbound_id,
        )
    return result


def _full(*, booker, line, state, inbound_id, result: Reduction) -> Reduction:
    """P2: every (period, source) amount of the open and future periods back to zero."""
    result.full = True
    for (period, source), have in sorted(state.amounts.items()):
        if not have:
            continue
        _reversal(booker, line, state, period, source, have, inbound_id)
        if period > booker.open:
            result.deferred += have
        else:
            result.recognized += have
    return result


def reduction_qty_months(*, qty, start: date | None, end: date | None, line: SoLine) -> Decimal:
    """A2: a reduction's quantity × term months (its own dates, else the line's)."""
    if not qty:
        return ZERO
    months = term_months(start or line.start_date, end or start or line.end_date)
    value = abs(Fraction(Decimal(qty))) * months
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("1e-6"))


def line_reduced(*, line: SoLine, result: Reduction, elp, qty_months: Decimal, rord: bool) -> None:
    """The line's running totals after a RORD (``rord``) or CM-R: what was reversed, so
    that the schedule's total stays the net sell price; P2: a full reduction sets the
    return flag and clears the SSP fields."""
    if rord:
        line.rord_sll_prc -= result.reversed
    else:
        line.cmr_sll_prc -= result.reversed
    if elp is not None:
        line.reduced_lst_prc += elp
    elif line.ext_sll_prc.amount:
        # no ELP on the line (a CM-R usually has none): the list price goes down pro rata
        share = result.reversed / line.ext_sll_prc.amount
        line.reduced_lst_prc -= (line.ext_lst_prc.amount * share).quantize(Decimal("0.01"))
    line.reduced_qty_months += qty_months
    if result.full:
        line.return_flag = "Y"
        line.ssp_pct = line.ssp_price = None
        line.ext_ssp = line.allocated = line.carve = None
