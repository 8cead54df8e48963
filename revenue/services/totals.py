"""M6: the journal's maintained totals (``LedgerTotal``): compaction, rebuild, SQLite triggers.

The triggers of migration ``0010_ledger_totals`` (stored entries), ``0014`` (the entries
of schedule rows, releases stored once) and ``0020`` (the entries of carve rows) append
signed delta rows in the transaction that writes the journal; readers add them up
(``revenue.selectors_totals``).
Compaction folds each key's deltas into one row so that reads stay short.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection as default_connection
from django.db import transaction

from ..models import LedgerTotal
from ..models.journal import (
    CARVE,
    CARVE_ROW_COLUMNS,
    DROP_VIEW,
    SCHEDULE,
    STORED,
    VIEW,
    carve_entries_sql,
    derived_entries_sql,
    journal_ids_apart,
    row_values_sql,
    view_sql,
)

# the migration from which carve rows are their journal entries (the view derives them)
CARVE_DERIVED = "0020_carve_entries_derived"

TABLE = LedgerTotal._meta.db_table
KEY = ("period", "contract_id", "currency", "dr_account", "cr_account", "entry_type", "source_type")
COLUMNS = (*KEY, "amount_minor", "entries")


def ledger_totals_compact(*, period: int | None = None) -> int:
    """M6: replace the deltas of each key (of ``period``, or of the whole ledger) that has
    more than one by one row holding their sums; a key that adds up to nothing loses its
    rows. Returns how many rows fewer the table has.

    Safe beside writers and another compaction (READ COMMITTED): the sums written are those
    of the rows this statement deleted (``DELETE … RETURNING``). A delta committed after it
    started is not seen, not deleted and stays as it is; a row another compaction deleted
    first is skipped, not counted twice.
    """
    if default_connection.vendor == "postgresql":
        return _compact_postgresql(period)
    return _compact_rows(period)


def _compact_postgresql(period: int | None) -> int:
    key = ", ".join(KEY)
    match = " AND ".join(f"t.{name} = k.{name}" for name in KEY)
    where = "WHERE period = %(period)s" if period is not None else ""
    sql = f"""
        WITH keys AS (
            SELECT {key} FROM {TABLE} {where}
            GROUP BY {key}
            HAVING count(*) > 1 OR (sum(amount_minor) = 0 AND sum(entries) = 0)
        ), gone AS (
            DELETE FROM {TABLE} t USING keys k WHERE {match}
            RETURNING t.*
        ), kept AS (
            INSERT INTO {TABLE} ({", ".join(COLUMNS)})
            SELECT {key}, sum(amount_minor), sum(entries) FROM gone GROUP BY {key}
            HAVING sum(amount_minor) <> 0 OR sum(entries) <> 0
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM kept)
    """
    with transaction.atomic(), default_connection.cursor() as cursor:
        cursor.execute(sql, {"period": period})
        deleted, inserted = cursor.fetchone()
    return deleted - inserted


def _compact_rows(period: int | None) -> int:
    """Elsewhere (SQLite: one writer at a time): delete the rows, add up what was deleted
    and write the sums back, in one transaction."""
    where, params = ("WHERE period = %s", [period]) if period is not None else ("", [])
    with transaction.atomic(), default_connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} {where} RETURNING {', '.join(COLUMNS)}", params)
        sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        deleted = 0
        for *key, amount, entries in cursor.fetchall():
            deleted += 1
            total = sums[tuple(key)]
            total[0] += amount
            total[1] += entries
        kept = [
            LedgerTotal(**dict(zip(KEY, key, strict=True)), amount_minor=amount, entries=entries)
            for key, (amount, entries) in sorted(sums.items())
            if amount or entries
        ]
        LedgerTotal.objects.bulk_create(kept, batch_size=500)
    return deleted - len(kept)


# from the journal as readers see it: stored entries and those of schedule rows (or, on a
# database migrated back before 0014, the stored entries alone)
REBUILD = f"""
INSERT INTO {TABLE} ({", ".join(COLUMNS)})
SELECT e.period, l.contract_id, e.amount_currency, e.dr_account, e.cr_account, e.entry_type,
    e.source_type, sum(CAST(round(e.amount * 100) AS BIGINT)), count(*)
FROM {{journal}} e JOIN revenue_soline l ON l.id = e.line_id
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def ledger_totals_rebuild(*, connection=None, journal: str = VIEW) -> int:
    """M6: the totals written afresh from the journal, one row per key (a repair, and
    SQLite's after a migration). Returns the rows written."""
    connection = connection or default_connection
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(REBUILD.format(journal=journal))
        return cursor.rowcount


# --- SQLite: row-level triggers ----------------------------------------------------------------

_VALUES = (
    "{row}.period, {contract}, {row}.amount_currency, {row}.dr_account, {row}.cr_account, "
    "{row}.entry_type, {row}.source_type, {sign}CAST(ROUND({row}.amount * 100) AS INTEGER), {sign}1"
)
_CONTRACT = "(SELECT contract_id FROM revenue_soline WHERE id = {row}.line_id)"


def _delta(row: str, sign: str, *, strict: bool = True, source: str = "") -> str:
    """The delta of one entry: the row ``row`` of the stored journal, or with ``source``
    the entries of a schedule row (``row`` then names them in ``source``)."""
    contract = _CONTRACT.format(row=row)
    if not strict:  # a delete never fails: an SO line gone (a test's flush) counts as 0
        contract = f"COALESCE({contract}, 0)"
    values = _VALUES.format(row=row, contract=contract, sign=sign)
    if source:
        return f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) SELECT {values} FROM {source};"
    return f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({values});"


def _schedule_delta(row: str, sign: str, *, strict: bool = True) -> str:
    """The deltas of the entry a schedule row books (S5, releases stored once)."""
    entries = f"({derived_entries_sql(row_values_sql(row), posted=False)}) e"
    return _delta("e", sign, strict=strict, source=entries)


def _carve_delta(row: str, sign: str, *, strict: bool = True) -> str:
    """The deltas of the entry a carve row books (K3)."""
    entries = f"({carve_entries_sql(row_values_sql(row, CARVE_ROW_COLUMNS), posted=False)}) e"
    return _delta("e", sign, strict=strict, source=entries)


_SCHEDULE_CHANGES = "period, line_id, source, entry, amount, amount_currency"
_CARVE_CHANGES = "period, line_id, entry_type, amount, amount_currency"
SQLITE_TRIGGERS = {
    "revenue_ledgertotal_insert": (
        "AFTER INSERT ON revenue_journalentry FOR EACH ROW BEGIN " + _delta("NEW", "") + " END"
    ),
    "revenue_ledgertotal_delete": (
        "AFTER DELETE ON revenue_journalentry FOR EACH ROW BEGIN "
        + _delta("OLD", "-", strict=False)
        + " END"
    ),
    "revenue_ledgertotal_update": (
        "AFTER UPDATE OF period, line_id, amount, amount_currency, dr_account, cr_account, "
        "entry_type, source_type ON revenue_journalentry FOR EACH ROW BEGIN "
        + _delta("OLD", "-", strict=False)
        + " "
        + _delta("NEW", "")
        + " END"
    ),
    "revenue_ledgertotal_schedule_insert": (
        "AFTER INSERT ON revenue_schedulerow FOR EACH ROW WHEN NEW.entry IS NOT NULL BEGIN "
        + _schedule_delta("NEW", "")
        + " END"
    ),
    "revenue_ledgertotal_schedule_delete": (
        "AFTER DELETE ON revenue_schedulerow FOR EACH ROW WHEN OLD.entry IS NOT NULL BEGIN "
        + _schedule_delta("OLD", "-", strict=False)
        + " END"
    ),
    "revenue_ledgertotal_schedule_update": (
        f"AFTER UPDATE OF {_SCHEDULE_CHANGES} ON revenue_schedulerow FOR EACH ROW "
        "WHEN OLD.entry IS NOT NULL OR NEW.entry IS NOT NULL BEGIN "
        + _schedule_delta("OLD", "-", strict=False)
        + " "
        + _schedule_delta("NEW", "")
        + " END"
    ),
}
# carve rows (from migration 0020 on: they are their journal entries)
SQLITE_CARVE_TRIGGERS = {
    "revenue_ledgertotal_carve_insert": (
        f"AFTER INSERT ON {CARVE} FOR EACH ROW BEGIN " + _carve_delta("NEW", "") + " END"
    ),
    "revenue_ledgertotal_carve_delete": (
        f"AFTER DELETE ON {CARVE} FOR EACH ROW BEGIN "
        + _carve_delta("OLD", "-", strict=False)
        + " END"
    ),
    "revenue_ledgertotal_carve_update": (
        f"AFTER UPDATE OF {_CARVE_CHANGES} ON {CARVE} FOR EACH ROW BEGIN "
        + _carve_delta("OLD", "-", strict=False)
        + " "
        + _carve_delta("NEW", "")
        + " END"
    ),
}


def carve_entries_derived(connection) -> bool:
    """Whether the database is at or after migration 0020 (carve rows are journal entries)."""
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return False
    return recorder.migration_qs.filter(app="revenue", name=CARVE_DERIVED).exists()


def ledger_totals_sqlite_triggers(*, connection, install: bool) -> None:
    """Drop SQLite's journal view and triggers, and with ``install`` create them again,
    keep the ids of stored entries and schedule rows apart, and rebuild the totals (they
    were not kept while the triggers were away). Run around every
    ``migrate`` (``revenue.models.totals``): SQLite rebuilds a table to alter it, which
    drops the journal's triggers, and refuses to rename a rebuilt table while a trigger or
    view reads it."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in (*SQLITE_TRIGGERS, *SQLITE_CARVE_TRIGGERS):
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(DROP_VIEW)
        tables = set(connection.introspection.table_names(cursor))
        needed = {TABLE, STORED, SCHEDULE, "revenue_soline", "revenue_period"}
        if not install or not needed <= tables:
            return
        columns = connection.introspection.get_table_description(cursor, SCHEDULE)
        stored_once = "entry" in {column.name for column in columns}  # migration 0014
        carve = stored_once and CARVE in tables and carve_entries_derived(connection)
        for name, body in SQLITE_TRIGGERS.items():
            if stored_once or "revenue_schedulerow" not in body:
                cursor.execute(f"CREATE TRIGGER {name} {body}")
        if carve:
            for name, body in SQLITE_CARVE_TRIGGERS.items():
                cursor.execute(f"CREATE TRIGGER {name} {body}")
        if stored_once:
            cursor.execute(view_sql(carve=carve))
            journal_ids_apart(cursor, connection.vendor, carve=carve)
    ledger_totals_rebuild(connection=connection, journal=VIEW if stored_once else STORED)
