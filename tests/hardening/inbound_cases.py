"""Malformed inbound rows (interchange.md) and what staging must make of each (I1, I2).

Every generated cell carries its verdict, decided here from the interchange spec and the
staging table's column sizes (not from the parser): a *bad* cell must stop its line with
an error that names the column; a *good* one must never be named on its own. ``Row.good``
rows are whole valid SO lines: staged NEW without errors, then collected.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from hypothesis import strategies as st

from revenue.models import InboundLine

TYPES = ("SO", "INV", "CM", "CM-R", "RORD", "CM-RO")
METHODS = ("IMMEDIATE", "RATABLE_MONTHLY", "RATABLE_DAILY")
TEXT = ("SO_NUM", "SO_LINE_ID", "ORIG_SO_LINE_ID", "INV_NUM", "INV_LINE_ID", "CUSTOMER")
TEXT += ("ITEM", "RC_KEY")
DATES = ("SO_DATE", "INV_DATE", "START_DATE", "END_DATE")
DECIMALS = ("ORD_QTY", "INV_QTY", "SSP_PCT", "SSP_PRICE")
MONEY = ("EXT_LST_PRC", "EXT_SLL_PRC")
FLAGS = ("CANCEL_FLAG", "RETURN_FLAG", "RORD_REVIEW_COMPLETED")
CURRENCY = ("CURR", "F_CUR")
COLUMNS = ("TRAN_TYPE", *TEXT, *DATES, *DECIMALS, *MONEY, *CURRENCY, "REV_METHOD", *FLAGS)
# columns a cross-field check may name although each cell is good on its own
CROSS = {"END_DATE", "SSP_PRICE", "EXT_LST_PRC", "EXT_SLL_PRC"}
LIMIT = {c: InboundLine._meta.get_field(c.lower()).max_length for c in TEXT}
MARKER = "ROW_ID"  # an unknown column (kept in the raw row, I2) that names each row

INJECTIONS = (
    "'; DROP TABLE revenue_inboundline; --",
    "1' OR '1'='1",
    '=cmd|" /C calc"!A0',
    '=HYPERLINK("http://x","y")',
    "+SUM(1,2)",
    "-2+3",
    "@A1",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{ 7*7 }}{% debug %}",
    "\u202eevil\u202c",  # right-to-left override
    "שלום עולם",
    "مرحبا",
    "😀👍🏽",
    "Ñandú café",
    "e\u0301",
    "\ufeffBOM",
    "a,b;c\td",
    'quote " inside',
    "line\nbreak",
    "carriage\rreturn",
    "\\x00 \\u0000",
    "null",
    "None",
    "   padded   ",
)
BAD_NUMBERS = (
    "NaN", "nan", "Infinity", "-Infinity", "inf", "1e400", "-1e400", "1E5", "1e-7",
    "1,000.00", "1.000,00", "--5", "+-3", "5-", "0x1F", "1_000", "١٢٣", "１２３", "½",
    "$5", "5%", "5 5", "0.0000001", "9" * 14, "-" + "9" * 14, "9" * 40, "1" * 400,
    "true", "null", "None", "abc", ".", "-", "+", "..5", "5..", "'; DROP TABLE x; --",
)  # fmt: skip
BAD_DATES = (
    "2026-02-30", "2026-13-01", "2026-00-10", "2026-01-32", "0000-01-01", "26-01-01",
    "2026/01/01", "01/02/2026", "2026-1-1", "20260101", "2026-01-01T00:00:00",
    "2026-01-01 00:00", "2026-W01", "yesterday", "NaN", "٢٠٢٦-٠١-٠١", "２０２６-０１-０１",
    "-2026-01-01", "+2026-01-01", "99999-01-01", "2026-01", "<script>",
)  # fmt: skip
BAD_CURRENCIES = ("US", "USDD", "ZZZ", "€", "12$", "U S", "usd\u200b", "DOLLAR", "$$$")
BAD_FLAGS = ("YES", "NO", "1", "0", "T", "F", "Y N", "✓", "yes", "x")
BAD_METHODS = ("WEEKLY", "RATABLE", "DAILY", "IMMEDIATE;DROP", "RATABLE-MONTHLY", "0")
BAD_TYPES = ("XX", "S0", "SO,INV", "INVOICE", "CM_R", "-", *INJECTIONS[:8])
SQLITE_SAFE_DIGITS = 13


def is_date(text: str) -> bool:
    """interchange.md: dates are YYYY-MM-DD (ASCII digits, a real calendar day)."""
    text = text.strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def is_decimal(text: str) -> bool:
    """interchange.md: decimals use '.', digits only; the staging column is (20, 6)."""
    text = text.strip()
    if not re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", text):
        return False
    try:
        number = Decimal(text)
    except InvalidOperation:
        return False
    return number.adjusted() < SQLITE_SAFE_DIGITS and -number.as_tuple().exponent <= 6


@dataclass
class Row:
    """One row as fed, with what staging must say about it."""

    cells: dict[str, Any]
    bad: set[str] = field(default_factory=set)  # columns its errors must name
    shape: str = ""  # a text one of its errors must contain (row shape, I2)
    good: bool = False  # a whole valid SO line: NEW, no error, collected
    extreme: bool = False  # valid but huge amounts (shown when a check fails)
    repeated: set[str] = field(default_factory=set)  # columns given twice (raw keeps one)

    def item(self) -> Any:
        return self.cells


@dataclass
class NotAnObject(Row):
    """A JSON array item or service row that is not an object."""

    value: Any = None

    def item(self) -> Any:
        return self.value


# --- cells: (value, is it bad, is it extreme) ---------------------------------------------
def _good(strategy):
    return strategy.map(lambda v: (v, False, False))


def _bad(strategy):
    return strategy.map(lambda v: (v, True, False))


def _pad(text: str):
    return st.sampled_from(["", " ", "  \t"]).map(lambda pad: f"{pad}{text}{pad}")


SAFE_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")


def _garbage(size: int):
    """Random text that is not blank (blank means absent)."""
    return st.text(SAFE_CHARS, min_size=1, max_size=size).filter(str.strip)


def text_cell(column: str):
    limit = LIMIT[column]
    return st.one_of(
        _good(st.text(SAFE_CHARS, max_size=30)),
        _good(st.sampled_from(INJECTIONS)),
        _good(st.just("x" * limit)),
        _bad(st.integers(1, 3000).map(lambda extra: "y" * (limit + extra))),
        _bad(st.sampled_from(["A\x00B", "\x00", "NUL\x00"])),
    )


def date_cell():
    dates = st.dates(date(1950, 1, 1), date(2100, 12, 31)).map(date.isoformat)
    return st.one_of(
        _good(dates.flatmap(_pad)),
        _bad(st.sampled_from(BAD_DATES)),
        _bad(_garbage(12).filter(lambda t: not is_date(t))),
    )


def decimal_cell(places: int):
    numbers = st.decimals(-(10**7), 10**7, places=places, allow_nan=False)
    return st.one_of(
        _good(numbers.map(lambda d: format(d, "f")).flatmap(_pad)),
        _good(st.sampled_from(["+5", ".5", "5.", "-0", "007", "0"])),
        st.sampled_from(["9999999999999", "-9999999999999", "0.000001"]).map(
            lambda v: (v, False, True)
        ),
        _bad(st.sampled_from(BAD_NUMBERS)),
        _bad(_garbage(10).filter(lambda t: not is_decimal(t))),
    )


def choice_cell(good: tuple[str, ...], bad: tuple[str, ...]):
    lower = tuple(g.lower() for g in good)
    return st.one_of(_good(st.sampled_from(good + lower).flatmap(_pad)), _bad(st.sampled_from(bad)))


def cell(column: str):
    if column in TEXT:
        return text_cell(column)
    if column in DATES:
        return date_cell()
    if column in DECIMALS:
        return decimal_cell(places=6)
    if column in MONEY:
        return decimal_cell(places=2)
    if column in CURRENCY:
        return choice_cell(("USD", "EUR", "GBP", "JPY", "CAD", ""), BAD_CURRENCIES)
    if column in FLAGS:
        return choice_cell(("Y", "N", ""), BAD_FLAGS)
    if column == "REV_METHOD":
        return choice_cell((*METHODS, ""), BAD_METHODS)
    return choice_cell(TYPES, BAD_TYPES + ("", "  "))  # TRAN_TYPE is required


# --- typed values a JSON file or a Python caller sends ----------------------------------
NOT_TEXT = st.sampled_from([True, [], {}, [1, 2], {"a": 1}, float("nan"), float("inf")])
DEEP: list = ["too deep"]
for _ in range(24):
    DEEP = [DEEP]


def typed_cell(column: str, *, service: bool):
    """JSON numbers, booleans, nulls, arrays and objects (and Python objects for the
    service) where the interchange expects text."""
    extra = []
    if column in DECIMALS + MONEY:
        extra += [
            _good(st.integers(-(10**7), 10**7)),
            _good(st.none()),
            _bad(NOT_TEXT | st.sampled_from([10**20, 10**5000, -(10**5000), 1e300])),
        ]
        if service:
            extra += [
                _good(st.sampled_from([Decimal("1.5"), Decimal("-0"), Decimal("100")])),
                _bad(st.sampled_from([Decimal("NaN"), Decimal("sNaN"), Decimal("1E+5")])),
            ]
    elif column in DATES:
        extra += [_good(st.none()), _bad(NOT_TEXT | st.sampled_from([20260101, 2026.0101]))]
        if service:
            extra += [
                _good(st.just(date(2026, 3, 1))),
                _bad(st.just(datetime(2026, 3, 1, 12, 30))),
            ]
    elif column in TEXT:
        extra += [
            _good(st.integers(-(10**30), 10**30) | st.none() | st.booleans()),
            _bad(st.sampled_from(["\ud800", "a\udfffb", DEEP])),
        ]
        if service:
            extra += [_good(st.sampled_from([b"bytes\xff", Decimal("7"), ("t", 1)]))]
    elif column in FLAGS:
        extra += [_good(st.booleans() | st.none()), _bad(st.sampled_from([1, 0, [], "\ud800"]))]
    else:
        extra += [_bad(st.sampled_from([5, [], {"SO": 1}, 3.5, "\udc00", DEEP]))]
    return st.one_of(cell(column), *extra)


# --- rows -------------------------------------------------------------------------------
_ids = itertools.count(1)
UNKNOWN = ("NOTE", "=cmd|' /C calc'!A0", "<b>bold</b>", "'; DROP TABLE x; --", "ÜNÏ", "😀")


def good_row() -> Row:
    """A whole valid SO line (interchange.md); its id is unique in the test run."""
    n = next(_ids)
    cells = {
        "TRAN_TYPE": "SO",
        "SO_NUM": f"GOOD-{n}",
        "SO_LINE_ID": f"GOOD-{n}-1",
        "SO_DATE": "2026-01-01",
        "ORD_QTY": "2",
        "EXT_LST_PRC": "120.00",
        "EXT_SLL_PRC": "100.00",
        "CURR": "USD",
        "F_CUR": "USD",
        "START_DATE": "2026-01-01",
        "END_DATE": "2026-12-31",
        "REV_METHOD": "RATABLE_MONTHLY",
    }
    return Row(cells=cells, good=True)


@st.composite
def fuzz_row(draw, *, typed: bool = False, service: bool = False) -> Row:
    if draw(st.integers(0, 9)) == 0:
        return good_row()
    columns = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=12, unique=True))
    row = Row(cells={})
    for column in columns:
        strategy = typed_cell(column, service=service) if typed else cell(column)
        value, bad, extreme = draw(strategy)
        row.cells[column] = value
        if bad:
            row.bad.add(column)
        row.extreme |= extreme
    if "TRAN_TYPE" not in row.cells:
        row.bad.add("TRAN_TYPE")  # required
    for name in draw(st.lists(st.sampled_from(UNKNOWN), max_size=2, unique=True)):
        row.cells[name] = draw(st.text(SAFE_CHARS, max_size=8))
    return row


@st.composite
def not_an_object(draw, *, service: bool = False) -> Row:
    values = [5, "SO", None, [], ["SO", "A-1"], True, 1.5]
    if service:
        values += [("SO",), b"SO", object()]
    return NotAnObject(cells={}, shape="not an object", value=draw(st.sampled_from(values)))
