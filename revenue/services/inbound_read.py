"""I1, I2: reading inbound files (CSV with a header row, UTF-8; or a JSON array of
objects) into rows, and keeping each row as received as far as a database holds it.

Whatever a file or a caller sends, a row comes out (its problems noted in markers that
stop its line), or the whole file is refused in one line (InboundFileRefused).
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import IO, Any


class InboundFileRefused(ValueError):
    """The file as a whole is not CSV or JSON: nothing was staged."""


def inbound_rows_read(*, stream: IO[bytes], filename: str = "") -> Iterator[dict[str, Any]]:
    """Rows of a CSV (header row, UTF-8) or JSON (array of objects) file, streamed.

    Raises InboundFileRefused with a one-line message when the file is neither.
    """
    filename = value_storable(filename)[0]
    head = stream.read(4096)
    if isinstance(head, str):
        raise InboundFileRefused("open the file in binary mode")
    text_head = head.lstrip(codecs.BOM_UTF8).lstrip()
    if not text_head:
        raise InboundFileRefused(f"{filename or 'the file'} is empty")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InboundFileRefused(
            f"{filename or 'the file'} is UTF-16 text: save it as UTF-8 (CSV UTF-8 or JSON)"
        )
    if text_head[:1] in (b"[", b"{"):
        return _json_rows(head + stream.read(), filename)
    if b"\x00" in head and not _utf8_text(head):
        # a NUL in a UTF-8 CSV only stops its line (I2); in anything else: binary
        raise InboundFileRefused(
            f"{filename or 'the file'} is not a CSV or JSON file (it looks binary)"
        )
    return _csv_rows(head, stream, filename)


def _utf8_text(head: bytes) -> bool:
    """Whether ``head`` (the start of a file, maybe cut inside a character) is UTF-8."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


# a JSON integer longer than this is kept as its text (int() of it is refused by Python)
JSON_INT_DIGITS = 4000


def _json_int(text: str) -> int | str:
    return int(text) if len(text) <= JSON_INT_DIGITS else text


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; a key given twice keeps every value under DUPLICATES (I2)."""
    item = dict(pairs)
    if len(item) < len(pairs):
        _duplicates_note(item, [key for key, _ in pairs], [value for _, value in pairs])
    return item


def _duplicates_note(row: dict[str, Any], keys: list[str], values: list[Any]) -> None:
    seen: dict[str, list[Any]] = {}
    for key, value in zip(keys, values, strict=False):
        seen.setdefault(key, []).append(value)
    row[DUPLICATES] = {key: found for key, found in seen.items() if len(found) > 1}


def _json_rows(data: bytes, filename: str) -> Iterator[dict[str, Any]]:
    name = filename or "the file"
    try:
        parsed = json.loads(
            data.decode("utf-8-sig"), parse_int=_json_int, object_pairs_hook=_json_object
        )
    except (UnicodeDecodeError, ValueError) as problem:  # JSONDecodeError is a ValueError
        raise InboundFileRefused(f"{name} is not valid JSON: {problem}") from None
    except RecursionError:
        raise InboundFileRefused(f"{name} is not valid JSON: it is nested too deeply") from None
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
    try:  # the header row too: a csv.Error there is the same refusal
        header = next(reader, None)
        if header is None:
            raise InboundFileRefused(f"{name} is empty")
        header = [h.strip() for h in header]
        if "TRAN_TYPE" not in header:
            raise InboundFileRefused(
                f"{name} is not an inbound CSV: the header row has no TRAN_TYPE column"
            )
        yield from _csv_records(reader, header, len(header))
    except csv.Error as problem:
        raise InboundFileRefused(
            f"{name} is not a readable CSV file near line {reader.line_num}: "
            f"{CSV_PROBLEMS.get(str(problem).split(' - ')[0], problem)}"
        ) from None


# what the csv module's errors mean for whoever wrote the file
CSV_PROBLEMS = {
    "new-line character seen in unquoted field": (
        "a value holds a line break (CR) without quotes around it; quote the value"
    ),
    f"field larger than field limit ({csv.field_size_limit()})": (
        f"a value is longer than {csv.field_size_limit():,} characters"
    ),
}


def _csv_records(reader, header: list[str], width: int) -> Iterator[dict[str, Any]]:
    repeated = len(set(header)) < len(header)
    for values in reader:
        if not values or not any(v.strip() for v in values):
            continue
        row = dict(zip(header, values, strict=False))
        if repeated:
            _duplicates_note(row, header, values)
        if len(values) > width:
            row["__extra__"] = values[width:]
        elif len(values) < width:
            row["__missing__"] = header[len(values) :]
        yield row


# --- what a database holds ------------------------------------------------------------------

NUL = "\x00"
NUL_SHOWN = "\ufffd"  # what a NUL or a lone surrogate becomes: no database text holds one
SURROGATE = re.compile("[\ud800-\udfff]")
MAX_DEPTH = 20  # nesting kept of a JSON value (no column has nested values)
MAX_INT_BITS = 13_000  # about 3,900 digits: Python refuses str() of much longer integers
# markers the readers add to a row (I2): duplicated keys, values changed to be stored
DUPLICATES = "__duplicate__"
UNSTORABLE = "__unstorable__"


def value_storable(value: Any, depth: int = 0) -> tuple[Any, str]:
    """``value`` as a database JSON column holds it, and what had to change ('' if
    nothing): NULs and lone surrogates become U+FFFD, non-finite numbers and other Python
    objects their text, huge integers and deep nesting a note."""
    if value is None or isinstance(value, bool | str | int | float):
        return _scalar_storable(value)
    if depth >= MAX_DEPTH:
        return f"(nested more than {MAX_DEPTH} levels: not kept)", "is nested too deeply"
    problems = []
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            key, key_problem = value_storable(key if isinstance(key, str) else str(key), depth)
            out[key], problem = value_storable(item, depth + 1)
            problems += [key_problem, problem]
    elif isinstance(value, list | tuple):
        pairs = [value_storable(item, depth + 1) for item in value]
        out = [item for item, _ in pairs]
        problems += [problem for _, problem in pairs]
    else:
        return value_storable(str(value), depth)
    return out, next((p for p in problems if p), "")


def _scalar_storable(value: Any) -> tuple[Any, str]:
    if isinstance(value, str):
        if NUL in value:
            return _scalar_storable(value.replace(NUL, NUL_SHOWN))[0], (
                f"contains a NUL byte (kept as {NUL_SHOWN})"
            )
        if SURROGATE.search(value):
            return SURROGATE.sub(NUL_SHOWN, value), (
                f"contains an unpaired surrogate, not a character (kept as {NUL_SHOWN})"
            )
    elif isinstance(value, float) and not math.isfinite(value):
        return repr(value), ""  # 1e400 arrives as inf: keep it as text
    elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        digits = int(value.bit_length() * math.log10(2)) + 1
        return f"(a number of about {digits} digits)", "is too large"
    return value, ""


def row_storable(raw: Any) -> dict[str, Any]:
    """Keep the row as received, as far as a database JSON column holds it; what had to
    change is noted under UNSTORABLE and stops the line (I2). A row that is not a mapping
    is kept under ``__value__`` (I2: the line is stopped)."""
    if not isinstance(raw, Mapping):
        raw = {"__value__": raw}
    out: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for key, value in raw.items():
        key, key_problem = value_storable(key if isinstance(key, str) else str(key))
        out[key], problem = value_storable(value, 1)
        if key_problem or problem:
            problems[key] = key_problem or problem
    if problems:
        out[UNSTORABLE] = problems
    return out
