"""Benchmark: the main admin pages at volume, on PostgreSQL. Run by hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/contra_admin_bench \\
        .venv/bin/python bench/admin.py [--requests 20] [--reuse] [--explain]

DATABASE_URL gives the server and the user; the pages are read from the scratch database
of ``bench/admin_data.py`` (``contra_admin_bench`` unless --database says otherwise): 1M
orders (2M order products), 833,334 SO lines with 10M schedule rows, about 10.35M journal
entries (every period of every line, invoices and credit memos; USD, EUR and JPY) and the
ledger totals the journal's triggers keep (M6), 1M inbound lines. The data is generated
on the first run (40–50 s for --orders 100000 on the 2-core machine, so about 8 minutes
for the full size) and kept: later runs find the same sizes and reuse it (--reuse skips
even the check, --force regenerates; --orders N or --scale F for less).

Every page is read for two objects or filters (a large account and a small one, an order
with 3 products and one with 1, a common error code and a rare one …). A superuser logged
in with the test Client gets each a few times (warm-up), then ``--requests`` times in all,
in turn, timed; one more request of each runs under CaptureQueriesContext: both must run
the same number of queries (no N+1). Prints median and p95 milliseconds, the median CPU
time of this process per request (the Python part, which other load on the machine does
not inflate), the queries, and whether p95 is within the target (150 ms; 2 s for the
month-end report pages of ``report_pages``, M6); --explain
prints EXPLAIN ANALYZE of each page's slowest queries. Runs with DEBUG off (DJANGO_DEBUG=0)
unless the environment says otherwise; prints the load average, as other processes on
the machine inflate the wall times.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")

from bench import admin_data  # noqa: E402

TARGET_MS = 150
REPORT_TARGET_MS = 2000  # M6: a report's first page at the admin-bench volume
USER = "bench-admin"


@dataclass
class Page:
    label: str
    url: str
    other: str  # the same page for another object or filter: same query count
    expect: str  # a text the page must show (not an error page or an empty list)
    extra: bool = False  # --extra: reported, not held to the target
    target_ms: int = TARGET_MS  # p95 must be within it


@dataclass
class Result:
    page: Page
    times: list[float]
    cpu: list[float]  # this process's CPU time per request (not inflated by other load)
    queries: int
    other_queries: int
    slowest: list[tuple[float, str]]  # (ms, sql) of the page's queries, slowest first

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[max(math.ceil(len(ordered) * 0.95) - 1, 0)]

    @property
    def constant(self) -> bool:
        return self.queries == self.other_queries


def pages(sizes: dict[str, int]) -> list[Page]:
    """The pages, for objects and filters the generator made (bench/admin_data.py)."""
    from orders.models import Order, OrderStatus

    # the newest Activated orders with 3 products (id mod 3 = 2) and with 1 (id mod 3 = 0)
    recent = Order.objects.filter(status=OrderStatus.ACTIVATED).order_by("-id")
    ids = list(recent.values_list("id", flat=True)[:30])
    three = next(i for i in ids if i % 3 == 2)
    one = next(i for i in ids if i % 3 == 0)
    order_list = "/admin/orders/order/"
    inbound = "/admin/revenue/inboundline/"
    journal = "/admin/revenue/journalentry/"
    return [
        Page(
            "order list: Activated, one account",
            f"{order_list}?status__exact=ACTIVATED&{account_filter(1)}",
            f"{order_list}?status__exact=ACTIVATED&{account_filter(123)}",
            'id="result_list"',
        ),
        Page(
            "order list: Fulfilled, one month",
            f"{order_list}?status__exact=FULFILLED&effective_date__range__gte=2025-03-01"
            "&effective_date__range__lte=2025-03-31",
            f"{order_list}?status__exact=FULFILLED&effective_date__range__gte=2024-06-01"
            "&effective_date__range__lte=2024-06-30",
            'id="result_list"',
        ),
        Page(
            "order page (3 products / 1)",
            f"/admin/orders/order/{three}/change/",
            f"/admin/orders/order/{one}/change/",
            'id="order_form"',
        ),
        Page(
            "inbound list: error RPRO-00353",
            f"{inbound}?error_code=RPRO-00353",
            f"{inbound}?error_code=RPRO-00620",
            'id="result_list"',
        ),
        Page(
            "SO line page (12 periods; billed / not)",
            "/admin/revenue/soline/2/change/",
            "/admin/revenue/soline/8/change/",
            'id="soline_form"',
        ),
        Page("journal list", journal, f"{journal}?entry_type__exact=RELEASE", 'id="result_list"'),
        Page(
            "journal list: posted",
            f"{journal}?posted__exact=1",
            f"{journal}?posted__exact=1&account=AR",
            'id="result_list"',
        ),
        Page(
            "journal list: one period",
            f"{journal}?period=202606",
            f"{journal}?period=202503",
            'id="result_list"',
        ),
    ]


def report_pages(sizes: dict[str, int]) -> list[Page]:
    """M6: the month-end report pages, each held to REPORT_TARGET_MS (2 s for the first
    page). Append one ``report_page(...)`` per report; they are timed with the other pages
    (``--only`` selects by label, e.g. ``--only report``). The data: periods 2024-01 …
    2026-05 closed, 2026-06 open (bench/admin_sql.py OPEN_PERIOD), USD / EUR / JPY."""
    reports = "/admin/reports"
    table = 'id="report-table"'
    return [
        report_page(
            "report: waterfall (M1)",
            f"{reports}/waterfall/?period=202606",
            f"{reports}/waterfall/?period=202506&by=customer&currency=EUR",
            table,
        ),
        report_page(
            "report: waterfall by SO line, page 2",
            f"{reports}/waterfall/?period=202606&by=line&p=2",
            f"{reports}/waterfall/?period=202606&by=item",
            table,
        ),
        report_page(
            "report: roll-forward 12 periods (M2)",
            f"{reports}/rollforward/?period=202507&through=202606",
            f"{reports}/rollforward/?period=202601&through=202606&currency=JPY",
            table,
        ),
        report_page(
            "report: contract balances and RPO (M3)",
            f"{reports}/balances/?period=202606",
            f"{reports}/balances/?period=202512&by=customer&currency=USD",
            table,
        ),
        report_page(
            "report: pre-close checklist (M4)",
            f"{reports}/checklist/",
            f"{reports}/checklist/?",
            table,
        ),
        report_page(
            "report: billing reconciliation (M5)",
            f"{reports}/billing-reconcile/?period=202606",
            f"{reports}/billing-reconcile/?period=202606&currency=EUR",
            'id="report-filters"',  # a period without documents shows no table
        ),
    ]


def report_page(label: str, url: str, other: str, expect: str) -> Page:
    """A report page: the same measurement as the admin pages, with the report target."""
    return Page(label, url, other, expect, target_ms=REPORT_TARGET_MS)


def extra_pages() -> list[Page]:
    """Other lists and pages over the same volumes (--extra): reported, not checked."""
    revenue = "/admin/revenue"
    return [
        Page(
            "account list",
            "/admin/orders/account/",
            "/admin/orders/account/?q=Ltd",
            'id="result_list"',
            True,
        ),
        Page(
            "account page (5,000 orders / 50)",
            "/admin/orders/account/1/change/",
            "/admin/orders/account/123/change/",
            'id="account_form"',
            True,
        ),
        Page(
            "SO line list",
            f"{revenue}/soline/",
            f"{revenue}/soline/?hold__exact=0",
            'id="result_list"',
            True,
        ),
        Page(
            "revenue contract list",
            f"{revenue}/revenuecontract/",
            f"{revenue}/revenuecontract/?q=ORD-000042",
            'id="result_list"',
            True,
        ),
        Page(
            "period list",
            f"{revenue}/period/",
            f"{revenue}/period/?status__exact=CLOSED",
            'id="result_list"',
            True,
        ),
        Page(
            "inbound batch list",
            f"{revenue}/inboundbatch/",
            f"{revenue}/inboundbatch/?source__exact=COMMAND",
            'id="result_list"',
            True,
        ),
    ]


def account_filter(account: int) -> str:
    """One account: account 1 is one of the 20 large ones (5,000 orders), 123 a small one."""
    return f"account=ACC-{account:06d}"


def fetch(client, url: str, expect: str):
    response = client.get(url)
    body = response.content.decode()
    if response.status_code != 200 or expect not in body:
        raise SystemExit(f"{url}: HTTP {response.status_code}, {expect!r} not in the page")
    return response


def measure(client, page: Page, *, requests: int, warmup: int) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in (page.url, page.other):
        for _ in range(warmup):
            fetch(client, url, page.expect)
    times, cpu = [], []
    for index in range(requests):  # both objects / filters, in turn
        url = page.url if index % 2 == 0 else page.other
        started, cpu_started = time.perf_counter(), time.process_time()
        fetch(client, url, page.expect)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    counts, slowest = [], []
    for url in (page.url, page.other):
        with CaptureQueriesContext(connection) as queries:
            fetch(client, url, page.expect)
        counts.append(len(queries))
        if url == page.url:
            timed = [(float(q["time"]) * 1000, q["sql"]) for q in queries.captured_queries]
            slowest = sorted(timed, reverse=True)
    return Result(page, times, cpu, counts[0], counts[1], slowest)


def explain(sql: str) -> str:
    from django.db import connection

    if not sql.lstrip().upper().startswith("SELECT"):
        return "(not a SELECT)"
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def superuser():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username=USER, defaults={"is_staff": True, "is_superuser": True}
    )
    return user


def print_table(results: list[Result]) -> None:
    print()
    header = (
        f"{'page':<38}{'median ms':>10}{'p95 ms':>9}{'cpu ms':>8}{'queries':>9}"
        f"  {'other':>5}  check"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        checks = ["(extra)"] if r.page.extra else []
        checks.append("ok" if r.p95 <= r.page.target_ms else f"p95 > {r.page.target_ms}")
        checks.append("constant" if r.constant else "NOT CONSTANT")
        print(
            f"{r.page.label:<38}{r.median:>10.1f}{r.p95:>9.1f}{r.cpu_median:>8.1f}{r.queries:>9}  "
            f"{r.other_queries:>5}  {', '.join(checks)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    admin_data.add_arguments(parser)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page")
    parser.add_argument("--reuse", action="store_true", help="use the loaded data, no check")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the slowest queries")
    parser.add_argument("--queries", action="store_true", help="print every query's time")
    parser.add_argument("--extra", action="store_true", help="also time other lists (reported)")
    parser.add_argument("--only", default="", help="pages whose label contains this text")
    args = parser.parse_args()

    sizes = admin_data.setup(args)
    from django.db import connection
    from django.test import Client

    if args.reuse:
        with connection.cursor() as cursor:
            stored = admin_data.stored_sizes(cursor)
        if not stored:
            sys.exit("--reuse: no data loaded yet (run without --reuse once)")
        sizes = stored
        print(f"data: reused as loaded ({sizes['orders']:,} orders, {sizes['inbound']:,} lines)")
    else:
        admin_data.report(admin_data.generate(sizes, force=args.force))
    client = Client()
    client.force_login(superuser())
    results = []
    for page in pages(sizes) + report_pages(sizes) + (extra_pages() if args.extra else []):
        if args.only and args.only not in page.label:
            continue
        result = measure(client, page, requests=args.requests, warmup=args.warmup)
        results.append(result)
        print(
            f"{page.label}: median {result.median:.1f} ms, p95 {result.p95:.1f} ms, "
            f"{result.queries} queries ({result.other_queries} for the other)",
            flush=True,
        )
        if args.queries:
            for ms, sql in result.slowest:
                print(f"  {ms:6.1f} ms  {sql[:160]}")
        if args.explain:
            for ms, sql in result.slowest[:3]:
                print(f"  --- {ms:.1f} ms: {sql[:300]}")
                print("  " + explain(sql).replace("\n", "\n  "))
    print_table(results)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")
    failed = [
        r for r in results if not r.page.extra and (r.p95 > r.page.target_ms or not r.constant)
    ]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
