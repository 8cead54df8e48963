"""I1, I2: the bad inputs the fuzzing found, each pinned down (every one raised before).

A file is either refused whole in one line that says why (nothing staged), or every row
becomes a line, the bad ones stopped with INB-000 naming the column.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from revenue.models import InboundBatch, InboundLine
from revenue.services.inbound import (
    InboundFileRefused,
    inbound_file_stage,
    inbound_line_update,
    inbound_stage,
)


def staged(data: bytes, name: str = "f.json") -> list[InboundLine]:
    batch = inbound_file_stage(stream=io.BytesIO(data), filename=name, source="COMMAND")
    return list(batch.lines.order_by("row_number"))


def messages(line: InboundLine) -> str:
    return " | ".join(f"{e['field']}: {e['message']}" for e in line.errors)


STOPPED = [
    # JSON integers longer than Python converts (4,300 digits): kept as text, too large
    ('[{"TRAN_TYPE":"SO","EXT_SLL_PRC":' + "9" * 5000 + "}]", "EXT_SLL_PRC", "is too large"),
    # a lone surrogate (\ud800) is not a character: no database column holds it
    ('[{"TRAN_TYPE":"SO","ITEM":"\\ud800"}]', "ITEM", "unpaired surrogate"),
    # nesting deeper than any column has
    ('[{"TRAN_TYPE":"SO","ITEM":' + "[" * 900 + "]" * 900 + "}]", "ITEM", "nested too deeply"),
    # NaN / -Infinity JSON literals
    ('[{"TRAN_TYPE":"SO","EXT_SLL_PRC":NaN,"ORD_QTY":-Infinity}]', "ORD_QTY", "'-inf'"),
    # a key given twice: which value is meant is unknown
    ('[{"TRAN_TYPE":"SO","SO_LINE_ID":"a","SO_LINE_ID":"b"}]', "SO_LINE_ID", "more than once"),
    # the reader's own markers sent as columns (they raised TypeError)
    ('[{"TRAN_TYPE":"SO","__extra__":5}]', "", "more values than the header"),
    ('[{"TRAN_TYPE":"SO","__missing__":5}]', "", "row ends before 5"),
    # digits of other scripts are not decimals ('١٢٣' was read as 123)
    ('[{"TRAN_TYPE":"SO","EXT_SLL_PRC":"١٢٣"}]', "EXT_SLL_PRC", "not a decimal number"),
    # 14 digits before the point: SQLite reads 99999999999999.99 back as 1E+14 (raised)
    ('[{"TRAN_TYPE":"SO","EXT_SLL_PRC":"99999999999999.99"}]', "EXT_SLL_PRC", "too large"),
]


@pytest.mark.parametrize("text,column,message", STOPPED)
def test_i2_a_bad_json_value_stops_its_line_naming_the_column(db, text, column, message):
    (line,) = staged(text.encode())
    assert line.status == "ERROR" and "INB-000" in line.error_codes
    found = [e for e in line.errors if e["field"] == column and message in e["message"]]
    assert found, messages(line)
    assert all(len(e["message"]) < 300 for e in line.errors), "long values are cut"


def test_i2_csv_duplicate_column_and_nul_stop_the_lines_only(db):
    data = b"TRAN_TYPE,SO_LINE_ID,SO_LINE_ID,ITEM\nSO,a,b,x\nSO,c,d,y\x00z\n"
    first, second = staged(data, "dup.csv")
    assert "SO_LINE_ID: given more than once (a, b)" in messages(first)
    assert first.raw["__duplicate__"] == {"SO_LINE_ID": ["a", "b"]}
    assert "ITEM: contains a NUL byte" in messages(second)  # was: whole file "binary"


REFUSED = [
    ("TRAN_TYPE,ITEM\nSO,a\n".encode("utf-16"), "is UTF-16 text: save it as UTF-8"),
    (b"[" * 100_000, "nested too deeply"),
    (b"TRAN_TYPE,ITEM\nSO,a\rb\n", "a value holds a line break (CR) without quotes"),
    (b"TRAN_TYPE,\r" + b"x" * 10 + b"\n", "line break (CR)"),  # in the header: csv.Error
    (b"TRAN_TYPE,ITEM\nSO," + b"x" * 200_000 + b"\n", "longer than 131,072 characters"),
]


@pytest.mark.parametrize("data,message", REFUSED)
def test_i1_a_file_that_cannot_be_read_is_refused_in_one_line(db, data, message):
    with pytest.raises(InboundFileRefused) as refused:
        staged(data, "bad.csv")
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert not InboundLine.objects.exists()


def test_i1_service_rows_of_any_python_type_are_kept(db):
    """Rows that are not mappings, huge integers, sets and bytes: lines, not exceptions."""
    rows = [["SO"], None, {"TRAN_TYPE": "SO", "ORD_QTY": 10**5000, "ITEM": {1, 2}}]
    batch = inbound_stage(rows=rows, source=InboundBatch.SourceKind.SERVICE)
    lines = list(batch.lines.order_by("row_number"))
    assert len(lines) == 3 and all(line.status == "ERROR" for line in lines)
    assert "not an object" in messages(lines[0])
    assert "ORD_QTY: is too large" in messages(lines[2])


def test_i2_many_columns_are_kept_in_the_raw_row(db):
    header = "TRAN_TYPE," + ",".join(f"C{i}" for i in range(3000))
    (line,) = staged(f"{header}\nSO,{','.join('x' * 3000)}\n".encode(), "wide.csv")
    assert len(line.raw) == 3001 and line.raw["C2999"] == "x"


def test_i4_an_edit_of_the_wrong_type_is_refused_naming_the_column(db, admin_user):
    (line,) = staged(b'[{"TRAN_TYPE":"SO","SO_DATE":"2026-13-01","ITEM":"a"}]')
    cases = [
        ({"so_date": 20260101}, "SO_DATE"),
        ({"ext_sll_prc": Decimal("NaN")}, "EXT_SLL_PRC"),
        ({"customer": "A\x00B"}, "CUSTOMER: contains a NUL byte"),
        ({"item": "x" * 201}, "ITEM"),
    ]
    for changes, named in cases:
        with pytest.raises(ValidationError) as refused:
            inbound_line_update(line=line, changes=changes, actor=admin_user)
        assert named in str(refused.value.message_dict), changes
