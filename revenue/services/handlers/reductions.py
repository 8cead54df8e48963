"""RORD, CM-R and CM-RO lines (P1–P9): what reductions, returns and their credits do to
the original line."""

from __future__ import annotations

from decimal import Decimal

from ...models import InboundLine, SoLine
from ...models.choices import YesNo
from ..reductions import line_reduced, reduction_book, reduction_qty_months
from ..refusals import LineRefusal
from .billing import billing_entry
from .checks import line_target
from .context import BatchContext


def rord_collect(batch: BatchContext, line: InboundLine) -> list[LineRefusal]:
    """P1–P4, P7: the reversal of the original line, then its contra AR."""
    so, refusals = line_target(batch, line)
    if so is None:
        return refusals
    _reduce(batch, line, so, rord=True, qty=line.ord_qty)
    batch.contra.on_rord(line=so, inbound=line)
    return []


def cm_r_collect(batch: BatchContext, line: InboundLine) -> list[LineRefusal]:
    """P5: a return credit reverses the line like a RORD (no source conversion: its
    reversal takes billed revenue first, P4) and books its billing entry (S4)."""
    so, refusals = line_target(batch, line)
    if so is None:
        return refusals
    qty = line.inv_qty if line.inv_qty is not None else line.ord_qty
    if so.return_flag != YesNo.YES:
        _reduce(batch, line, so, rord=False, qty=qty)
    if qty:
        so.returned_qty += abs(Decimal(qty))
        if so.quantity and so.returned_qty >= abs(so.quantity) and so.return_flag != YesNo.YES:
            so.return_flag = YesNo.YES  # P5: the whole quantity is back
            so.ssp_pct = so.ssp_price = None
        batch.changed(so)
    billing_entry(batch, line, so)
    return []


def cm_ro_collect(batch: BatchContext, line: InboundLine) -> list[LineRefusal]:
    """S4 and P8: the billing entry and the contra it reverses; never the release (P9)."""
    so, refusals = line_target(batch, line)
    if so is None:
        return refusals
    billing_entry(batch, line, so)
    if batch.contra.on_cm_ro(line=so, inbound=line, amount=abs(Decimal(line.ext_sll_prc))):
        batch.changed(so)
    return []


def _reduce(batch: BatchContext, line, so: SoLine, *, rord: bool, qty) -> None:
    """P2–P4: the reversal of the reduced periods, and the running totals on the line."""
    result = reduction_book(
        booker=batch.booker,
        line=so,
        state=batch.state_of(so),
        amount=abs(Decimal(line.ext_sll_prc)),
        start=line.start_date,
        end=line.end_date,
        inbound_id=line.pk,
    )
    months = reduction_qty_months(qty=qty, start=line.start_date, end=line.end_date, line=so)
    elp = Decimal(line.ext_lst_prc) if line.ext_lst_prc is not None else None
    line_reduced(line=so, result=result, elp=elp, qty_months=months, rord=rord)
    batch.changed(so)
    batch.carve_event(so, line)
