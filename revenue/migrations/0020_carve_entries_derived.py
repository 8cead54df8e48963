"""Carve rows are their journal entries (issue 20: carve written once, as releases are).

Until now every carve row (``CarveEntry``, carve.md K3) also stored its ADJ pair in
``revenue_journalentry``. From here on the journal view derives the pair from the row, as
it derives a release from its schedule row (``revenue.models.journal``): source type
``ADJ``, the row's entry type, Adjustment liability Dr / Adjustment revenue Cr for a
positive amount, the reverse for a negative one, posted once its period is closed.

- Before anything moves, the stored ADJ pairs are compared with the pairs the carve rows
  give, per line, period, entry type, accounts, currency and inbound line (sums and
  counts). If they differ the migration stops and names the first differences: nothing is
  deleted.
- The stored ADJ pairs are deleted; carve rows are renumbered from ``CARVE_FROM`` (2^61)
  on, apart from schedule rows (below) and stored entries (2^62 on), so every entry of the
  view keeps a distinct id (``journal_ids_apart``; checked by ``carve_ids_apart``).
- The view gains its carve branch and the ledger totals (M6) follow carve rows by their
  own triggers (PostgreSQL here, statement-level with transition tables as in 0014, keyed
  by the row's own contract so that they read no SO line;
  SQLite's are made after every migrate with the view, ``revenue.services.totals``); the
  totals are rebuilt from the journal.
- ``entry_type`` becomes varchar(16), the journal's type, so the view's carve branch is
  the table's own column; an index on (period, id) serves the journal's order, and the
  line's own index goes (``carve_line_period`` begins with the line).

Backwards: the pairs are stored again from the carve rows and the view loses its branch.
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

from revenue.models.journal import (
    CARVE,
    CARVE_FROM,
    DROP_VIEW,
    STORED,
    carve_entries_sql,
    journal_ids_apart,
    view_sql,
)

TOTALS = import_module("revenue.migrations.0010_ledger_totals")
COLUMNS = TOTALS.COLUMNS
# the totals' key and the columns an UPDATE must change, with the row's own contract (a
# carve row has it: the triggers read no SO line)
KEY = TOTALS.KEY.replace("l.contract_id", "e.contract_id")
CHANGED = f"{TOTALS.CHANGED}, contract_id"
SOURCE_TYPE = "ADJ"
PAIR = "period, line_id, entry_type, dr_account, cr_account, amount_currency, inbound_line_id"
STORED_COLUMNS = (
    "period, line_id, source_type, entry_type, dr_account, cr_account, amount, "
    "amount_currency, posted, inbound_line_id"
)


def _entries(table: str) -> str:
    return f"({carve_entries_sql(table, posted=False, contract=True)})"


STATEMENTS = {
    "revenue_ledgertotal_carve_insert": (
        f"INSERT INTO revenue_ledgertotal ({COLUMNS}) "
        f"SELECT {KEY}, sum(round(e.amount * 100))::bigint, count(*) "
        f"FROM {_entries('carve_new')} e "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7"
    ),
    "revenue_ledgertotal_carve_delete": (
        f"INSERT INTO revenue_ledgertotal ({COLUMNS}) "
        f"SELECT {KEY}, -sum(round(e.amount * 100))::bigint, -count(*) "
        f"FROM {_entries('carve_old')} e "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7"
    ),
    # carve rows are append-only; an UPDATE by hand still keeps the totals
    "revenue_ledgertotal_carve_update": (
        f"INSERT INTO revenue_ledgertotal ({COLUMNS}) "
        f"SELECT {KEY}, sum(e.sign * round(e.amount * 100))::bigint, sum(e.sign) FROM ("
        f"SELECT 1 AS sign, * FROM (SELECT {CHANGED} FROM {_entries('carve_new')} n "
        f"EXCEPT ALL SELECT {CHANGED} FROM {_entries('carve_old')} o) added "
        f"UNION ALL SELECT -1, * FROM (SELECT {CHANGED} FROM {_entries('carve_old')} o "
        f"EXCEPT ALL SELECT {CHANGED} FROM {_entries('carve_new')} n) removed"
        ") e "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7 "
        "HAVING sum(e.sign * round(e.amount * 100)) <> 0 OR sum(e.sign) <> 0"
    ),
}
TRIGGERS = {
    "revenue_ledgertotal_carve_insert": ("INSERT", "NEW TABLE AS carve_new"),
    "revenue_ledgertotal_carve_delete": ("DELETE", "OLD TABLE AS carve_old"),
    "revenue_ledgertotal_carve_update": ("UPDATE", "OLD TABLE AS carve_old NEW TABLE AS carve_new"),
}


def _triggers_create(schema_editor) -> None:
    for name, statement in STATEMENTS.items():
        schema_editor.execute(
            f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                EXECUTE $statement${statement}$statement$;
                RETURN NULL;
            END $$"""
        )
        schema_editor.execute(
            f"CREATE TRIGGER {name} AFTER {TRIGGERS[name][0]} ON {CARVE} "
            f"REFERENCING {TRIGGERS[name][1]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    schema_editor.execute(
        f"CREATE TRIGGER revenue_ledgertotal_carve_truncate AFTER TRUNCATE ON {CARVE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION revenue_ledgertotal_truncate()"
    )


def _triggers_drop(schema_editor) -> None:
    schema_editor.execute(f"DROP TRIGGER IF EXISTS revenue_ledgertotal_carve_truncate ON {CARVE}")
    for name in STATEMENTS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {CARVE}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")


def _differences(cursor) -> list[tuple]:
    """The stored ADJ pairs against the carve rows' own, per pair key: sums and counts
    that differ (at most five)."""
    cursor.execute(
        f"""
        SELECT {PAIR}, sum(amount), sum(n) FROM (
            SELECT {PAIR}, amount, 1 AS n FROM {STORED} WHERE source_type = '{SOURCE_TYPE}'
            UNION ALL
            SELECT {PAIR}, -amount, -1 FROM ({carve_entries_sql(CARVE, posted=False)}) c
        ) d
        GROUP BY {PAIR}
        HAVING sum(amount) <> 0 OR sum(n) <> 0
        ORDER BY period, line_id, entry_type
        LIMIT 5
        """
    )
    return cursor.fetchall()


def _rebuild(connection) -> None:
    from revenue.services.totals import ledger_totals_rebuild

    ledger_totals_rebuild(connection=connection)


def carve_entries_derive(apps, schema_editor):
    connection = schema_editor.connection
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        differences = _differences(cursor)
        if differences:
            raise RuntimeError(
                "The stored adjustment (ADJ) journal entries do not match the carve rows, so "
                "they cannot be replaced by them; nothing was changed. First differences "
                f"({PAIR}, amount, entries): {differences}"
            )
        cursor.execute(f"DELETE FROM {STORED} WHERE source_type = '{SOURCE_TYPE}'")
        cursor.execute(f"UPDATE {CARVE} SET id = id + {CARVE_FROM} WHERE id < {CARVE_FROM}")
        if not postgresql:
            return  # SQLite: view, triggers, ids and totals after migrate (revenue.services.totals)
        cursor.execute(DROP_VIEW)
        cursor.execute(view_sql(carve=True))
        _triggers_create(schema_editor)
        journal_ids_apart(cursor, "postgresql")
    _rebuild(connection)


def carve_entries_store(apps, schema_editor):
    connection = schema_editor.connection
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:
            _triggers_drop(schema_editor)
            cursor.execute(DROP_VIEW)
            cursor.execute(view_sql(carve=False))
        cursor.execute(
            f"INSERT INTO {STORED} ({STORED_COLUMNS}) SELECT {STORED_COLUMNS} "
            f"FROM ({carve_entries_sql(CARVE)}) c ORDER BY period, line_id, id"
        )
    if postgresql:
        _rebuild(connection)


class Migration(migrations.Migration):
    dependencies = [
        ("revenue", "0019_carve_accounting"),
    ]

    operations = [
        migrations.AlterField(
            model_name="carveentry",
            name="entry_type",
            field=models.CharField(
                choices=[("RELEASE", "Release"), ("CATCH_UP", "Catch-up")], max_length=16
            ),
        ),
        migrations.RunPython(carve_entries_derive, carve_entries_store),
        migrations.AddIndex(
            model_name="carveentry",
            index=models.Index(fields=["period", "id"], name="carve_period"),
        ),
        # the line's own index repeats carve_line_period's first column: one index fewer
        # for every carve row written
        migrations.AlterField(
            model_name="carveentry",
            name="line",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="carve_entries",
                to="revenue.soline",
            ),
        ),
        migrations.AddConstraint(
            model_name="carveentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("id__gte", 2305843009213693952), ("id__lt", 4611686018427387904)),
                name="carve_ids_apart",
            ),
        ),
    ]
