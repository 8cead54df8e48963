"""SO lines: a new line and its release schedule (S6–S8), an SO update (S11, V9)."""

from __future__ import annotations

from ...models import InboundLine
from ..ledger import so_update_book
from ..refusals import LineRefusal
from ..solines import so_line_new, so_values
from ..validation import V9
from .context import BatchContext

SO_FIELDS = (
    "so_num",
    "so_date",
    "customer",
    "item",
    "f_cur",
    "quantity",
    "ext_lst_prc",
    "ext_sll_prc",
    "rev_method",
    "start_date",
    "end_date",
    "ssp_pct",
    "ssp_price",
)
SCHEDULE_FIELDS = ("ext_sll_prc", "rev_method", "start_date", "end_date")


def so_collect(batch: BatchContext, line: InboundLine) -> list[LineRefusal]:
    so = batch.so_lines.get(line.so_line_id)
    if so is None:
        return _so_new(batch, line)
    values = so_values(line)
    changed = {name for name in SO_FIELDS if getattr(so, name) != values[name]}
    if not changed:
        return []  # S11: the same SO again changes nothing
    if refusal := _v9_below_reductions(batch, so, values):
        return [refusal]
    if so.pk is None:
        # created earlier in this batch: its schedule is written first, then read (S11
        # books the difference against what the line holds)
        batch.new_lines_write()
    old = {
        "amount": so.ext_sll_prc.amount,
        "method": so.rev_method,
        "start": so.start_date,
        "end": so.end_date,
    }
    for name in changed:
        setattr(so, name, values[name])
    if {"start_date", "end_date"} & changed and not so.dates_changed:
        so.rev_start_date, so.rev_end_date = so.start_date, so.end_date
    batch.changed(so)
    batch.carve_event(so, line)
    if set(SCHEDULE_FIELDS) & changed:
        so_update_book(
            booker=batch.booker,
            line=so,
            state=batch.state_of(so),
            old=old,
            inbound_id=line.pk,
        )
    return []


def _so_new(batch: BatchContext, line: InboundLine) -> list[LineRefusal]:
    """A new line; its release schedule (S6–S8) is written set-based with the batch's
    other new lines (``BatchContext.new_lines_write``)."""
    so = so_line_new(line, contract_id=batch.contracts[batch.key_of(line)])
    batch.new_lines.append(so)
    batch.releases.append((so, line.pk))
    batch.so_lines[so.so_line_id] = so
    if so.ssp_pct is not None or so.ssp_price is not None:
        batch.touched.add(so.contract_id)
        batch.carve_event(so, line)
    return []


def _v9_below_reductions(batch: BatchContext, so, values: dict) -> LineRefusal | None:
    """V9: an SO update may not sell less than what reductions already took off the line."""
    rule = batch.checks.rules.get(V9)
    reduced = so.rord_sll_prc + so.cmr_sll_prc
    if rule is None or values["ext_sll_prc"].amount + reduced >= 0:
        return None
    return LineRefusal.stop(
        code=rule.code,
        rule=rule.rule,
        field="EXT_SLL_PRC",
        detail=f"SO update of {so.so_line_id} to {values['ext_sll_prc'].amount} "
        f"is below what reductions already took off the line ({-reduced})",
    )
