"""Benchmark: full downloads of the month-end reports (close.md M1–M5, M6), on PostgreSQL.
Run by hand, after ``bench/admin.py`` (or ``bench/admin_data.py``) generated its data:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/report_downloads.py \\
        [--databases contra_admin_bench_100k,contra_admin_bench] [--formats csv,xlsx]

Each report is written whole, as a user downloads it, by the command the admin's download
shares its writer with (``revenue_report KIND`` / ``billing_reconcile``; an admin XLSX
above 20,000 rows is the same ``write_xlsx`` in a worker): one process per download, its
wall time and its peak resident memory (``wait4``'s ru_maxrss) taken by this script.

The databases are read in the same run, smallest first (their sizes differ tenfold with
the default pair; make the small one with ``bench/admin_data.py --orders 100000 --database
contra_admin_bench_100k``). Memory is bounded when a download of ten times the rows needs
about the same peak: the summary prints, per download, rows and peak memory of each
database and the ratios large / small; the floor is the peak of the same command asked
only for ``--help`` (Django started, nothing read). Wall times are printed beside them;
the machine is shared, so compare them only within one run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
OUT = ROOT / "var" / "bench-downloads"

DOWNLOADS = (  # the admin bench's periods: 2024-01 … 2026-05 closed, 2026-06 open
    ("waterfall", ["revenue_report", "waterfall", "--by", "contract"]),
    ("waterfall by line", ["revenue_report", "waterfall", "--by", "line"]),
    ("rollforward", ["revenue_report", "rollforward", "--period", "202507", "--through", "202606"]),
    ("balances", ["revenue_report", "balances", "--by", "contract"]),
    ("checklist", ["revenue_report", "checklist"]),
    ("billing_reconcile", ["billing_reconcile", "--period", "202606"]),
)


@dataclass
class Run:
    seconds: float
    peak_mb: float
    size_mb: float
    rows: int
    code: int


def database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


def run(args: list[str], *, url: str, output: Path | None) -> Run:
    """One download in its own process: wall time, peak RSS (MB), file size and rows."""
    env = dict(os.environ, DATABASE_URL=url, DJANGO_DEBUG="0")
    command = [PYTHON, str(ROOT / "manage.py"), *args]
    if output is not None:
        command += ["--output", str(output)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 2):  # 1 / 2: a difference or a blocker, still a whole report
        raise SystemExit(f"{' '.join(args)} failed ({code}):\n{stderr[-2000:]}")
    size = output.stat().st_size if output is not None and output.exists() else 0
    rows = 0
    if output is not None and output.suffix == ".csv" and output.exists():
        with output.open("rb") as handle:
            rows = max(0, sum(1 for _ in handle) - 1)
    return Run(seconds, usage.ru_maxrss / 1024, size / 1e6, rows, code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--databases",
        default="contra_admin_bench_100k,contra_admin_bench",
        help="comma-separated database names, the small one first",
    )
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--only", default="", help="downloads whose label contains this")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL")
    if not base or not base.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to the PostgreSQL server (any database on it).")
    names = [n for n in args.databases.split(",") if n]
    formats = [f for f in args.formats.split(",") if f]
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    floor = run(["revenue_report", "--help"], url=database_url(base, names[0]), output=None)
    print(f"floor (revenue_report --help): peak {floor.peak_mb:.0f} MB, {floor.seconds:.1f} s")
    results: dict[tuple[str, str, str], Run] = {}
    header = f"{'download':<20} {'fmt':<5} {'database':<26} {'rows':>10} {'MB':>9} "
    print(header + f"{'seconds':>8} {'peak MB':>8}")
    for label, command in DOWNLOADS:
        if args.only and args.only not in label:
            continue
        for fmt in formats:
            for name in names:
                slug = label.replace(" ", "_")
                output = OUT / f"{name}-{slug}.{fmt}"
                found = run(
                    [*command, "--format", fmt], url=database_url(base, name), output=output
                )
                if fmt == "xlsx":  # the rows of the CSV of the same report
                    csv = results.get((label, "csv", name))
                    found.rows = csv.rows if csv else 0
                results[(label, fmt, name)] = found
                print(
                    f"{label:<20} {fmt:<5} {name:<26} {found.rows:>10,} {found.size_mb:>9.1f} "
                    f"{found.seconds:>8.1f} {found.peak_mb:>8.0f}"
                )
    if len(names) < 2:
        return
    small, large = names[0], names[-1]
    print(
        f"\nsummary: {large} against {small} (ratios large / small), floor {floor.peak_mb:.0f} MB"
    )
    print(f"{'download':<20} {'fmt':<5} {'rows x':>7} {'peak MB':>15} {'peak x':>7} {'s':>13}")
    for (label, fmt, name), big in results.items():
        if name != large or (label, fmt, small) not in results:
            continue
        little = results[(label, fmt, small)]
        rows_ratio = big.rows / little.rows if little.rows else float("nan")
        print(
            f"{label:<20} {fmt:<5} {rows_ratio:>7.1f} "
            f"{little.peak_mb:>6.0f} → {big.peak_mb:>6.0f} {big.peak_mb / little.peak_mb:>7.2f} "
            f"{little.seconds:>5.1f} → {big.seconds:>5.1f}"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
