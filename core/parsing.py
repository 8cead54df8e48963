"""Whole numbers typed by a user (a URL, a querystring, a form field, a command argument).

``str.isdigit()`` is True for '²', '٣' and '𝟗' and for a number of 5,000 digits;
``int()`` then raises (or accepts digits no one typed on purpose), or the database refuses
an integer out of its range: a 500 or a traceback. ``ascii_int`` is the one check: ASCII
digits ``[0-9]`` only, at most ``max_digits`` of them (18 fit a 64-bit column), a leading
minus only when ``signed``; anything else is None, for the caller to say so or to ignore.
"""

from __future__ import annotations

DIGITS = frozenset("0123456789")


def ascii_int(text, *, max_digits: int = 18, signed: bool = False) -> int | None:
    """'123' → 123; '²', '٣', '𝟗', '1.5', ' 1', '+1', '', a 5,000-digit number → None;
    '-4' → -4 only when ``signed``. Not a string (None, an int) → None: callers parse
    what was typed."""
    if not isinstance(text, str):
        return None
    digits = text[1:] if signed and text.startswith("-") else text
    if not 0 < len(digits) <= max_digits or not DIGITS.issuperset(digits):
        return None
    return int(text)
