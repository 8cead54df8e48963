"""S4, S9: what billing lines book — the source conversion of an invoice or credit memo
over the line's schedule, and the initial AR / contract liability entry."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from ..models import SoLine
from ..models.choices import EntryType, RowKind, Source
from .ledger import AR, CL, ZERO, Booker, LineState
from .splits import schedule_split


def billing_convert(
    *,
    booker: Booker,
    line: SoLine,
    state: LineState,
    amount: Decimal,
    start,
    end,
    inbound_id: int | None,
) -> None:
    """S9: an invoice (amount > 0) turns SO-source into INV-source over the periods its own
    dates cover, at most what each period still has, the rest in the line's earliest
    periods with SO-source left. A credit memo (amount < 0) turns INV back into SO, the rest
    from the latest periods. Source conversions move no revenue: no journal pair."""
    if not amount:
        return
    sign = 1 if line.ext_sll_prc.amount >= 0 else -1
    to_inv = (amount > 0) == (sign > 0)
    frm, to = (Source.SO, Source.INV) if to_inv else (Source.INV, Source.SO)
    currency, held = line.currency, line.hold
    shares = schedule_split(
        total=abs(amount),
        currency=currency,
        method=line.rev_method,
        start=start,
        end=end,
    )
    merged: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for period, share in shares:
        merged[max(period, booker.open)] += share
    leftover = ZERO

    def move(period: int, wanted: Decimal) -> Decimal:
        have = sign * state.get(period, frm)
        moved = max(min(wanted, have), ZERO)
        if moved:
            for source, piece in ((frm, -sign * moved), (to, sign * moved)):
                booker.schedule(
                    line=line,
                    period=period,
                    source=source,
                    amount=piece,
                    kind=RowKind.CONVERSION,
                    inbound_id=inbound_id,
                    held=held,
                    currency=currency,
                )
                state.add(period, source, piece)
        return moved

    for period in sorted(merged):
        leftover += merged[period] - move(period, merged[period])
    if leftover > 0:
        order = state.periods(frm)
        for period in order if to_inv else reversed(order):
            leftover -= move(period, leftover)
            if leftover <= 0:
                break


def billing_initial_book(
    *, booker: Booker, line: SoLine, tran_type: str, amount: Decimal, inbound_id: int | None
) -> None:
    """S4: INV → AR Dr / CL Cr; credit memos → CL Dr / AR Cr (their ESP is negative, so the
    same pair with the sign swapped), in the open period."""
    booker.entry(
        line=line,
        period=booker.open,
        source_type=tran_type,
        entry_type=EntryType.INITIAL,
        dr=AR,
        cr=CL,
        amount=amount,
        inbound_id=inbound_id,
    )
