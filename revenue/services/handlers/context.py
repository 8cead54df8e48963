"""The state of one batch under collection, as one explicit object the handlers share.

``BatchContext`` holds what the batch read (its lines, their SO lines and states, the
contracts it locked, the lines already collected), what the handlers book (the booker,
the contra book) and what collection writes at the end (new and changed SO lines, the
collected and stopped lines, the contracts to reallocate).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ...models import InboundLine, SoLine
from ...models.choices import LineStatus, TranType
from ..carve import CarveEvent
from ..contra import ContraBook
from ..ledger import Booker, LineState, states_load
from ..releases_sql import NewRelease, releases_insert
from ..solines import so_lines_insert
from ..validation import ValidationContext
from .checks import pending_before


@dataclass
class BatchContext:
    run: object  # the CollectionRun
    lines: list  # StagedLine, in staging order
    so_lines: dict[str, SoLine]  # SO_LINE_ID → the line, read or created in this batch
    contracts: dict[str, int]  # contract key → id, the contracts this batch locked (I10)
    key_of: Callable  # staged line → its contract key
    booker: Booker
    contra: ContraBook
    checks: ValidationContext  # what the V rules read
    states: dict[str, LineState]  # SO_LINE_ID → the line's schedule (open and future)
    seen: dict[tuple[str, str], str]  # (type, line key) → content hash, collected (I9)
    behind: dict[str, set[str]]  # SO_LINE_ID → earlier-phase types still staged (I7)
    new_lines: list[SoLine] = field(default_factory=list)  # not inserted yet
    releases: list[tuple[SoLine, int]] = field(default_factory=list)  # (new line, inbound)
    updated: dict[str, SoLine] = field(default_factory=dict)
    reallocated: dict[str, SoLine] = field(default_factory=dict)  # changed by A4 only
    touched: set[int] = field(default_factory=set)  # contracts to reallocate (A4)
    # contract id → the lines collected in it that may move its carve (carve.md K4)
    carve_events: dict[int, list[CarveEvent]] = field(default_factory=dict)
    # contract id → all its lines as A4 read them when it is in carve's scope (K1), else None
    carve_lines: dict[int, list[SoLine] | None] = field(default_factory=dict)
    collected: list[int] = field(default_factory=list)
    collected_so: list[SoLine | None] = field(default_factory=list)  # of each collected line
    stopped: list[InboundLine] = field(default_factory=list)
    counts: Counter = field(default_factory=lambda: Counter(collected=0, stopped=0, waiting=0))

    @classmethod
    def load(
        cls, *, run, open_period, rules, lines, so_lines, contracts, key_of, contra: bool
    ) -> BatchContext:
        """The batch's reads: states of its SO lines, what was collected before, what is
        still staged ahead of it, the contra entries of its reductions."""
        booker = Booker(open_period=open_period)
        ids = [so.pk for so in so_lines.values()]
        existing = states_load(line_ids=ids, open_period=open_period)
        book = ContraBook(booker=booker, enabled=contra)
        by_type = {kind: set() for kind in (TranType.RORD, TranType.CM_RO)}
        for line in lines:
            so = so_lines.get(line.ref_line_id)
            if so is not None and line.tran_type in by_type:
                by_type[line.tran_type].add(so.pk)
        book.load(
            rord_lines=sorted(by_type[TranType.RORD]), cm_ro_lines=sorted(by_type[TranType.CM_RO])
        )
        return cls(
            run=run,
            lines=lines,
            so_lines=so_lines,
            contracts=contracts,
            key_of=key_of,
            booker=booker,
            contra=book,
            checks=ValidationContext.load(lines=lines, so_lines=so_lines, rules=rules),
            states={so.so_line_id: existing[so.pk] for so in so_lines.values()},
            seen=_seen_keys(lines),
            behind=pending_before(lines),
        )

    def new_lines_write(self) -> None:
        """Insert the new SO lines and write their release schedules set-based (S6–S8):
        at the end of the batch, or before an SO update of a line created earlier in it."""
        if self.new_lines:
            so_lines_insert(self.new_lines)
            self.new_lines = []
        if not self.releases:
            return
        releases_insert(
            releases=[NewRelease.of(so, inbound_id=pk) for so, pk in self.releases],
            open_period=self.booker.open,
        )
        self.releases = []

    def state_of(self, so: SoLine) -> LineState:
        """The schedule of ``so`` in the open and future periods: read with the batch, or
        from its rows once they are written (a line created earlier in the batch)."""
        state = self.states.get(so.so_line_id)
        if state is None:
            state = states_load(line_ids=[so.pk], open_period=self.booker.open)[so.pk]
            self.states[so.so_line_id] = state
        return state

    def carve_event(self, so: SoLine, line) -> None:
        """``line`` (SO, SO update, RORD, CM-R) changed ``so``: its contract's carve is
        placed and rebuilt after the batch's writes (carve.md K4, K6, K7)."""
        self.carve_events.setdefault(so.contract_id, []).append(
            CarveEvent(
                kind=line.tran_type,
                line_id=so.so_line_id,
                inbound_id=line.pk,
                inbound_so_line_id=line.so_line_id or so.so_line_id,
            )
        )

    def changed(self, so: SoLine) -> None:
        """``so`` changed: its contract is reallocated (A4) and an existing line saved."""
        self.touched.add(so.contract_id)
        if so.pk:
            self.updated[so.so_line_id] = so


def _seen_keys(lines) -> dict[tuple[str, str], str]:
    """The content of lines of the batch's types and ids that are already collected: a
    billing line or a RORD sent again is booked once (I9)."""
    kinds = {line.tran_type for line in lines} - {TranType.SO, ""}
    if not kinds:
        return {}
    keys = {line.line_key for line in lines if line.tran_type in kinds}
    rows = InboundLine.objects.filter(
        tran_type__in=kinds, line_key__any=keys, status=LineStatus.COLLECTED
    ).values_list("tran_type", "line_key", "content_hash")
    return {(t, k): h for t, k, h in rows}
