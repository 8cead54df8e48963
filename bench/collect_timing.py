"""Where a collection's time goes, without a profiler. Run by hand after ``bench/collect.py``
(it reuses that run's staged rows, ``bench_staged``):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/contra_bench \\
        .venv/bin/python bench/collect_timing.py [--time MODULE.FUNCTION …] [--sql-detail WHERE]

Restores the staged rows as ``bench/collect.py --reuse-staged`` does, then runs
``revenue_collect`` in this process with every SQL statement timed by an execute wrapper
(grouped by the two innermost revenue / core frames that sent it) and the functions named
with ``--time`` timed by a wrapper (``module.function`` or ``module:Class.method``; patch
the name where the caller looks it up). cProfile multiplies the cost of small Python calls
several times; these timers add a few microseconds per call, so their figures add up to
the wall time. COPY is not an ``execute``: it counts in the functions that run it.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
import time
import traceback
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.pgdb import bench_database_url  # noqa: E402

# the phases of a batch (design doc section 3), timed unless --time says otherwise
DEFAULT_TIMED = (
    "revenue.services.collection.batch_collect",
    "revenue.services.collection.batch_write",
    "revenue.services.collection._contracts_prepare",
    "revenue.services.handlers.context.states_load",
    "revenue.services.handlers.context.releases_insert",
    "revenue.services.processing._allocate",
    "revenue.services.ledger:Booker.flush",
)
OURS = (str(ROOT / "revenue"), str(ROOT / "core"))


class Timings:
    """Seconds and calls per key: SQL statements by their sender, functions by name."""

    def __init__(self, sql_detail: str):
        self.sql: dict[str, list] = defaultdict(lambda: [0.0, 0])
        self.functions: dict[str, list] = defaultdict(lambda: [0.0, 0])
        self.sql_detail = sql_detail

    def statement(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            frames = [f for f in traceback.extract_stack(limit=40) if f.filename.startswith(OURS)]
            key = " < ".join(
                f"{Path(f.filename).relative_to(ROOT)}:{f.name}" for f in frames[-2:][::-1]
            )
            if self.sql_detail and self.sql_detail in key:
                key += " | " + " ".join(sql.split())[:70]
            entry = self.sql[key or "(outside revenue and core)"]
            entry[0] += seconds
            entry[1] += 1

    def wrap(self, spec: str) -> None:
        """Time ``module.function`` or ``module:Class.method`` where it is looked up."""
        if ":" in spec:
            module, attribute = spec.split(":")
            owner_name, name = attribute.rsplit(".", 1)
            owner = getattr(importlib.import_module(module), owner_name)
        else:
            module, name = spec.rsplit(".", 1)
            owner = importlib.import_module(module)
        function = getattr(owner, name)
        entry = self.functions[spec]

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                entry[0] += time.perf_counter() - started
                entry[1] += 1

        setattr(owner, name, timed)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="contra_bench", help="scratch database name")
    parser.add_argument(
        "--time",
        nargs="*",
        default=list(DEFAULT_TIMED),
        metavar="FUNCTION",
        help="functions to time (module.function or module:Class.method)",
    )
    parser.add_argument(
        "--sql-detail",
        default="",
        metavar="WHERE",
        help="split the statements of senders containing WHERE by their SQL's first words",
    )
    parser.add_argument("--top", type=int, default=25, help="statement groups to print")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    url = bench_database_url(
        os.environ.get("DATABASE_URL", ""), args.database, script="bench/collect_timing.py"
    )
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import collect

    if not collect.table_exists(connection, collect.STAGED_COPY):
        sys.exit(f"no {collect.STAGED_COPY}: run bench/collect.py --lines N first")
    collect._reset(connection)
    made = collect._restore_staged(connection)
    staged = sum(made["counts"].values())
    collect._ready(connection, made, "Y")

    timings = Timings(args.sql_detail)
    for spec in args.time:
        timings.wrap(spec)
    started = time.perf_counter()
    with connection.execute_wrapper(timings.statement):
        call_command("revenue_collect", stdout=io.StringIO())
    wall = time.perf_counter() - started
    sql = sum(seconds for seconds, _ in timings.sql.values())
    print(
        f"collection: {staged:,} staged lines in {wall:.1f} s (one process, timed); "
        f"SQL statements {sql:.1f} s, the rest {wall - sql:.1f} s (Python and COPY)"
    )
    print("functions (s, calls):")
    for spec, (seconds, calls) in sorted(timings.functions.items(), key=lambda kv: -kv[1][0]):
        print(f"  {seconds:7.2f} {calls:7,} {spec}")
    print(f"SQL statements by sender (s, statements), top {args.top}:")
    groups = sorted(timings.sql.items(), key=lambda kv: -kv[1][0])
    for key, (seconds, calls) in groups[: args.top]:
        print(f"  {seconds:7.2f} {calls:7,} {key}")


if __name__ == "__main__":
    main()
