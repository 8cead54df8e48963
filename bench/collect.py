"""Benchmark: staging and data collection of inbound lines at volume, on PostgreSQL. Run by hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/contra_bench \\
        .venv/bin/python bench/collect.py --lines 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/contra_bench \\
        .venv/bin/python bench/collect.py --lines 1000000 [--batch-size B] [--keep]

DATABASE_URL gives the server and the user; the benchmark always works in its own scratch
database (``contra_bench`` unless --database says otherwise), created when missing and
migrated. Every run first empties the revenue tables (TRUNCATE … RESTART IDENTITY), so runs
are repeatable. It generates N lines (the mix of ``bench/collect_data.py``: by default 70 %
SO lines, 15 % INV, 10 % RORD and 5 % CM-RO, with contra AR on), writes them to a CSV file
in /tmp, stages it with the real import path (``inbound_file_stage``, the code of
``manage.py revenue_import``), opens the period of the earliest start and runs
``manage.py revenue_collect`` in a child process, so that its peak memory is the child's
own (``getrusage(RUSAGE_CHILDREN).ru_maxrss``; the child is started by a small launcher
process forked first thing, see LAUNCHER). Then it measures, on the same database, a
floor of what PostgreSQL itself needs to move the same volume, and checks the result.
Prints figures; asserts nothing (a failed check is printed as FAILED and exits 1).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.collect_data import MIXES, generate  # noqa: E402

# TRUNCATE … CASCADE: every table that points at one of these is emptied too
REVENUE_TABLES = (
    "revenue_inboundline",
    "revenue_inboundbatch",
    "revenue_contraentry",
    "revenue_schedulerow",
    "revenue_journalentry",
    "revenue_soline",
    "revenue_revenuecontract",
    "revenue_collectionrun",
    "revenue_period",
)
FLOOR_INBOUND = "bench_floor_inboundline"
FLOOR_SCHEDULE = "bench_floor_schedulerow"
FLOOR_JOURNAL = "bench_floor_journalentry"
STAGED_COPY = "bench_staged"


# Starts revenue_collect and waits for it. The benchmark starts it first thing, while this
# process is small: on Linux a child's ru_maxrss includes the RSS high-water mark of the
# process that forked it (recorded at exec), so forking revenue_collect from this process
# after staging a million lines would report this process's memory, not the child's.
LAUNCHER = r"""
import json, subprocess, sys, time
line = sys.stdin.readline()
if not line:
    sys.exit(0)  # the benchmark stopped before collecting
request = json.loads(line)
started = time.perf_counter()
child = subprocess.run(
    request["command"], env=request["env"], cwd=request["cwd"], capture_output=True, text=True
)
seconds = time.perf_counter() - started
print(json.dumps({"returncode": child.returncode, "stdout": child.stdout,
                  "stderr": child.stderr, "seconds": seconds}))
"""


def bench_database_url(url: str, name: str) -> str:
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "bench/collect.py measures PostgreSQL only: set DATABASE_URL to a postgres URL, "
            "e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/contra_bench "
            f"(got {url or 'nothing'!r})"
        )
    base = url.split("?", 1)[0].rsplit("/", 1)[0]
    return f"{base}/{name}"


def ensure_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            conn.execute(f'create database "{name}"')


# --- helpers ---------------------------------------------------------------------------------


def table_exists(connection, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def staged_summary(cursor) -> dict:
    cursor.execute("SELECT tran_type, count(*) FROM revenue_inboundline GROUP BY 1")
    counts = dict(cursor.fetchall())
    cursor.execute(
        "SELECT count(DISTINCT so_num), min(start_date) FROM revenue_inboundline "
        "WHERE tran_type = 'SO'"
    )
    contracts, earliest = cursor.fetchone()
    return {
        "so": counts.get("SO", 0),
        "inv": counts.get("INV", 0),
        "counts": counts,
        "contracts": contracts,
        "earliest": earliest,
    }


def scalar(cursor, sql: str, params=None):
    cursor.execute(sql, params or [])
    return cursor.fetchone()[0]


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, required=True, help="inbound lines to generate")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="revenue_collect --batch-size (default: the COLLECTION_BATCH_SIZE profile setting)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the CSV file in /tmp and the floor tables (default: removed at the end; "
        "the revenue tables always keep the run's data until the next run)",
    )
    parser.add_argument("--database", default="contra_bench", help="scratch database name")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--mix",
        choices=sorted(MIXES),
        default="reductions",
        help="reductions (default): 70 %% SO, 15 %% INV, 10 %% RORD, 5 %% CM-RO, SSP on every "
        "line; basic: 80 %% SO, 20 %% INV (revenue part 1)",
    )
    parser.add_argument(
        "--contra",
        choices=["Y", "N"],
        default="Y",
        help="CREATE_RORD_CONTRA_ENTRY for the run (default Y: contra entries booked)",
    )
    parser.add_argument(
        "--reuse-staged",
        action="store_true",
        help="iteration aid: skip generating and staging, restore the staged rows of the "
        "previous run (kept in bench_staged); --lines is then ignored",
    )
    parser.add_argument(
        "--profile", metavar="PATH", help="run the child under cProfile, writing PATH"
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    if args.lines < 10:
        sys.exit("--lines must be at least 10")

    url = bench_database_url(os.environ.get("DATABASE_URL", ""), args.database)
    os.environ["DATABASE_URL"] = url
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from revenue.models import CollectionRun, InboundBatch
    from revenue.services.inbound import inbound_file_stage
    from revenue.services.periods import period_open
    from revenue.services.settings import profile_get, profile_set
    from revenue.services.splits import period_of

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_INBOUND}, {FLOOR_SCHEDULE}, {FLOOR_JOURNAL}")
        cursor.execute(f"TRUNCATE {', '.join(REVENUE_TABLES)} RESTART IDENTITY CASCADE")
        cursor.execute("DELETE FROM core_auditevent")
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(
        f"database: PostgreSQL {version} ({connection.settings_dict['NAME']}), "
        f"{os.cpu_count()} CPUs; revenue tables truncated"
    )

    if args.reuse_staged and table_exists(connection, STAGED_COPY):
        # iteration aid: the staged rows of the previous run, restored as they were staged
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO revenue_inboundbatch SELECT * FROM {STAGED_COPY}_batch")
            cursor.execute(f"INSERT INTO revenue_inboundline SELECT * FROM {STAGED_COPY}")
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('revenue_inboundline', 'id'), max(id)) "
                "FROM revenue_inboundline"
            )
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('revenue_inboundbatch', 'id'), max(id)) "
                "FROM revenue_inboundbatch"
            )
            made = staged_summary(cursor)
        total = sum(made["counts"].values())
        print(
            f"staging:    not measured: {total:,} staged rows restored from {STAGED_COPY} "
            f"(--reuse-staged) in {time.perf_counter() - started:.1f} s"
        )
    else:
        handle, name = tempfile.mkstemp(
            prefix=f"contra-bench-{args.lines}-", suffix=".csv", dir="/tmp"
        )
        os.close(handle)
        path = Path(name)
        started = time.perf_counter()
        made = generate(path, args.lines, args.seed, args.mix)
        kinds = ", ".join(f"{n:,} {kind}" for kind, n in made["counts"].items() if n)
        print(
            f"generated {args.lines:,} lines, mix {args.mix} ({kinds}; {made['contracts']:,} "
            f"contracts) in {time.perf_counter() - started:.1f} s → {path} "
            f"({path.stat().st_size / 1e6:,.0f} MB)"
        )

        # --- stage (the code of manage.py revenue_import) ---
        started = time.perf_counter()
        with path.open("rb") as stream:
            batch = inbound_file_stage(
                stream=stream, filename=path.name, source=InboundBatch.SourceKind.COMMAND
            )
        staging = time.perf_counter() - started
        total = batch.line_count
        print(
            f"staging:    {total:,} lines in {staging:.1f} s = {rate(total, staging)} lines/s "
            f"({batch.error_count} with parse errors)"
        )
        if not args.keep:
            path.unlink()
        with connection.cursor() as cursor:  # for --reuse-staged next time
            cursor.execute(f"DROP TABLE IF EXISTS {STAGED_COPY}, {STAGED_COPY}_batch")
            cursor.execute(f"CREATE TABLE {STAGED_COPY} AS SELECT * FROM revenue_inboundline")
            cursor.execute(
                f"CREATE TABLE {STAGED_COPY}_batch AS SELECT * FROM revenue_inboundbatch"
            )

    opened = period_open(period=period_of(made["earliest"]), actor=None)
    profile_set(name="CREATE_RORD_CONTRA_ENTRY", value=args.contra, actor=None)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE revenue_inboundline")  # what autovacuum does after a bulk load
        cursor.execute("CHECKPOINT")  # the staging's dirty pages are not the collection's cost
    connection.close()  # the child gets the server to itself

    # --- collect, in a child process ---
    command = [sys.executable, str(ROOT / "manage.py"), "revenue_collect"]
    if args.profile:
        command[1:1] = ["-m", "cProfile", "-o", args.profile]
    if args.batch_size:
        command += ["--batch-size", str(args.batch_size)]
    request = {"command": command, "env": dict(os.environ), "cwd": str(ROOT)}
    reply, _ = launcher.communicate(json.dumps(request) + "\n")
    child = json.loads(reply)
    collection = child["seconds"]  # the child's wall time, measured by the launcher
    # the launcher and revenue_collect, both waited for: the larger is revenue_collect's
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    summary = (child["stdout"].strip().splitlines() or [""])[-1]
    if child["returncode"]:
        print(child["stdout"] + child["stderr"])
        sys.exit(f"revenue_collect failed with exit code {child['returncode']}")
    run = CollectionRun.objects.order_by("-id").first()
    print(
        f"collection: {total:,} lines in {collection:.1f} s = "
        f"{rate(total, collection)} lines/s, peak RSS of the collecting process "
        f"{peak_mb:,.0f} MB (open period {opened.id}, {run.batches} batches of "
        f"{args.batch_size or profile_get('COLLECTION_BATCH_SIZE')}; child printed: {summary!r})"
    )

    with connection.cursor() as cursor:
        schedule_rows = scalar(cursor, "SELECT count(*) FROM revenue_schedulerow")
        journal_rows = scalar(cursor, "SELECT count(*) FROM revenue_journalentry")
        so_lines = scalar(cursor, "SELECT count(*) FROM revenue_soline")
        contra_rows = scalar(cursor, "SELECT count(*) FROM revenue_contraentry")
        reversal_rows = scalar(
            cursor, "SELECT count(*) FROM revenue_schedulerow WHERE kind = 'REVERSAL'"
        )
        contracts = scalar(cursor, "SELECT count(*) FROM revenue_revenuecontract")
        staged = scalar(cursor, "SELECT count(*) FROM revenue_inboundline")
    print(
        f"rows written: {schedule_rows:,} schedule rows ({reversal_rows:,} reversals), "
        f"{journal_rows:,} journal entries, {contra_rows:,} contra entries, "
        f"{so_lines:,} SO lines, {contracts:,} revenue contracts "
        f"(+ {staged:,} staging rows updated to COLLECTED)"
    )

    # --- the floor, same run, same database ---
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {FLOOR_INBOUND} (LIKE revenue_inboundline INCLUDING ALL)")
        cursor.execute(f"CREATE TABLE {FLOOR_SCHEDULE} (LIKE revenue_schedulerow INCLUDING ALL)")
        cursor.execute(f"CREATE TABLE {FLOOR_JOURNAL} (LIKE revenue_journalentry INCLUDING ALL)")
        indexes = scalar(
            cursor, "SELECT count(*) FROM pg_indexes WHERE tablename = %s", [FLOOR_INBOUND]
        )
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        with cursor.copy("COPY (SELECT * FROM revenue_inboundline) TO STDOUT") as copy:
            for block in copy:
                buffer.write(block)
        copy_out = time.perf_counter() - started
        size = buffer.tell()
        buffer.seek(0)
        started = time.perf_counter()
        with cursor.copy(f"COPY {FLOOR_INBOUND} FROM STDIN") as copy:
            while block := buffer.read(1 << 20):
                copy.write(block)
        copy_in = time.perf_counter() - started
        del buffer
        started = time.perf_counter()
        cursor.execute(
            f"""
            INSERT INTO {FLOOR_SCHEDULE}
                (line_id, period, source, amount, amount_currency, kind, held, inbound_line_id)
            SELECT 1 + mod(i, %s), 202501 + mod(i, 12), 'SO', 100.00 + mod(i, 1000), 'USD',
                   'RELEASE', false, 1 + mod(i, %s)
            FROM generate_series(0, %s - 1) AS i
            """,
            [max(so_lines, 1), max(staged, 1), schedule_rows],
        )
        insert = time.perf_counter() - started
        # (c), for reference only (not in the floor): the journal entries, the same way
        started = time.perf_counter()
        cursor.execute(
            f"""
            INSERT INTO {FLOOR_JOURNAL} (period, line_id, source_type, entry_type, dr_account,
                cr_account, amount, amount_currency, posted, inbound_line_id)
            SELECT 202501 + mod(i, 12), 1 + mod(i, %s), 'SO', 'RELEASE', 'CONTRACT_LIABILITY',
                   'REVENUE', 100.00 + mod(i, 1000), 'USD', false, 1 + mod(i, %s)
            FROM generate_series(0, %s - 1) AS i
            """,
            [max(so_lines, 1), max(staged, 1), journal_rows],
        )
        journal_insert = time.perf_counter() - started
    floor = copy_out + copy_in + insert
    print(
        f"floor (a):  COPY of the {staged:,} staged rows ({size / 1e6:,.0f} MB as COPY text): "
        f"COPY (SELECT * FROM revenue_inboundline) TO STDOUT {copy_out:.1f} s + COPY FROM STDIN "
        f"into a logged table LIKE revenue_inboundline INCLUDING ALL (the same {indexes} "
        f"indexes) {copy_in:.1f} s"
    )
    print(
        f"floor (b):  INSERT … SELECT FROM generate_series of {schedule_rows:,} rows into a logged "
        f"table LIKE revenue_schedulerow INCLUDING ALL (same indexes and checks; LIKE copies "
        f"no foreign key): {insert:.1f} s"
    )
    print(
        f"floor:      {floor:.1f} s total (a + b; journal entries not included);  "
        f"collection / floor = {collection / floor:.1f}×"
    )
    print(
        f"reference:  not in the floor: the {journal_rows:,} journal entries the same way (c) "
        f"{journal_insert:.1f} s; a + b + c = {floor + journal_insert:.1f} s, collection / "
        f"(a + b + c) = {collection / (floor + journal_insert):.1f}×."
    )
    if not args.keep:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {FLOOR_INBOUND}, {FLOOR_SCHEDULE}, {FLOOR_JOURNAL}")

    # --- correctness ---
    failed = 0

    def check(label: str, ok: bool, detail: str) -> None:
        nonlocal failed
        failed += not ok
        print(f"check {'ok    ' if ok else 'FAILED'} {label}: {detail}")

    with connection.cursor() as cursor:
        not_collected = scalar(
            cursor, "SELECT count(*) FROM revenue_inboundline WHERE status <> 'COLLECTED'"
        )
        check(
            "every staged line COLLECTED",
            not_collected == 0,
            f"{staged - not_collected:,} of {staged:,} collected",
        )
        check(
            "collection run",
            run.status == "SUCCEEDED" and run.collected == staged,
            f"status {run.status}, collected {run.collected:,}, stopped {run.stopped}, "
            f"waiting {run.waiting}",
        )
        cursor.execute(
            """
            SELECT period, sum(dr) AS dr, sum(cr) AS cr FROM (
                SELECT period, amount AS dr, 0 AS cr FROM revenue_journalentry
                UNION ALL
                SELECT period, 0, amount FROM revenue_journalentry
            ) sides GROUP BY period ORDER BY period
            """
        )
        periods = cursor.fetchall()
        unbalanced = [p for p in periods if p[1] != p[2]]
        check(
            "journal debits = credits per period",
            not unbalanced,
            f"{len(periods)} periods, {len(unbalanced)} unbalanced; Σ Dr = "
            f"{sum(p[1] for p in periods):,.2f} = Σ Cr = {sum(p[2] for p in periods):,.2f}",
        )
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE coalesce(s.total, 0)
                       <> l.ext_sll_prc + l.rord_sll_prc + l.cmr_sll_prc),
                   count(*) FILTER (WHERE l.return_flag = 'Y'),
                   count(*) FILTER (WHERE l.rord_sll_prc + l.cmr_sll_prc < 0),
                   count(*) FILTER (WHERE l.ext_sll_prc + l.rord_sll_prc + l.cmr_sll_prc < 0)
            FROM revenue_soline l
            LEFT JOIN (
                SELECT line_id, sum(amount) AS total FROM revenue_schedulerow GROUP BY line_id
            ) s ON s.line_id = l.id
            """
        )
        lines, off, returned, reduced, negative = cursor.fetchone()
        check(
            "Σ schedule per SO line = its net sell price (ESP + Σ RORD + Σ CM-R, P2/P3)",
            off == 0 and negative == 0 and lines == made["so"],
            f"{lines:,} SO lines ({reduced:,} reduced, {returned:,} fully: return flag Y), "
            f"{off} differ, {negative} below zero",
        )
        if args.mix == "basic":
            cursor.execute(
                """
                SELECT count(*) FILTER (WHERE s.total IS DISTINCT FROM i.ext_sll_prc), count(*)
                FROM revenue_inboundline i
                LEFT JOIN (
                    SELECT line_id, sum(amount) AS total FROM revenue_schedulerow
                    WHERE source = 'INV' GROUP BY line_id
                ) s ON s.line_id = i.line_id
                WHERE i.tran_type = 'INV'
                """
            )
            off, invoiced = cursor.fetchone()
            check(
                "Σ INV-source schedule per invoiced line = its INV amount",
                off == 0,
                f"{invoiced:,} invoiced lines, {off} differ",
            )
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE c.balance IS DISTINCT FROM l.contra_balance)
            FROM revenue_soline l
            JOIN (
                SELECT line_id, sum(CASE WHEN kind = 'CONTRA' THEN amount - removed - reversed
                                    ELSE 0 END) AS balance
                FROM revenue_contraentry GROUP BY line_id
            ) c ON c.line_id = l.id
            """
        )
        with_contra, off = cursor.fetchone()
        contra_journal = scalar(cursor, "SELECT sum(contra_balance) FROM revenue_soline") or 0
        cursor.execute(
            """
            SELECT coalesce(sum(CASE WHEN cr_account = 'CONTRA_AR' THEN amount
                                     ELSE -amount END), 0)
            FROM revenue_journalentry WHERE 'CONTRA_AR' IN (dr_account, cr_account)
            """
        )
        booked = cursor.fetchone()[0]
        check(
            "contra AR: outstanding per line = its ContraEntry rows = Contra AR in the journal",
            off == 0 and booked == contra_journal,
            f"{with_contra:,} lines with contra entries, {off} differ; Contra AR credit "
            f"{booked:,.2f} = Σ outstanding {contra_journal:,.2f}",
        )
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE alloc IS DISTINCT FROM esp)
            FROM (
                SELECT contract_id, ext_sll_prc_currency,
                       sum(allocated) AS alloc,
                       sum(ext_sll_prc + rord_sll_prc + cmr_sll_prc) AS esp
                FROM revenue_soline WHERE allocated IS NOT NULL
                GROUP BY contract_id, ext_sll_prc_currency
            ) pools
            """
        )
        pools, off = cursor.fetchone()
        check(
            "allocation: Σ allocated = Σ net ESP per contract and currency (A3)",
            off == 0,
            f"{pools:,} allocated contracts, {off} differ",
        )
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM revenue_schedulerow r
                    WHERE NOT EXISTS (SELECT 1 FROM revenue_soline l WHERE l.id = r.line_id)),
                   (SELECT count(*) FROM revenue_journalentry e
                    WHERE NOT EXISTS (SELECT 1 FROM revenue_soline l WHERE l.id = e.line_id))
            """
        )
        orphans = cursor.fetchone()
        check(
            "every schedule row and entry has its SO line (no database FK: see ScheduleRow)",
            orphans == (0, 0),
            f"{orphans[0]} orphan schedule rows, {orphans[1]} orphan entries",
        )
        expected_rows = 12 * made["so"] + 24 * made["inv"]
        expected_entries = 12 * made["so"] + made["inv"]
        if args.mix != "basic":
            sys.exit(1 if failed else 0)
        check(
            "row counts",
            (schedule_rows, journal_rows) == (expected_rows, expected_entries),
            f"schedule {schedule_rows:,} (expected 12 × SO + 24 × INV = {expected_rows:,}), "
            f"journal {journal_rows:,} (expected 12 × SO + INV = {expected_entries:,})",
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
