"""How a staged line reads in the admin: its status badge, errors and raw row (I2, I4, V12)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.html import format_html, format_html_join

from ..models import InboundLine
from ..models.choices import LineStatus
from ..services.parsing import COLUMNS, FIELD_OF
from ..services.validation import WAITING
from .common import badge

FIXED = (LineStatus.COLLECTED, LineStatus.WITHDRAWN)  # I4: read-only, never deleted
STATUS_LABELS = {
    LineStatus.NEW: "New",
    LineStatus.COLLECTED: "Collected",
    LineStatus.ERROR: "Error",
    LineStatus.WITHDRAWN: "Withdrawn",
}


def withdrawn_text(line: InboundLine) -> str:
    """I4: when and why the service that staged a line took it back ('' if it did not)."""
    if line.status != LineStatus.WITHDRAWN:
        return ""
    when = f"{timezone.localtime(line.withdrawn_at):%Y-%m-%d %H:%M}" if line.withdrawn_at else ""
    why = line.withdrawn_reason or "by the service that staged it"
    return f"Withdrawn {when}: {why}" if when else f"Withdrawn: {why}"


def line_badge(line: InboundLine) -> str:
    if line.status == LineStatus.ERROR and line.error_codes == WAITING:
        return badge("WAITING", "Waiting", "Retried when its SO line is collected")
    if line.status == LineStatus.WITHDRAWN:
        return badge(line.status, STATUS_LABELS[line.status], withdrawn_text(line))
    return badge(line.status, STATUS_LABELS.get(line.status, line.status))


ERROR_LINE = '<div class="revenue-error"><code>{}</code> {}</div>'


def error_lines(line: InboundLine) -> str:
    """code and message, one per line (the rule ID stays in the stored error); the
    message's own 'CODE:' prefix (or, stored before it was dropped, 'CODE (Vn):') is not
    repeated. A withdrawn line says when and why first (I4); the errors it had stay."""
    withdrawn = withdrawn_text(line)
    if withdrawn:
        return format_html(
            '<div class="revenue-error quiet">{}</div>{}', withdrawn, _errors_html(line) or ""
        )
    return _errors_html(line) or "—"


def error_text(error: dict) -> str:
    """A stored error's message without its own 'CODE:' prefix (shown beside the code) nor,
    in errors stored before it was dropped, the '(Vn)' after the code."""
    code, rule = error.get("code", ""), error.get("rule", "")
    message = error.get("message", "")
    if code and message.startswith(code):
        message = message[len(code) :].lstrip()
        if rule and message.startswith(f"({rule})"):
            message = message[len(rule) + 2 :]
        message = message.lstrip(" :")
    return message


def _errors_html(line: InboundLine) -> str:
    rows = [(error.get("code", ""), error_text(error)) for error in line.errors or []]
    return format_html_join("", ERROR_LINE, rows)


def plain(value):
    """Typed values as an accountant reads them: 5 not 5.000000."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "" if value is None else value


def raw_rows(line: InboundLine) -> list[dict]:
    """The row as received next to what was parsed, with each column's parse problem."""
    problems: dict[str, list[str]] = {}
    for error in line.parse_errors or []:
        problems.setdefault(error.get("field") or "", []).append(error.get("message", ""))
    rows = []
    for column in COLUMNS:
        received = line.raw.get(column)
        parsed = getattr(line, FIELD_OF[column])
        rows.append(
            {
                "column": column,
                "received": received,
                "present": column in line.raw,
                "parsed": plain(parsed),
                "problems": problems.pop(column, []),
            }
        )
    for column, value in line.raw.items():
        if column not in COLUMNS:
            rows.append(
                {
                    "column": column,
                    "received": value,
                    "present": True,
                    "parsed": "",
                    "problems": [],
                    "unknown": True,
                }
            )
    rows += [
        {"column": "(row)", "received": "", "present": False, "parsed": "", "problems": texts}
        for texts in problems.values()
    ]
    return rows
