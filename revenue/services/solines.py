"""SO lines built from staged SO rows: new ones (cheaply, a million at a time) and the
values an SO update compares (S11)."""

from __future__ import annotations

from django.db import connection
from django.db.models.base import ModelState
from django.utils import timezone
from djmoney.money import Money

from ..models import InboundLine, SoLine
from .bulk import instances_insert

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
    return _instance(values)


def _instance(values: dict, *, loaded_from: str | None = None) -> SoLine:
    """A SoLine over ``values`` (attribute names) without the model constructor: new, or
    as ``from_db`` leaves it when ``loaded_from`` names the database it was read from."""
    so = SoLine.__new__(SoLine)
    so.__dict__ = values
    state = so._state = ModelState()
    if loaded_from is not None:
        state.adding, state.db = False, loaded_from
    return so


def so_lines_read(queryset, *, columns: tuple[str, ...] | None = None) -> list[SoLine]:
    """The SO lines of ``queryset`` as model instances, built from one ``values_list`` of
    their concrete columns without the model constructor (collection reads tens of
    thousands per minute; the constructor sets each field through its descriptor, a
    MoneyField's parsing its amount). What ``from_db`` gives: every column loaded, money
    amounts kept as the database's Decimals (the money descriptor makes the Money on
    first read). ``columns`` (attribute names, the id among them): only those, the others
    deferred as ``only()`` leaves them (read from the database if ever asked for)."""
    names = list(columns) if columns else [f.attname for f in SoLine._meta.concrete_fields]
    alias = queryset.db
    return [
        _instance(dict(zip(names, row, strict=True)), loaded_from=alias)
        for row in queryset.values_list(*names)
    ]


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
