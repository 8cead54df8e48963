"""S6–S8, set-based: the release schedules of new SO lines written by ``INSERT … SELECT``.

``releases_insert`` writes exactly the schedule rows that the Python reference
(``tests/revenue/releases_reference.py``: ``so_schedule_book`` + ``Booker.flush``) writes for
the same lines, without passing a row through Python: at 100,000 lines a collection books
some 720,000 schedule rows, each booking its journal entry (releases stored once). One SQL
for SQLite and PostgreSQL; only the temporary tables' ``ON COMMIT DROP`` and the amount's
conversion from minor units are written per database (``_amount``).

How:

1. S6 stays in Python, once per distinct (method, start, end) of the batch:
   ``cumulative_weights`` gives the exact cumulative share W≤i / W of each period as
   (numerator, denominator). Those shares go to a temporary table ``combos``; so do the
   lines (their total in integer minor units, ``to_minor`` as the Python path), in one
   bulk write each.
2. S8 is folded into the shares: the parts of the periods before the open one add up to
   the cumulative amount of the last of them (the parts telescope), so ``combos`` keeps
   only that last closed period (booked in the open period, a catch-up) and the periods
   from the open one on. The part of each kept period is then its cumulative amount less
   the previous kept one's (``LAG``): the catch-up row is round(total × W≤k / W) − 0.
3. S7 in 64-bit integers on both databases: round(|m| × n / d) half up is
   q·n + t div d + [2·(t mod d) ≥ d] with q = |m| div d, r = |m| mod d, t = r·n: every
   intermediate stays below max(|m|, d²) for n ≤ d, so totals up to 10^18 minor units and
   denominators up to 2^31 never overflow (SQLite would silently turn an overflowing
   integer into a float). Only non-negative integers are divided; the sign comes after.
4. ``INSERT INTO revenue_schedulerow … SELECT`` from the parts (zero parts left out), each
   row naming the entry it books (none for held lines). The journal's totals
   (``LedgerTotal``, M6) follow by the same triggers as for the Python path's COPY /
   executemany: PostgreSQL's statement-level trigger writes one grouped delta per key for
   the one INSERT, as for the one COPY; SQLite's row-level trigger one delta per entry.

Amounts from minor units: PostgreSQL divides exactly in ``numeric`` and casts to the
column's type (the rounding of a 3-decimal currency to the column's 2 decimals is then the
one COPY's text input gets). SQLite is given the amount as the text ``str(Decimal)`` would
be (``-12.34``, ``5``), so the column's NUMERIC affinity turns it into the same INTEGER or
REAL as the Python path's executemany (Django adapts a Decimal to ``str``). ``minor / 100.0``
would not do: above 2^53 minor units it rounds twice and stores another double.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction

from core.services import currency_exponent

from ..models import ScheduleRow
from ..models.choices import EntryType, RowKind, Source
from .bulk import bulk_insert
from .splits import cumulative_weights, to_minor


@dataclass(frozen=True)
class NewRelease:
    """A new SO line whose release schedule is to be booked (the SoLine exists)."""

    line_id: int  # SoLine pk (already inserted)
    inbound_id: int | None
    currency: str
    total: Decimal  # the line's ext_sll_prc amount (may be negative or zero)
    method: str  # RevMethod value
    start: date  # line.rev_start_date
    end: date  # line.rev_end_date
    held: bool  # line.hold

    @classmethod
    def of(cls, line, *, inbound_id: int | None) -> NewRelease:
        """The release of an inserted SoLine, from its revenue dates and hold."""
        return cls(
            line_id=line.pk,
            inbound_id=inbound_id,
            currency=line.currency,
            total=line.ext_sll_prc.amount,
            method=line.rev_method,
            start=line.rev_start_date,
            end=line.rev_end_date,
            held=line.hold,
        )


# temporary tables: a fresh name per call (several calls may share a transaction)
_CALLS = itertools.count(1)

LINE_COLUMNS = (
    "seq",
    "line_id",
    "inbound_id",
    "currency",
    "exponent",
    "unit",
    "minor",
    "combo",
    "held",
)
COMBO_COLUMNS = ("combo", "idx", "period", "catch_up", "num", "den")

_LINES_DDL = """
CREATE TEMP TABLE {lines} (
    seq BIGINT NOT NULL, line_id BIGINT NOT NULL, inbound_id BIGINT, currency VARCHAR(3) NOT NULL,
    exponent BIGINT NOT NULL, unit BIGINT NOT NULL, minor BIGINT NOT NULL,
    combo BIGINT NOT NULL, held BOOLEAN NOT NULL
) {on_commit}
"""
_COMBOS_DDL = """
CREATE TEMP TABLE {combos} (
    combo BIGINT NOT NULL, idx BIGINT NOT NULL, period BIGINT NOT NULL,
    catch_up BIGINT NOT NULL, num BIGINT NOT NULL, den BIGINT NOT NULL
) {on_commit}
"""

# S7: round(|m| × num / den) half up, in integers (see the module's docstring), signed after
_MAGNITUDE = "abs(l.minor)"
_Q = f"({_MAGNITUDE} / c.den)"
_T = f"(({_MAGNITUDE} % c.den) * c.num)"
_UPTO = (
    f"CASE WHEN l.minor < 0 THEN -1 ELSE 1 END * ({_Q} * c.num + {_T} / c.den"
    f" + CASE WHEN 2 * ({_T} % c.den) >= c.den THEN 1 ELSE 0 END)"
)

# the parts: each kept period's cumulative amount less the previous one's; zero parts go.
# ``seq`` is a line's place in the batch. The window writes the parts in the Python path's
# order (the batch's, a line's by period), and the INSERTs below read them back in it
# without sorting again: only the rows' physical order depends on it (a line's together).
_PARTS = f"""
CREATE TEMP TABLE {{parts}} {{on_commit}} AS
SELECT line_id, inbound_id, currency, exponent, unit, held, period, catch_up, minor
FROM (
    SELECT s.seq, s.line_id, s.inbound_id, s.currency, s.exponent, s.unit, s.held, s.period,
        s.catch_up,
        s.upto - LAG(s.upto, 1, CAST(0 AS BIGINT)) OVER (
            PARTITION BY s.seq ORDER BY s.idx
        ) AS minor
    FROM (
        SELECT l.seq, l.line_id, l.inbound_id, l.currency, l.exponent, l.unit, l.held, c.idx,
            c.period, c.catch_up, {_UPTO} AS upto
        FROM {{lines}} l JOIN {{combos}} c ON c.combo = l.combo
    ) s
) p
WHERE minor <> 0
"""

# S5: a row books its own entry (releases stored once, ``revenue.models.journal``):
# positive → a release, or a catch-up; negative → a reversal; none while held
_SCHEDULE = """
INSERT INTO {table} (line_id, period, source, amount, amount_currency, kind, held,
    inbound_line_id, entry)
SELECT line_id, period, %(so)s, {amount}, currency,
    CASE WHEN catch_up = 1 THEN %(catch_up_kind)s ELSE %(release_kind)s END, held, inbound_id,
    CASE WHEN held THEN NULL WHEN minor < 0 THEN %(reversal)s
        WHEN catch_up = 1 THEN %(catch_up_entry)s ELSE %(release_entry)s END
FROM {parts}
"""
_ENTRIES = "SELECT count(*) FROM {parts} WHERE NOT held"

_PARAMS = {
    "so": Source.SO.value,
    "release_kind": RowKind.RELEASE.value,
    "catch_up_kind": RowKind.CATCH_UP.value,
    "release_entry": EntryType.RELEASE.value,
    "catch_up_entry": EntryType.CATCH_UP.value,
    "reversal": EntryType.REVERSAL.value,
}


def _amount(minor: str, column) -> str:
    """The SQL of a money column's value for ``minor`` units (``exponent`` and ``unit`` =
    10^exponent are columns of the same row): what the Python path stores for the Decimal
    ``from_minor(minor, exponent)``."""
    if connection.vendor == "postgresql":
        return f"CAST(CAST({minor} AS numeric) / unit AS {column.db_type(connection)})"
    # SQLite: the text of str(Decimal): sign, integer part, '.', exponent digits (none for 0)
    return (
        f"CASE WHEN exponent = 0 THEN CAST({minor} AS TEXT) "
        f"ELSE printf('%%s%%d.%%0*d', CASE WHEN {minor} < 0 THEN '-' ELSE '' END, "
        f"abs({minor}) / unit, exponent, abs({minor}) %% unit) END"
    )


def _combo_rows(combo: int, method: str, start: date, end: date, open_period: int) -> list:
    """S6 + S8: the cumulative shares of a (method, start, end) that book a part: the last
    period before ``open_period`` (its cumulative share is the catch-up) and the periods
    from ``open_period`` on."""
    cumulative = cumulative_weights(method, start, end)
    closed = sum(1 for period, _, _ in cumulative if period < open_period)
    rows = []
    if closed:
        _, num, den = cumulative[closed - 1]
        rows.append((combo, 0, open_period, 1, num, den))
    for idx in range(closed, len(cumulative)):
        period, num, den = cumulative[idx]
        rows.append((combo, idx + 1, period, 0, num, den))
    return rows


def releases_insert(*, releases: Sequence[NewRelease], open_period: int) -> tuple[int, int]:
    """Write the schedule rows of new SO lines, set-based, each booking its journal entry
    (releases stored once); returns (rows, entries). The same rows as the reference
    ``so_schedule_book`` for each line and ``Booker(open_period=open_period).flush()``: S6
    weights, S7 cumulative rounding in minor units, S8 closed periods caught up in the open
    one."""
    if not releases:
        return 0, 0
    combos: dict[tuple[str, date, date], int] = {}
    combo_rows: list[tuple] = []
    exponents: dict[str, int] = {}
    lines = []
    for seq, r in enumerate(releases):
        key = (r.method, r.start, r.end)
        combo = combos.get(key)
        if combo is None:
            combo = combos[key] = len(combos) + 1
            combo_rows += _combo_rows(combo, r.method, r.start, r.end, open_period)
        exponent = exponents.get(r.currency)
        if exponent is None:
            exponent = exponents[r.currency] = currency_exponent(r.currency)
        minor = to_minor(r.total, exponent)
        lines.append(
            (seq, r.line_id, r.inbound_id, r.currency, exponent, 10**exponent, minor, combo, r.held)
        )

    n = next(_CALLS)
    names = {
        "lines": f"releases_sql_lines_{n}",
        "combos": f"releases_sql_combos_{n}",
        "parts": f"releases_sql_parts_{n}",
    }
    on_commit = "ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    quote = connection.ops.quote_name
    schedule_sql = _SCHEDULE.format(
        table=quote(ScheduleRow._meta.db_table),
        amount=_amount("minor", ScheduleRow._meta.get_field("amount")),
        parts=names["parts"],
    )
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_LINES_DDL.format(on_commit=on_commit, **names))
        cursor.execute(_COMBOS_DDL.format(on_commit=on_commit, **names))
        bulk_insert(table=names["lines"], columns=LINE_COLUMNS, rows=lines)
        bulk_insert(table=names["combos"], columns=COMBO_COLUMNS, rows=combo_rows)
        if connection.vendor == "postgresql":  # no statistics on a temporary table otherwise
            cursor.execute(f"ANALYZE {names['lines']}, {names['combos']}")
        cursor.execute(_PARTS.format(on_commit=on_commit, **names))  # no parameters: % as is
        cursor.execute(schedule_sql, _PARAMS)
        rows = cursor.rowcount
        cursor.execute(_ENTRIES.format(**names))
        (entries,) = cursor.fetchone()
        for name in names.values():
            cursor.execute(f"DROP TABLE {name}")
    return rows, entries
