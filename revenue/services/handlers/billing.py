"""INV and CM lines: the billing entry (S4) and the conversion of the billed periods'
revenue from the SO source to the billing source (S9)."""

from __future__ import annotations

from decimal import Decimal

from ...models import InboundLine
from ..billing_book import billing_convert, billing_initial_book
from ..refusals import LineRefusal
from .checks import line_target
from .context import BatchContext


def billing_collect(batch: BatchContext, line: InboundLine) -> list[LineRefusal]:
    so, refusals = line_target(batch, line)
    if so is None:
        return refusals
    if line.start_date and line.end_date:
        start, end = line.start_date, line.end_date
    else:
        start, end = so.rev_start_date, so.rev_end_date
    amount = Decimal(line.ext_sll_prc)
    billing_convert(
        booker=batch.booker,
        line=so,
        state=batch.state_of(so),
        amount=amount,
        start=start,
        end=end,
        inbound_id=line.pk,
    )
    billing_entry(batch, line, so)
    return []


def billing_entry(batch: BatchContext, line: InboundLine, so) -> None:
    """S4: the line's AR entry, in the open period."""
    billing_initial_book(
        booker=batch.booker,
        line=so,
        tran_type=line.tran_type,
        amount=Decimal(line.ext_sll_prc),
        inbound_id=line.pk,
    )
