"""I2: one parser for every door (upload, command, service). A value that cannot be parsed
becomes an error on its line, never an exception; the raw row is kept as received."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from moneyed import CURRENCIES

from core.services import currency_exponent

from ..models import SoLine
from ..models.choices import RevMethod, TranType
from .refusals import LineRefusal
from .splits import term_months

PARSE_ERROR = "INB-000"  # I2: a value that cannot be parsed (not a registry rule: always on)

COLUMNS = (
    "TRAN_TYPE",
    "SO_NUM",
    "SO_LINE_ID",
    "ORIG_SO_LINE_ID",
    "SO_DATE",
    "INV_NUM",
    "INV_LINE_ID",
    "INV_DATE",
    "CUSTOMER",
    "ITEM",
    "ORD_QTY",
    "INV_QTY",
    "EXT_LST_PRC",
    "EXT_SLL_PRC",
    "CURR",
    "F_CUR",
    "START_DATE",
    "END_DATE",
    "REV_METHOD",
    "RC_KEY",
    "SSP_PCT",
    "SSP_PRICE",
    "CANCEL_FLAG",
    "RETURN_FLAG",
    "RORD_REVIEW_COMPLETED",
)
TEXT_COLUMNS = {
    "SO_NUM": 100,
    "SO_LINE_ID": 100,
    "ORIG_SO_LINE_ID": 100,
    "INV_NUM": 100,
    "INV_LINE_ID": 100,
    "CUSTOMER": 200,
    "ITEM": 200,
    "RC_KEY": 100,
}
DATE_COLUMNS = ("SO_DATE", "INV_DATE", "START_DATE", "END_DATE")
DECIMAL_COLUMNS = ("ORD_QTY", "INV_QTY", "SSP_PCT", "SSP_PRICE")
MONEY_COLUMNS = ("EXT_LST_PRC", "EXT_SLL_PRC")
CURRENCY_COLUMNS = ("CURR", "F_CUR")
FLAG_COLUMNS = ("CANCEL_FLAG", "RETURN_FLAG", "RORD_REVIEW_COMPLETED")
# the typed model field of each column
FIELD_OF = {column: column.lower() for column in COLUMNS}

# ASCII digits only: \d alone also matches other scripts' digits, which Decimal reads
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$", re.ASCII)
# staging columns are numeric(20, 6); SQLite reads them back through a float (15
# significant digits), which rounds 99999999999999.99 up to 15 digits before the point
MAX_DIGITS_BEFORE_POINT = 13
TYPE_VALUES = ", ".join(TranType.values)
METHOD_VALUES = ", ".join(RevMethod.values)


@dataclass
class ParsedRow:
    raw: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)

    def error(self, column: str, message: str, rule: str = "I2") -> None:
        self.errors.append(parse_error(column, message, rule))


def parse_error(column: str, message: str, rule: str = "I2") -> dict[str, str]:
    """A staged line's INB-000 entry: the column, the rule it breaks, the message."""
    return LineRefusal(
        code=PARSE_ERROR, rule=rule, field=column, message=f"{column}: {message}"
    ).as_dict()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    return str(value).strip()


def _shown(text: str, limit: int = 60) -> str:
    """A received value as an error message quotes it: long ones cut (the raw row has all)."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _parse_date(text: str) -> date:
    if not _DATE.match(text):
        raise ValueError(f"'{_shown(text)}' is not a date in YYYY-MM-DD form")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{_shown(text)}' is not a calendar date") from None


def _parse_decimal(text: str) -> Decimal:
    if not _DECIMAL.match(text):
        raise ValueError(f"'{_shown(text)}' is not a decimal number (digits and '.')")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"'{_shown(text)}' is not a decimal number") from None
    if number.adjusted() >= MAX_DIGITS_BEFORE_POINT:
        raise ValueError(
            f"'{_shown(text)}' is too large (at most {MAX_DIGITS_BEFORE_POINT} digits before '.')"
        )
    if -number.as_tuple().exponent > 6:
        raise ValueError(f"'{_shown(text)}' has more than 6 decimal places")
    return number


def parse_row(raw: dict[str, Any]) -> ParsedRow:
    """Parse one row (a dict of column → value as received) into typed values + errors."""
    row = ParsedRow(raw=raw)
    text = {column: _text(raw.get(column)) for column in COLUMNS}
    values = row.values

    tran_type = text["TRAN_TYPE"].upper()
    if not tran_type:
        row.error("TRAN_TYPE", f"is required (one of {TYPE_VALUES})")
    elif tran_type not in TranType.values:
        row.error("TRAN_TYPE", f"'{_shown(text['TRAN_TYPE'])}' is not one of {TYPE_VALUES}")
    values["tran_type"] = tran_type if tran_type in TranType.values else ""

    for column, size in TEXT_COLUMNS.items():
        value = text[column]
        if len(value) > size:
            row.error(column, f"is longer than {size} characters")
            value = value[:size]
        values[FIELD_OF[column]] = value
    for column in DATE_COLUMNS:
        values[FIELD_OF[column]] = None
        if text[column]:
            try:
                values[FIELD_OF[column]] = _parse_date(text[column])
            except ValueError as problem:
                row.error(column, str(problem))
    for column in DECIMAL_COLUMNS + MONEY_COLUMNS:
        values[FIELD_OF[column]] = None
        if text[column]:
            try:
                values[FIELD_OF[column]] = _parse_decimal(text[column])
            except ValueError as problem:
                row.error(column, str(problem))
    for column in CURRENCY_COLUMNS:
        code = text[column].upper()
        values[FIELD_OF[column]] = ""
        if code:
            if len(code) != 3 or code not in CURRENCIES:
                row.error(column, f"'{_shown(text[column])}' is not an ISO 4217 currency code")
            else:
                values[FIELD_OF[column]] = code
    for column in FLAG_COLUMNS:
        flag = text[column].upper()
        values[FIELD_OF[column]] = ""
        if flag in ("Y", "N", ""):
            values[FIELD_OF[column]] = flag
        else:
            row.error(column, f"'{_shown(text[column])}' is not Y, N or empty")
    if not values["rord_review_completed"]:
        values["rord_review_completed"] = "N"

    method = text["REV_METHOD"].upper()
    if method and method not in RevMethod.values:
        row.error("REV_METHOD", f"'{_shown(text['REV_METHOD'])}' is not one of {METHOD_VALUES}")
        method = ""
    values["rev_method"] = method or (RevMethod.RATABLE_DAILY if tran_type == "SO" else "")

    _cross_checks(row)
    derive_keys(values)
    return row


def _cross_checks(row: ParsedRow) -> None:
    values = row.values
    start, end = values["start_date"], values["end_date"]
    if start and end and end < start:
        row.error("END_DATE", f"{end} is before START_DATE {start}")
    # both SSP_PCT and SSP_PRICE: V15 (INB-007) stops the line at collection, where the
    # rule can be read, listed and switched like the other validation rules
    currency = values["curr"]
    if currency:
        exponent = currency_exponent(currency)
        for column in MONEY_COLUMNS:
            amount = values[FIELD_OF[column]]
            if amount is not None and -amount.as_tuple().exponent > min(exponent, 2):
                row.error(column, f"{amount} has more decimals than {currency} allows")
    problem = ext_ssp_problem(values)
    if problem:
        row.error(*problem, rule="A2")


# what an SO line's Ext SSP (A2) is computed from: editing one of them checks it again
SSP_INPUTS = ("ssp_pct", "ssp_price", "ext_lst_prc", "ord_qty", "start_date", "end_date", "so_date")


def ext_ssp_problem(values: dict[str, Any]) -> tuple[str, str] | None:
    """A2 at entry: (column, message) when an SO row's SSP gives an Ext SSP larger than
    its SO line's EXT_SSP column holds (gross: reductions only lower it). Such a line used
    to reach collection and stop there with INB-999 and a decimal overflow. Values that are
    missing or do not parse are left to their own checks."""
    if values.get("tran_type") != TranType.SO:
        return None
    try:
        if _surely_fits(values):  # nearly every row: no exact arithmetic
            return None
        found = _gross_ext_ssp(values)
    except (TypeError, ValueError, ArithmeticError):
        return None
    if found is None:
        return None
    column, formula, value = found
    field = SoLine._meta.get_field("ext_ssp")
    digits = field.max_digits - field.decimal_places
    # rounded to its decimal places, the value must stay below 10 ** digits
    if abs(value) < 10**digits - Fraction(1, 2 * 10**field.decimal_places):
        return None
    shown = f"{Decimal(value.numerator) / Decimal(value.denominator):.3E}"
    return column, (
        f"Ext SSP = {formula} = {shown}, more than EXT_SSP holds (at most {digits} digits "
        f"before '.'): enter a smaller {column}"
    )


def ext_ssp_refusal(values: dict[str, Any], *, edited) -> tuple[str, str] | None:
    """A2 in an edit (the admin form and ``inbound_line_update``): (field, message) refusing
    it when it changed what the Ext SSP is computed from and the Ext SSP still does not fit."""
    if not set(edited) & set(SSP_INPUTS):
        return None
    problem = ext_ssp_problem(values)
    if problem is None:
        return None
    column, message = problem
    return FIELD_OF[column], f"{column}: {message}"


def _term_dates(values: dict[str, Any]) -> tuple[date, date] | None:
    """The SO line's revenue dates as they default (start = SO_DATE, end = start), or None
    when they give no term."""
    start = values.get("start_date") or values.get("so_date")
    end = values.get("end_date") or start
    if start is None or end < start:
        return None
    return start, end


_FITS = Decimal("1E15")  # a tenth of what EXT_SSP holds: the margin covers the bounds


def _surely_fits(values: dict[str, Any]) -> bool:
    """A quick upper bound of the Ext SSP below ``_FITS``: a term is at most the months
    its dates touch, plus one."""
    ssp_pct, ssp_price, qty = values.get("ssp_pct"), values.get("ssp_price"), values.get("ord_qty")
    if ssp_pct is not None:
        list_price = values.get("ext_lst_prc")
        return list_price is None or abs(list_price * ssp_pct) < _FITS * 100
    dates = _term_dates(values)
    if ssp_price is None or qty is None or dates is None:
        return True
    start, end = dates
    months = (end.year - start.year) * 12 + end.month - start.month + 2
    return abs(ssp_price * qty) * months < _FITS


def _gross_ext_ssp(values: dict[str, Any]) -> tuple[str, str, Fraction] | None:
    if values.get("ssp_pct") is not None and values.get("ext_lst_prc") is not None:
        value = Fraction(values["ext_lst_prc"]) * Fraction(values["ssp_pct"]) / 100
        return "SSP_PCT", "EXT_LST_PRC × SSP_PCT / 100", value
    dates = _term_dates(values)
    if values.get("ssp_price") is None or values.get("ord_qty") is None or dates is None:
        return None
    value = Fraction(values["ssp_price"]) * Fraction(values["ord_qty"]) * term_months(*dates)
    return "SSP_PRICE", "SSP_PRICE × ORD_QTY × term months", value


def derive_keys(values: dict[str, Any]) -> None:
    """The line's own id (V13), the SO line it belongs to, and the content hash."""
    kind = values.get("tran_type")
    if kind in ("SO", "RORD"):
        values["line_key"] = values["so_line_id"]
    elif kind:
        values["line_key"] = values["inv_line_id"]
    else:
        values["line_key"] = ""
    values["ref_line_id"] = (
        values["orig_so_line_id"] if kind in ("RORD", "CM-RO") else values["so_line_id"]
    )
    values["content_hash"] = content_hash(values)


def _canonical(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "" if value is None else str(value)


HASHED = tuple(FIELD_OF[c] for c in COLUMNS if c != "RORD_REVIEW_COMPLETED")


def content_hash(values: dict[str, Any]) -> str:
    """V13: two rows with the same hash carry the same transaction."""
    material = json.dumps([_canonical(values.get(name)) for name in HASHED])
    return hashlib.blake2b(material.encode(), digest_size=16).hexdigest()
