"""I1–I5: staging lines from files, uploads and services; editing, review, deletion, and
the withdrawal of a service's batch (I4)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from core.document_links import document_label
from core.exceptions import BusinessRuleRefused
from core.models import AuditAction
from core.services import audit_record

from ..models import InboundBatch, InboundLine
from ..models.choices import LineStatus, TranType
from ..selectors_documents import line_document
from .bulk import instances_insert
from .inbound_read import DUPLICATES, UNSTORABLE, row_storable, value_storable
from .inbound_read import InboundFileRefused as InboundFileRefused  # read there, staged here
from .inbound_read import inbound_rows_read as inbound_rows_read
from .parsing import (
    COLUMNS,
    FIELD_OF,
    PARSE_ERROR,
    derive_keys,
    ext_ssp_problem,
    ext_ssp_refusal,
    parse_error,
    parse_row,
)
from .refusals import LineRefusal

STAGE_CHUNK = 2000


# --- staging ---------------------------------------------------------------------------------


def _line_from(parsed, *, batch: InboundBatch, row_number: int) -> InboundLine:
    errors = list(parsed.errors)
    raw = parsed.raw
    # the markers are the readers'; a sender may use the same keys, so any type is read
    if "__extra__" in raw:
        errors.append(
            _shape_error(f"row has {_count(raw['__extra__'])} more values than the header")
        )
    if "__missing__" in raw:
        errors.append(_shape_error(f"row ends before {_names(raw['__missing__'])}"))
    if "__value__" in raw:
        errors.append(_shape_error("the row is not an object of column: value pairs"))
    duplicates = raw.get(DUPLICATES)
    for column in duplicates if isinstance(duplicates, dict) else ():
        if column in COLUMNS:
            given = _names(duplicates[column])
            errors.append(_shape_error(f"{column}: given more than once ({given})", column))
    for column, problem in _problems_of(raw.get(UNSTORABLE)):
        errors.append(_shape_error(f"{column}: {problem}", column if column in COLUMNS else ""))
    line = InboundLine(batch=batch, row_number=row_number, raw=raw, **parsed.values)
    line.parse_errors = errors
    if errors:
        _stop(line, errors)
    return line


def _shape_error(message: str, field: str = "") -> dict[str, str]:
    return LineRefusal(code=PARSE_ERROR, rule="I2", field=field, message=message).as_dict()


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 1


def _names(value: Any) -> str:
    """Column names or values of a marker, for a message (long values cut)."""
    values = value if isinstance(value, list) else [value]
    return ", ".join(v if len(v) <= 40 else f"{v[:39]}…" for v in map(str, values))


def _problems_of(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return [] if value is None else [(UNSTORABLE, str(value))]
    return [(str(column), str(problem)) for column, problem in value.items()]


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
            filename=value_storable(str(filename))[0][:255],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        count = errors = 0
        types: dict[str, int] = {}
        chunk: list[InboundLine] = []
        for count, raw in enumerate(rows, start=1):
            line = _line_from(parse_row(row_storable(raw)), batch=batch, row_number=count)
            errors += bool(line.parse_errors)
            kind = line.tran_type or "?"
            types[kind] = types.get(kind, 0) + 1
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
            action=AuditAction.STAGE,
            data={"lines": count, "errors": errors, "source": source, "types": types},
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


def inbound_file_stage(*, stream: IO[bytes], filename: str, source: str, actor=None):
    """Read and stage a whole file; InboundFileRefused when it is not CSV/JSON at all."""
    rows = inbound_rows_read(stream=stream, filename=filename)
    return inbound_stage(rows=rows, source=source, filename=filename, actor=actor)


# --- edits, review, deletion (I3–I5) --------------------------------------------------------

# RORD Review Completed has its own service (I5: RORD lines only, its own audit action)
EDITABLE_FIELDS = tuple(FIELD_OF[c] for c in COLUMNS if c != "RORD_REVIEW_COMPLETED")


def staged_by_service(line: InboundLine) -> bool:
    """I4: staged by the order and returns services (fixed at their source: only the
    review flag changes here). Lines from files, ``revenue_import`` and the demo's files
    are not."""
    return line.batch.source == InboundBatch.SourceKind.SERVICE


def service_line_refusal(line: InboundLine, *, doing: str) -> BusinessRuleRefused:
    """I4: why a service-staged line is not edited or deleted here, in plain words."""
    number = line_document(line) or line.batch.filename or f"batch {line.batch_id}"
    label = document_label(number) or "document"
    return BusinessRuleRefused(
        rule="I4",
        field=None,
        line=line.pk,
        message=f"#{line.pk} was staged by the order service from {number}: it cannot be "
        f"{doing} here; change the {label} instead",
    )


def _locked(line: InboundLine) -> InboundLine:
    """The line under its row lock (only the line's: a withdrawal locks the batch first),
    with its batch."""
    lines = InboundLine.objects.select_related("batch")
    if connection.features.has_select_for_update_of:
        return lines.select_for_update(of=("self",)).get(pk=line.pk)
    return lines.select_for_update().get(pk=line.pk)


def inbound_line_update(*, line: InboundLine, changes: dict[str, Any], actor) -> InboundLine:
    """I4: edit a staged line that is not collected and came from a file (upload,
    ``revenue_import``, the demo's files). Fixed fields lose their parse errors; a stopped
    line is retried at the next collection (I3). Audited with before/after. A line staged
    by the order and returns services is refused: it is fixed at its source."""
    with transaction.atomic():
        line = _locked(line)
        if line.status in (LineStatus.COLLECTED, LineStatus.WITHDRAWN):
            kind = "collected" if line.status == LineStatus.COLLECTED else "withdrawn"
            raise BusinessRuleRefused(
                rule="I4", message=f"a {kind} line is read-only", field=None, line=line.pk
            )
        if staged_by_service(line):
            raise service_line_refusal(line, doing="edited")
        before = {}
        # a field whose received value did not parse holds what it parsed to (often
        # empty): sending that same value confirms it, e.g. a garbage optional date cleared
        unparsed = {FIELD_OF.get(e.get("field")) for e in line.parse_errors}
        for name, value in changes.items():
            if name not in EDITABLE_FIELDS:
                raise ValueError(f"{name} is not an editable staging field")
            value = _edited_value(name, value)
            if getattr(line, name) != value or name in unparsed:
                before[name] = getattr(line, name)
                setattr(line, name, value)
        if not before:
            return line
        touched = {c for c in COLUMNS if FIELD_OF[c] in before}
        line.parse_errors = [e for e in line.parse_errors if e.get("field") not in touched]
        values = {FIELD_OF[c]: getattr(line, FIELD_OF[c]) for c in COLUMNS}
        _ext_ssp_check(line, values, edited=before.keys())
        derive_keys(values)
        line.line_key, line.ref_line_id = values["line_key"], values["ref_line_id"]
        line.content_hash = values["content_hash"]
        _requeue(line)
        line.full_clean(exclude=["raw", "errors", "parse_errors", "line", "run", "batch"])
        line.save()
        audit_record(
            document=line,
            actor=actor,
            action=AuditAction.EDIT,
            data={
                "changed": {
                    name: [str(old), str(getattr(line, name))] for name, old in before.items()
                }
            },
        )
    return line


def _ext_ssp_check(line: InboundLine, values: dict, *, edited) -> None:
    """A2 at entry, again after an edit: an edit of what the Ext SSP is computed from that
    still gives one EXT_SSP cannot hold is refused, naming the field; otherwise the line
    keeps (or loses) its A2 parse error as staging would give it now."""
    line.parse_errors = [e for e in line.parse_errors if e.get("rule") != "A2"]
    refusal = ext_ssp_refusal(values, edited=edited)
    if refusal is not None:
        raise ValidationError(dict([refusal]))
    problem = ext_ssp_problem(values)
    if problem is not None:
        line.parse_errors.append(parse_error(*problem, "A2"))


def _edited_value(name: str, value: Any) -> Any:
    """I4: ``value`` as the column holds it, or a ValidationError naming the column (a
    value of another type, one the column refuses, a NUL no database text holds)."""
    field = InboundLine._meta.get_field(name)
    problem = value_storable(value)[1] if isinstance(value, str) else ""
    if problem:
        raise ValidationError({name: f"{field.verbose_name}: {problem}"})
    try:
        return field.clean(value, None)
    except ValidationError as invalid:
        raise ValidationError(
            {name: [f"{field.verbose_name}: {message}" for message in invalid.messages]}
        ) from None
    except (TypeError, ValueError, ArithmeticError):
        raise ValidationError(
            {name: f"{field.verbose_name}: {value!r:.60} is not a {field.get_internal_type()}"}
        ) from None


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
        problems += [
            f"#{line.pk} was withdrawn ({line.withdrawn_reason or 'by its source'})"
            for line in lines
            if line.status == LineStatus.WITHDRAWN
        ]
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
                action=AuditAction.REVIEW,
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
            audit_record(document=line, actor=actor, action=AuditAction.RETRY)
            count += 1
    return count


def inbound_line_delete(*, line: InboundLine, actor) -> None:
    """I4: delete a line from a file that is not collected nor withdrawn; the deletion is
    audited. A line staged by the order and returns services is refused: its document
    withdraws it (deactivation, void)."""
    with transaction.atomic():
        line = _locked(line)
        if line.status == LineStatus.COLLECTED:
            raise BusinessRuleRefused(
                rule="I4", message=f"#{line.pk} is collected: it cannot be deleted"
            )
        if line.status == LineStatus.WITHDRAWN:
            raise BusinessRuleRefused(
                rule="I4",
                message=f"#{line.pk} was withdrawn by its source: withdrawn lines stay recorded",
            )
        if staged_by_service(line):
            raise service_line_refusal(line, doing="deleted")
        audit_record(
            document=line,
            actor=actor,
            action=AuditAction.DELETE,
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
    """I3, I4 for a whole batch: a business document was undone (R11, B5, B6, O5), so its
    staged lines are marked ``WITHDRAWN`` with when and why. They are never deleted and
    never collected; collection and every count of new, stopped or waiting lines leave
    them out.

    Refused, with nothing changed, once any line of the batch was collected. Returns how
    many lines were withdrawn now (lines withdrawn before are left as they were); the batch
    keeps an audit event that names them.
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
        taken = [line for line in lines if line.status != LineStatus.WITHDRAWN]
        if not taken:
            return 0
        reason = reason.strip() or f"batch {batch.pk} withdrawn by the service that staged it"
        InboundLine.objects.filter(pk__in=[line.pk for line in taken]).update(
            status=LineStatus.WITHDRAWN,
            withdrawn_at=timezone.now(),
            withdrawn_reason=reason,
            waiting=False,  # nothing to wait for, nothing to retry: never collected
            retry=False,
        )
        audit_record(
            document=batch,
            actor=actor,
            action=AuditAction.WITHDRAW,
            comment=reason,
            data={
                "lines": [line.pk for line in taken],
                "status before": {str(line.pk): line.status for line in taken},
            },
        )
    return len(taken)
