"""C6: the records of a cancellation import file (JSON or CSV), read for
``cancellation_import``.

A file that is not JSON or CSV at all is refused in one line (CancellationFileRefused).
A file that reads but says something ambiguous is refused naming the column or the
record, in the words of ``cancellation_import`` (BusinessRulesRefused, fields "[n].field"):
a CSV column given twice in the header row, a CSV row with values past the header (or
under a column without a name), a JSON record giving a field twice, JSON nested too deeply
to read. The values themselves are checked by ``cancellation_import`` (the HTTP API calls
it too).
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from typing import Any

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused

from .record_values import shown

JSON_INT_DIGITS = 4000  # longer JSON integers are kept as their text (int() refuses them)
DEPTH = 100  # lists or objects in lists or objects: far more than a record has


class CancellationFileRefused(ValueError):
    """The file as a whole cannot be read as JSON or CSV: nothing was imported."""


def cancellation_records_read(*, text: str, kind: str) -> list[Any]:
    """The records of a ``kind`` ("json" or "csv") import file, in order."""
    return _csv_records(text) if kind == "csv" else _json_records(text)


def _refused(problems: list[tuple[str, str]]) -> BusinessRulesRefused:
    return BusinessRulesRefused(
        [
            BusinessRuleRefused(rule="C6", field=field, message=message)
            for field, message in problems
        ]
    )


# --- CSV ---------------------------------------------------------------------------------
def _csv_records(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
        problems = _header_problems(header)
        if problems:
            raise _refused(problems)
        records = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue  # a blank line (or only commas) is no record
            n = len(records) + 1
            problems += _row_problems(n, header, values)
            records.append(
                {name: value for name, value in zip(header, values, strict=False) if value != ""}
            )
    except csv.Error as error:
        raise CancellationFileRefused(
            f"not a readable CSV file near line {reader.line_num}: {error}"
        ) from None
    if problems:
        raise _refused(problems)
    return records


def _header_problems(header: list[str]) -> list[tuple[str, str]]:
    """A column named twice: which of its values is meant is unknown."""
    problems = []
    for name in dict.fromkeys(header):
        columns = [str(i) for i, given in enumerate(header, start=1) if given == name]
        if name and len(columns) > 1:
            problems.append(
                (
                    shown(name),
                    f"column {shown(name)} is given more than once in the header row "
                    f"(columns {', '.join(columns)}): which value is meant is unknown",
                )
            )
    return problems


def _row_problems(n: int, header: list[str], values: list[str]) -> list[tuple[str, str]]:
    """Values past the header or under a column without a name: kept by no field, so
    refused rather than dropped."""
    problems = []
    extra = [value for value in values[len(header) :] if value.strip()]
    if extra:
        problems.append(
            (
                f"[{n}]",
                f"the row has {len(extra)} more values than the header row has columns "
                f"({', '.join(shown(value, 20) for value in extra[:3])}"
                f"{', …' if len(extra) > 3 else ''})",
            )
        )
    nameless = [
        str(i)
        for i, (name, value) in enumerate(zip(header, values, strict=False), start=1)
        if not name and value.strip()
    ]
    if nameless:
        problems.append(
            (f"[{n}]", f"the row has values in columns without a name ({', '.join(nameless)})")
        )
    return problems


# --- JSON --------------------------------------------------------------------------------
class _Object(dict):
    """A JSON object; ``repeated`` names the keys it gives more than once."""

    repeated: tuple[str, ...] = ()

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> _Object:
        item = cls(pairs)
        if len(item) < len(pairs):
            keys = [key for key, _ in pairs]
            item.repeated = tuple(key for key in item if keys.count(key) > 1)
        return item


def _json_int(text: str) -> int | str:
    return int(text) if len(text) <= JSON_INT_DIGITS else text


def _json_records(text: str) -> list[Any]:
    try:
        data = json.loads(
            text, parse_float=Decimal, parse_int=_json_int, object_pairs_hook=_Object.of
        )
    except RecursionError:
        raise _refused(
            [
                (
                    where,
                    f"{name} is nested too deeply to read (lists or objects in lists "
                    f"or objects, more than {DEPTH} levels)",
                )
                for where, name in _too_deep(text)
            ]
            or [("import", "the file is nested too deeply to read")]
        ) from None
    except ValueError as error:  # JSONDecodeError is a ValueError
        raise CancellationFileRefused(f"not valid JSON: {error}") from None
    if isinstance(data, dict) and "cancellations" in data:
        if "cancellations" in getattr(data, "repeated", ()):
            raise CancellationFileRefused('"cancellations" is given more than once')
        data = data["cancellations"]
    if not isinstance(data, list):
        raise CancellationFileRefused(
            'expected a JSON array of records or {"cancellations": [...]}'
        )
    problems = [
        (f"[{n}].{shown(key)}", f"{shown(key)} is given more than once in the record")
        for n, record in enumerate(data, start=1)
        for key in getattr(record, "repeated", ())
    ]
    if problems:
        raise _refused(problems)
    return data


TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)


def _too_deep(text: str) -> list[tuple[str, str]]:
    """Where ``text`` nests lists or objects more than DEPTH levels deep: ("[n].field",
    "field") or ("[n]", "the record") for each record, in order (json gave up there with
    a RecursionError, which says nowhere)."""
    stack: list[list] = []  # per open list: ["[", index]; per open object: ["{", key, key next]
    found: dict[str, str] = {}
    for token in TOKEN.finditer(text):
        mark = token.group()
        top = stack[-1] if stack else None
        if mark in "[{":
            if len(stack) == DEPTH:
                where = _record_of(stack)
                if where:
                    found.setdefault(*where)
            stack.append(["[", 0] if mark == "[" else ["{", None, True])
        elif mark in "]}":
            if stack:
                stack.pop()
        elif top is None:
            continue
        elif mark == ",":
            if top[0] == "[":
                top[1] += 1
            else:
                top[2] = True
        elif mark == ":":
            top[2] = False
        elif top[0] == "{" and top[2]:  # a key
            try:
                top[1] = json.loads(mark)
            except ValueError:
                top[1] = mark[1:-1]
    return list(found.items())


def _record_of(stack: list[list]) -> tuple[str, str] | None:
    """The record (and its field) at the position ``stack`` points to."""
    if stack and stack[0][0] == "{" and stack[0][1] == "cancellations":
        stack = stack[1:]
    if not stack or stack[0][0] != "[":
        return None
    n = stack[0][1] + 1
    if len(stack) > 1 and stack[1][0] == "{" and isinstance(stack[1][1], str):
        field = shown(stack[1][1])
        return f"[{n}].{field}", field
    return f"[{n}]", "the record"
