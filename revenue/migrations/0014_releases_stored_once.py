"""Releases stored once (issue 16, docs/design/collection.md 2.1).

A schedule row that releases or reverses revenue books its journal entry itself
(``ScheduleRow.entry``): the entry is no longer written a second time into
``revenue_journalentry``.
- State: the table ``revenue_journalentry`` becomes the model ``BookedEntry`` (the stored
  entries: its indexes and checks move with it, nothing changes in the database), and
  ``JournalEntry`` becomes the read-only view ``revenue_journal``: the stored entries and
  those of schedule rows (``revenue.models.journal``). ``JournalEntry`` keeps its content
  type, so the permissions given to groups and users (``view_journalentry``) stay.
- Existing rows keep ``entry`` empty: their entries are stored and stay so. Only rows
  written from now on derive theirs, so no ledger is rewritten.
- Ids apart (``journal_ids_apart``): stored entries are numbered from 2^62 on, new
  schedule rows after every id either table holds, so no two entries of the view share one.
- M6: the ledger totals follow schedule rows that book an entry by their own triggers
  (PostgreSQL here, statement-level with transition tables, planned per statement as in
  0013; SQLite's row-level ones are made after every migrate with the view,
  ``revenue.services.totals``).
"""

from importlib import import_module

import django.db.models.deletion
import djmoney.models.fields
from django.db import migrations, models

from revenue.models.journal import (
    DROP_VIEW,
    STORED_FROM,
    derived_entries_sql,
    journal_ids_apart,
    view_sql,
)

IDS_APART = "journal_stored_ids_apart"

# the deltas' columns and key, as the journal's triggers write them (0010)
TOTALS = import_module("revenue.migrations.0010_ledger_totals")
COLUMNS, KEY, CHANGED = TOTALS.COLUMNS, TOTALS.KEY, TOTALS.CHANGED


def _contracts(*tables: str) -> str:
    ids = " UNION ".join(f"SELECT line_id FROM {t} WHERE entry IS NOT NULL" for t in tables)
    return (
        "LEFT JOIN (SELECT id, contract_id FROM revenue_soline "
        f"WHERE id IN ({ids})) l ON l.id = e.line_id"
    )


def _entries(table: str) -> str:
    return f"({derived_entries_sql(table, posted=False)})"


STATEMENTS = {
    "revenue_ledgertotal_schedule_insert": (
        f"INSERT INTO revenue_ledgertotal ({COLUMNS}) "
        f"SELECT {KEY}, sum(round(e.amount * 100))::bigint, count(*) "
        f"FROM {_entries('schedule_new')} e {_contracts('schedule_new')} "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7"
    ),
    "revenue_ledgertotal_schedule_delete": (
        f"INSERT INTO revenue_ledgertotal ({COLUMNS}) "
        f"SELECT {KEY}, -sum(round(e.amount * 100))::bigint, -count(*) "
        f"FROM {_entries('schedule_old')} e {_contracts('schedule_old')} "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7"
    ),
    # an UPDATE adds the entries as they are after it and subtracts them as they were,
    # only those that changed: a hold (``held``), or a close rolling held rows without an
    # entry forward, writes nothing
    "revenue_ledgertotal_schedule_update": (
        f"INSERT INTO revenue_ledgertotal ({COLUMNS}) "
        f"SELECT {KEY}, sum(e.sign * round(e.amount * 100))::bigint, sum(e.sign) FROM ("
        f"SELECT 1 AS sign, * FROM (SELECT {CHANGED} FROM {_entries('schedule_new')} n "
        f"EXCEPT ALL SELECT {CHANGED} FROM {_entries('schedule_old')} o) added "
        f"UNION ALL SELECT -1, * FROM (SELECT {CHANGED} FROM {_entries('schedule_old')} o "
        f"EXCEPT ALL SELECT {CHANGED} FROM {_entries('schedule_new')} n) removed"
        f") e {_contracts('schedule_new', 'schedule_old')} "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7 "
        "HAVING sum(e.sign * round(e.amount * 100)) <> 0 OR sum(e.sign) <> 0"
    ),
}
TRIGGERS = {
    "revenue_ledgertotal_schedule_insert": ("INSERT", "NEW TABLE AS schedule_new"),
    "revenue_ledgertotal_schedule_delete": ("DELETE", "OLD TABLE AS schedule_old"),
    "revenue_ledgertotal_schedule_update": (
        "UPDATE",
        "OLD TABLE AS schedule_old NEW TABLE AS schedule_new",
    ),
}


def _forward() -> list[str]:
    sql = []
    for name, statement in STATEMENTS.items():
        sql.append(
            f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                EXECUTE $statement${statement}$statement$;
                RETURN NULL;
            END $$"""
        )
        sql.append(
            f"CREATE TRIGGER {name} AFTER {TRIGGERS[name][0]} ON revenue_schedulerow "
            f"REFERENCING {TRIGGERS[name][1]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    # a TRUNCATE of the schedule empties the totals, as one of the journal's table does
    sql.append(
        "CREATE TRIGGER revenue_ledgertotal_schedule_truncate AFTER TRUNCATE ON "
        "revenue_schedulerow FOR EACH STATEMENT EXECUTE FUNCTION revenue_ledgertotal_truncate()"
    )
    return sql


def _reverse() -> list[str]:
    sql = ["DROP TRIGGER IF EXISTS revenue_ledgertotal_schedule_truncate ON revenue_schedulerow"]
    for name in STATEMENTS:
        sql.append(f"DROP TRIGGER IF EXISTS {name} ON revenue_schedulerow")
        sql.append(f"DROP FUNCTION IF EXISTS {name}()")
    return sql


def journal_view_create(apps, schema_editor):
    """PostgreSQL: the view and the schedule's ledger-total triggers. SQLite: nothing here;
    its view and triggers are made after every migrate (SQLite rebuilds a table to alter
    it, which a view or trigger reading the table would stop)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(view_sql(carve=False))  # carve rows come with 0019, in 0020
    for sql in _forward():
        schema_editor.execute(sql)
    with schema_editor.connection.cursor() as cursor:
        journal_ids_apart(cursor, "postgresql", carve=False)
    # a stored entry numbered below STORED_FROM (an identity restarted by hand) is refused
    # instead of sharing an id with a schedule row; the entries already there stay valid
    schema_editor.execute(
        f"ALTER TABLE revenue_journalentry ADD CONSTRAINT {IDS_APART} "
        f"CHECK (id >= {STORED_FROM}) NOT VALID"
    )


def journal_view_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE revenue_journalentry DROP CONSTRAINT {IDS_APART}")
        for sql in _reverse():
            schema_editor.execute(sql)
    schema_editor.execute(DROP_VIEW)


class Migration(migrations.Migration):
    dependencies = [
        ("revenue", "0013_ledger_total_trigger_lines"),
    ]

    operations = [
        migrations.AddField(
            model_name="schedulerow",
            name="entry",
            field=models.CharField(
                blank=True,
                choices=[
                    ("INITIAL", "Initial (billing)"),
                    ("RELEASE", "Release"),
                    ("REVERSAL", "Reversal"),
                    ("CONTRA", "Contra"),
                    ("CONTRA_REVERSAL", "Contra reversal"),
                    ("CATCH_UP", "Catch-up"),
                ],
                help_text="The journal entry the row books (release, catch-up or reversal); empty when it books none: a billing conversion, a row booked while its line was on hold or rolling a held amount forward, or a row written before releases were stored once (its entry is stored).",
                max_length=16,
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="schedulerow",
            index=models.Index(
                condition=models.Q(("entry__isnull", False)),
                fields=["period", "id"],
                name="schedule_entry_period",
            ),
        ),
        migrations.AddConstraint(
            model_name="schedulerow",
            constraint=models.CheckConstraint(
                condition=models.Q(("entry__isnull", True), models.Q(("amount", 0), _negated=True), _connector="OR"),
                name="schedule_entry_amount",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="journalentry", name="journal_period"),
                migrations.RemoveIndex(model_name="journalentry", name="journal_other_accounts"),
                migrations.RemoveConstraint(
                    model_name="journalentry", name="journal_amount_positive"
                ),
                migrations.RemoveConstraint(model_name="journalentry", name="journal_two_accounts"),
                migrations.AlterField(
                    model_name="journalentry",
                    name="id",
                    field=models.BigIntegerField(primary_key=True, serialize=False),
                ),
                migrations.AlterField(
                    model_name="journalentry",
                    name="line",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="journal",
                        to="revenue.soline",
                    ),
                ),
                migrations.AlterModelTable(name="journalentry", table="revenue_journal"),
                migrations.AlterModelOptions(
                    name="journalentry",
                    options={
                        "managed": False,
                        "ordering": ["period", "line", "id"],
                        "verbose_name_plural": "journal entries",
                    },
                ),
                migrations.CreateModel(
                    name="BookedEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("period", models.PositiveIntegerField()),
                        ("source_type", models.CharField(max_length=5)),
                        (
                            "entry_type",
                            models.CharField(
                                choices=[
                                    ("INITIAL", "Initial (billing)"),
                                    ("RELEASE", "Release"),
                                    ("REVERSAL", "Reversal"),
                                    ("CONTRA", "Contra"),
                                    ("CONTRA_REVERSAL", "Contra reversal"),
                                    ("CATCH_UP", "Catch-up"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "dr_account",
                            models.CharField(
                                choices=[
                                    ("CONTRACT_LIABILITY", "Contract liability"),
                                    ("REVENUE", "Revenue"),
                                    ("CONTRA_AR", "Contra AR"),
                                    ("AR", "Accounts receivable"),
                                    ("ADJ_LIABILITY", "Adjustment liability"),
                                    ("ADJ_REVENUE", "Adjustment revenue"),
                                ],
                                max_length=20,
                                verbose_name="debit",
                            ),
                        ),
                        (
                            "cr_account",
                            models.CharField(
                                choices=[
                                    ("CONTRACT_LIABILITY", "Contract liability"),
                                    ("REVENUE", "Revenue"),
                                    ("CONTRA_AR", "Contra AR"),
                                    ("AR", "Accounts receivable"),
                                    ("ADJ_LIABILITY", "Adjustment liability"),
                                    ("ADJ_REVENUE", "Adjustment revenue"),
                                ],
                                max_length=20,
                                verbose_name="credit",
                            ),
                        ),
                        (
                            "amount_currency",
                            djmoney.models.fields.CurrencyField(
                                choices=[
                                    ("GBP", "British Pound"),
                                    ("CAD", "Canadian Dollar"),
                                    ("EUR", "Euro"),
                                    ("JPY", "Japanese Yen"),
                                    ("USD", "US Dollar"),
                                ],
                                default="USD",
                                editable=False,
                                max_length=3,
                            ),
                        ),
                        (
                            "amount",
                            djmoney.models.fields.MoneyField(decimal_places=2, max_digits=18),
                        ),
                        ("posted", models.BooleanField(default=False)),
                    ],
                    options={
                        "verbose_name": "stored journal entry",
                        "verbose_name_plural": "stored journal entries",
                        "db_table": "revenue_journalentry",
                        "ordering": ["period", "line", "id"],
                        "default_permissions": (),
                    },
                ),
                migrations.AddField(
                    model_name="bookedentry",
                    name="inbound_line",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="revenue.inboundline",
                    ),
                ),
                migrations.AddField(
                    model_name="bookedentry",
                    name="line",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="revenue.soline",
                    ),
                ),
                migrations.AddIndex(
                    model_name="bookedentry",
                    index=models.Index(fields=["period", "id"], name="journal_period"),
                ),
                migrations.AddIndex(
                    model_name="bookedentry",
                    index=models.Index(
                        condition=models.Q(
                            ("cr_account__in", ("CONTRACT_LIABILITY", "REVENUE")),
                            ("dr_account__in", ("CONTRACT_LIABILITY", "REVENUE")),
                            _negated=True,
                        ),
                        fields=["period", "id"],
                        name="journal_other_accounts",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="bookedentry",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("amount__gt", 0)), name="journal_amount_positive"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="bookedentry",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("dr_account", models.F("cr_account")), _negated=True),
                        name="journal_two_accounts",
                    ),
                ),
            ],
        ),
        migrations.RunPython(journal_view_create, journal_view_drop),
    ]
