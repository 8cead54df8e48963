"""I2: one parser for every door (upload, command, service). A value that cannot be parsed
becomes an error on its line, never an exception; the raw row is kept as received."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from moneyed import CURRENCIES

from core.services import currency_exponent

from ..models.choices import RevMethod, TranType

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

    def error(self, column: str, message: str) -> None:
        self.errors.append(
            {"code": PARSE_ERROR, "rule": "I2", "field": column, "message": f"{column}: {message}"}
        )


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
    if values["ssp_pct"] is not None and values["ssp_price"] is not None:
        row.error("SSP_PRICE", "give SSP_PCT or SSP_PRICE, not both")
    currency = values["curr"]
    if currency:
        exponent = currency_exponent(currency)
        for column in MONEY_COLUMNS:
            amount = values[FIELD_OF[column]]
            if amount is not None and -amount.as_tuple().exponent > min(exponent, 2):
                row.error(column, f"{amount} has more decimals than {currency} allows")


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
