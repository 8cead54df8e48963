"""What collecting each type of line does, for one batch held in memory (S6, S9, S11)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from django.db import connection
from django.db.models import OuterRef, Subquery
from django.db.models.base import ModelState
from django.utils import timezone
from djmoney.money import Money

from ..models import InboundLine, SoLine
from ..models.choices import LineStatus, TranType
from .bulk import instances_insert
from .ledger import (
    Booker,
    LineState,
    billing_convert,
    billing_initial_book,
    so_schedule_book,
    so_update_book,
    states_load,
)
from .validation import WAITING, ValidationContext, line_errors

# Types whose effects are built so far; RORD, CM-R and CM-RO are validated and kept NEW.
HANDLED = frozenset({TranType.SO, TranType.INV, TranType.CM})
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


_NEW_SO_LINE: dict[str, dict] = {}


def so_line_new(line, *, contract_id: int) -> SoLine:
    """A new SoLine from an SO row, the same as ``SoLine(so_line_id=…, contract_id=…,
    rev_start_date=start, rev_end_date=end, **so_values(line))`` but without running the
    model constructor per line (it costs more than the whole line's schedule): the
    constructor's result for the line's currency is built once and copied."""
    currency = line.curr
    template = _NEW_SO_LINE.get(currency)
    if template is None:
        model = SoLine(
            so_line_id="",
            contract_id=None,
            rev_start_date=None,
            rev_end_date=None,
            **so_values(line),
        )
        template = _NEW_SO_LINE[currency] = {
            k: v for k, v in model.__dict__.items() if k != "_state"
        }
    start = line.start_date or line.so_date
    end = line.end_date or start
    values = dict(template)
    values.update(
        so_line_id=line.so_line_id,
        contract_id=contract_id,
        so_num=line.so_num,
        so_date=line.so_date,
        customer=line.customer,
        item=line.item,
        f_cur=line.f_cur,
        quantity=line.ord_qty,
        ext_lst_prc=line.ext_lst_prc,
        ext_sll_prc=line.ext_sll_prc,
        rev_method=line.rev_method,
        start_date=start,
        end_date=end,
        rev_start_date=start,
        rev_end_date=end,
        ssp_pct=line.ssp_pct,
        ssp_price=line.ssp_price,
    )
    so = SoLine.__new__(SoLine)
    so.__dict__ = values
    so._state = ModelState()
    return so


def so_lines_insert(lines: list[SoLine]) -> None:
    """Insert new SO lines and give them their ids. PostgreSQL: ids drawn from the table's
    sequence, rows written with COPY; elsewhere ``bulk_create``."""
    if connection.vendor != "postgresql":
        SoLine.objects.bulk_create(lines)
        return
    fields = SoLine._meta.concrete_fields
    table = SoLine._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(lines)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    now = timezone.now()
    for so, pk in zip(lines, ids, strict=True):
        so.id = pk
        so.created_at = so.updated_at = now  # auto_now_add / auto_now, as save() sets them
        so._state.adding = False
        so._state.db = connection.alias
    instances_insert(model=SoLine, objects=lines, fields=fields)


def so_values(line: InboundLine) -> dict:
    """The SO line's values from an SO row. Dates default: start = SO_DATE, end = start."""
    start = line.start_date or line.so_date
    currency = line.curr
    return {
        "so_num": line.so_num,
        "so_date": line.so_date,
        "customer": line.customer,
        "item": line.item,
        "f_cur": line.f_cur,
        "quantity": line.ord_qty,
        "ext_lst_prc": Money(line.ext_lst_prc, currency),
        "ext_sll_prc": Money(line.ext_sll_prc, currency),
        "rev_method": line.rev_method,
        "start_date": start,
        "end_date": line.end_date or start,
        "ssp_pct": line.ssp_pct,
        "ssp_price": line.ssp_price,
    }


class BatchProcessor:
    def __init__(self, *, run, open_period, rules, lines, so_lines, contracts, key_of):
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
        self.collected: list[int] = []
        self.collected_so: list[SoLine | None] = []  # the SO line of each collected line
        self.kept: list[int] = []
        self.stopped: list[InboundLine] = []
        self.counts = Counter(collected=0, stopped=0, waiting=0, validated=0)
        self.billed = self._billed_keys()

    def _billed_keys(self) -> dict[tuple[str, str], str]:
        kinds = {line.tran_type for line in self.lines} & {TranType.INV, TranType.CM}
        if not kinds:
            return {}
        keys = {line.line_key for line in self.lines if line.tran_type in kinds}
        rows = InboundLine.objects.filter(
            tran_type__in=kinds, line_key__in=keys, status=LineStatus.COLLECTED
        ).values_list("tran_type", "line_key", "content_hash")
        return {(t, k): h for t, k, h in rows}

    # --- per line ------------------------------------------------------------------------

    def process(self) -> None:
        for line in self.lines:
            errors = line_errors(line, self.ctx)
            if not errors and line.tran_type in HANDLED:
                errors = getattr(self, f"_collect_{line.tran_type.lower()}")(line)
            if errors:
                self._stop(line, errors)
            elif line.tran_type in HANDLED:
                self.collected.append(line.pk)
                self.collected_so.append(self.so_lines.get(line.ref_line_id))
                self.counts["collected"] += 1
            else:
                self.kept.append(line.pk)
                self.counts["validated"] += 1

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

    def _collect_so(self, line: InboundLine) -> list:
        so = self.so_lines.get(line.so_line_id)
        if so is None:
            so = so_line_new(line, contract_id=self.contracts[self.key_of(line)])
            self.new_lines.append(so)
            self.so_lines[so.so_line_id] = so
            self.states[so.so_line_id] = state = LineState()
            so_schedule_book(booker=self.booker, line=so, state=state, inbound_id=line.pk)
            return []
        values = so_values(line)
        changed = {name for name in SO_FIELDS if getattr(so, name) != values[name]}
        if not changed:
            return []  # S11: the same SO again changes nothing
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
        if so.pk:
            self.updated[so.so_line_id] = so
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
        key = (line.tran_type, line.line_key)
        seen = self.billed.get(key)
        if seen is not None:
            if seen == line.content_hash:
                return []  # the same billing line again: already booked once (I9)
            rule = self.ctx.rules.get("INB-005")
            if rule is not None:
                return [
                    {
                        "code": rule.code,
                        "rule": rule.rule,
                        "field": "INV_LINE_ID",
                        "message": f"{rule.code} ({rule.rule}): {line.tran_type} "
                        f"{line.line_key} was already collected with different values",
                    }
                ]
        so = self.so_lines.get(line.ref_line_id)
        if so is None:  # V12 switched off: a billing line still cannot be booked without it
            return [
                {
                    "code": WAITING,
                    "rule": "V12",
                    "field": "SO_LINE_ID",
                    "message": f"{WAITING} (V12): SO line {line.ref_line_id or '?'} is not "
                    "collected: the line waits for it even with V12 switched off",
                }
            ]
        self.billed[key] = line.content_hash
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
        billing_initial_book(
            booker=self.booker, line=so, tran_type=line.tran_type, amount=amount, inbound_id=line.pk
        )
        return []

    _collect_cm = _collect_inv

    # --- writes --------------------------------------------------------------------------

    def write(self) -> None:
        if self.new_lines:
            so_lines_insert(self.new_lines)
        if self.updated:
            for so in self.updated.values():
                so.updated_at = timezone.now()
            SoLine.objects.bulk_update(
                list(self.updated.values()),
                [
                    *SO_FIELDS,
                    "ext_lst_prc_currency",
                    "ext_sll_prc_currency",
                    "rev_start_date",
                    "rev_end_date",
                    "updated_at",
                ],
            )
        self.booker.flush()
        now = timezone.now()
        link = Subquery(SoLine.objects.filter(so_line_id=OuterRef("ref_line_id")).values("pk")[:1])
        clean = {"errors": [], "error_codes": "", "waiting": False, "retry": False, "run": self.run}
        if self.collected:
            self._mark_collected(now=now, link=link, clean=clean)
        if self.kept:
            InboundLine.objects.filter(pk__in=self.kept).update(line=link, **clean)
        if self.stopped:
            InboundLine.objects.bulk_update(
                [self._stopped_row(line) for line in self.stopped], list(STOPPED_FIELDS)
            )

    def _mark_collected(self, *, now, link, clean) -> None:
        """COLLECTED, linked to the SO line (I9: in the batch's transaction). On PostgreSQL
        one UPDATE … FROM unnest() with the SO line ids this batch already knows; a line
        whose SO line it does not know looks it up by ``ref_line_id``, like elsewhere."""
        if connection.vendor != "postgresql":
            InboundLine.objects.filter(pk__in=self.collected).update(
                status=LineStatus.COLLECTED, line=link, collected_at=now, **clean
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
