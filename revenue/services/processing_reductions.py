"""Collecting RORD, CM-R and CM-RO lines (P1–P9) and reallocating the contracts a batch
changed (A4): the part of ``BatchProcessor`` that reduces lines."""

from __future__ import annotations

from decimal import Decimal

from ..models import InboundLine, SoLine
from .allocation import contract_allocate
from .reductions import line_reduced, reduction_book, reduction_qty_months
from .solines import so_lines_read


class ReductionHandlers:
    """Mixed into ``BatchProcessor``: uses its booker, states, contra book and lines."""

    def _reduce(self, line, so: SoLine, *, rord: bool, qty):
        result = reduction_book(
            booker=self.booker,
            line=so,
            state=self.states[so.so_line_id],
            amount=abs(Decimal(line.ext_sll_prc)),
            start=line.start_date,
            end=line.end_date,
            inbound_id=line.pk,
        )
        months = reduction_qty_months(qty=qty, start=line.start_date, end=line.end_date, line=so)
        elp = Decimal(line.ext_lst_prc) if line.ext_lst_prc is not None else None
        line_reduced(line=so, result=result, elp=elp, qty_months=months, rord=rord)
        self._changed(so)
        return result

    def _collect_rord(self, line: InboundLine) -> list:
        """P1–P4, P7: the reversal of the original line, then its contra AR."""
        so, errors = self._target(line)
        if so is None:
            return errors
        self._reduce(line, so, rord=True, qty=line.ord_qty)
        self.contra.on_rord(line=so, inbound=line)
        return []

    def _collect_cm_r(self, line: InboundLine) -> list:
        """P5: a return credit reverses the line like a RORD (no source conversion: its
        reversal takes billed revenue first, P4) and books its billing entry (S4)."""
        so, errors = self._target(line)
        if so is None:
            return errors
        qty = line.inv_qty if line.inv_qty is not None else line.ord_qty
        if so.return_flag != "Y":
            self._reduce(line, so, rord=False, qty=qty)
        if qty:
            so.returned_qty += abs(Decimal(qty))
            if so.quantity and so.returned_qty >= abs(so.quantity) and so.return_flag != "Y":
                so.return_flag = "Y"  # P5: the whole quantity is back
                so.ssp_pct = so.ssp_price = None
            self._changed(so)
        self._initial(line, so, Decimal(line.ext_sll_prc))
        return []

    def _collect_cm_ro(self, line: InboundLine) -> list:
        """S4 and P8: the billing entry and the contra it reverses; never the release (P9)."""
        so, errors = self._target(line)
        if so is None:
            return errors
        amount = Decimal(line.ext_sll_prc)
        self._initial(line, so, amount)
        if self.contra.on_cm_ro(line=so, inbound=line, amount=abs(amount)):
            self._changed(so)
        return []

    def _allocate(self) -> None:
        """A4: every contract this batch changed, with all its lines."""
        if not self.touched:
            return
        known = {so.pk for so in self.so_lines.values() if so.pk}
        members: dict[int, list[SoLine]] = {}
        for so in self.so_lines.values():
            if so.contract_id in self.touched:
                members.setdefault(so.contract_id, []).append(so)
        others = SoLine.objects.filter(contract_id__any=self.touched).exclude(pk__any=known)
        for so in so_lines_read(others):
            members.setdefault(so.contract_id, []).append(so)
            self.so_lines[so.so_line_id] = so
        for lines in members.values():
            for so in contract_allocate(lines):
                if so.pk:
                    self.reallocated[so.so_line_id] = so  # A4 only: its three columns
