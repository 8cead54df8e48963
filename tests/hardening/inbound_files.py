"""Files of malformed rows as the upload and ``revenue_import`` receive them: CSV and JSON,
good and broken encodings, odd shapes, and the refusal each must get (I1, I2)."""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from .inbound_cases import COLUMNS, MARKER, NotAnObject, Row, fuzz_row, not_an_object

# accepted shapes more often than refused ones: the rows are what is fuzzed
CSV_VARIANTS = (
    *("utf-8",) * 12,
    "utf-8-sig",
    "crlf",
    "blank-rows",
    "duplicate-column",
    "bare-cr",
    "latin-1",
    "utf-16",
    "bad-byte",
    "no-tran-type",
    "header-only",
    "empty",
)
JSON_VARIANTS = (
    *("plain",) * 10,
    "bom",
    "duplicate-key",
    "utf-16",
    "bad-byte",
    "not-an-array",
    "truncated",
    "too-deep",
    "empty-array",
)
NOT_UTF8 = "not UTF-8|looks binary"  # a NUL in the first 4 KB of a non-UTF-8 file: binary
NAMES = ("lines", "Zeilen-ä", "行", "😀", "a b", "'; DROP TABLE x; --", "<script>", "..", "-x")


@dataclass
class Fed:
    """A file as sent, the rows it holds (in order) and the refusal it must get."""

    data: bytes
    name: str
    rows: list[Row] = field(default_factory=list)
    refused: str = ""  # "" when it must be staged; else a pattern the refusal matches
    raw_kept: bool = True  # values reach the raw row unchanged (not for re-encoded files)


def _marked(rows: list[Row]) -> list[Row]:
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, NotAnObject):
            row.cells[MARKER] = f"r{number}"
    return rows


# --- CSV -------------------------------------------------------------------------------
@st.composite
def csv_file(draw, *, size: int = 100) -> Fed:
    variant = draw(st.sampled_from(CSV_VARIANTS))
    rows = _marked(draw(st.lists(fuzz_row(), min_size=size // 2, max_size=size)))
    used = {c for row in rows for c in row.cells if c not in (MARKER, "TRAN_TYPE")}
    header = [MARKER, "TRAN_TYPE", *draw(st.permutations(sorted(used, key=str)))]
    name = draw(st.sampled_from(NAMES)) + ".csv"
    if variant == "duplicate-column":
        twice = draw(st.sampled_from(COLUMNS))
        while header.count(twice) < 2:
            header.insert(2, twice)
        for row in rows:
            row.bad.add(twice)
            row.good = False
    table = [header]
    for row in rows:
        values = [_csv_text(row.cells.get(column, "")) for column in header]
        shape = draw(st.sampled_from(["full"] * 8 + ["short", "long"]))
        if shape == "short" and variant != "duplicate-column" and len(header) > 2:
            cut = draw(st.integers(2, len(header) - 1))
            values = values[:cut]
            row.bad -= set(header[cut:])
            for column in header[cut:]:
                row.cells.pop(column, None)  # not fed
            row.shape, row.good = "row ends before", False
        elif shape == "long":
            extra = st.sampled_from(["x", "", "=1+1", "SO"])
            values += draw(st.lists(extra, min_size=1, max_size=3))
            row.shape, row.good = "more values than the header", False
        table.append(values)
        if variant == "blank-rows" and draw(st.integers(0, 4)) == 0:
            table.append(draw(st.sampled_from([[], [""], ["", " ", "\t"]])))  # not rows
    if variant == "no-tran-type":
        header[1] = "TRAN TYPE"
    if variant == "header-only":
        table, rows = [header], []
    # the csv module writes a CR unquoted unless its line ending has one; a reader cannot
    # tell such a CR from a line end (RFC 4180: quote it), so that file is refused; the
    # other variants quote every value when a CR is there
    if variant == "bare-cr":
        table[-1] += ["unquoted\rCR"]
    bare = any(_bare_cr(value) for values in table for value in values)
    quoting = csv.QUOTE_ALL if bare and variant != "bare-cr" else csv.QUOTE_MINIMAL
    text = _csv_write(table, "\r\n" if variant == "crlf" else "\n", quoting)
    return _csv_encoded(draw, Fed(b"", name, rows), text, variant)


def _bare_cr(value: str) -> bool:
    """A CR the csv module writes without quotes (QUOTE_MINIMAL, line ending LF)."""
    return "\r" in value and not any(c in value for c in ',"\n')


def _csv_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _csv_write(table: list[list[str]], ending: str, quoting: int) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=ending, quoting=quoting).writerows(table)
    return out.getvalue()


def _csv_encoded(draw, fed: Fed, text: str, variant: str) -> Fed:
    if variant == "empty":
        fed.data = draw(st.sampled_from([b"", b"\n\n", b"\xef\xbb\xbf "]))
        fed.rows, fed.refused = [], "is empty"
        return fed
    if variant == "no-tran-type":
        fed.refused = "no TRAN_TYPE column"
    if variant == "latin-1":
        text = text.replace(MARKER, f"{MARKER},NOTÉ", 1)  # a byte UTF-8 cannot read
        fed.data, fed.refused = text.encode("latin-1", errors="replace"), NOT_UTF8
    elif variant == "utf-16":
        fed.data, fed.refused = text.encode("utf-16"), "UTF-16"
    elif variant == "bad-byte":
        data = text.encode("utf-8", errors="surrogatepass")
        at = draw(st.integers(len(data.split(b"\n")[0]) + 1, max(len(data), 1)))
        fed.data, fed.refused = data[:at] + b"\xff\xfe" + data[at:], NOT_UTF8
    else:
        encoding = "utf-8-sig" if variant == "utf-8-sig" else "utf-8"
        fed.data = text.encode(encoding)
        fed.refused = "line break \\(CR\\)" if variant == "bare-cr" else fed.refused
    if fed.refused:
        fed.rows = []
    return fed


# --- JSON ------------------------------------------------------------------------------
def dumps(value: Any) -> str:
    """JSON as other systems write it: NaN / Infinity literals, integers of any length."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 10_000:
        return ("-" if value < 0 else "") + "9" * 5000
    if isinstance(value, dict):
        return "{" + ",".join(f"{dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)  # ensure_ascii: a lone surrogate is written as \udXXX


@st.composite
def json_file(draw, *, size: int = 100) -> Fed:
    variant = draw(st.sampled_from(JSON_VARIANTS))
    items = fuzz_row(typed=True)
    if draw(st.booleans()):
        items = st.one_of(items, not_an_object())
    rows = _marked(draw(st.lists(items, min_size=size // 2, max_size=size)))
    name = draw(st.sampled_from(NAMES)) + ".json"
    parts = [dumps(row.item()) for row in rows]
    if variant == "duplicate-key":
        objects = [i for i, row in enumerate(rows) if not isinstance(row, NotAnObject)]
        for index in draw(st.lists(st.sampled_from(objects), max_size=5)) if objects else []:
            given = [c for c in rows[index].cells if c in COLUMNS]
            twice = draw(st.sampled_from(given)) if given else "TRAN_TYPE"
            again = "" if twice in rows[index].cells else ',"TRAN_TYPE":"SO"'
            parts[index] = parts[index][:-1] + f"{again},{dumps(twice)}:{dumps('again')}}}"
            rows[index].bad.add(twice)
            rows[index].repeated.add(twice)
            rows[index].good = False
    text = "[" + ",\n".join(parts) + "]"
    fed = Fed(b"", name, rows)
    if variant == "empty-array":
        text, fed.rows = draw(st.sampled_from(["[]", " [ ] ", "[\n]"])), []
    if variant == "not-an-array":
        text, fed.refused = draw(st.sampled_from(['{"TRAN_TYPE": "SO"}', "{}"])), "array"
    elif variant == "truncated":
        text, fed.refused = text[: draw(st.integers(1, len(text) - 1))], "not valid JSON"
    elif variant == "too-deep":
        text, fed.refused = "[" * 100_000, "not valid JSON"
    if variant == "utf-16":
        fed.data, fed.refused = text.encode("utf-16"), "UTF-16"
    elif variant == "bad-byte":
        data = text.encode()
        at = draw(st.integers(1, len(data)))
        fed.data, fed.refused = data[:at] + b"\xc3\x28" + data[at:], "not valid JSON"
    else:
        fed.data = (codecs.BOM_UTF8 if variant == "bom" else b"") + text.encode()
    if fed.refused:
        fed.rows = []
    return fed


def inbound_file():
    return st.one_of(csv_file(), json_file())
