"""M6: ``revenue_ledgertotal``, the journal's totals per period, contract, currency, account
pair, entry type and source type, kept by triggers in the transaction that writes the journal.

PostgreSQL: statement-level AFTER INSERT / UPDATE / DELETE triggers with transition tables
(they fire for COPY too): one grouped delta row per key and statement; an UPDATE adds the
entries as they are after it and subtracts them as they were, only those whose amount or key
changed (EXCEPT ALL: posting a period, which changes ``posted`` only, writes nothing). A
TRUNCATE of the journal empties the totals. The totals of the entries already in the journal
are written here; a nightly beat job compacts the deltas (``ledger_totals_compact``).

SQLite: row-level triggers, installed after every ``migrate`` and dropped before it (see
``revenue.models.totals``): a trigger of the journal that reads ``revenue_soline`` would make
SQLite refuse a later migration that rebuilds either table.
"""

import json

from django.db import migrations, models

COLUMNS = (
    "period, contract_id, currency, dr_account, cr_account, entry_type, source_type, "
    "amount_minor, entries"
)
KEY = "e.period, l.contract_id, e.amount_currency, e.dr_account, e.cr_account, e.entry_type, e.source_type"
# the columns an UPDATE must change for the totals to change
CHANGED = (
    "period, line_id, amount_currency, dr_account, cr_account, entry_type, source_type, amount"
)

PG_FORWARD = [
    f"""
    CREATE FUNCTION revenue_ledgertotal_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO revenue_ledgertotal ({COLUMNS})
        SELECT {KEY}, sum(round(e.amount * 100))::bigint, count(*)
        FROM journal_new e LEFT JOIN revenue_soline l ON l.id = e.line_id
        GROUP BY 1, 2, 3, 4, 5, 6, 7;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION revenue_ledgertotal_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO revenue_ledgertotal ({COLUMNS})
        SELECT {KEY}, -sum(round(e.amount * 100))::bigint, -count(*)
        FROM journal_old e LEFT JOIN revenue_soline l ON l.id = e.line_id
        GROUP BY 1, 2, 3, 4, 5, 6, 7;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION revenue_ledgertotal_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO revenue_ledgertotal ({COLUMNS})
        SELECT {KEY}, sum(e.sign * round(e.amount * 100))::bigint, sum(e.sign)
        FROM (
            SELECT 1 AS sign, * FROM (
                SELECT {CHANGED} FROM journal_new EXCEPT ALL SELECT {CHANGED} FROM journal_old
            ) added
            UNION ALL
            SELECT -1, * FROM (
                SELECT {CHANGED} FROM journal_old EXCEPT ALL SELECT {CHANGED} FROM journal_new
            ) removed
        ) e LEFT JOIN revenue_soline l ON l.id = e.line_id
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        HAVING sum(e.sign * round(e.amount * 100)) <> 0 OR sum(e.sign) <> 0;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION revenue_ledgertotal_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM revenue_ledgertotal;  -- not TRUNCATE: it may be in the same statement
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER revenue_ledgertotal_insert AFTER INSERT ON revenue_journalentry
    REFERENCING NEW TABLE AS journal_new
    FOR EACH STATEMENT EXECUTE FUNCTION revenue_ledgertotal_insert()
    """,
    """
    CREATE TRIGGER revenue_ledgertotal_delete AFTER DELETE ON revenue_journalentry
    REFERENCING OLD TABLE AS journal_old
    FOR EACH STATEMENT EXECUTE FUNCTION revenue_ledgertotal_delete()
    """,
    """
    CREATE TRIGGER revenue_ledgertotal_update AFTER UPDATE ON revenue_journalentry
    REFERENCING OLD TABLE AS journal_old NEW TABLE AS journal_new
    FOR EACH STATEMENT EXECUTE FUNCTION revenue_ledgertotal_update()
    """,
    """
    CREATE TRIGGER revenue_ledgertotal_truncate AFTER TRUNCATE ON revenue_journalentry
    FOR EACH STATEMENT EXECUTE FUNCTION revenue_ledgertotal_truncate()
    """,
]
PG_REVERSE = [
    "DROP TRIGGER IF EXISTS revenue_ledgertotal_insert ON revenue_journalentry",
    "DROP TRIGGER IF EXISTS revenue_ledgertotal_delete ON revenue_journalentry",
    "DROP TRIGGER IF EXISTS revenue_ledgertotal_update ON revenue_journalentry",
    "DROP TRIGGER IF EXISTS revenue_ledgertotal_truncate ON revenue_journalentry",
    "DROP FUNCTION IF EXISTS revenue_ledgertotal_insert()",
    "DROP FUNCTION IF EXISTS revenue_ledgertotal_delete()",
    "DROP FUNCTION IF EXISTS revenue_ledgertotal_update()",
    "DROP FUNCTION IF EXISTS revenue_ledgertotal_truncate()",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS revenue_ledgertotal_insert",
    "DROP TRIGGER IF EXISTS revenue_ledgertotal_delete",
    "DROP TRIGGER IF EXISTS revenue_ledgertotal_update",
]
# the entries already booked (both vendors: CAST … AS BIGINT is an integer in SQLite too)
BACKFILL = f"""
INSERT INTO revenue_ledgertotal ({COLUMNS})
SELECT {KEY}, sum(CAST(round(e.amount * 100) AS BIGINT)), count(*)
FROM revenue_journalentry e JOIN revenue_soline l ON l.id = e.line_id
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_FORWARD:
            schema_editor.execute(sql)
    schema_editor.execute(BACKFILL)


def triggers_drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in PG_REVERSE if vendor == "postgresql" else SQLITE_REVERSE:
        schema_editor.execute(sql)


BEAT_NAME = "Revenue: compact the ledger totals"


def beat_seed(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _ = Crontab.objects.get_or_create(
        minute="30", hour="3", day_of_month="*", month_of_year="*", day_of_week="*",
        timezone="UTC",
    )
    Task.objects.get_or_create(
        name=BEAT_NAME,
        defaults={
            "task": "revenue.tasks.ledger_totals_compact_task",
            "crontab": nightly,
            "kwargs": json.dumps({}),
            "description": "M6: fold the ledger totals' deltas into one row per key.",
        },
    )


def beat_unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=BEAT_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('revenue', '0009_inbound_withdrawn'),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name='LedgerTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period', models.PositiveIntegerField()),
                ('contract_id', models.BigIntegerField(help_text="The SO line's revenue contract (no database constraint).", verbose_name='contract')),
                ('currency', models.CharField(max_length=3)),
                ('dr_account', models.CharField(max_length=20, verbose_name='debit')),
                ('cr_account', models.CharField(max_length=20, verbose_name='credit')),
                ('entry_type', models.CharField(max_length=16)),
                ('source_type', models.CharField(max_length=5)),
                ('amount_minor', models.BigIntegerField(help_text='Σ amount × 100 (as stored: two decimals in every currency).')),
                ('entries', models.BigIntegerField(help_text='Σ of +1 per entry added, −1 per entry removed.')),
            ],
            options={
                'verbose_name': 'ledger total (delta)',
                'verbose_name_plural': 'ledger totals (deltas)',
                'indexes': [models.Index(fields=['period'], name='ledger_total_period'), models.Index(fields=['contract_id', 'period'], name='ledger_total_contract')],
            },
        ),
        migrations.RunPython(triggers_create, triggers_drop),
        migrations.RunPython(beat_seed, beat_unseed),
    ]
