"""M6 at volume: the ledger-total triggers plan their statement each time and look up the
contracts of the statement's SO lines, not of each entry.

0010's functions ran one static statement, and PL/pgSQL keeps the plan of a static
statement for the whole session. A worker plans it at its first batch, when
``revenue_soline`` is small, as a hash join over a scan of the whole table; it keeps that
plan while the table grows, so every later batch reads every SO line booked before it and
a day's collection slows down with the square of its size (1,000,000 lines took 14.6 times
as long as 100,000). Now:
- the statement runs through ``EXECUTE``, planned with the table as it is at that moment;
- it looks up the statement's distinct SO line ids first (a semi-join by primary key: one
  index probe per line, not per entry) and joins the entries to that small set.
Same rows, same totals; PostgreSQL only (SQLite's row-level triggers look up one SO line
per entry by primary key).
"""

from importlib import import_module

from django.db import migrations

BEFORE = import_module("revenue.migrations.0010_ledger_totals")


def _contracts_of(*tables: str) -> str:
    """The SO lines of the statement's entries, looked up once per line."""
    ids = " UNION ".join(f"SELECT line_id FROM {table}" for table in tables)
    return (
        "LEFT JOIN (SELECT id, contract_id FROM revenue_soline "
        f"WHERE id IN ({ids})) l ON l.id = e.line_id"
    )


JOIN = "LEFT JOIN revenue_soline l ON l.id = e.line_id"  # 0010's, one per function
TABLES = {
    "revenue_ledgertotal_insert": ("journal_new",),
    "revenue_ledgertotal_delete": ("journal_old",),
    "revenue_ledgertotal_update": ("journal_new", "journal_old"),
}


def _function(name: str) -> str:
    (sql,) = [s for s in BEFORE.PG_FORWARD if f"CREATE FUNCTION {name}()" in s]
    return sql


def _statement(name: str) -> str:
    """0010's statement of ``name``, its join to revenue_soline made per line."""
    statement = _function(name).split("BEGIN", 1)[1].split("RETURN NULL;", 1)[0]
    assert statement.count(JOIN) == 1, name
    return statement.strip().rstrip(";").replace(JOIN, _contracts_of(*TABLES[name]))


def _after() -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            EXECUTE $statement${_statement(name)}$statement$;
            RETURN NULL;
        END $$"""
        for name in TABLES
    ]


def _before() -> list[str]:
    return [
        _function(name).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION") for name in TABLES
    ]


def functions_replace(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in _after():
            schema_editor.execute(sql)


def functions_restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in _before():
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("revenue", "0012_ledger_total_liability")]

    operations = [migrations.RunPython(functions_replace, functions_restore)]
