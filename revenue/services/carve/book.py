"""Carve accounting against the ledger (carve.md K3–K7): which contracts, which treatment,
and the differences booked, in the transaction of the change that caused them (K4, I9).

Two doors: ``carve_after_batch`` (a collection batch: its SO, SO update, RORD and CM-R
lines are the events) and ``carve_rebuild`` (a hold, release or date change). A contract
without an SSP and without booked carve costs one query per batch and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, Max, OuterRef, Q

from core.services import currency_exponent

from ...models import CarveEntry, Period, SoLine, Treatment
from ...models.choices import TranType
from ..settings import profile_get
from ..splits import from_minor
from .load import ContractCarve, contracts_read
from .targets import LineCarve, prospective_place
from .writer import CarveWriter

REDUCTIONS = (TranType.RORD, TranType.CM_R)


def carve_in_scope(so: SoLine) -> bool:
    """K1: a line with an SSP or a carve puts its contract in carve's scope."""
    values = so.__dict__
    return (
        values["ssp_pct"] is not None
        or values["ssp_price"] is not None
        or values["carve"] is not None
    )


@dataclass(frozen=True)
class CarveEvent:
    """A collected line that may move a contract's allocation (K4, K6, K7)."""

    kind: str  # SO (new or update), RORD, CM-R
    line_id: str  # the SO line it changed
    inbound_id: int
    inbound_so_line_id: str  # its own SO_LINE_ID (a RORD's, not the original's)

    @property
    def trigger(self) -> str:
        """K9's TRIGGER: the inbound line's SO_LINE_ID and staging ID."""
        return f"{self.inbound_so_line_id}#{self.inbound_id}"


def carve_contracts(contract_ids) -> list[int]:
    """K1: the contracts with an SSP on a line, a carve, or carve booked."""
    ids = sorted(set(contract_ids))
    if not ids:
        return []
    # carve booked is read through its lines (the carve rows' line index): the rows keep
    # no index on their contract
    booked = Exists(CarveEntry.objects.filter(line_id=OuterRef("pk")))
    in_scope = SoLine.objects.filter(contract_id__any=ids).filter(
        Q(ssp_pct__isnull=False) | Q(ssp_price__isnull=False) | Q(carve__isnull=False) | booked
    )
    return sorted(set(in_scope.values_list("contract_id", flat=True).distinct()))


def last_closed_period() -> int | None:
    return Period.objects.filter(status=Period.Status.CLOSED).aggregate(last=Max("id"))["last"]


def carve_after_batch(
    *,
    events: dict[int, list[CarveEvent]],
    open_period: int,
    lines: dict[int, list[SoLine] | None] | None = None,
) -> int:
    """K4, K6, K7 for the contracts a collection batch changed; returns the carve rows
    booked. ``events``: contract id → its events, in staging order. ``lines``: contract id
    → all its lines (``CARVE_LINE_COLUMNS`` at least, as the batch holds them after its
    writes) if it is in carve's scope (K1), None if not, as A4 found them; for a contract
    it does not name, the scope and the lines are read."""
    lines = lines or {}
    held = sorted(pk for pk in events if lines.get(pk) is not None)
    ids = sorted({*held, *carve_contracts([pk for pk in events if pk not in lines])})
    if not ids:
        return 0
    closed = last_closed_period()
    profile = profile_get("REDUCTION_TREATMENT") or Treatment.PROSPECTIVE
    writer = CarveWriter(open_period=open_period)

    def place(contract: ContractCarve) -> None:  # no query: see CarveWriter
        happened = events[contract.pk]
        treatment = _treatment(contract, happened, profile=profile, closed=closed, now=open_period)
        last = happened[-1]
        if treatment == Treatment.PROSPECTIVE:
            changed = contract.by_line_id(last.line_id)
            _prospective(contract, writer, closed=closed, changed=changed.pk if changed else None)
        writer.version(
            contract,
            treatment=treatment,
            closed=closed,
            trigger=last.trigger,
            inbound=last.inbound_id,
        )
        writer.book(contract, closed=closed, trigger=last.trigger, inbound=last.inbound_id)

    read = contracts_read(ids, lines={pk: lines[pk] for pk in held})
    return writer.write(read.contracts(), place)


def carve_rebuild(*, contract_id: int, open_period: int, trigger: str) -> int:
    """K4 after a hold, release or date change of a line of ``contract_id``: the same
    allocation, the targets of its latest version, the differences booked."""
    if not carve_contracts([contract_id]):
        return 0
    writer = CarveWriter(open_period=open_period)
    closed = last_closed_period()

    def place(contract: ContractCarve) -> None:
        writer.book(contract, closed=closed, trigger=trigger, inbound=None)

    return writer.write(contracts_read([contract_id]).contracts(), place)


def _treatment(contract: ContractCarve, events, *, profile: str, closed, now: int) -> str:
    """K6 or K7. Once prospective, always (K7 step 7). K7 takes a RORD or CM-R of a contract
    whose first period has closed, under the PROSPECTIVE profile, that gives back nothing
    released in closed periods; everything else is re-shared retrospectively (K6)."""
    if contract.treatment == Treatment.PROSPECTIVE:
        return Treatment.PROSPECTIVE
    reductions = [e for e in events if e.kind in REDUCTIONS]
    if not reductions or profile != Treatment.PROSPECTIVE or closed is None:
        return Treatment.RETROSPECTIVE
    first = contract.first_period()
    if first is None or closed < first:
        return Treatment.RETROSPECTIVE  # before the contract's first period closes
    for event in reductions:
        line = contract.by_line_id(event.line_id)
        if line is not None and line.released_through(now) < line.released_through(closed):
            return Treatment.RETROSPECTIVE  # a concession on delivered performance
    return Treatment.PROSPECTIVE


def _prospective(contract: ContractCarve, writer: CarveWriter, *, closed, changed) -> None:
    """K7 steps 1–5 per currency (K8); the lines' allocation columns follow."""
    groups: dict[str, list[LineCarve]] = defaultdict(list)
    for so in contract.lines:
        groups[contract.carves[so.pk].currency].append(contract.carves[so.pk])
    for group in groups.values():
        placement = prospective_place(group, closed=closed, changed=changed)
        for line in group:
            line.carve = placement.carve.get(line.pk) if line.pk in placement.scope else None
            line.residual = placement.residual.get(line.pk, 0)
    for so in contract.lines:
        line = contract.carves[so.pk]
        exponent = currency_exponent(line.currency)
        carve = None if line.carve is None else from_minor(line.carve, exponent)
        ssp = None if line.ext_ssp is None else from_minor(line.ext_ssp, exponent)
        allocated = None
        if carve is not None and not line.returned and ssp is not None:
            allocated = from_minor(line.net, exponent) + carve
        writer.allocation(
            so,
            ext_ssp=ssp,
            allocated=allocated,
            carve=carve,
            residual=from_minor(line.residual, exponent),
        )
    writer.contract(contract.pk, treatment=Treatment.PROSPECTIVE, since=closed)
    contract.treatment, contract.since = Treatment.PROSPECTIVE, closed
