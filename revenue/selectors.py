"""Reads that the admin, the exports and the tests share (interchange.md export columns)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import IO

from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from core.amounts import amount_text
from core.services import sum_exact

from .models import CarveEntry, InboundLine, JournalEntry, Period, ScheduleRow, SoLine

ZERO = Decimal("0")
CHUNK = 5000


def open_period_id() -> int | None:
    return Period.objects.filter(status=Period.Status.OPEN).values_list("id", flat=True).first()


def money_text(value) -> str:
    """Export amounts: two decimals, empty for null, a zero without a sign."""
    if value is None:
        return ""
    return amount_text(value, 2, grouping=False)


def _row_sum(condition: Q, model=ScheduleRow):
    """Σ amount of the line's ``model`` rows (schedule rows; carve rows for carve.md K9)
    matching ``condition``, 0 when it has none: a subquery per SO line."""
    rows = (
        model.objects.filter(condition, line=OuterRef("pk"))
        .order_by()
        .values("line")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(
        Subquery(rows, output_field=DecimalField(max_digits=18, decimal_places=2)),
        Value(ZERO),
        output_field=DecimalField(max_digits=18, decimal_places=2),
    )


def journal_entries():
    """The journal as every reader sees it: ``revenue_export journal``, the trial balance
    and the month-end reports (close.md) all start here."""
    return JournalEntry.objects.all()


def so_lines_with_amounts(queryset=None, *, period: int | None = None):
    """S10: recognized = released in closed periods and the open period (held rows
    excluded); deferred = future periods plus held rows."""
    period = period if period is not None else open_period_id() or 0
    queryset = SoLine.objects.all() if queryset is None else queryset
    return queryset.annotate(
        recognized_amount=_row_sum(Q(period__lte=period, held=False)),
        deferred_amount=_row_sum(Q(period__gt=period) | Q(held=True)),
        carve_recognized=_row_sum(Q(period__lte=period), CarveEntry),
    )


def journal_nets(*, period_from: int | None = None, period_to: int | None = None):
    """(period, account) → debits − credits (a credit balance is negative)."""
    entries = JournalEntry.objects.all()
    if period_from is not None:
        entries = entries.filter(period__gte=period_from)
    if period_to is not None:
        entries = entries.filter(period__lte=period_to)
    nets: dict[tuple[int, str], Decimal] = {}
    for side, sign in (("dr_account", 1), ("cr_account", -1)):
        for period, account, total in (
            entries.values_list("period", side).annotate(total=Sum("amount")).order_by()
        ):
            nets[(period, account)] = nets.get((period, account), ZERO) + sign * sum_exact(total)
    return {key: value for key, value in sorted(nets.items()) if value}


def schedule_nets() -> dict[tuple[str, int, str], Decimal]:
    return {(r[0], r[1], r[2]): Decimal(r[3]) for r in schedule_export_rows(raw=True)}


# --- exports ---------------------------------------------------------------------------------

JOURNAL_COLUMNS = [
    "PERIOD",
    "SO_LINE_ID",
    "SOURCE_TYPE",
    "ENTRY_TYPE",
    "ACCOUNT",
    "DR",
    "CR",
    "CURRENCY",
    "POSTED",
]
SCHEDULE_COLUMNS = ["SO_LINE_ID", "PERIOD", "SOURCE", "AMOUNT"]
LINES_COLUMNS = [
    "SO_LINE_ID",
    "RC_KEY",
    "CURRENCY",
    "EXT_SLL_PRC",
    "ALLOCATABLE",
    "RECOGNIZED",
    "DEFERRED",
    "RETURN_FLAG",
    "EXT_SSP",
    "ALLOCATED",
    "CARVE",
    "HOLD",
    "CARVE_RECOGNIZED",
    "CARVE_DEFERRED",
    "TREATMENT",
]
CARVE_COLUMNS = ["SO_LINE_ID", "PERIOD", "ENTRY_TYPE", "AMOUNT", "TRIGGER", "POSTED"]
STAGING_COLUMNS = [
    "ID",
    "TRAN_TYPE",
    "SO_LINE_ID",
    "ORIG_SO_LINE_ID",
    "STATUS",
    "ERROR_CODES",
    "RORD_REVIEW_COMPLETED",
]


def journal_export_rows(entries=None) -> Iterator[list]:
    """One row per account side, in the interface's order, by content and never by storage
    ids (interchange.md): PERIOD, SO_LINE_ID, the inbound line the entry came from (manual
    actions, which have none, first), ENTRY_TYPE, then ACCOUNT, DR, CR. Two ledgers holding
    the same entries export the same bytes, however they stored them (releases stored
    once)."""
    entries = journal_entries() if entries is None else entries
    rows = entries.order_by(
        "period", "line__so_line_id", F("inbound_line_id").asc(nulls_first=True), "entry_type"
    ).values_list(
        "period",
        "line__so_line_id",
        "inbound_line_id",
        "entry_type",
        "source_type",
        "dr_account",
        "cr_account",
        "amount",
        "amount_currency",
        "posted",
    )
    group_key, sides = None, []
    for period, line, inbound, kind, source, dr, cr, amount, currency, posted in rows.iterator(
        CHUNK
    ):
        key = (period, line, inbound, kind)
        if key != group_key:
            yield from _sides_sorted(sides)
            group_key, sides = key, []
        text, flag = f"{amount:.2f}", "Y" if posted else "N"
        sides.append(
            (dr, amount, ZERO, [period, line, source, kind, dr, text, "0.00", currency, flag])
        )
        sides.append(
            (cr, ZERO, amount, [period, line, source, kind, cr, "0.00", text, currency, flag])
        )
    yield from _sides_sorted(sides)


def _sides_sorted(sides: list) -> list[list]:
    """The side rows of one (period, line, inbound line, entry type) by ACCOUNT, DR, CR, the
    rest of the row breaking ties."""
    return [row for *_, row in sorted(sides)]


def schedule_export_rows(*, raw: bool = False) -> Iterator[list]:
    """Net released amount per line, period and source; nets of zero are left out."""
    rows = (
        ScheduleRow.objects.values_list("line__so_line_id", "period", "source")
        .annotate(total=Sum("amount"))
        .order_by("line__so_line_id", "period", "source")
    )
    for line, period, source, total in rows.iterator(CHUNK):
        total = sum_exact(total)
        if total:
            yield [line, period, source, total if raw else f"{total:.2f}"]


def lines_export_rows(queryset=None) -> Iterator[list]:
    lines = so_lines_with_amounts(queryset).select_related("contract").order_by("so_line_id")
    for line in lines.iterator(CHUNK):
        returned = line.return_flag == "Y"
        yield [
            line.so_line_id,
            line.contract.rc_key,
            line.currency,
            money_text(line.net_sll_prc),
            "" if returned else money_text(line.net_sll_prc),
            "" if returned else money_text(line.recognized_amount),
            "" if returned else money_text(line.deferred_amount),
            line.return_flag,
            money_text(line.ext_ssp),
            money_text(line.allocated),
            money_text(line.carve),
            "Y" if line.hold else "N",
            *_carve_columns(line),
        ]


def _carve_columns(line) -> list[str]:
    """K9: CARVE_RECOGNIZED (booked through the open period), CARVE_DEFERRED (the rest of
    CARVE) and TREATMENT (the contract's latest version); empty when CARVE is."""
    if line.carve is None:
        return ["", "", ""]
    recognized = sum_exact(line.carve_recognized)
    return [
        money_text(recognized),
        money_text(line.carve.amount - recognized),
        line.contract.treatment,
    ]


def carve_export_rows(queryset=None) -> Iterator[list]:
    """K9: every carve row, by content: SO_LINE_ID, PERIOD, the inbound line that caused it
    (manual actions first), ENTRY_TYPE, AMOUNT. AMOUNT > 0 credits adjustment revenue."""
    entries = CarveEntry.objects.all() if queryset is None else queryset
    open_period = open_period_id() or 0
    rows = entries.order_by(
        "line__so_line_id",
        "period",
        F("inbound_line_id").asc(nulls_first=True),
        "trigger",
        "entry_type",
        "amount",
    ).values_list("line__so_line_id", "period", "entry_type", "amount", "trigger")
    for line, period, kind, amount, trigger in rows.iterator(CHUNK):
        yield [line, period, kind, f"{amount:.2f}", trigger, "Y" if period < open_period else "N"]


def staging_export_rows(queryset=None) -> Iterator[list]:
    lines = InboundLine.objects.all() if queryset is None else queryset
    rows = lines.order_by("pk").values_list(
        "pk",
        "tran_type",
        "raw__TRAN_TYPE",
        "so_line_id",
        "orig_so_line_id",
        "status",
        "error_codes",
        "rord_review_completed",
    )
    for pk, kind, raw_kind, so_line, orig, status, codes, review in rows.iterator(CHUNK):
        yield [pk, kind or (raw_kind or ""), so_line, orig, status, codes, review or "N"]


EXPORTS = {
    "journal": (JOURNAL_COLUMNS, journal_export_rows),
    "schedule": (SCHEDULE_COLUMNS, schedule_export_rows),
    "lines": (LINES_COLUMNS, lines_export_rows),
    "carve": (CARVE_COLUMNS, carve_export_rows),
    "staging": (STAGING_COLUMNS, staging_export_rows),
}


def export_write(*, kind: str, fmt: str, out: IO[str], rows=None) -> int:
    """Write an export as CSV (header row) or a JSON array of objects. Returns the rows."""
    columns, producer = EXPORTS[kind]
    rows = producer() if rows is None else rows
    count = 0
    if fmt == "json":
        out.write("[")
        for count, row in enumerate(rows, start=1):
            out.write(
                ("," if count > 1 else "")
                + "\n"
                + json.dumps(dict(zip(columns, row, strict=True)), default=str)
            )
        out.write("\n]\n")
        return count
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row)
        count += 1
    return count
