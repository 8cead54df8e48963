"""The data of bench/admin.py: admin-page volumes loaded with set-based SQL on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/contra_admin_bench \\
        .venv/bin/python bench/admin_data.py [--scale 1.0] [--force]

DATABASE_URL gives the server and the user; the data goes to its own scratch database
(``contra_admin_bench`` unless --database says otherwise), created when missing and
migrated. Every table is filled by ``INSERT … SELECT … generate_series`` (no ORM, no
Python loop over rows), in one transaction per table, then VACUUM ANALYZE (autovacuum may
be off). The sizes are kept in ``bench_admin_sizes``: a second run with the same sizes
reuses the data (``--force`` regenerates). At scale 1.0:

- 20,000 accounts (20 large ones carry 10 % of the orders), 200 products (odd ones
  recurring), 2 price books (USD, EUR) with one entry per product;
- 1,000,000 orders (10 % Draft, 40 % Activated, 50 % Fulfilled; 90 % USD, 10 % EUR) with
  1–3 order products each (2,000,000), totals = Σ products + 20 % tax;
- 277,778 revenue contracts (SO_NUM = an order number; 80 % USD, 10 % EUR, 10 % JPY in
  whole yen), 833,334 SO lines (3 per contract, 12 months ratable monthly from a start
  between 2024-07 and 2026-06; the lines of one contract in three billed),
  10,000,008 schedule rows (12 per line, cumulative rounding to the currency's unit: each
  line's rows add up to its EXT_SLL_PRC), about 10.35M journal entries: every period of
  every line's release (CL Dr / revenue Cr), a billed line's invoice (INITIAL AR Dr / CL
  Cr, source INV) and, for one billed line in four, a credit memo (INITIAL CL Dr / AR Cr,
  source CM); periods 2024-01 … 2026-05 closed (entries posted, trial balances kept),
  2026-06 open;
- the ledger totals (M6) written by the journal's triggers as the journal is loaded (a
  slice of lines per statement), then checked against the journal: Σ entries and Σ minor
  units per period, currency, accounts and types must be equal (else the run exits 1);
- 1,000,000 inbound lines in 100 batches: one collected SO line per SO line, the rest
  INV / RORD / CM-RO / CM-R lines on random SO lines, 40 % collected, 25 % new, 35 %
  stopped (RPRO-00353 and RPRO-00356 on RORDs, INB-004 waiting, INB-001, RPRO-00082,
  INB-999, and a rare RPRO-00620);
- the billing documents of M5 (bench/admin_billing_sql.py) for the open period 2026-06 and
  2026-05: per month orders / 24 posted invoices (41,666: non-draft orders with a revenue
  contract, each billed once; one line per order product, currency the order's, totals =
  Σ lines) and a credit memo for one in ten (a quarter of each line; CM-R for returns,
  CM-RO for reductions and cancellations); each document's SERVICE inbound batch (its
  ``revenue_batch_id``) with one INV / CM-R / CM-RO line per document line (INV_LINE_ID
  ``<number>-<line>``): mostly collected, 0.8 % never staged, 3 % stopped, 1.5 % waiting,
  1 % collected a minor unit short, the open period's last days not collected yet, 1 % of
  the documents voided with their lines withdrawn. A database loaded before this step has
  its documents added on the next run (without regenerating the rest).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.admin_billing_sql import (  # noqa: E402  (M5's billing documents)
    DOCUMENT_SEQUENCES,
    DOCUMENTS_MISSING,
    TOUCHED,
)
from bench.admin_billing_sql import STATEMENTS as BILLING  # noqa: E402
from bench.admin_billing_sql import TABLES as BILLING_TABLES  # noqa: E402
from bench.admin_sql import (  # noqa: E402  (the SQL of every table)
    JOURNAL,
    JOURNAL_SLICE,
    SCHEDULE,
    STEPS,
    TOTALS_CHECK,
    TRIAL_BALANCES,
)
from bench.pgdb import bench_database_url, database_ensure  # noqa: E402

DEFAULT_DATABASE = "contra_admin_bench"
SIZES = {  # scale 1.0
    "accounts": 20_000,
    "products": 200,
    "orders": 1_000_000,
    "so_lines": 833_334,
    "periods": 12,  # schedule rows per SO line
    "inbound": 1_000_000,
}
LAYOUT = 2  # bumped when the data changes shape: stored data of another layout is regenerated
TABLES = (  # emptied before a fresh load (CASCADE: returns … go too)
    *BILLING_TABLES,
    "orders_orderitem",
    "orders_order",
    "orders_pricebookentry",
    "orders_pricebook",
    "orders_product",
    "orders_account",
    "revenue_inboundline",
    "revenue_inboundbatch",
    "revenue_journalentry",
    "revenue_ledgertotal",
    "revenue_schedulerow",
    "revenue_contraentry",
    "revenue_soline",
    "revenue_revenuecontract",
    "revenue_collectionrun",
    "revenue_period",
)
BIG_TABLES = (
    "orders_account",
    "orders_product",
    "orders_pricebookentry",
    "orders_order",
    "orders_orderitem",
    "revenue_revenuecontract",
    "revenue_soline",
    "revenue_schedulerow",
    "revenue_journalentry",
    "revenue_ledgertotal",
    "revenue_inboundbatch",
    "revenue_inboundline",
    "revenue_period",
    *BILLING_TABLES,
)


SEQUENCES = (
    "orders_orderitem",
    "orders_order",
    "orders_account",
    "orders_product",
    "orders_pricebook",
    "orders_pricebookentry",
    "revenue_revenuecontract",
    "revenue_soline",
    "revenue_schedulerow",
    "revenue_journalentry",
    "revenue_inboundbatch",
    "revenue_inboundline",
    *BILLING_TABLES,
)


def sizes_for(scale: float) -> dict[str, int]:
    sizes = {k: max(int(round(v * scale)), 1) for k, v in SIZES.items()}
    sizes.update(periods=SIZES["periods"], accounts=max(sizes["accounts"], 20))
    sizes["products"] = SIZES["products"]
    sizes["layout"] = LAYOUT
    return sizes


def stored_sizes(cursor) -> dict[str, int]:
    cursor.execute("SELECT to_regclass('bench_admin_sizes') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return {}
    cursor.execute("SELECT name, value FROM bench_admin_sizes")
    return dict(cursor.fetchall())


def counts(cursor) -> dict[str, int]:
    out = {}
    for table in BIG_TABLES:
        cursor.execute(f"SELECT count(*) FROM {table}")
        out[table] = cursor.fetchone()[0]
    return out


def generate(sizes: dict[str, int], *, force: bool = False) -> dict:
    """Load the data unless the database already holds these sizes. Returns the figures:
    seconds per step and in all, row counts, database size."""
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        if not force and stored_sizes(cursor) == sizes:
            cursor.execute(DOCUMENTS_MISSING)
            steps = billing_add(sizes) if cursor.fetchone()[0] else []
            return {
                "reused": True,
                "counts": counts(cursor),
                "steps": steps,
                "seconds": sum(s[2] for s in steps),
            }
        cursor.execute("DROP TABLE IF EXISTS bench_admin_sizes")
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        from revenue.models.journal import journal_ids_apart

        journal_ids_apart(cursor, "postgresql")  # RESTART IDENTITY undid them
        # the invoice and credit memo series restart with their tables
        cursor.execute("DELETE FROM core_documentsequence WHERE name IN ('INV', 'CM')")
    steps, started = [], time.perf_counter()
    for label, table, statements in STEPS:
        begun = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            for sql in statements:
                if sql in (SCHEDULE, JOURNAL):  # a slice of whole contracts per statement
                    for lo in range(1, sizes["so_lines"] + 1, JOURNAL_SLICE):
                        cursor.execute(sql, {**sizes, "lo": lo, "hi": lo + JOURNAL_SLICE - 1})
                else:
                    cursor.execute(sql, sizes)
        steps.append((label, table, time.perf_counter() - begun))
        print(f"  {label:<34}{steps[-1][2]:>8.1f} s", flush=True)
    steps.append(billing_step(sizes))
    begun = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(TRIAL_BALANCES)
    steps.append(("closed periods' trial balances", "", time.perf_counter() - begun))
    print(f"  {steps[-1][0]:<34}{steps[-1][2]:>8.1f} s", flush=True)
    begun = time.perf_counter()
    with connection.cursor() as cursor:
        sequences_reset(cursor)
        cursor.execute(
            "INSERT INTO core_documentsequence (name, last_value) VALUES ('ORD', %s) "
            "ON CONFLICT (name) DO UPDATE SET last_value = excluded.last_value",
            [sizes["orders"]],
        )
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for table in BIG_TABLES:  # autovacuum may be off: visibility map and statistics
            cursor.execute(f"VACUUM ANALYZE {table}")
    steps.append(("VACUUM ANALYZE", "", time.perf_counter() - begun))
    print(f"  {'VACUUM ANALYZE':<34}{steps[-1][2]:>8.1f} s", flush=True)
    begun = time.perf_counter()
    totals = totals_check()
    steps.append(("ledger totals = journal?", "", time.perf_counter() - begun))
    print(f"  {steps[-1][0]:<34}{steps[-1][2]:>8.1f} s", flush=True)
    with connection.cursor() as cursor:
        if not totals["differences"]:  # kept for reuse only when the data is right
            cursor.execute("CREATE TABLE bench_admin_sizes (name text PRIMARY KEY, value bigint)")
            for name, value in sizes.items():
                cursor.execute("INSERT INTO bench_admin_sizes VALUES (%s, %s)", [name, value])
        found = counts(cursor)
    return {
        "reused": False,
        "counts": found,
        "steps": steps,
        "seconds": time.perf_counter() - started,
        "totals": totals,
    }


def billing_step(sizes: dict[str, int]) -> tuple[str, str, float]:
    """M5's billing documents and the inbound lines they staged, in one transaction."""
    from django.db import connection, transaction

    begun = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        for sql in BILLING:
            cursor.execute(sql, sizes)
    step = ("billing documents (M5)", "orders_invoice", time.perf_counter() - begun)
    print(f"  {step[0]:<34}{step[2]:>8.1f} s", flush=True)
    return step


def billing_add(sizes: dict[str, int]) -> list[tuple[str, str, float]]:
    """The billing step alone, on data loaded before it had one: then the sequences and
    the statistics of what it wrote."""
    from django.db import connection

    steps = [billing_step(sizes)]
    begun = time.perf_counter()
    with connection.cursor() as cursor:
        sequences_reset(cursor)
        for table in TOUCHED:
            cursor.execute(f"VACUUM ANALYZE {table}")
    steps.append(("sequences, VACUUM ANALYZE", "", time.perf_counter() - begun))
    print(f"  {steps[-1][0]:<34}{steps[-1][2]:>8.1f} s", flush=True)
    return steps


def sequences_reset(cursor) -> None:
    """Identity sequences after the explicit ids, document series after the numbers."""
    for table in SEQUENCES:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
        )
    cursor.execute(DOCUMENT_SEQUENCES)


def totals_check() -> dict:
    """M6: the ledger totals the triggers kept against the journal itself: Σ entries and Σ
    minor units per period, currency, account pair, entry and source type."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute(TOTALS_CHECK)
        keys, entries, rows, differences, per_currency = cursor.fetchone()
        cursor.execute("RESET work_mem")
    return {
        "keys": keys,
        "entries": int(entries),
        "rows": rows,
        "differences": differences,
        "per_currency": per_currency or "",
    }


def database_size() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return cursor.fetchone()[0]


def report(result: dict) -> None:
    if result["reused"] and result["steps"]:
        print(f"data: reused, billing documents added in {result['seconds']:.1f} s")
    elif result["reused"]:
        print("data: reused (same sizes already loaded; --force regenerates)")
    else:
        print(f"data: generated in {result['seconds']:.1f} s")
    for table, n in result["counts"].items():
        print(f"  {table:<34}{n:>12,}")
    print(f"  database size {database_size()}")
    totals = result.get("totals")
    if totals:
        verdict = "equal" if not totals["differences"] else "FAILED"
        print(
            f"ledger totals: {verdict}: {totals['rows']:,} delta rows for {totals['entries']:,} "
            f"journal entries; {totals['keys']:,} keys (period, currency, accounts, types) "
            f"checked, {totals['differences']:,} differ; Σ minor units {totals['per_currency']}"
        )
        if totals["differences"]:
            sys.exit(1)


def setup(args) -> dict[str, int]:
    """Point Django at the scratch database (created when missing) and set it up."""
    url = bench_database_url(
        os.environ.get("DATABASE_URL", ""), args.database, script="bench/admin.py"
    )
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("CONTRA_VAR_DIR", "/tmp/contra-admin-bench")
    database_ensure(url)
    import django

    django.setup()
    if getattr(args, "orders", None):
        args.scale = args.orders / SIZES["orders"]
    return sizes_for(args.scale)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="scratch database name")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the sizes (1.0: 1M orders …)"
    )
    parser.add_argument(
        "--orders",
        type=int,
        default=None,
        help=f"orders to generate (sets --scale to N / {SIZES['orders']:,})",
    )
    parser.add_argument("--force", action="store_true", help="regenerate even when loaded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args()
    sizes = setup(args)
    report(generate(sizes, force=args.force))


if __name__ == "__main__":
    main()
