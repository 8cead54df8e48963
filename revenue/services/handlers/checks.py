"""Whether a staged line is booked at all: what it waits for (I7, V12) and whether it is
a repeat (I9, V13). Functions of the batch context, called by the handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from ...models import InboundLine, SoLine
from ...models.choices import COLLECTION_PHASES, LineStatus, TranType
from ..refusals import LineRefusal
from ..validation import V13, WAITING

if TYPE_CHECKING:
    from .context import BatchContext

# I7: the types collected in the phases before each type's phase
EARLIER = {
    kind: frozenset(k for before in COLLECTION_PHASES[:index] for k in before)
    for index, phase in enumerate(COLLECTION_PHASES)
    for kind in phase
}


def _ref_field(line) -> str:
    return "ORIG_SO_LINE_ID" if line.tran_type in (TranType.RORD, TranType.CM_RO) else "SO_LINE_ID"


def line_behind(batch: BatchContext, line) -> LineRefusal | None:
    """I7 across runs: the earlier-phase types of the same SO line still staged (NEW, or
    waiting): another run skipped them because it held their contract, or they were
    staged during this run. The line waits and is retried after them, at the next run:
    booked before its invoice, a RORD would miss it in its contra (P7)."""
    pending = batch.behind.get(line.ref_line_id)
    kinds = pending & EARLIER.get(line.tran_type, frozenset()) if pending else set()
    if not kinds:
        return None
    return LineRefusal.stop(
        code=WAITING,
        rule="I7",
        field=_ref_field(line),
        detail=f"SO line {line.ref_line_id} has a staged {', '.join(sorted(kinds))} line that "
        f"is not collected yet; this {line.tran_type} line waits for it",
    )


def line_booked_before(batch: BatchContext, line) -> bool:
    """I9: the same line (type, id and content) was collected before, by an earlier run
    or earlier in this batch: it is collected again without validation or booking. V9
    and V10 judge a *new* reduction against what remains, so they would stop the very
    reduction that left the line so."""
    if line.tran_type in (TranType.SO, "") or not line.line_key:
        return False
    return batch.seen.get((line.tran_type, line.line_key)) == line.content_hash


def line_target(batch: BatchContext, line) -> tuple[SoLine | None, list[LineRefusal]]:
    """The SO line a billing line or reduction books on; or None and what stops it:
    nothing for the same line again, V13 for the same id with other values, V12 (waiting)
    for an SO line not collected."""
    rule = batch.checks.rules.get(V13)
    if rule is not None and batch.seen.get((line.tran_type, line.line_key)) is not None:
        # V13 across batches: the same id with the same values never gets here (I9)
        field = "SO_LINE_ID" if line.tran_type == TranType.RORD else "INV_LINE_ID"
        return None, [
            LineRefusal.stop(
                code=rule.code,
                rule=rule.rule,
                field=field,
                detail=f"{line.tran_type} {line.line_key} was already collected with "
                "different values",
            )
        ]
    so = batch.so_lines.get(line.ref_line_id)
    if so is None:
        # V12 switched off: the line still cannot be booked without its SO line
        return None, [
            LineRefusal.stop(
                code=WAITING,
                rule="V12",
                field=_ref_field(line),
                detail=f"SO line {line.ref_line_id or '?'} is not collected: the line waits "
                "for it even with INB-004 switched off",
            )
        ]
    # booked now: the same line later in the batch is a repeat (I9)
    batch.seen[(line.tran_type, line.line_key)] = line.content_hash
    return so, []


def pending_before(lines) -> dict[str, set[str]]:
    """SO line id → the earlier-phase types (I7) it still has staged and not collected:
    NEW (not taken yet) or stopped as waiting. One query per batch; none for SO lines."""
    earlier = set().union(*(EARLIER.get(line.tran_type, ()) for line in lines))
    refs = {line.ref_line_id for line in lines if line.ref_line_id}
    if not earlier or not refs:
        return {}
    rows = (
        InboundLine.objects.filter(ref_line_id__any=refs, tran_type__in=earlier)
        .exclude(status=LineStatus.COLLECTED)  # the predicate of index inbound_open_ref
        .filter(Q(status=LineStatus.NEW) | Q(status=LineStatus.ERROR, waiting=True))
        .values_list("ref_line_id", "tran_type")
        .distinct()
    )
    pending: dict[str, set[str]] = {}
    for ref, kind in rows:
        pending.setdefault(ref, set()).add(kind)
    return pending
