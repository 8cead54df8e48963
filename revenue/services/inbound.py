"""I1–I5: staging lines from files, uploads and services; editing, review and deletion."""

from __future__ import annotations

import codecs
import csv
import json
import math
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.db import connection, models, transaction
from django.utils import timezone

from core.exceptions import BusinessRuleRefused
from core.services import audit_record

from ..models import InboundBatch, InboundLine
from ..models.choices import LineStatus, TranType
from .bulk import instances_insert
from .parsing import COLUMNS, FIELD_OF, PARSE_ERROR, derive_keys, parse_row

STAGE_CHUNK = 2000


class InboundFileRefused(ValueError):
    """The file as a whole is not CSV or JSON: nothing was staged."""


# --- reading files ---------------------------------------------------------------------------


def inbound_rows_read(*, stream: IO[bytes], filename: str = "") -> Iterator[dict[str, Any]]:
    """Rows of a CSV (header row, UTF-8) or JSON (array of objects) file, streamed.

    Raises InboundFileRefused with a one-line message when the file is neither.
    """
    head = stream.read(4096)
    if isinstance(head, str):
        raise InboundFileRefused("open the file in binary mode")
    text_head = head.lstrip(codecs.BOM_UTF8).lstrip()
    if not text_head:
        raise InboundFileRefused(f"{filename or 'the file'} is empty")
    if text_head[:1] in (b"[", b"{"):
        return _json_rows(head + stream.read(), filename)
    if b"\x00" in head:
        raise InboundFileRefused(
            f"{filename or 'the file'} is not a CSV or JSON file (it looks binary)"
        )
    return _csv_rows(head, stream, filename)


def _json_rows(data: bytes, filename: str) -> Iterator[dict[str, Any]]:
    name = filename or "the file"
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as problem:
        raise InboundFileRefused(f"{name} is not valid JSON: {problem}") from None
    if not isinstance(parsed, list):
        raise InboundFileRefused(f"{name}: JSON must be an array of objects, one per line")
    for index, item in enumerate(parsed, start=1):
        yield item if isinstance(item, dict) else {"__value__": item, "__row__": index}


def _csv_rows(head: bytes, stream: IO[bytes], filename: str) -> Iterator[dict[str, Any]]:
    name = filename or "the file"

    def chunks():
        yield head
        while block := stream.read(1 << 20):
            yield block

    decoder = codecs.iterdecode(chunks(), "utf-8-sig")

    def lines():
        buffer = ""
        try:
            for piece in decoder:
                buffer += piece
                *complete, buffer = buffer.split("\n")
                for line in complete:
                    yield line + "\n"
        except UnicodeDecodeError as problem:
            raise InboundFileRefused(f"{name} is not UTF-8 text: {problem.reason}") from None
        if buffer:
            yield buffer

    reader = csv.reader(lines())
    try:
        header = next(reader)
    except StopIteration:
        raise InboundFileRefused(f"{name} is empty") from None
    header = [h.strip() for h in header]
    if "TRAN_TYPE" not in header:
        raise InboundFileRefused(
            f"{name} is not an inbound CSV: the header row has no TRAN_TYPE column"
        )
    width = len(header)
    try:
        yield from _csv_records(reader, header, width)
    except csv.Error as problem:
        raise InboundFileRefused(
            f"{name} is not a readable CSV file near line {reader.line_num}: {problem}"
        ) from None


def _csv_records(reader, header: list[str], width: int) -> Iterator[dict[str, Any]]:
    for values in reader:
        if not values or not any(v.strip() for v in values):
            continue
        row = dict(zip(header, values, strict=False))
        if len(values) > width:
            row["__extra__"] = values[width:]
        elif len(values) < width:
            row["__missing__"] = header[len(values) :]
        yield row


# --- staging ---------------------------------------------------------------------------------


def _line_from(parsed, *, batch: InboundBatch, row_number: int) -> InboundLine:
    errors = list(parsed.errors)
    raw = parsed.raw
    if "__extra__" in raw:
        errors.append(_shape_error(f"row has {len(raw['__extra__'])} more values than the header"))
    if "__missing__" in raw:
        errors.append(_shape_error(f"row ends before {', '.join(raw['__missing__'])}"))
    if "__value__" in raw:
        errors.append(_shape_error("JSON item is not an object"))
    if NUL_COLUMNS in raw:
        columns = ", ".join(raw[NUL_COLUMNS])
        errors.append(_shape_error(f"{columns}: contains a NUL byte (kept as {NUL_SHOWN})"))
    line = InboundLine(batch=batch, row_number=row_number, raw=raw, **parsed.values)
    line.parse_errors = errors
    if errors:
        _stop(line, errors)
    return line


def _shape_error(message: str) -> dict[str, str]:
    return {"code": PARSE_ERROR, "rule": "I2", "field": "", "message": message}


def _stop(line: InboundLine, errors: list[dict]) -> None:
    line.status = LineStatus.ERROR
    line.errors = errors
    line.error_codes = ";".join(dict.fromkeys(e["code"] for e in errors))


def inbound_stage(
    *,
    rows: Iterable[dict[str, Any]],
    source: str,
    filename: str = "",
    actor=None,
) -> InboundBatch:
    """I1, I2: stage every row in one batch. Rows that do not parse are stopped with INB-000."""
    with transaction.atomic():
        batch = InboundBatch.objects.create(
            source=source,
            filename=filename[:255],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        count = errors = 0
        chunk: list[InboundLine] = []
        for count, raw in enumerate(rows, start=1):
            line = _line_from(parse_row(_jsonable(raw)), batch=batch, row_number=count)
            errors += bool(line.parse_errors)
            chunk.append(line)
            if len(chunk) >= STAGE_CHUNK:
                _lines_insert(chunk)
                chunk = []
        _lines_insert(chunk)
        batch.line_count, batch.error_count = count, errors
        batch.save(update_fields=["line_count", "error_count"])
        audit_record(
            document=batch,
            actor=actor,
            action="stage",
            data={"lines": count, "errors": errors, "source": source},
        )
    return batch


def _lines_insert(lines: list[InboundLine]) -> None:
    """Write staged lines. PostgreSQL: COPY (``bulk_create`` sends each column as an
    array that psycopg escapes in Python: about half of the time staging took)."""
    if not lines:
        return
    if connection.vendor != "postgresql":
        InboundLine.objects.bulk_create(lines)
        return
    now = timezone.now()
    for line in lines:
        line.created_at = now  # auto_now_add, as save() would set it
    fields = [f for f in InboundLine._meta.concrete_fields if not f.primary_key]
    instances_insert(model=InboundLine, objects=lines, fields=fields)


NUL = "\x00"
NUL_SHOWN = "\ufffd"  # what a NUL becomes: no database text column can hold one


def _without_nul(value):
    """``value`` with every NUL in its strings (at any depth) shown as U+FFFD, and whether
    there was one."""
    if isinstance(value, str):
        return (value.replace(NUL, NUL_SHOWN), True) if NUL in value else (value, False)
    if isinstance(value, list):
        parts = [_without_nul(v) for v in value]
        return [p for p, _ in parts], any(found for _, found in parts)
    if isinstance(value, dict):
        parts = {_without_nul(k)[0]: _without_nul(v) for k, v in value.items()}
        found = any(NUL in str(k) for k in value) or any(f for _, f in parts.values())
        return {k: v for k, (v, _) in parts.items()}, found
    return value, False


def _jsonable(raw: dict[str, Any]) -> dict[str, Any]:
    """Keep the row as received; values JSON cannot hold become their text. A NUL byte,
    which no database text column holds, becomes U+FFFD (the line is stopped, I2)."""
    out = {}
    for key, value in raw.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = repr(value)  # 1e400 arrives as inf: keep it as text
        elif not (value is None or isinstance(value, str | int | float | bool | list | dict)):
            value = str(value)
        key, key_nul = _without_nul(str(key))
        value, value_nul = _without_nul(value)
        if key_nul or value_nul:
            out.setdefault(NUL_COLUMNS, []).append(key)
        out[key] = value
    return out


NUL_COLUMNS = "__nul__"


def inbound_file_stage(*, stream: IO[bytes], filename: str, source: str, actor=None):
    """Read and stage a whole file; InboundFileRefused when it is not CSV/JSON at all."""
    rows = inbound_rows_read(stream=stream, filename=filename)
    return inbound_stage(rows=rows, source=source, filename=filename, actor=actor)


# --- edits, review, deletion (I3–I5) --------------------------------------------------------

# RORD Review Completed has its own service (I5: RORD lines only, its own audit action)
EDITABLE_FIELDS = tuple(FIELD_OF[c] for c in COLUMNS if c != "RORD_REVIEW_COMPLETED")


def inbound_line_update(*, line: InboundLine, changes: dict[str, Any], actor) -> InboundLine:
    """I4: edit a staged line that is not collected. Fixed fields lose their parse errors;
    a stopped line is retried at the next collection (I3). Audited with before/after."""
    with transaction.atomic():
        line = InboundLine.objects.select_for_update().get(pk=line.pk)
        if line.status == LineStatus.COLLECTED:
            raise BusinessRuleRefused(
                rule="I4", message="a collected line is read-only", field=None, line=line.pk
            )
        before = {}
        for name, value in changes.items():
            if name not in EDITABLE_FIELDS:
                raise ValueError(f"{name} is not an editable staging field")
            if getattr(line, name) != value:
                before[name] = getattr(line, name)
                setattr(line, name, value)
        if not before:
            return line
        touched = {c for c in COLUMNS if FIELD_OF[c] in before}
        line.parse_errors = [e for e in line.parse_errors if e.get("field") not in touched]
        values = {FIELD_OF[c]: getattr(line, FIELD_OF[c]) for c in COLUMNS}
        derive_keys(values)
        line.line_key, line.ref_line_id = values["line_key"], values["ref_line_id"]
        line.content_hash = values["content_hash"]
        _requeue(line)
        line.full_clean(exclude=["raw", "errors", "parse_errors", "line", "run", "batch"])
        line.save()
        audit_record(
            document=line,
            actor=actor,
            action="edit",
            data={
                "changed": {
                    name: [str(old), str(getattr(line, name))] for name, old in before.items()
                }
            },
        )
    return line


def _requeue(line: InboundLine) -> None:
    if line.parse_errors:
        _stop(line, line.parse_errors)
        line.retry = False
    elif line.status == LineStatus.ERROR:
        line.retry = True


def inbound_review_set(*, line_ids: Iterable[int], value: str = "Y", actor) -> int:
    """I5: set RORD Review Completed on staged RORD lines. Returns how many changed.

    Refuses (naming the lines) ids that are unknown, collected or not RORD lines.
    """
    if value not in ("Y", "N"):
        raise BusinessRuleRefused(
            rule="I5", message=f"'{value}' is not Y or N", field="rord_review_completed"
        )
    ids = sorted({int(i) for i in line_ids})
    with transaction.atomic():
        lines = list(InboundLine.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        found = {line.pk for line in lines}
        problems = [f"#{i} does not exist" for i in ids if i not in found]
        problems += [
            f"#{line.pk} is a {line.tran_type or '?'} line, not RORD"
            for line in lines
            if line.tran_type != TranType.RORD
        ]
        problems += [f"#{line.pk} is already collected" for line in lines if line.is_collected]
        if problems:
            raise BusinessRuleRefused(
                rule="I5", message="; ".join(problems), field="rord_review_completed"
            )
        changed = 0
        for line in lines:
            if line.rord_review_completed == value:
                continue
            old = line.rord_review_completed
            line.rord_review_completed = value
            if line.status == LineStatus.ERROR:
                line.retry = True
            line.save(update_fields=["rord_review_completed", "retry"])
            audit_record(
                document=line,
                actor=actor,
                action="review",
                data={"RORD_REVIEW_COMPLETED": [old, value]},
            )
            changed += 1
    return changed


def inbound_lines_retry(*, lines: Iterable[InboundLine], actor) -> int:
    """Ask the next collection to look at stopped lines again."""
    with transaction.atomic():
        ids = [line.pk for line in lines if line.status == LineStatus.ERROR]
        stopped = InboundLine.objects.select_for_update().filter(
            pk__in=ids, status=LineStatus.ERROR
        )
        count = 0
        for line in stopped:
            if line.parse_errors:
                continue  # nothing changed: it would stop again with the same values
            line.retry = True
            line.save(update_fields=["retry"])
            audit_record(document=line, actor=actor, action="retry")
            count += 1
    return count


def inbound_line_delete(*, line: InboundLine, actor) -> None:
    """I4: delete a line that is not collected; the deletion is audited."""
    with transaction.atomic():
        line = InboundLine.objects.select_for_update().get(pk=line.pk)
        if line.status == LineStatus.COLLECTED:
            raise BusinessRuleRefused(
                rule="I4", message=f"#{line.pk} is collected: it cannot be deleted"
            )
        audit_record(
            document=line,
            actor=actor,
            action="delete",
            data={"raw": line.raw, "status": line.status, "errors": line.error_codes},
            comment=f"deleted at {timezone.now():%Y-%m-%d %H:%M}",
        )
        line.delete()


# --- what the order and returns services use (interchange.md, emission table) ----------------


def inbound_batches_collected(*, batch_ids: Iterable[int]) -> dict[int, int]:
    """How many lines of each batch revenue has collected (0 for batches with none)."""
    ids = [b for b in batch_ids if b]
    counts = dict.fromkeys(ids, 0)
    rows = (
        InboundLine.objects.filter(batch_id__in=ids, status=LineStatus.COLLECTED)
        .values_list("batch_id")
        .annotate(n=models.Count("id"))
        .order_by()
    )
    counts.update(dict(rows))
    return counts


def inbound_batch_withdraw(*, batch_id: int, actor, reason: str = "") -> int:
    """I4 for a whole batch: a business document was undone (R11), so its staged lines go.

    Refused, with nothing deleted, once any line of the batch was collected. Returns how
    many lines were withdrawn; the batch keeps an audit event that names them.
    """
    with transaction.atomic():
        batch = InboundBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            return 0
        lines = list(InboundLine.objects.select_for_update().filter(batch=batch).order_by("pk"))
        collected = [line for line in lines if line.status == LineStatus.COLLECTED]
        if collected:
            raise BusinessRuleRefused(
                rule="I4",
                field="status",
                message=f"revenue has collected {len(collected)} line(s) of batch {batch.pk} "
                f"({', '.join(sorted({line.so_line_id for line in collected})[:5])})",
            )
        InboundLine.objects.filter(pk__in=[line.pk for line in lines]).delete()
        audit_record(
            document=batch,
            actor=actor,
            action="withdraw",
            comment=reason,
            data={"lines": [line.raw for line in lines]},
        )
    return len(lines)
