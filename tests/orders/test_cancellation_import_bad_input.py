"""C6 under bad input (issue 18): ``orders_import`` names the record and the field of every
bad value and exits 2 (interchange.md: never a traceback for bad input), and nothing is
imported. The record checks live in ``cancellation_import``, so the HTTP API gets them
too."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.exceptions import BusinessRulesRefused
from orders.models import Order, OrderKind
from orders.services.cancellations import cancellation_import
from tests.orders.test_cancellations import record, subscription

pytestmark = pytest.mark.django_db


def run(path: Path) -> tuple[CommandError, list[str]]:
    """``orders_import PATH`` that must refuse: the CommandError and the problem lines."""
    err = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("orders_import", str(path), stdout=StringIO(), stderr=err)
    assert excinfo.value.returncode == 2, str(excinfo.value)
    assert not Order.objects.filter(kind=OrderKind.REDUCTION).exists(), "nothing imported"
    return excinfo.value, err.getvalue().splitlines()


def three_records(tmp_path, third: str) -> Path:
    """Records 1 and 2 good, record 3 as JSON text with ``third`` ('"key": value' as JSON
    text) in place of that key's good value."""
    orders = [subscription()[0] for _ in range(3)]
    good = [json.dumps(record(order)) for order in orders[:2]]
    key = json.loads(third.split(":", 1)[0])
    bad = json.dumps({k: v for k, v in record(orders[2]).items() if k != key})
    bad = bad[:-1] + ", " + third + "}"
    path = tmp_path / "cancel.json"
    path.write_text("[" + ",\n".join([*good, bad]) + "]", encoding="utf-8")
    return path


def assert_named(lines: list[str], where: str, words: str = "") -> None:
    found = [line for line in lines if line.startswith(f"{where}: ") and words in line]
    assert found, f"no line {where}: …{words}… in {lines}"
    assert all("Traceback" not in line for line in lines)


# --- 1. values that crashed the command -----------------------------------------------------
QUANTITIES = [
    ('"quantity": "sNaN"', "not a number"),
    ('"quantity": "NaN"', "not a number"),
    ('"quantity": "-sNaN"', "not a number"),
    ('"quantity": "Infinity"', "not a number"),
    ('"quantity": "-1e999999999"', "too large"),
    ('"quantity": "1e999999999"', "too large"),
    ('"quantity": "1e-999999999"', "decimal places"),
    # JSON's own literals and a float beyond any double
    ('"quantity": NaN', "not a number"),
    ('"quantity": -Infinity', "not a number"),
    ('"quantity": 1e999999999', "too large"),
    ('"quantity": -1e999999999', "too large"),
    ('"quantity": ' + "9" * 5000, "too large"),
]


@pytest.mark.parametrize(("given", "words"), QUANTITIES)
def test_c6_a_quantity_that_is_no_finite_number_names_record_and_field(tmp_path, given, words):
    _, lines = run(three_records(tmp_path, given))
    assert_named(lines, "record 3, quantity", words)
    assert all(not line.startswith(("record 1", "record 2")) for line in lines), lines


def test_c6_json_nested_100000_deep_exits_2_naming_the_record_and_field(tmp_path):
    _, lines = run(three_records(tmp_path, '"comment": ' + "[" * 100_000))
    assert_named(lines, "record 3, comment", "nested too deeply")


def test_c6_a_whole_file_nested_100000_deep_exits_2(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000)
    _, lines = run(path)
    assert_named(lines, "record 1", "nested too deeply")


def test_c6_nested_value_that_parses_is_refused_as_not_a_single_value(tmp_path):
    _, lines = run(three_records(tmp_path, '"unit_price": ' + "[" * 900 + "]" * 900))
    assert_named(lines, "record 3, unit_price", "a single value")


@pytest.mark.parametrize(
    ("given", "where"),
    [
        ('"comment": "a\\ud800b"', "record 3, comment"),
        ('"billing_frequency": "\\udfff"', "record 3, billing_frequency"),
        ('"revised_order_item": "ORD-1-\\ud800"', "record 3, revised_order_item"),
    ],
)
def test_c6_a_lone_surrogate_names_record_and_field(tmp_path, given, where):
    _, lines = run(three_records(tmp_path, given))
    assert_named(lines, where, "surrogate")
    assert not any("\ud800" in line or "\udfff" in line for line in lines), "shown escaped"


@pytest.mark.parametrize(
    "field", ["original_order", "comment", "billing_frequency", "terminated_date"]
)
def test_c6_a_nul_byte_names_record_and_field(tmp_path, field):
    """On PostgreSQL a text value cannot hold NUL (the lookup raised ValueError): refused
    as bad input on both databases."""
    path = three_records(tmp_path, json.dumps(field) + ': "ORD\\u0000X"')
    _, lines = run(path)
    assert_named(lines, f"record 3, {field}", "NUL")


def test_c6_a_lone_surrogate_in_a_field_name_is_shown_escaped(tmp_path):
    _, lines = run(three_records(tmp_path, '"x\\ud800": 1'))
    assert any(line.startswith("record 3, ") and "unknown field" in line for line in lines)
    assert not any("\ud800" in line for line in lines)


def test_c6_deep_json_exits_2_without_a_traceback_from_manage_py(tmp_path):
    """The real process: exit code 2, one line, no traceback (nothing read from the
    database: the file is refused while it is read)."""
    path = tmp_path / "deep.json"
    path.write_text('{"cancellations": [{}, {"quantity": ' + "[" * 100_000 + "}]}")
    manage = Path(__file__).resolve().parents[2] / "manage.py"
    done = subprocess.run(
        [sys.executable, str(manage), "orders_import", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "record 2, quantity: " in done.stderr and "nested too deeply" in done.stderr


# --- 2. CSV shapes that were imported silently -----------------------------------------------
HEADER = "original_order,line_number,contract_action,quantity,terminated_date,billing_frequency"


def test_c6_csv_with_a_duplicated_column_is_refused_naming_the_column(tmp_path):
    first, second = subscription()[0], subscription()[0]
    path = tmp_path / "dup.csv"
    path.write_text(
        HEADER + ",quantity\n"
        f"{first.number},1,CANCEL,-1,2025-03-15,MONTHLY,-1\n"
        f"{second.number},1,CANCEL,-1,2025-03-15,MONTHLY,5\n"
    )
    _, lines = run(path)
    assert_named(lines, "quantity", "more than once")


def test_c6_csv_row_with_values_past_the_header_is_refused_naming_the_record(tmp_path):
    first, second = subscription()[0], subscription()[0]
    path = tmp_path / "extra.csv"
    path.write_text(
        HEADER + "\n"
        f"{first.number},1,CANCEL,-1,2025-03-15,MONTHLY\n"
        f"{second.number},1,CANCEL,-1,2025-03-15,MONTHLY,surprise,more\n"
    )
    _, lines = run(path)
    assert_named(lines, "record 2", "2 more values than the header")


def test_c6_csv_nul_byte_is_refused_naming_record_and_field(tmp_path):
    order = subscription()[0]
    path = tmp_path / "nul.csv"
    path.write_text(HEADER + ",comment\n" + f"{order.number},1,CANCEL,-1,2025-03-15,MONTHLY,a\0b\n")
    _, lines = run(path)
    assert_named(lines, "record 1, comment", "NUL")


# --- the service holds the checks (the HTTP API calls it) -------------------------------------
def test_c6_the_service_refuses_values_of_any_python_type_naming_record_and_field():
    order, _ = subscription()
    deep: list = []
    for _ in range(5000):  # deeper than repr() goes
        deep = [deep]
    cases = {
        "quantity": Decimal("sNaN"),
        "unit_price": float("nan"),
        "original_order": "ORD\x00",
        "comment": "\udc80",
        "billing_frequency": deep,
        "terminated_date": {"year": 2025},
        "line_number": 10**5000,
        "price_book_entry": b"1",
    }
    records = [record(order, **{field: value}) for field, value in cases.items()]
    records.append({**record(order), 7: "seven"})  # a key that is no text
    with pytest.raises(BusinessRulesRefused) as excinfo:
        cancellation_import(records=records, user=None)
    fields = {r.field for r in excinfo.value.refusals}
    expected = {f"[{n}].{field}" for n, field in enumerate(cases, start=1)}
    assert expected <= fields, sorted(fields)
    assert f"[{len(records)}].7" in fields
    assert not Order.objects.filter(kind=OrderKind.REDUCTION).exists()


@pytest.mark.parametrize("line_number", ["1" + "0" * 30, 2**40, "-1", "١"])
def test_c6_the_service_refuses_a_line_number_out_of_range(line_number):
    order, _ = subscription()
    with pytest.raises(BusinessRulesRefused) as excinfo:
        cancellation_import(records=[record(order, line_number=line_number)], user=None)
    assert "[1].line_number" in {r.field for r in excinfo.value.refusals}
