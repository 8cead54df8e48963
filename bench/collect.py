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
from bench.collect_report import (  # noqa: E402
    FLOOR_INBOUND,
    FLOOR_JOURNAL,
    FLOOR_SCHEDULE,
    checks_run,
    floor_measure,
    scalar,
)
from bench.collect_workers import DEFAULT_BROKER, workers_collect  # noqa: E402
from bench.pgdb import bench_database_url, database_ensure  # noqa: E402

# TRUNCATE … CASCADE: every table that points at one of these is emptied too
REVENUE_TABLES = (
    "revenue_carveentry",
    "revenue_carveversion",
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
STAGED_COPY = "bench_staged"
SERVER_SETTINGS = ("shared_buffers", "max_wal_size", "checkpoint_timeout", "autovacuum")


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


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds else "-"


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, required=True, help="inbound lines to generate")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="lines per batch (default: the COLLECTION_BATCH_SIZE profile setting)",
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
        default="full",
        help="full (default): 60 %% SO, 20 %% INV, 10 %% RORD, 5 %% CM-RO, 5 %% CM-R; "
        "reductions: 70 %% SO, 15 %% INV, 10 %% RORD, 5 %% CM-RO; basic: 80 %% SO, 20 %% INV",
    )
    parser.add_argument(
        "--contra",
        choices=["Y", "N"],
        default="Y",
        help="CREATE_RORD_CONTRA_ENTRY for the run (default Y: contra entries booked)",
    )
    parser.add_argument(
        "--workers",
        default="",
        metavar="N[,M…]",
        help="collect with N Celery worker processes on Redis (CELERY_BROKER_URL, default "
        f"{DEFAULT_BROKER}) instead of one revenue_collect process; a list (1,2) collects "
        "the same staged lines once per count, from scratch, and compares the throughput",
    )
    parser.add_argument(
        "--ssp-share",
        type=float,
        default=0.3,
        help="share of the multi-line contracts whose lines carry SSPs, so carry a carve "
        "(default 0.3; 0: a day without carve; the mix basic has none)",
    )
    parser.add_argument(
        "--carve-compare",
        action="store_true",
        help="after the run, collect the same day again with --ssp-share 0 (one "
        "revenue_collect process) and print the run against it (target ≤ 1.15×)",
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
    if args.lines < 10:
        sys.exit("--lines must be at least 10")
    if args.carve_compare and args.workers:
        sys.exit("--carve-compare compares one revenue_collect process: leave out --workers")
    if not 0 <= args.ssp_share <= 1:
        sys.exit(f"--ssp-share: a share from 0 to 1 (got {args.ssp_share})")
    try:
        args.workers = [int(n) for n in args.workers.split(",") if n.strip()]
    except ValueError:
        sys.exit(f"--workers: a count or a list of counts, e.g. 2 or 1,2 (got {args.workers!r})")
    if any(n < 1 for n in args.workers):
        sys.exit("--workers: counts start at 1")
    return args


def _reset(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_INBOUND}, {FLOOR_SCHEDULE}, {FLOOR_JOURNAL}")
        cursor.execute(f"TRUNCATE {', '.join(REVENUE_TABLES)} RESTART IDENTITY CASCADE")
        from revenue.models.journal import journal_ids_apart

        journal_ids_apart(cursor, "postgresql")  # RESTART IDENTITY undid them
        cursor.execute("DELETE FROM core_auditevent")


def _restore_staged(connection) -> dict:
    """The staged rows of the last staging, as they were staged (bench_staged)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO revenue_inboundbatch SELECT * FROM {STAGED_COPY}_batch")
        cursor.execute(f"INSERT INTO revenue_inboundline SELECT * FROM {STAGED_COPY}")
        for table in ("revenue_inboundline", "revenue_inboundbatch"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
        return staged_summary(cursor)


def _stage(connection, args) -> tuple[dict, int]:
    """Generate the file and stage it with the code of ``manage.py revenue_import``."""
    from revenue.models import InboundBatch
    from revenue.services.inbound import inbound_file_stage

    handle, name = tempfile.mkstemp(prefix=f"contra-bench-{args.lines}-", suffix=".csv")
    os.close(handle)
    path = Path(name)
    started = time.perf_counter()
    made = generate(path, args.lines, args.seed, args.mix, args.ssp_share)
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in made["counts"].items() if n)
    print(
        f"generated {args.lines:,} lines, mix {args.mix} ({kinds}; {made['contracts']:,} "
        f"contracts, {made['ssp_contracts']:,} with SSPs: --ssp-share {args.ssp_share}) in "
        f"{time.perf_counter() - started:.1f} s → {path} "
        f"({path.stat().st_size / 1e6:,.0f} MB)"
    )
    started = time.perf_counter()
    with path.open("rb") as stream:
        batch = inbound_file_stage(
            stream=stream, filename=path.name, source=InboundBatch.SourceKind.COMMAND
        )
    staging = time.perf_counter() - started
    print(
        f"staging:    {batch.line_count:,} lines in {staging:.1f} s = "
        f"{rate(batch.line_count, staging)} lines/s ({batch.error_count} with parse errors)"
    )
    if not args.keep:
        path.unlink()
    with connection.cursor() as cursor:  # for --reuse-staged and --workers 1,2
        cursor.execute(f"DROP TABLE IF EXISTS {STAGED_COPY}, {STAGED_COPY}_batch")
        cursor.execute(f"CREATE TABLE {STAGED_COPY} AS SELECT * FROM revenue_inboundline")
        cursor.execute(f"CREATE TABLE {STAGED_COPY}_batch AS SELECT * FROM revenue_inboundbatch")
    return made, batch.line_count


def _ready(connection, made: dict, contra: str) -> int:
    """Open the period of the earliest start, set the profile, ANALYZE what staging wrote."""
    from revenue.services.periods import period_open
    from revenue.services.settings import profile_set
    from revenue.services.splits import period_of

    opened = period_open(period=period_of(made["earliest"]), actor=None)
    profile_set(name="CREATE_RORD_CONTRA_ENTRY", value=contra, actor=None)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE revenue_inboundline")  # what autovacuum does after a bulk load
        cursor.execute("CHECKPOINT")  # the staging's dirty pages are not the collection's cost
    connection.close()  # the collecting processes get the server to themselves
    return opened.id


def _collect_child(launcher, args) -> tuple[float, float, str]:
    """One ``revenue_collect`` process: (seconds, its peak RSS in MB, what it printed)."""
    command = [sys.executable, str(ROOT / "manage.py"), "revenue_collect"]
    if args.profile:
        command[1:1] = ["-m", "cProfile", "-o", args.profile]
    if args.batch_size:
        command += ["--batch-size", str(args.batch_size)]
    request = {"command": command, "env": dict(os.environ), "cwd": str(ROOT)}
    reply, _ = launcher.communicate(json.dumps(request) + "\n")
    child = json.loads(reply)
    # the launcher and revenue_collect, both waited for: the larger is revenue_collect's
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    if child["returncode"]:
        print(child["stdout"] + child["stderr"])
        sys.exit(f"revenue_collect failed with exit code {child['returncode']}")
    return child["seconds"], peak_mb, (child["stdout"].strip().splitlines() or [""])[-1]


def main() -> None:
    args = _arguments()
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    url = bench_database_url(
        os.environ.get("DATABASE_URL", ""), args.database, script="bench/collect.py"
    )
    os.environ["DATABASE_URL"] = url
    if args.workers:
        # this process queues the runs and pings the workers: on the broker they listen on
        # (without it, Django's settings would give it the embedded filesystem:// broker)
        os.environ.setdefault("CELERY_BROKER_URL", DEFAULT_BROKER)
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    database_ensure(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from revenue.models import CollectionRun
    from revenue.services.settings import profile_get

    call_command("migrate", verbosity=0)
    _reset(connection)
    with connection.cursor() as cursor:
        version = scalar(cursor, "SHOW server_version")
        # the settings a day of this size is most sensitive to (README: Benchmarks)
        server = ", ".join(f"{name} {scalar(cursor, f'SHOW {name}')}" for name in SERVER_SETTINGS)
    print(
        f"database: PostgreSQL {version} ({connection.settings_dict['NAME']}), "
        f"{os.cpu_count()} CPUs; {server}; revenue tables truncated"
    )
    if args.reuse_staged and table_exists(connection, STAGED_COPY):
        started = time.perf_counter()
        made = _restore_staged(connection)
        total = sum(made["counts"].values())
        print(
            f"staging:    not measured: {total:,} staged rows restored from {STAGED_COPY} "
            f"(--reuse-staged) in {time.perf_counter() - started:.1f} s"
        )
    else:
        made, total = _stage(connection, args)

    size = args.batch_size or profile_get("COLLECTION_BATCH_SIZE")
    throughput: dict[int, float] = {}
    results: dict[int, tuple[float, float]] = {}  # workers (0: revenue_collect) → s, peak MB
    for attempt, count in enumerate(args.workers or [0]):
        if attempt:
            _reset(connection)
            _restore_staged(connection)
        period = _ready(connection, made, args.contra)
        if count:
            broker = os.environ["CELERY_BROKER_URL"]
            collection, peaks, runs = workers_collect(
                count, database_url=url, broker=broker, batch_size=args.batch_size
            )
            launcher.stdin.close()
            peak_mb, how = (
                max(peaks),
                (
                    f"{count} Celery worker{'s' if count > 1 else ''} on {broker}, peak RSS per "
                    f"worker {', '.join(f'{mb:,.0f}' for mb in peaks)} MB"
                ),
            )
            throughput[count] = total / collection
        else:
            collection, peak_mb, printed = _collect_child(launcher, args)
            runs = [CollectionRun.objects.order_by("-id").first()]
            how = f"one revenue_collect process, peak RSS {peak_mb:,.0f} MB; it printed {printed!r}"
        results[count] = (collection, peak_mb)
        batches = sum(run.batches for run in runs)
        print(
            f"collection: {total:,} lines in {collection:.1f} s = {rate(total, collection)} "
            f"lines/s ({how}; open period {period}, {batches} batches of {size})"
        )
    if len(throughput) > 1:
        base = min(throughput)
        print(
            "scaling:    "
            + ", ".join(
                f"{n} worker{'s' if n > 1 else ''} {value:,.0f} lines/s = "
                f"{value / throughput[base]:.2f}× {base}"
                for n, value in sorted(throughput.items())
            )
        )

    with connection.cursor() as cursor:
        schedule_rows = scalar(cursor, "SELECT count(*) FROM revenue_schedulerow")
        journal_rows = scalar(cursor, "SELECT count(*) FROM revenue_journal")
        stored_rows = scalar(cursor, "SELECT count(*) FROM revenue_journalentry")
        carve_rows = scalar(cursor, "SELECT count(*) FROM revenue_carveentry")
        so_lines = scalar(cursor, "SELECT count(*) FROM revenue_soline")
        contra_rows = scalar(cursor, "SELECT count(*) FROM revenue_contraentry")
        reversal_rows = scalar(
            cursor, "SELECT count(*) FROM revenue_schedulerow WHERE kind = 'REVERSAL'"
        )
        contracts = scalar(cursor, "SELECT count(*) FROM revenue_revenuecontract")
        staged = scalar(cursor, "SELECT count(*) FROM revenue_inboundline")
    print(
        f"rows written: {schedule_rows:,} schedule rows ({reversal_rows:,} reversals), "
        f"{journal_rows:,} journal entries (of which {stored_rows:,} stored, {carve_rows:,} "
        f"the carve rows' own, the rest the schedule rows' own), {contra_rows:,} contra entries, "
        f"{so_lines:,} SO lines, {contracts:,} revenue contracts "
        f"(+ {staged:,} staging rows updated to COLLECTED)"
    )

    # --- the floor, same run, same database ---
    floor = floor_measure(
        connection,
        collection=collection,
        so_lines=so_lines,
        staged=staged,
        schedule_rows=schedule_rows,
        journal_rows=journal_rows,
        keep=args.keep,
    )
    failed = checks_run(
        connection,
        runs=runs,
        made=made,
        mix=args.mix,
        staged=staged,
        schedule_rows=schedule_rows,
        journal_rows=journal_rows,
    )
    targets_print(results, floor)
    if args.carve_compare:
        carve_compare(connection, args, with_carve=results[min(results)][0])
    sys.exit(1 if failed else 0)


TARGET_CARVE = 1.15  # issue 20: collection with carve against the same day without SSPs


def carve_compare(connection, args, *, with_carve: float) -> None:
    """--carve-compare: the same day (same seed) with no SSP, collected by one revenue_collect
    process in this run, against the run above (issue 20's target)."""
    plain = argparse.Namespace(**{**vars(args), "ssp_share": 0.0, "profile": None})
    _reset(connection)
    made, total = _stage(connection, plain)
    _ready(connection, made, args.contra)
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    seconds, _, printed = _collect_child(launcher, plain)
    ratio = with_carve / seconds
    met = "met" if ratio <= TARGET_CARVE else "not met"
    print(
        f"carve:      with SSPs (--ssp-share {args.ssp_share}) {with_carve:.1f} s; the same day "
        f"without SSPs {seconds:.1f} s ({printed}) = {ratio:.2f}× (target ≤ {TARGET_CARVE}×: "
        f"{met})"
    )


# issue 16's targets, against the floor of the same run (a + b)
TARGET_RATIO = {1: 3.0, 2: 2.0}
TARGET_SCALING = 1.7  # 2 workers against 1
TARGET_PEAK_MB = 1024  # per worker


def targets_print(results: dict[int, tuple[float, float]], floor: float) -> None:
    """The last lines: each run against the floor and its target, the scaling, the peak."""
    parts = []
    for count, (seconds, peak) in sorted(results.items()):
        workers = max(count, 1)
        ratio = seconds / floor
        label = "1 revenue_collect" if not count else f"{count} worker{'s' if count > 1 else ''}"
        target = TARGET_RATIO.get(workers)
        verdict = f" (target ≤ {target:.1f}×: {'met' if ratio <= target else 'not met'})"
        parts.append(f"{label} {seconds:.1f} s = {ratio:.2f}× floor{verdict if target else ''}")
        parts.append(
            f"peak {peak:,.0f} MB a worker (target ≤ {TARGET_PEAK_MB:,}: "
            f"{'met' if peak <= TARGET_PEAK_MB else 'not met'})"
        )
    print(f"targets:    floor {floor:.1f} s; " + "; ".join(parts))
    if 1 in results and 2 in results:
        scaling = results[1][0] / results[2][0]
        met = "met" if scaling >= TARGET_SCALING else "not met"
        print(f"scaling:    2 workers / 1 = {scaling:.2f}× (target ≥ {TARGET_SCALING}×: {met})")


if __name__ == "__main__":
    main()
