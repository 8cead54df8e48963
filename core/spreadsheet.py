"""Cells a spreadsheet will never run as a formula (interchange.md, OWASP's CSV injection
advice): a *text* cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading ``'``. Numbers stay numbers, negative amounts included, whether they
come as numbers or as the plain number text the exports print ("-300.00").

The admin's CSV and XLSX downloads use it. The command-line and API interchange exports
(``revenue_export``, the API's lists) do not: they stay exact, byte for byte.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?", re.ASCII)


def formula_text(text: str) -> str:
    """``text`` (a cell known to hold text) with a leading ``'`` when it starts like a
    formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def cell_safe(value):
    """One cell of a download: a number, None or plain number text ("-300.00") as it is;
    any other text through ``formula_text``."""
    if not isinstance(value, str) or _PLAIN_NUMBER.fullmatch(value):
        return value
    return formula_text(value)


def row_safe(row) -> list:
    """A row of cells through ``cell_safe``."""
    return [cell_safe(value) for value in row]
