"""Set-based writes for the high-volume tables: COPY on PostgreSQL, executemany elsewhere."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Sequence

from django.db import connection, models
from djmoney.models.fields import MoneyField
from djmoney.money import Money

from core.lookups import array_param


def bulk_insert(*, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` in the current transaction."""
    if not rows:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(_copy_statement(table, columns)) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {connection.ops.quote_name(table)} ({names}) VALUES ({marks})", rows
            )
    return len(rows)


def _copy_statement(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    return f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN"


def copy_text(value: str) -> str:
    """``value`` as a field of PostgreSQL's COPY text format (backslash escapes)."""
    if not any(c in value for c in "\\\t\n\r"):
        return value
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def bulk_copy_text(*, table: str, columns: Sequence[str], text: str) -> None:
    """PostgreSQL only: COPY ``text`` (rows in COPY's text format: tab-separated, ``\\N``
    for NULL, each ending in a newline) into ``table``, for rows the caller formats faster
    than a value-by-value dump would."""
    with connection.cursor() as cursor, cursor.copy(_copy_statement(table, columns)) as copy:
        copy.write(text)


def _converter(field) -> Callable | None:
    """How a model attribute becomes a COPY value: JSON as text, Money cached by the money
    descriptor as its amount, a Choices member as its value; None: as it is."""
    if isinstance(field, models.JSONField):
        return json.dumps
    if isinstance(field, MoneyField):
        return lambda value: value.amount if isinstance(value, Money) else value
    if field.choices:
        return lambda value: value.value if isinstance(value, enum.Enum) else value
    return None


def instances_insert(*, model, objects: Iterable[models.Model], fields) -> int:
    """COPY model instances that ``bulk_create`` would write (``fields``: the concrete
    fields to write, in order), straight from their attributes: no per-value preparation
    by the ORM. The caller sets what ``save()`` would (ids, auto_now timestamps)."""
    converters = [(i, c) for i, f in enumerate(fields) if (c := _converter(f))]
    names = [f.attname for f in fields]
    rows = []
    for obj in objects:
        values = obj.__dict__
        row = [values[name] for name in names]
        for i, convert in converters:
            row[i] = convert(row[i])
        rows.append(row)
    return bulk_insert(table=model._meta.db_table, columns=[f.column for f in fields], rows=rows)


def instances_update(*, model, objects: Sequence[models.Model], fields) -> int:
    """``bulk_update`` of ``fields`` (concrete fields, a MoneyField's currency column
    included) by primary key. PostgreSQL: one ``UPDATE … FROM unnest()`` with typed arrays
    instead of a CASE per field and row; elsewhere ``bulk_update``."""
    if not objects:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objects, [f.name for f in fields])
        return len(objects)
    pk = model._meta.pk
    columns = [pk, *fields]
    arrays = []
    for field in columns:
        convert = _converter(field)
        name = field.attname  # from the instance: no Money built per read (see _converter)
        values = [
            obj.__dict__[name] if name in obj.__dict__ else getattr(obj, name) for obj in objects
        ]
        arrays.append(array_param([convert(v) if convert else v for v in values]))
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(f.column) for f in columns)
    sources = ", ".join(f"%s::{f.db_type(connection)}[]" for f in columns)
    sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET {sets} FROM unnest({sources}) AS v({names}) "
            f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}",
            arrays,
        )
        return cursor.rowcount
