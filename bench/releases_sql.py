"""Benchmark: the release schedules of N new SO lines, Python Booker vs set-based SQL. By hand:

    .venv/bin/python bench/releases_sql.py --lines 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/contra_sql \\
        .venv/bin/python bench/releases_sql.py

It writes to the database it is given (created and migrated when missing on PostgreSQL);
without DATABASE_URL it uses a SQLite file in a temporary folder. For each path, in a
transaction rolled back after it, it makes N SO lines (not measured): a mix of RATABLE_MONTHLY,
RATABLE_DAILY (12 months, some 6 or 18) and IMMEDIATE lines in USD, EUR and JPY starting
over the two years around the open period (so that many catch up closed periods), 5 % on
hold (the same lines for both paths: same seed), then books their schedules:

- Python: ``so_schedule_book`` per line into a ``Booker``, then ``Booker.flush`` (COPY on
  PostgreSQL, executemany on SQLite): what collection did before;
- SQL: ``releases_insert`` (``revenue/services/releases_sql.py``, what collection does),
  the NewRelease list built from the lines included.

S6's weights cache (``cumulative_weights``) is cleared before each; on PostgreSQL the tables
are vacuumed before each (a rolled-back path leaves dead tuples behind). Prints the seconds of
each, their ratio in this run, and checks that both wrote the same rows (counts and sums by
kind / entry type, and the ledger totals' sums).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["CONTRA_VAR_DIR"] = tempfile.mkdtemp(prefix="contra-bench-")

OPEN_PERIOD = 202606
MIX = (("RATABLE_MONTHLY", 45), ("RATABLE_DAILY", 35), ("IMMEDIATE", 20))
CURRENCIES = (("USD", 80), ("EUR", 12), ("JPY", 8))


TABLES = (
    "revenue_soline",
    "revenue_revenuecontract",
    "revenue_schedulerow",
    "revenue_journalentry",
    "revenue_ledgertotal",
)


class _Rollback(Exception):
    pass


def _pick(rng: random.Random, weighted) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def lines_create(n: int, seed: int):
    """N SO lines of one contract per 10 lines (ORM bulk_create, not measured)."""
    from djmoney.money import Money

    from revenue.models import RevenueContract, SoLine

    rng = random.Random(seed)
    tag = f"{time.time_ns()}"
    contracts = RevenueContract.objects.bulk_create(
        RevenueContract(rc_key=f"BENCH-REL-{tag}-{i}") for i in range((n + 9) // 10)
    )
    lines = []
    for i in range(n):
        method = _pick(rng, MIX)
        currency = _pick(rng, CURRENCIES)
        start = date(2025, 6, 1) + timedelta(days=rng.randrange(730))
        months = rng.choice((12, 12, 12, 12, 6, 18))
        end = start + timedelta(days=round(months * 30.44) - 1)
        cents = rng.randrange(-5_000, 5_000_000) if rng.random() < 0.97 else 0
        amount = Decimal(cents).scaleb(-2)
        if currency == "JPY":
            amount = Decimal(cents)
        lines.append(
            SoLine(
                so_line_id=f"BENCH-REL-{tag}-{i}",
                contract=contracts[i // 10],
                f_cur=currency,
                quantity=Decimal(1),
                ext_lst_prc=Money(amount, currency),
                ext_sll_prc=Money(amount, currency),
                rev_method=method,
                start_date=start,
                end_date=end,
                rev_start_date=start,
                rev_end_date=end,
                hold=rng.random() < 0.05,
            )
        )
    return SoLine.objects.bulk_create(lines, batch_size=5_000)


def figures(cursor) -> tuple:
    """What the two paths must agree on: counts and sums of the rows they wrote (in cents:
    a sum of SQLite REALs depends on the order of the rows)."""
    cents = "sum(CAST(round(amount * 100) AS BIGINT))"
    cursor.execute(
        f"SELECT kind, held, count(*), {cents} FROM revenue_schedulerow "
        "GROUP BY kind, held ORDER BY kind, held"
    )
    schedule = cursor.fetchall()
    cursor.execute(
        f"SELECT entry_type, count(*), {cents} FROM revenue_journal "
        "GROUP BY entry_type ORDER BY entry_type"
    )
    journal = cursor.fetchall()
    cursor.execute(
        "SELECT entry_type, count(*), sum(amount_minor), sum(entries) FROM revenue_ledgertotal "
        "GROUP BY entry_type ORDER BY entry_type"
    )
    return tuple(schedule), tuple(journal), tuple(cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)

    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        from bench.pgdb import database_ensure

        database_ensure(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from revenue.services.ledger import Booker
    from revenue.services.releases_sql import NewRelease, releases_insert
    from revenue.services.splits import cumulative_weights
    from tests.revenue.releases_reference import so_schedule_book

    call_command("migrate", verbosity=0)
    vendor = connection.vendor
    name = connection.settings_dict["NAME"]
    print(f"database: {vendor} ({name}); {args.lines:,} new SO lines, open period {OPEN_PERIOD}")

    def python_path(lines):
        booker = Booker(open_period=OPEN_PERIOD)
        started = time.perf_counter()
        for line in lines:
            so_schedule_book(booker=booker, line=line, inbound_id=None)
        booked = time.perf_counter()
        counts = booker.flush()
        return counts, {"book": booked - started, "flush": time.perf_counter() - booked}

    def sql_path(lines):
        started = time.perf_counter()
        releases = [NewRelease.of(line, inbound_id=None) for line in lines]
        built = time.perf_counter()
        counts = releases_insert(releases=releases, open_period=OPEN_PERIOD)
        return counts, {"NewRelease list": built - started, "insert": time.perf_counter() - built}

    def vacuum():
        """PostgreSQL: the rows a rolled-back path left are dead tuples that would slow
        the next one; reclaim them (and count the new lines) before each path."""
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {', '.join(TABLES)}")

    results = {}
    for label, path in (("Python Booker", python_path), ("SQL releases_insert", sql_path)):
        vacuum()
        try:
            with transaction.atomic():
                started = time.perf_counter()
                lines = lines_create(args.lines, args.seed)
                setup = time.perf_counter() - started
                if vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("ANALYZE revenue_soline")
                cumulative_weights.cache_clear()
                started = time.perf_counter()
                counts, parts = path(lines)
                elapsed = time.perf_counter() - started
                with connection.cursor() as cursor:
                    results[label] = (elapsed, counts, figures(cursor))
                raise _Rollback
        except _Rollback:
            pass
        detail = ", ".join(f"{k} {v:.2f} s" for k, v in parts.items())
        print(
            f"{label:20} {elapsed:7.2f} s  ({detail}; {counts[0]:,} schedule rows, "
            f"{counts[1]:,} journal entries; setup {setup:.1f} s, not measured)"
        )
    vacuum()
    (python, p_counts, p_figures), (sql, s_counts, s_figures) = results.values()
    print(f"ratio: Python / SQL = {python / sql:.1f}x (same run)")
    same = p_counts == s_counts and p_figures == s_figures
    print(f"same rows (counts and sums by kind, entry type, ledger totals): {same}")
    if not same:
        sys.exit(f"the paths differ:\n{p_figures}\n{s_figures}")


if __name__ == "__main__":
    main()
