"""C6 under bad input (issue 18): fuzzed cancellation records through ``orders_import`` (JSON
and CSV files) and through ``cancellation_import`` (Python values, as the HTTP API passes
them).

Each example builds records of fresh subscriptions, good ones and ones with fuzzed values
(NaN, sNaN, infinities, huge and tiny numbers, NUL bytes, lone surrogates, nested lists and
objects, unknown and repeated fields, wrong types) in files of good and broken shapes
(duplicated columns, values past the header, JSON nested 100,000 deep, truncated JSON).
What must hold:

- no exception escapes: the command exits 0 or raises CommandError with exit code 2
  (interchange.md: never a traceback, 1 only for a system failure); the service returns
  or raises BusinessRuleRefused;
- all or nothing: on success every record is one cancellation, on a refusal nothing at all
  was created or changed;
- each problem is one printable line naming the record (and the field) or the column, and
  a value refused on its own (a NUL, a surrogate, a list, a quantity that is no finite
  number) is named "record N, FIELD";
- records that are all good are imported.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from core.models import AuditEvent
from orders.models import Order, OrderItem, OrderKind
from orders.services.cancellations import IMPORT_FIELDS, cancellation_import
from revenue.models import InboundLine
from tests.orders.test_cancellations import record, subscription

FUZZ = settings(
    max_examples=30,
    deadline=None,
    # db, tmp_path and the tally are shared by the examples on purpose (see ``tally``)
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
MINIMUM_FILES = 30  # every example ran (lower FUZZ's max_examples and this fails)
DROP = object()  # a mutation that removes the field
DEEP = "[" * 100_000  # JSON nested past any parser's recursion limit (unclosed)

# --- values ------------------------------------------------------------------------------
NOT_FINITE = ("sNaN", "-sNaN", "NaN", "nan", "Infinity", "-Infinity", "inf", "-1e999999999")
NOT_FINITE += ("1e999999999", "1e-999999999", "9" * 5000, "-" + "9" * 40)
ODD_TEXT = (
    "", " ", "-1", "-1.00", "-1.001", "-01", "1", "0", "-0", "1_000", "0x10", "١", "²", "-１",
    "CANCEL", "cancel", " CANCEL ", "NEW", "MONTHLY", "monthly", "ANNUAL", "true", "no", "y",
    "2025-03-15", "2025-02-30", "2025-W11-6", "20250315", "2025-03-15T00:00", "15/03/2025",
    "ORD-000001-1", "ORD-000001-٣", "ORD-", "-1-", "'; DROP TABLE orders_order; --",
    "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "😀", "e\u0301", "\u202eevil",
    "line\nbreak", "tab\there", "x" * 5000,
)  # fmt: skip
NUL_TEXT = ("\x00", "a\x00b", "-1\x00", "CANCEL\x00", "2025-03-15\x00")
SURROGATE_TEXT = ("\ud800", "a\udfffb", "-1\udc80", "\udbff\udbff")

text_value = st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=12))
json_scalar = st.one_of(
    text_value,
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=0, max_value=5000).map(lambda k: 10**k),
    st.floats(allow_nan=True, allow_infinity=True),
)


@dataclass
class Value:
    """A fuzzed value and whether it is refused on its own, in any field."""

    value: Any
    bad: bool = False


def json_value(field: str):
    nested = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
    bad = st.one_of(
        st.sampled_from(NUL_TEXT + SURROGATE_TEXT),
        st.lists(json_scalar, max_size=3),
        st.dictionaries(st.text(max_size=5), nested, max_size=2),
    )
    if field == "quantity":
        bad = st.one_of(bad, st.sampled_from(NOT_FINITE))
    return st.one_of(json_scalar.map(Value), bad.map(lambda v: Value(v, bad=True)))


def csv_value(field: str):
    bad = st.sampled_from(NUL_TEXT)
    if field == "quantity":
        bad = st.one_of(bad, st.sampled_from(NOT_FINITE))
    return st.one_of(text_value.map(Value), bad.map(lambda v: Value(v, bad=True)))


@dataclass
class Plan:
    """One record: a good record of a fresh subscription with ``changes`` (DROP removes a
    field) and ``extra`` fields; or ``not_object``, a value in place of the record."""

    changes: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    not_object: Any = None
    bad: set[str] = field(default_factory=set)  # fields whose value is refused on its own

    @property
    def good(self) -> bool:
        return not (self.changes or self.extra) and self.not_object is None


@st.composite
def plan(draw, value) -> Plan:
    kind = draw(st.sampled_from(["good"] * 3 + ["changed"] * 6 + ["extra", "not an object"]))
    found = Plan()
    if kind == "not an object":
        found.not_object = draw(st.one_of(json_scalar, st.lists(json_scalar, max_size=2)))
    if kind == "changed":
        for name in draw(st.lists(st.sampled_from(IMPORT_FIELDS), min_size=1, max_size=3)):
            if draw(st.integers(0, 5)) == 0:
                found.changes[name] = DROP
                found.bad.discard(name)
                continue
            drawn = draw(value(name))
            found.changes[name] = drawn.value
            found.bad.discard(name)
            if drawn.bad:
                found.bad.add(name)
    if kind == "extra":
        key = draw(st.one_of(st.sampled_from(["x", "Quantity", "note", " quantity"]), st.text()))
        if key not in IMPORT_FIELDS:
            found.extra[key] = draw(text_value)
    return found


def records_of(plans: list[Plan]) -> list[Any]:
    """The records the plans describe, each good one on a subscription of its own."""
    records = []
    for p in plans:
        if p.not_object is not None:
            records.append(p.not_object)
            continue
        data = record(subscription()[0])
        for name, value in p.changes.items():
            data.pop(name, None) if value is DROP else data.__setitem__(name, value)
        records.append({**data, **p.extra})
    return records


# --- files -------------------------------------------------------------------------------
@dataclass
class Fed:
    name: str
    plans: list[Plan]
    shape: str  # how the file is written (see json_file, csv_file)
    named: set[str] = field(default_factory=set)  # problem lines that must start so
    refused: bool = False  # must exit 2 whatever the values

    def write(self, folder, records: list[Any]) -> None:
        (folder / self.name).write_bytes(
            self.json(records) if self.name.endswith(".json") else self.csv(records)
        )

    def json(self, records: list[Any]) -> bytes:
        parts = [_dumps(r) for r in records]
        for n in _shape_rows(self.shape, "json-repeated-key", parts):
            parts[n] = parts[n][:-1] + ', "quantity": "-1", "quantity": "-1"}'  # twice
        for n in _shape_rows(self.shape, "json-deep", parts):
            parts[n] = parts[n][:-1] + ', "comment": ' + DEEP + "}"
        text = "[" + ",\n".join(parts) + "]"
        if self.shape == "json-wrapped":
            text = '{"cancellations": ' + text + "}"
        elif self.shape == "json-truncated":
            text = text[: max(1, len(text) // 2)]
        elif self.shape == "json-not-an-array":
            text = '{"records": ' + text + "}"
        return text.encode("utf-8", errors="surrogatepass")

    def csv(self, records: list[Any]) -> bytes:
        header = list(dict.fromkeys(k for r in records if isinstance(r, dict) for k in r))
        header = header or ["original_order"]
        if self.shape == "csv-duplicate-column":
            header.append(header[0])
        table = [header]
        for n, r in enumerate(records):
            row = [_cell(r.get(k)) if isinstance(r, dict) else "" for k in header]
            if isinstance(r, dict) and self.shape == "csv-duplicate-column":
                row[-1] = row[0]
            if not isinstance(r, dict):
                row[0] = _cell(r) or "?"
            if n == 0 and self.shape == "csv-extra-values":
                row += ["surplus", "values"]
            table.append(row)
            if self.shape == "csv-blank-lines":
                table.append([""] * len(header))
        # a CR the csv module writes unquoted (line ending LF) reads as a line end: quote
        quoting = csv.QUOTE_ALL if any("\r" in c for r in table for c in r) else csv.QUOTE_MINIMAL
        out = io.StringIO()
        ending = "\r\n" if self.shape == "csv-crlf" else "\n"
        csv.writer(out, lineterminator=ending, quoting=quoting).writerows(table)
        data = out.getvalue().encode("utf-8")
        return (b"\xef\xbb\xbf" + data) if self.shape == "csv-bom" else data


def _shape_rows(shape: str, wanted: str, parts: list[str]) -> list[int]:
    """The records a shape changes: the first object record."""
    if shape != wanted:
        return []
    return [n for n, part in enumerate(parts) if part.startswith("{")][:1]


def _dumps(value: Any) -> str:
    """JSON as other systems write it: NaN / Infinity literals, integers of any length."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 10_000:
        return "9" * 5000
    if isinstance(value, dict):
        return "{" + ",".join(f"{_dumps(str(k))}:{_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dumps(v) for v in value) + "]"
    return json.dumps(value)  # ensure_ascii: a lone surrogate is written as \udXXX


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


JSON_SHAPES = ("json",) * 6 + ("json-wrapped", "json-repeated-key", "json-deep")
JSON_SHAPES += ("json-truncated", "json-not-an-array")
CSV_SHAPES = ("csv",) * 6 + ("csv-crlf", "csv-bom", "csv-blank-lines")
CSV_SHAPES += ("csv-duplicate-column", "csv-extra-values")


@st.composite
def import_file(draw) -> Fed:
    kind = draw(st.sampled_from(["json", "csv"]))
    shape = draw(st.sampled_from(JSON_SHAPES if kind == "json" else CSV_SHAPES))
    value = json_value if kind == "json" else csv_value
    plans = draw(st.lists(plan(value), min_size=1, max_size=6))
    if draw(st.integers(0, 3)) == 0:
        plans = [Plan() for _ in plans]  # all good: imported (unless the shape is refused)
    if kind == "csv":  # a CSV row is text in named columns
        for p in plans:  # column names as the reader keeps them (stripped), no NUL
            p.extra = {k: v for k, v in p.extra.items() if k and k == k.strip()}
            p.extra = {k: v for k, v in p.extra.items() if "\x00" not in k + v}
            p.not_object = None if p.not_object is None else "not an object"
    fed = Fed(f"cancel.{kind}", plans, shape)
    objects = [n for n, p in enumerate(plans, start=1) if p.not_object is None]
    if shape in ("json-truncated", "json-not-an-array"):
        fed.refused = True
    elif shape == "json-repeated-key" and objects:
        fed.refused, fed.named = True, {f"record {objects[0]}, quantity"}
    elif shape == "json-deep" and objects:
        fed.refused, fed.named = True, {f"record {objects[0]}, comment"}
    elif shape == "csv-duplicate-column":
        fed.refused = True
    elif shape == "csv-extra-values":
        fed.refused, fed.named = True, {"record 1"}
    else:  # the file reads: every value refused on its own is named
        fed.named = {f"record {n}, {name}" for n, p in enumerate(plans, start=1) for name in p.bad}
        fed.refused = bool(fed.named)
    return fed


# --- what must hold ----------------------------------------------------------------------
@dataclass
class State:
    """What an import may change: counted before, compared after a refusal."""

    orders: int
    reductions: int
    audit: int
    staged: int
    terminated: int

    @classmethod
    def now(cls) -> State:
        return cls(
            Order.objects.count(),
            Order.objects.filter(kind=OrderKind.REDUCTION).count(),
            AuditEvent.objects.count(),
            InboundLine.objects.count(),
            OrderItem.objects.filter(terminated_date__isnull=False).count(),
        )


PROBLEM_LINE = re.compile(r"(record \d+(, .+?)?|[^:]+): .+ \[[A-Z][0-9]+\]")


def check_refusal_lines(lines: list[str], named: set[str]) -> None:
    for line in lines:
        assert line.isprintable(), f"problem line not printable: {line!r:.300}"
        assert PROBLEM_LINE.fullmatch(line), f"problem line: {line!r:.300}"
    for where in named:
        assert any(line.startswith(f"{where}: ") for line in lines), f"{where} not in {lines}"


def run_command(fed: Fed, folder, tally) -> None:
    records = records_of(fed.plans)
    fed.write(folder, records)
    before = State.now()
    out, err = io.StringIO(), io.StringIO()
    tally["files"] += 1
    tally["rows"] += len(records)
    tally["files with rows"] += 1
    try:
        call_command("orders_import", str(folder / fed.name), stdout=out, stderr=err)
    except CommandError as refusal:
        where = f"{fed.shape} {fed.name}: {refusal} | {err.getvalue()[:2000]}"
        assert refusal.returncode == 2, f"exit {refusal.returncode}: {where}"
        assert State.now() == before, f"a refused import changed something: {where}"
        check_refusal_lines(err.getvalue().splitlines(), fed.named)
        assert "\n" not in str(refusal).strip(), where
        tally["refused"] += 1
        if not fed.refused and all(p.good for p in fed.plans):
            raise AssertionError(f"good records refused: {where}") from None
        return
    last = out.getvalue().splitlines()[-1]
    assert not fed.refused, f"{fed.shape}: imported although refused ({fed.named}): {last}"
    found = re.fullmatch(r"imported (\d+) cancellation\(s\): (RO-\d+(, RO-\d+)*)", last)
    assert found and int(found[1]) == len(records), f"summary {last!r} for {len(records)}"
    after = Order.objects.filter(kind=OrderKind.REDUCTION).count()
    assert after - before.reductions == len(records), "every record is one cancellation"
    tally["imported"] += 1


@FUZZ
@given(fed=import_file())
def test_c6_orders_import_exits_0_or_2_and_imports_all_or_nothing(fed, db, tmp_path, tally):
    """``manage.py orders_import PATH`` with fuzzed JSON and CSV files."""
    tally.minimum_files = MINIMUM_FILES
    run_command(fed, tmp_path, tally)


def _deep(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


PYTHON_BAD = st.one_of(
    st.sampled_from(NUL_TEXT + SURROGATE_TEXT),
    st.sampled_from([b"-1", {1, 2}, (1,), {"a": 1}, object(), 10**5000]),
    st.integers(100, 5000).map(_deep),
)
PYTHON_ANY = st.one_of(
    json_scalar, st.decimals(), st.dates(), st.datetimes(), st.sampled_from([date.max])
)


def python_value(name: str):
    """Refused in any field; a quantity that is no finite number; a date and time where a
    date is meant."""
    bad = PYTHON_BAD
    if name == "quantity":
        not_finite = st.decimals(allow_nan=True, allow_infinity=True)
        bad = st.one_of(bad, not_finite.filter(lambda d: not d.is_finite()))
    if name == "terminated_date":
        bad = st.one_of(bad, st.just(datetime(2025, 3, 15)))
    return st.one_of(PYTHON_ANY.map(Value), bad.map(lambda v: Value(v, bad=True)))


@FUZZ
@given(
    plans=st.lists(plan(python_value), min_size=1, max_size=6),
    key=st.sampled_from([7, None, None, None]),
    clean=st.integers(0, 3),
)
def test_c6_cancellation_import_refuses_any_python_value_naming_the_field(
    plans, key, clean, db, tally
):
    """``cancellation_import(records=...)`` (the HTTP API's door): Python values of any
    type, keys that are no text; BusinessRuleRefused naming "[n].field", or every record
    imported."""
    tally.minimum_files = MINIMUM_FILES
    if clean == 0:
        plans = [Plan() for _ in plans]  # all good: imported
    if key is not None and plans[0].not_object is None:
        plans[0].extra[key] = "a key that is no text"
        plans[0].bad.add(str(key))
    records = records_of(plans)
    before = State.now()
    tally["files"] += 1
    tally["rows"] += len(records)
    tally["files with rows"] += 1
    try:
        created = cancellation_import(records=records, user=None)
    except BusinessRuleRefused as refusal:
        refusals = refusal.refusals if isinstance(refusal, BusinessRulesRefused) else [refusal]
        fields = {r.field for r in refusals}
        named = {f"[{n}].{name}" for n, p in enumerate(plans, start=1) for name in p.bad}
        assert named <= fields, f"{sorted(named - fields)} not named in {sorted(fields)}"
        assert all(r.message.isprintable() for r in refusals), [r.message for r in refusals]
        assert State.now() == before, "a refused import changed something"
        assert not all(p.good for p in plans), f"good records refused: {refusal}"
        tally["refused"] += 1
        return
    assert not any(p.bad for p in plans), f"imported although refused: {plans}"
    assert len(created) == len(records)
    tally["imported"] += 1
