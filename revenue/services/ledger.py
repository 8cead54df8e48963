"""Booking: schedule rows and the journal pairs they imply (S1, S3–S5, S8–S11).

A ``Booker`` collects the rows of one transaction in memory and writes them set-based. A
schedule row books its own release or reversal entry (``ScheduleRow.entry``, read through
the journal view); other entries are stored (``BookedEntry``).
Amounts are Decimals in the line's currency; periods are YYYYMM integers.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import Sum, Value
from django.db.models.functions import Greatest

from core.lookups import array_param
from core.services import sum_exact

from ..models import BookedEntry, ScheduleRow, SoLine
from ..models.choices import Account, EntryType, RowKind, Source
from ..models.journal import ENTRY_COLUMNS
from .bulk import bulk_insert
from .splits import schedule_split

ZERO = Decimal("0")
CL, REV, AR = Account.CONTRACT_LIABILITY, Account.REVENUE, Account.AR

SCHEDULE_COLUMNS = (
    "line_id",
    "period",
    "source",
    "amount",
    "amount_currency",
    "kind",
    "held",
    "inbound_line_id",
    "entry",
)
JOURNAL_COLUMNS = ENTRY_COLUMNS  # a stored entry's, written by ``Booker.flush``


class Booker:
    """Rows for one transaction; ``flush`` writes them (new SO lines must have ids by then)."""

    def __init__(self, *, open_period: int):
        self.open = open_period
        self.rows: list[list] = []
        self.entries: list[list] = []

    def schedule(
        self,
        *,
        line: SoLine,
        period: int,
        source: str,
        amount: Decimal,
        kind: str,
        inbound_id: int | None,
        held: bool = False,
        catch_up: bool | None = None,
        currency: str | None = None,
    ) -> None:
        """One schedule row at max(period, open) (S8). Unless held or a source conversion,
        the row books the release / reversal pair it implies (S5) itself: ``entry`` names
        it, and the journal view derives the pair (``revenue.models.journal``).
        ``currency``: the line's, when the caller has it at hand."""
        if not amount:
            return
        booked = period if period > self.open else self.open
        if catch_up is None:
            catch_up = period < self.open
        if catch_up and kind == RowKind.RELEASE:
            kind = RowKind.CATCH_UP
        if currency is None:
            currency = line.currency
        entry = None
        if not held and kind != RowKind.CONVERSION:
            # CL Dr / Revenue Cr; a reversal Revenue Dr / CL Cr
            if amount < 0:
                entry = EntryType.REVERSAL
            else:
                entry = EntryType.CATCH_UP if catch_up else EntryType.RELEASE
        self.rows.append([line, booked, source, amount, currency, kind, held, inbound_id, entry])

    def entry(
        self,
        *,
        line: SoLine,
        period: int,
        source_type: str,
        entry_type: str,
        dr: str,
        cr: str,
        amount: Decimal,
        inbound_id: int | None,
    ) -> None:
        """A balanced pair (S3); a negative amount swaps the sides."""
        if not amount:
            return
        if amount < 0:
            dr, cr, amount = cr, dr, -amount
        period = max(period, self.open)
        self.entries.append(
            [
                period,
                line,
                source_type,
                entry_type,
                dr,
                cr,
                amount,
                line.currency,
                False,
                inbound_id,
            ]
        )

    def flush(self) -> tuple[int, int]:
        """Write the rows and stored entries; returns (schedule rows, journal entries
        booked: the stored ones and those of the rows)."""
        _resolve_pks(self.rows, 0)
        _resolve_pks(self.entries, 1)
        rows = bulk_insert(
            table=ScheduleRow._meta.db_table, columns=SCHEDULE_COLUMNS, rows=self.rows
        )
        entries = bulk_insert(
            table=BookedEntry._meta.db_table, columns=JOURNAL_COLUMNS, rows=self.entries
        )
        entries += sum(1 for row in self.rows if row[-1] is not None)
        self.rows, self.entries = [], []
        return rows, entries


def _resolve_pks(rows: list[list], index: int) -> None:
    """Replace the SoLine at ``index`` of each row by its id (a line's rows are adjacent)."""
    last = pk = None
    for row in rows:
        line = row[index]
        if line is not last:
            last, pk = line, line.pk
        row[index] = pk


class LineState:
    """A line's schedule in the open and future periods: (period, source) → amount."""

    def __init__(self):
        self.amounts: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)

    def add(self, period: int, source: str, amount: Decimal) -> None:
        self.amounts[(period, source)] += amount

    def get(self, period: int, source: str) -> Decimal:
        return self.amounts.get((period, source), ZERO)

    def periods(self, source: str) -> list[int]:
        return sorted(p for (p, s), a in self.amounts.items() if s == source and a)


def states_load(*, line_ids: list[int], open_period: int) -> dict[int, LineState]:
    """The schedules of many lines in one query. Closed periods are summed into the open
    period: what a line has recognized so far, by source (P3, P4)."""
    states: dict[int, LineState] = defaultdict(LineState)
    if not line_ids:
        return states
    if connection.vendor == "postgresql":
        # numeric sums of numeric(18, 2): exact, with their two places, as they come
        rows = _states_rows_postgresql(line_ids, open_period)
    else:
        rows = [
            (line_id, period, source, sum_exact(total))
            for line_id, period, source, total in ScheduleRow.objects.filter(line_id__in=line_ids)
            .annotate(bucket=Greatest("period", Value(open_period)))
            .values_list("line_id", "bucket", "source")
            .annotate(total=Sum("amount"))
            .order_by()
        ]
    for line_id, period, source, total in rows:  # one row per line, bucket and source
        states[line_id].amounts[period, source] = total
    return states


def _states_rows_postgresql(line_ids: list[int], open_period: int) -> list[tuple]:
    """The same rows, looked up line by line through the line index (LATERAL): with
    millions of schedule rows (clustered by line, so statistics underestimate how many
    lines there are, or no statistics yet) ``line_id IN (…)`` can be planned as a scan of
    the whole table for every batch."""
    table = ScheduleRow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT l.id, s.bucket, s.source, s.total
            FROM unnest(%s::bigint[]) AS l(id)
            CROSS JOIN LATERAL (
                SELECT greatest(period, %s) AS bucket, source, sum(amount) AS total
                FROM {table} WHERE line_id = l.id
                GROUP BY 1, 2
            ) AS s
            """,
            [array_param(line_ids), open_period],
        )
        return cursor.fetchall()


def _merged(parts, open_period: int) -> list[tuple[int, Decimal, bool]]:
    """Parts of closed periods summed into the open period: (period, amount, catch_up)."""
    out: dict[tuple[int, bool], Decimal] = {}
    for period, amount in parts:
        key = (open_period, True) if period < open_period else (period, False)
        out[key] = out.get(key, ZERO) + amount
    return [(p, a, c) for (p, c), a in sorted(out.items()) if a]


def so_update_book(
    *,
    booker: Booker,
    line: SoLine,
    state: LineState,
    old: dict,
    inbound_id: int | None,
) -> None:
    """S11: book the per-period difference between the old and the new SO values."""
    currency = line.currency
    before = schedule_split(
        total=old["amount"],
        currency=currency,
        method=old["method"],
        start=old["start"],
        end=old["end"],
    )
    after = schedule_split(
        total=line.ext_sll_prc.amount,
        currency=currency,
        method=line.rev_method,
        start=line.start_date,
        end=line.end_date,
    )
    delta: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for period, amount in after:
        delta[period] += amount
    for period, amount in before:
        delta[period] -= amount
    merged = _merged(delta.items(), booker.open)
    # rises first (unbilled, SO source), then cuts, each at most what its period holds
    # (SO first, then INV): after a reduction (P3) some periods hold less than the original
    # split; what does not fit comes off the latest periods that still hold revenue
    overflow = ZERO
    for period, amount, catch_up in merged:
        if amount > 0:
            _book_piece(booker, line, state, period, Source.SO, amount, catch_up, inbound_id)
    for period, amount, catch_up in merged:
        if amount < 0:
            overflow += _cut(booker, line, state, period, -amount, catch_up, inbound_id)
    for period in sorted({p for p, _ in state.amounts}, reverse=True):
        if overflow <= 0:
            break
        overflow = _cut(booker, line, state, period, overflow, False, inbound_id)
    if overflow > 0:  # below what the line holds: only when reductions exceed the new price
        _book_piece(booker, line, state, booker.open, Source.SO, -overflow, False, inbound_id)


def _cut(booker, line, state, period, amount, catch_up, inbound_id) -> Decimal:
    """Take up to ``amount`` off ``period`` (SO source first, then INV); returns the rest."""
    for source in (Source.SO, Source.INV):
        take = min(amount, max(state.get(period, source), ZERO))
        if take > 0:
            _book_piece(booker, line, state, period, source, -take, catch_up, inbound_id)
            amount -= take
    return amount


def _book_piece(booker, line, state, period, source, amount, catch_up, inbound_id) -> None:
    booker.schedule(
        line=line,
        period=period,
        catch_up=catch_up,
        source=source,
        amount=amount,
        kind=RowKind.SO_UPDATE,
        inbound_id=inbound_id,
        held=line.hold,
    )
    state.add(period, source, amount)
