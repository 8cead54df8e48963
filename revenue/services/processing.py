"""Collecting one batch held in memory: each line through its checks and its type's
handler (``handlers``), A4 for the contracts it changed, then the batch's writes."""

from __future__ import annotations

from django.db import connection
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from core.lookups import array_param

from ..models import InboundLine, RevenueContract, SoLine, Treatment
from ..models.choices import LineStatus
from .allocation import ALLOCATION_FIELDS, contract_allocate
from .bulk import instances_update
from .carve import CARVE_LINE_COLUMNS, carve_after_batch, carve_in_scope
from .handlers import HANDLERS, BatchContext
from .handlers.checks import line_behind, line_booked_before
from .handlers.so import SO_FIELDS
from .solines import so_lines_read
from .validation import WAITING, line_errors

# what collection may change on an existing SO line (an SO update, a reduction, A4)
UPDATED_FIELDS = (
    *SO_FIELDS,
    "rev_start_date",
    "rev_end_date",
    "return_flag",
    "rord_sll_prc",
    "cmr_sll_prc",
    "reduced_lst_prc",
    "reduced_qty_months",
    "returned_qty",
    "contra_balance",
    "ext_ssp",
    "allocated",
    "carve",
    "updated_at",
)
# The staging columns collection reads: every typed value, not the raw row (I2) nor the
# results of earlier runs. ``StagedLine`` carries them under the model's attribute names.
STAGED_FIELDS = (
    "id",
    "batch_id",
    "parse_errors",
    "tran_type",
    "so_num",
    "so_line_id",
    "orig_so_line_id",
    "so_date",
    "inv_num",
    "inv_line_id",
    "inv_date",
    "customer",
    "item",
    "ord_qty",
    "inv_qty",
    "ext_lst_prc",
    "ext_sll_prc",
    "curr",
    "f_cur",
    "start_date",
    "end_date",
    "rev_method",
    "rc_key",
    "ssp_pct",
    "ssp_price",
    "cancel_flag",
    "return_flag",
    "rord_review_completed",
    "line_key",
    "ref_line_id",
    "content_hash",
    "status",
)
STOPPED_FIELDS = ("status", "errors", "error_codes", "waiting", "retry", "run")


class StagedLine:
    """A staged line as collection reads it (``STAGED_FIELDS``), without a model instance:
    a million of them cost a dict each instead of a Django model each."""

    def __init__(self, values: dict):
        self.__dict__ = values

    @property
    def pk(self) -> int:
        return self.id

    @classmethod
    def rows(cls, rows) -> list[StagedLine]:
        return [cls(dict(zip(STAGED_FIELDS, row, strict=True))) for row in rows]


def batch_collect(batch: BatchContext) -> None:
    """Each line of the batch through its checks and its type's handler, then A4 for the
    contracts the batch changed."""
    for line in batch.lines:
        if line_booked_before(batch, line):
            refusals = []  # I9: the same transaction again, booked once already
        elif waiting := line_behind(batch, line):
            refusals = [waiting.as_dict()]
        else:
            refusals = line_errors(line, batch.checks)
            if not refusals:
                refusals = [r.as_dict() for r in HANDLERS[line.tran_type](batch, line)]
        if refusals:
            _stop(batch, line, refusals)
        else:
            batch.collected.append(line.pk)
            batch.collected_so.append(batch.so_lines.get(line.ref_line_id))
            batch.counts["collected"] += 1
    _allocate(batch)


def _stop(batch: BatchContext, line, refusals: list[dict]) -> None:
    codes = list(dict.fromkeys(e["code"] for e in refusals))
    line.status = LineStatus.ERROR
    line.errors = refusals
    line.error_codes = ";".join(codes)[:255]
    line.waiting = WAITING in codes
    line.retry = False
    line.run = batch.run
    batch.stopped.append(line)
    batch.counts["waiting" if codes == [WAITING] else "stopped"] += 1


def _allocate(batch: BatchContext) -> None:
    """A4: every contract this batch changed, with all its lines. Whether each is in
    carve's scope (K1: an SSP or a carve on a line, or carve placed before) and, if so,
    its lines are kept for the carve step after the batch's writes (``carve_lines``)."""
    if not batch.touched:
        return
    known = {so.pk for so in batch.so_lines.values() if so.pk}
    members: dict[int, list[SoLine]] = {}
    for so in batch.so_lines.values():
        if so.contract_id in batch.touched:
            members.setdefault(so.contract_id, []).append(so)
    others = SoLine.objects.filter(contract_id__any=batch.touched).exclude(pk__any=known)
    for so in so_lines_read(others, columns=CARVE_LINE_COLUMNS):  # A4 and carve read no more
        members.setdefault(so.contract_id, []).append(so)
    placed = dict(
        RevenueContract.objects.filter(pk__any=batch.touched)
        .exclude(treatment="")
        .values_list("pk", "treatment")
    )
    for contract_id, lines in members.items():
        scope = contract_id in placed or any(map(carve_in_scope, lines))
        batch.carve_lines[contract_id] = lines if scope else None
    # carve.md K7 step 7: a contract with a prospective version is never re-shared by A3;
    # the carve step places its changes after the batch's writes
    for contract_id, treatment in placed.items():
        if treatment == Treatment.PROSPECTIVE:
            members.pop(contract_id, None)
    for lines in members.values():
        for so in contract_allocate(lines):
            if so.pk:
                batch.reallocated[so.so_line_id] = so  # A4 only: its three columns


def batch_write(batch: BatchContext) -> None:
    """What the batch booked, set-based: new and changed SO lines, schedule rows and
    journal entries, contra entries, then the staged lines' status."""
    batch.new_lines_write()
    now = timezone.now()
    reallocated = {k: v for k, v in batch.reallocated.items() if k not in batch.updated}
    for lines, fields in (
        (batch.updated, _updated_fields(UPDATED_FIELDS)),
        (reallocated, _allocation),
    ):
        if lines:
            for so in lines.values():
                so.updated_at = now
            instances_update(model=SoLine, objects=list(lines.values()), fields=fields())
    batch.booker.flush()
    batch.contra.write()
    if batch.carve_events:
        # carve.md K4: in the batch's transaction, over the schedules it just wrote
        carve_after_batch(
            events=batch.carve_events, open_period=batch.booker.open, lines=batch.carve_lines
        )
    if batch.collected:
        _mark_collected(batch, now=timezone.now())
    if batch.stopped:
        InboundLine.objects.bulk_update(
            [_stopped_row(line) for line in batch.stopped], list(STOPPED_FIELDS)
        )


def _mark_collected(batch: BatchContext, *, now) -> None:
    """COLLECTED, linked to the SO line (I9: in the batch's transaction). On PostgreSQL
    one UPDATE … FROM unnest() with the SO line ids this batch already knows; a line
    whose SO line it does not know looks it up by ``ref_line_id``, like elsewhere."""
    if connection.vendor != "postgresql":
        link = SoLine.objects.filter(so_line_id=OuterRef("ref_line_id")).values("pk")[:1]
        InboundLine.objects.filter(pk__in=batch.collected).update(
            status=LineStatus.COLLECTED,
            line=Subquery(link),
            collected_at=now,
            errors=[],
            error_codes="",
            waiting=False,
            retry=False,
            run=batch.run,
        )
        return
    table = InboundLine._meta.db_table
    so_table = SoLine._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} AS i
            SET status = %s,
                line_id = coalesce(
                    v.line_id,
                    (SELECT s.id FROM {so_table} s WHERE s.so_line_id = i.ref_line_id LIMIT 1)
                ),
                collected_at = %s, errors = '[]'::jsonb, error_codes = '', waiting = false,
                retry = false, run_id = %s
            FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, line_id)
            WHERE i.id = v.id
            """,
            [
                LineStatus.COLLECTED.value,
                now,
                batch.run.pk,
                array_param(batch.collected),
                array_param([so.pk if so is not None else None for so in batch.collected_so]),
            ],
        )


def _stopped_row(line) -> InboundLine:
    if isinstance(line, InboundLine):
        return line
    row = InboundLine(pk=line.pk)
    for name in STOPPED_FIELDS:
        setattr(row, name, getattr(line, name))
    return row


_FIELDS: dict[tuple, list] = {}


def _updated_fields(names=UPDATED_FIELDS):
    """A callable giving the concrete fields of ``names``, a MoneyField's currency column
    included (cached)."""

    def fields() -> list:
        if names not in _FIELDS:
            wanted = set(names) | {f"{n}_currency" for n in names}
            _FIELDS[names] = [f for f in SoLine._meta.concrete_fields if f.name in wanted]
        return _FIELDS[names]

    return fields


_allocation = _updated_fields((*ALLOCATION_FIELDS, "updated_at"))
