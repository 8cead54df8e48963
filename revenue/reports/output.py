"""Writing a report (close.md conventions): JSON, CSV and a text table to a text stream,
XLSX to a binary file. Every writer streams the rows once; totals come after them.

- JSON: ``{"report", "period", "rows", "totals"}`` (+ ``basis`` for M1–M3, a report's
  sections such as M5's ``unexplained``); amounts as strings in the currency's minor unit,
  periods ``YYYYMM``.
- CSV: the JSON keys in upper case; a ``periods`` dict becomes one column per YYYYMM.
- XLSX: formatted numbers per currency, frozen header, totals below, a Parameters sheet.
- CSV and XLSX: a text cell that a spreadsheet could run as a formula gets a leading ``'``
  (interchange.md); numbers are left alone.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import IO

from core.services import currency_exponent
from core.spreadsheet import formula_text

from .base import (
    AMOUNT,
    BASIS_NAMES,
    COUNT,
    PERIOD,
    PERIODS,
    Column,
    Report,
    amount_text,
    period_key,
)

FORMATS = ("table", "csv", "json", "xlsx")


def safe_text(value) -> str:
    """A text cell a spreadsheet will never run as a formula (``core.spreadsheet``'s rule;
    the report's amounts, counts and periods never come here: they stay numbers)."""
    return formula_text("" if value is None else str(value))


def _value(column: Column, row: dict):
    """A row's cell as JSON wants it: amounts as strings, periods YYYYMM."""
    value = row.get(column.key)
    if value is None:
        return None
    if column.kind == AMOUNT:
        return amount_text(value, row["currency"])
    if column.kind == PERIODS:
        return {k: amount_text(v, row["currency"]) for k, v in value.items()}
    if column.kind == PERIOD:
        return period_key(value)
    if column.kind == COUNT:
        return int(value)
    return value


def _flat(columns: list[Column]) -> list[tuple[Column, str | None]]:
    """One (column, period) per printed cell: a periods column spreads over its subkeys."""
    cells: list[tuple[Column, str | None]] = []
    for column in columns:
        if column.kind == PERIODS:
            cells.extend((column, key) for key in column.subkeys)
        else:
            cells.append((column, None))
    return cells


def _cell(column: Column, sub: str | None, row: dict):
    value = row.get(column.key)
    if sub is not None:
        value = (value or {}).get(sub)
    return value


def _json_rows(columns: list[Column], rows: Iterable[dict], out: IO[str]) -> int:
    count = 0
    out.write("[")
    for count, row in enumerate(rows, start=1):
        item = {c.key: _value(c, row) for c in columns}
        out.write(("," if count > 1 else "") + "\n    " + json.dumps(item))
    out.write("\n  ]" if count else "]")
    return count


def _total_columns(report: Report) -> list[Column]:
    """Currency and each amount column, keyed as the totals rows hold them."""
    amounts = [c.as_total for c in report.columns if c.kind in (AMOUNT, PERIODS)]
    return [Column("currency", "Currency"), *amounts]


def write_json(report: Report, out: IO[str]) -> int:
    head = {"report": report.kind, "period": period_key(report.period)}
    if report.basis:
        head["basis"] = report.basis
    out.write("{\n" + "".join(f"  {json.dumps(k)}: {json.dumps(v)},\n" for k, v in head.items()))
    out.write('  "rows": ')
    count = _json_rows(report.columns, report.rows, out)
    total_columns = _total_columns(report)
    out.write(',\n  "totals": ')
    _json_rows(total_columns, report.total_rows(), out)
    for section in report.sections:
        out.write(f",\n  {json.dumps(section.key)}: ")
        _json_rows(section.columns, section.rows, out)
    out.write("\n}\n")
    return count


def _csv_text(column: Column, sub: str | None, row: dict) -> str:
    value = _cell(column, sub, row)
    if value is None:
        return ""
    if column.kind in (AMOUNT, PERIODS):
        return amount_text(value, row["currency"])
    if column.kind == PERIOD:
        return period_key(value)
    if column.kind == COUNT:
        return str(int(value))
    return safe_text(value)


def csv_header(columns: list[Column]) -> list[str]:
    return [sub if sub is not None else c.key.upper() for c, sub in _flat(columns)]


def write_csv(report: Report, out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    cells = _flat(report.columns)
    writer.writerow(csv_header(report.columns))
    count = 0
    for row in report.rows:
        writer.writerow([_csv_text(c, sub, row) for c, sub in cells])
        count += 1
    return count


def write_table(report: Report, out: IO[str]) -> int:
    """A plain text table for a terminal (the whole report is held: use CSV for volume)."""
    cells = _flat(report.columns)
    header = [sub or c.label for c, sub in cells]
    body = [[_csv_text(c, sub, row) for c, sub in cells] for row in report.rows]
    totals = [[("TOTAL" if i == 0 else "") for i in range(len(cells))] for _ in report.total_rows()]
    for line, total in zip(totals, report.total_rows(), strict=True):
        for i, (c, sub) in enumerate(cells):
            if c.key == "currency" or c.kind in (AMOUNT, PERIODS):
                line[i] = _csv_text(c.as_total, sub, total)
    right = [c.kind in (AMOUNT, PERIODS, COUNT) for c, _ in cells]
    widths = [
        max(len(str(x)) for x in [header[i]] + [r[i] for r in body + totals])
        for i in range(len(cells))
    ]

    def line(values):
        return "  ".join(
            str(v).rjust(w) if r else str(v).ljust(w)
            for v, w, r in zip(values, widths, right, strict=True)
        ).rstrip()

    out.write(f"{report.title} — period {report.period}{basis_text(report)}\n")
    out.write(line(header) + "\n")
    out.write(line(["-" * w for w in widths]) + "\n")
    for values in body:
        out.write(line(values) + "\n")
    if totals:
        out.write(line(["=" * w for w in widths]) + "\n")
        for values in totals:
            out.write(line(values) + "\n")
    for section in report.sections:
        rows = list(section.rows)
        out.write(f"\n{section.title}: {len(rows)}\n")
        for row in rows:
            out.write("  " + "  ".join(_csv_text(c, None, row) for c in section.columns) + "\n")
    return len(body)


def basis_text(report: Report) -> str:
    """What follows a title: ", ASC 606 basis" (M1–M3), nothing for a report without one."""
    return f", {BASIS_NAMES.get(report.basis, report.basis)} basis" if report.basis else ""


def write_text(report: Report, *, fmt: str, out: IO[str]) -> int:
    """CSV, JSON or table to a text stream. Returns how many rows were written."""
    writer = {"csv": write_csv, "json": write_json, "table": write_table}[fmt]
    return writer(report, out)


# --- XLSX ------------------------------------------------------------------------------------


class _Formats:
    def __init__(self, book):
        self.book = book
        self.header = book.add_format({"bold": True, "bg_color": "#E8EEF4", "bottom": 1})
        self.bold = book.add_format({"bold": True})
        self._money: dict[tuple[int, bool], object] = {}

    def money(self, currency: str, *, bold: bool = False):
        places = currency_exponent(currency)
        key = (places, bold)
        if key not in self._money:
            decimals = "." + "0" * places if places else ""
            self._money[key] = self.book.add_format(
                {"num_format": f"#,##0{decimals};-#,##0{decimals}", "bold": bold}
            )
        return self._money[key]


def _xlsx_sheet(book, formats, name, columns, rows, *, totals=()) -> int:
    sheet = book.add_worksheet(name)
    cells = _flat(columns)
    for i, (c, sub) in enumerate(cells):
        sheet.write_string(0, i, sub or c.label, formats.header)
        sheet.set_column(i, i, 14 if c.kind in (AMOUNT, PERIODS) else 18)
    sheet.freeze_panes(1, 0)
    r = 0
    for r, row in enumerate(rows, start=1):
        _xlsx_row(sheet, formats, r, cells, row)
    count = r
    if cells:
        sheet.autofilter(0, 0, max(count, 1), len(cells) - 1)
    totals = list(totals)
    if totals:
        r = count + 2
        for total in totals:
            sheet.write_string(r, 0, "Total", formats.bold)
            _xlsx_row(sheet, formats, r, cells, total, bold=True, skip_text=True)
            r += 1
    return count


def _xlsx_row(sheet, formats, r, cells, row, *, bold=False, skip_text=False) -> None:
    for i, (c, sub) in enumerate(cells):
        value = _cell(c, sub, row)
        if value is None:
            continue
        if c.kind in (AMOUNT, PERIODS):
            sheet.write_number(r, i, float(value), formats.money(row["currency"], bold=bold))
        elif c.kind == COUNT:
            sheet.write_number(r, i, int(value))
        elif c.kind == PERIOD:
            sheet.write_string(r, i, period_key(value))
        elif not skip_text or c.key == "currency":
            sheet.write_string(r, i, safe_text(value), formats.bold if bold else None)


def write_xlsx(report: Report, target) -> int:
    """``target``: a path or a binary file object. Rows are flushed as they are written
    (constant memory), so a download of millions of rows holds one row at a time."""
    import xlsxwriter

    book = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_formulas": False})
    formats = _Formats(book)
    count = _xlsx_sheet(book, formats, report.title[:31], report.columns, report.rows, totals=())
    total_columns = _total_columns(report)
    _xlsx_sheet(book, formats, "Totals", total_columns, report.total_rows())
    for section in report.sections:
        _xlsx_sheet(book, formats, section.title[:31], section.columns, section.rows)
    params = book.add_worksheet("Parameters")
    params.set_column(0, 0, 22)
    params.set_column(1, 1, 60)
    items = [
        ("report", report.kind),
        ("period", str(report.period)),
        *report.params.items(),
        ("identity", report.identity),
        ("generated", datetime.now().isoformat(timespec="seconds")),
    ]
    for r, (key, value) in enumerate(items):
        params.write_string(r, 0, key, formats.bold)
        params.write_string(r, 1, safe_text(value))
    book.close()
    return count


def decimal_or_none(text) -> Decimal | None:
    return None if text in (None, "") else Decimal(text)
