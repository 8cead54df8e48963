"""The doors inbound lines come in by (I1), and the properties every staged batch and every
collection run of fuzzed rows must keep (I2, I6–I9)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from revenue.models import CollectionRun, InboundBatch, InboundLine
from revenue.services.collection import collection_collect
from revenue.services.inbound import InboundFileRefused, inbound_file_stage, inbound_stage

from .inbound_cases import COLUMNS, CROSS, MARKER, TEXT, NotAnObject, Row
from .inbound_files import Fed

PARSE = "INB-000"
SYSTEM = "INB-999"


@dataclass
class Outcome:
    batch: InboundBatch | None = None
    refusal: str = ""


# --- the doors --------------------------------------------------------------------------
def door_service(rows: list[Row]) -> Outcome:
    items = [row.item() for row in rows]
    return Outcome(inbound_stage(rows=items, source=InboundBatch.SourceKind.SERVICE))


def door_file(fed: Fed) -> Outcome:
    try:
        batch = inbound_file_stage(
            stream=io.BytesIO(fed.data), filename=fed.name, source=InboundBatch.SourceKind.COMMAND
        )
    except InboundFileRefused as refusal:
        return Outcome(refusal=str(refusal))
    return Outcome(batch)


def door_command(fed: Fed, folder) -> Outcome:
    path = folder / fed.name
    path.write_bytes(fed.data)
    out = io.StringIO()
    try:
        call_command("revenue_import", str(path), stdout=out, stderr=io.StringIO())
    except CommandError as refusal:
        assert refusal.returncode == 2, f"revenue_import exit {refusal.returncode}: {refusal}"
        return Outcome(refusal=str(refusal))
    last = out.getvalue().splitlines()[-1]
    found = re.fullmatch(r"staged (\d+) lines \(batch (\d+)\)", last)
    assert found, f"revenue_import's last line: {last!r}"
    return Outcome(InboundBatch.objects.get(pk=found[2]))


def door_upload(client, fed: Fed) -> Outcome:
    """The admin upload (*Inbound lines › Upload*): a redirect to the batch, or the form
    again with the refusal on the file field; never a 500 (an exception fails the test)."""
    url = reverse("admin:revenue_inboundline_upload")
    response = client.post(url, {"file": SimpleUploadedFile(fed.name, fed.data)})
    if response.status_code == 302:
        found = re.search(r"[?&]batch=(\d+)", response["Location"])
        assert found, f"upload redirected to {response['Location']}"
        return Outcome(InboundBatch.objects.get(pk=found[1]))
    assert response.status_code == 200, f"upload answered {response.status_code}"
    errors = response.context["form"].errors.get("file")
    assert errors, "upload answered 200 without an error on the file field"
    return Outcome(refusal=" ".join(errors))


def shown(value, size: int = 400) -> str:
    """A fed value in a failure message (repr refuses integers of thousands of digits)."""
    try:
        return repr(value)[:size]
    except ValueError:
        return f"<{type(value).__name__} too long to show>"


# --- what must hold ---------------------------------------------------------------------
def check_outcome(outcome: Outcome, fed: Fed, batches_before: int) -> None:
    if fed.refused:
        assert outcome.batch is None, f"{fed.name} should be refused ({fed.refused})"
        assert re.search(fed.refused, outcome.refusal), f"refusal: {outcome.refusal!r}"
        assert "\n" not in outcome.refusal.strip(), "a refusal is one line"
        assert InboundBatch.objects.count() == batches_before, "a refused file stages nothing"
        return
    assert outcome.batch is not None, f"{fed.name} was refused: {outcome.refusal}"
    check_staged(outcome.batch, fed.rows, raw_kept=fed.raw_kept)


def named_columns(errors: list[dict]) -> set[str]:
    named = {e.get("field") or "" for e in errors}
    named |= {e.get("message", "").split(":")[0] for e in errors}
    return named


def check_staged(batch: InboundBatch, rows: list[Row], *, raw_kept: bool = True) -> None:
    """I1, I2: one line per row, in order; a bad value stops its line with INB-000 naming
    the column; good values are never blamed; good rows are untouched; raw kept."""
    lines = list(InboundLine.objects.filter(batch=batch).order_by("row_number"))
    assert batch.line_count == len(lines) == len(rows), (
        f"{len(rows)} rows fed, batch says {batch.line_count}, {len(lines)} lines staged"
    )
    assert batch.error_count == sum(bool(line.parse_errors) for line in lines)
    for number, (line, row) in enumerate(zip(lines, rows, strict=True), start=1):
        where = f"row {number} {shown(row.item())} → {line.errors!r:.600}"
        assert line.row_number == number, where
        _check_errors_shape(line, where)
        if not isinstance(row, NotAnObject):
            assert line.raw.get(MARKER) == row.cells[MARKER], where
        named = named_columns(line.parse_errors)
        if row.bad or row.shape:
            assert line.status == "ERROR" and PARSE in line.error_codes.split(";"), where
            assert row.bad <= named, f"{sorted(row.bad - named)} not named: {where}"
            assert not row.shape or any(row.shape in e["message"] for e in line.errors), where
        else:
            blamed = (named & set(COLUMNS)) - CROSS
            assert not blamed, f"good values blamed {sorted(blamed)}: {where}"
        if row.good:
            assert line.status == "NEW" and line.errors == [], where
            assert line.so_line_id == row.cells["SO_LINE_ID"], where
            assert str(line.ext_sll_prc.normalize()) == "1E+2", where
        if raw_kept and not isinstance(row, NotAnObject):
            _check_raw(line, row, where)


def _check_errors_shape(line: InboundLine, where: str) -> None:
    assert line.status in ("NEW", "ERROR"), where
    if line.status == "NEW":
        assert not line.errors and not line.error_codes, where
        return
    codes = line.error_codes.split(";")
    assert line.errors and all(codes), where
    for error in line.errors:
        assert error.get("code") in codes and error.get("message"), where
        assert error.get("field", "") in ("", *COLUMNS), where


def _plain(value) -> bool:
    return isinstance(value, str) and not re.search("[\x00\ud800-\udfff]", value)


def _check_raw(line: InboundLine, row: Row, where: str) -> None:
    """The raw row keeps every value as received; text columns keep the injection strings,
    RTL and emoji verbatim (only the surrounding blanks go)."""
    for column, value in row.cells.items():
        if not _plain(value) or column in row.repeated:
            continue
        assert line.raw.get(column) == value, f"{column} raw {line.raw.get(column)!r}: {where}"
        if column in TEXT and column not in row.bad:
            assert getattr(line, column.lower()) == value.strip(), f"{column}: {where}"


def check_collected(rows_by_batch: list[tuple[InboundBatch, list[Row]]]) -> CollectionRun:
    """I6–I9: collection never raises; afterwards no fuzzed line is left new, a stopped
    line lists its codes (parse errors keep INB-000), good rows are collected and no line
    trips the system error INB-999, not even one with huge (valid) amounts: an SSP too
    large for EXT_SSP is stopped at staging under A2."""
    run = collection_collect(trigger=CollectionRun.Trigger.API)
    assert run.status == CollectionRun.Status.SUCCEEDED, run.message
    for batch, rows in rows_by_batch:
        lines = InboundLine.objects.filter(batch=batch).order_by("row_number")
        for number, (line, row) in enumerate(zip(lines, rows, strict=True), start=1):
            where = f"row {number} {shown(row.item())} → {line.status} {line.errors!r:.600}"
            assert line.status in ("COLLECTED", "ERROR"), where
            _check_errors_shape(line, where) if line.status == "ERROR" else None
            if row.bad or row.shape:
                assert line.status == "ERROR" and PARSE in line.error_codes, where
            if row.good:
                assert line.status == "COLLECTED", where
            assert SYSTEM not in line.error_codes, f"system error (extreme {row.extreme}): {where}"
    return run
