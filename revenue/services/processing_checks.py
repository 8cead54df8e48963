"""What a staged line must wait for or is a repeat of before it is booked (I7, I9, V12,
V13): the part of ``BatchProcessor`` that decides whether a line is booked at all."""

from __future__ import annotations

from django.db.models import Q

from ..models import InboundLine, SoLine
from ..models.choices import COLLECTION_PHASES, LineStatus, TranType
from .refusals import LineRefusal
from .validation import V13, WAITING

# I7: the types collected in the phases before each type's phase
EARLIER = {
    kind: frozenset(k for before in COLLECTION_PHASES[:index] for k in before)
    for index, phase in enumerate(COLLECTION_PHASES)
    for kind in phase
}


class LineChecks:
    """Mixed into ``BatchProcessor``: uses its ``seen``, ``behind``, ``ctx`` and lines."""

    def _behind(self, line) -> set[str]:
        """I7 across runs: the earlier-phase types of the same SO line still staged (NEW, or
        waiting): another run skipped them because it held their contract, or they were
        staged during this run. The line waits and is retried after them, at the next run:
        booked before its invoice, a RORD would miss it in its contra (P7)."""
        pending = self.behind.get(line.ref_line_id)
        return pending & EARLIER.get(line.tran_type, frozenset()) if pending else set()

    def _behind_error(self, line) -> dict:
        kinds = ", ".join(sorted(self._behind(line)))
        field = "ORIG_SO_LINE_ID" if line.tran_type in (TranType.RORD, TranType.CM_RO) else ""
        return LineRefusal.stop(
            code=WAITING,
            rule="I7",
            field=field or "SO_LINE_ID",
            detail=f"SO line {line.ref_line_id} has a staged {kinds} line that is not "
            f"collected yet; this {line.tran_type} line waits for it",
        ).as_dict()

    def _booked_before(self, line) -> bool:
        """I9: the same line (type, id and content) was collected before, by an earlier run
        or earlier in this batch: it is collected again without validation or booking. V9
        and V10 judge a *new* reduction against what remains, so they would stop the very
        reduction that left the line so."""
        if line.tran_type in (TranType.SO, "") or not line.line_key:
            return False
        return self.seen.get((line.tran_type, line.line_key)) == line.content_hash

    def _already(self, line) -> list | None:
        """None: a line id not booked before. [error]: the same id with other values (V13
        across batches); the same id with the same values never gets here (``_booked_before``)."""
        if self.seen.get((line.tran_type, line.line_key)) is None:
            return None
        rule = self.ctx.rules.get(V13)
        if rule is None:
            return None
        field = "SO_LINE_ID" if line.tran_type == TranType.RORD else "INV_LINE_ID"
        return [
            LineRefusal.stop(
                code=rule.code,
                rule=rule.rule,
                field=field,
                detail=f"{line.tran_type} {line.line_key} was already collected with "
                "different values",
            ).as_dict()
        ]

    def _target(self, line) -> tuple[SoLine | None, list]:
        """The SO line a billing line or reduction books on; or None and what to return:
        [] for the same line again, or the errors that stop it."""
        done = self._already(line)
        if done is not None:
            return None, done
        so, errors = self._so_line(line)
        if so is not None:  # booked now: the same line later in the batch is a repeat
            self.seen[(line.tran_type, line.line_key)] = line.content_hash
        return so, errors

    def _so_line(self, line) -> tuple[SoLine | None, list]:
        so = self.so_lines.get(line.ref_line_id)
        if so is not None:
            return so, []
        # V12 switched off: the line still cannot be booked without its SO line
        field = "ORIG_SO_LINE_ID" if line.tran_type in (TranType.RORD, TranType.CM_RO) else ""
        return None, [
            LineRefusal.stop(
                code=WAITING,
                rule="V12",
                field=field or "SO_LINE_ID",
                detail=f"SO line {line.ref_line_id or '?'} is not collected: the line waits "
                "for it even with V12 switched off",
            ).as_dict()
        ]


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
