"""What collecting each type of line does, for one batch held in memory (S6, S9, S11,
P1–P9, A4)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from django.db import connection
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from ..models import InboundLine, SoLine
from ..models.choices import LineStatus, TranType
from .allocation import ALLOCATION_FIELDS
from .billing_book import billing_convert, billing_initial_book
from .bulk import instances_update
from .contra import ContraBook
from .ledger import (
    Booker,
    LineState,
    so_schedule_book,
    so_update_book,
    states_load,
)
from .processing_checks import LineChecks, pending_before
from .processing_reductions import ReductionHandlers
from .refusals import LineRefusal
from .solines import so_line_new, so_lines_insert, so_values
from .validation import V9, WAITING, ValidationContext, line_errors

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


class BatchProcessor(LineChecks, ReductionHandlers):
    def __init__(self, *, run, open_period, rules, lines, so_lines, contracts, key_of, contra):
        self.run = run
        self.lines = lines
        self.so_lines: dict[str, SoLine] = so_lines
        self.contracts = contracts
        self.key_of = key_of
        self.booker = Booker(open_period=open_period)
        self.ctx = ValidationContext.load(lines=lines, so_lines=so_lines, rules=rules)
        self.states: dict[str, LineState] = {}
        existing = states_load(
            line_ids=[so.pk for so in so_lines.values()], open_period=open_period
        )
        for so in so_lines.values():
            self.states[so.so_line_id] = existing[so.pk]
        self.new_lines: list[SoLine] = []
        self.updated: dict[str, SoLine] = {}
        self.reallocated: dict[str, SoLine] = {}  # existing lines only A4 changed
        self.touched: set[int] = set()  # contracts to reallocate (A4)
        self.collected: list[int] = []
        self.collected_so: list[SoLine | None] = []  # the SO line of each collected line
        self.stopped: list[InboundLine] = []
        self.counts = Counter(collected=0, stopped=0, waiting=0)
        self.seen = self._seen_keys()
        self.behind = pending_before(lines)
        self.contra = ContraBook(booker=self.booker, enabled=contra)
        by_type = {kind: set() for kind in (TranType.RORD, TranType.CM_RO)}
        for line in lines:
            so = so_lines.get(line.ref_line_id)
            if so is not None and line.tran_type in by_type:
                by_type[line.tran_type].add(so.pk)
        self.contra.load(
            rord_lines=sorted(by_type[TranType.RORD]), cm_ro_lines=sorted(by_type[TranType.CM_RO])
        )

    def _seen_keys(self) -> dict[tuple[str, str], str]:
        """The content of lines of this batch's types and ids that are already collected:
        a billing line or a RORD sent again is booked once (I9)."""
        kinds = {line.tran_type for line in self.lines} - {TranType.SO, ""}
        if not kinds:
            return {}
        keys = {line.line_key for line in self.lines if line.tran_type in kinds}
        rows = InboundLine.objects.filter(
            tran_type__in=kinds, line_key__any=keys, status=LineStatus.COLLECTED
        ).values_list("tran_type", "line_key", "content_hash")
        return {(t, k): h for t, k, h in rows}

    # --- per line ------------------------------------------------------------------------

    def process(self) -> None:
        for line in self.lines:
            if self._booked_before(line):
                errors = []  # I9: the same transaction again, booked once already
            elif self._behind(line):
                errors = [self._behind_error(line)]
            else:
                errors = line_errors(line, self.ctx)
                if not errors:
                    kind = line.tran_type.lower().replace("-", "_")
                    errors = getattr(self, f"_collect_{kind}")(line)
            if errors:
                self._stop(line, errors)
            else:
                self.collected.append(line.pk)
                self.collected_so.append(self.so_lines.get(line.ref_line_id))
                self.counts["collected"] += 1
        self._allocate()

    def _stop(self, line: InboundLine, errors: list[dict]) -> None:
        codes = list(dict.fromkeys(e["code"] for e in errors))
        line.status = LineStatus.ERROR
        line.errors = errors
        line.error_codes = ";".join(codes)[:255]
        line.waiting = WAITING in codes
        line.retry = False
        line.run = self.run
        self.stopped.append(line)
        self.counts["waiting" if codes == [WAITING] else "stopped"] += 1

    def _changed(self, so: SoLine) -> None:
        self.touched.add(so.contract_id)
        if so.pk:
            self.updated[so.so_line_id] = so

    def _collect_so(self, line: InboundLine) -> list:
        so = self.so_lines.get(line.so_line_id)
        if so is None:
            so = so_line_new(line, contract_id=self.contracts[self.key_of(line)])
            self.new_lines.append(so)
            self.so_lines[so.so_line_id] = so
            self.states[so.so_line_id] = state = LineState()
            so_schedule_book(booker=self.booker, line=so, state=state, inbound_id=line.pk)
            if so.ssp_pct is not None or so.ssp_price is not None:
                self.touched.add(so.contract_id)
            return []
        values = so_values(line)
        changed = {name for name in SO_FIELDS if getattr(so, name) != values[name]}
        if not changed:
            return []  # S11: the same SO again changes nothing
        reduced = so.rord_sll_prc + so.cmr_sll_prc
        rule = self.ctx.rules.get(V9)  # V9: an SO update may not go below the reductions
        if rule is not None and values["ext_sll_prc"].amount + reduced < 0:
            return [
                LineRefusal.stop(
                    code=rule.code,
                    rule=rule.rule,
                    field="EXT_SLL_PRC",
                    detail=f"SO update of {so.so_line_id} to {values['ext_sll_prc'].amount} "
                    f"is below what reductions already took off the line ({-reduced})",
                ).as_dict()
            ]
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
        self._changed(so)
        if set(SCHEDULE_FIELDS) & changed:
            so_update_book(
                booker=self.booker,
                line=so,
                state=self.states[so.so_line_id],
                old=old,
                inbound_id=line.pk,
            )
        return []

    def _collect_inv(self, line: InboundLine) -> list:
        so, errors = self._target(line)
        if so is None:
            return errors
        if line.start_date and line.end_date:
            start, end = line.start_date, line.end_date
        else:
            start, end = so.rev_start_date, so.rev_end_date
        amount = Decimal(line.ext_sll_prc)
        billing_convert(
            booker=self.booker,
            line=so,
            state=self.states[so.so_line_id],
            amount=amount,
            start=start,
            end=end,
            inbound_id=line.pk,
        )
        self._initial(line, so, amount)
        return []

    _collect_cm = _collect_inv

    def _initial(self, line, so: SoLine, amount: Decimal) -> None:
        billing_initial_book(
            booker=self.booker, line=so, tran_type=line.tran_type, amount=amount, inbound_id=line.pk
        )

    # --- writes --------------------------------------------------------------------------

    def write(self) -> None:
        if self.new_lines:
            so_lines_insert(self.new_lines)
        now = timezone.now()
        for lines, fields in (
            (self.updated, _updated_fields(UPDATED_FIELDS)),
            ({k: v for k, v in self.reallocated.items() if k not in self.updated}, _allocation),
        ):
            if lines:
                for so in lines.values():
                    so.updated_at = now
                instances_update(model=SoLine, objects=list(lines.values()), fields=fields())
        self.booker.flush()
        self.contra.write()
        if self.collected:
            self._mark_collected(now=timezone.now())
        if self.stopped:
            InboundLine.objects.bulk_update(
                [self._stopped_row(line) for line in self.stopped], list(STOPPED_FIELDS)
            )

    def _mark_collected(self, *, now) -> None:
        """COLLECTED, linked to the SO line (I9: in the batch's transaction). On PostgreSQL
        one UPDATE … FROM unnest() with the SO line ids this batch already knows; a line
        whose SO line it does not know looks it up by ``ref_line_id``, like elsewhere."""
        if connection.vendor != "postgresql":
            link = SoLine.objects.filter(so_line_id=OuterRef("ref_line_id")).values("pk")[:1]
            InboundLine.objects.filter(pk__in=self.collected).update(
                status=LineStatus.COLLECTED,
                line=Subquery(link),
                collected_at=now,
                errors=[],
                error_codes="",
                waiting=False,
                retry=False,
                run=self.run,
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
                    self.run.pk,
                    self.collected,
                    [so.pk if so is not None else None for so in self.collected_so],
                ],
            )

    @staticmethod
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
