"""Values of an imported record (C6), checked before any of them reaches a query or a
message: whatever a file or an API caller sends, the answer is a sentence naming the
field, never an exception.

A value is one scalar (text, a number, a date, true/false or nothing); text holds no NUL
(no PostgreSQL text column can) and no lone surrogate (no database encodes one); numbers
are finite and fit their column; messages show values on one printable line, cut short.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

SURROGATE = re.compile("[\ud800-\udfff]")
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,9})?")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_INT_BITS = 200  # about 60 digits: more than any column holds
SHOWN = 60  # characters of a value a message shows


def shown(value: Any, size: int = SHOWN) -> str:
    """``value`` in a message: one printable line of at most ``size`` characters (NULs,
    line breaks and lone surrogates escaped, lists and objects named, not printed)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * size:
        return f"(a number of about {int(value.bit_length() * math.log10(2)) + 1} digits)"
    if not (value is None or isinstance(value, str | int | float | Decimal | date)):
        return f"({_kind(value)})"
    text = value if isinstance(value, str) else str(value)
    cut = len(text) > size
    text = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text[:size]
    )
    return text + ("…" if cut else "")


def _kind(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, bytes | bytearray):
        return "bytes"
    return f"a value of type {type(value).__name__}"


def value_problem(value: Any) -> str:
    """Why ``value`` cannot be a field's value ('' when it can)."""
    if value is None or isinstance(value, bool | float | Decimal | date):
        return ""
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL byte (character zero), which text cannot hold"
        if SURROGATE.search(value):
            return "contains an unpaired surrogate (half of a character), which text cannot hold"
        return ""
    if isinstance(value, int):
        return "is a number too large to read" if value.bit_length() > MAX_INT_BITS else ""
    return f"must be a single value (text or a number), not {_kind(value)}"


def decimal_of(value: Any, *, digits: int, places: int) -> tuple[Decimal | None, str]:
    """``value`` as a number a column of ``digits`` digits, ``places`` of them after the
    point, holds; or None and why not (NaN and infinities are not numbers here)."""
    number: Decimal | None = None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        number = Decimal(repr(value)) if math.isfinite(value) else None
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        try:
            number = Decimal(value.strip())
        except (InvalidOperation, ValueError):
            number = None
    if number is None or not number.is_finite():
        return None, "is not a number"
    if number and number.adjusted() >= digits - places:
        return None, f"is too large (at most {digits - places} digits before the point)"
    if number.as_tuple().exponent < -places and number != number.quantize(
        Decimal(1).scaleb(-places)
    ):
        return None, f"has more than {places} decimal places"
    return number, ""


def date_of(value: Any) -> date | None:
    """A date given as one, or as text YYYY-MM-DD (a real calendar day)."""
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not DATE.fullmatch(value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None
