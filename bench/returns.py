"""Benchmark: RMAs from creation to refund, and the revenue lines they stage. By hand:

    .venv/bin/python bench/returns.py --orders 500
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/contra_bench_returns \\
        .venv/bin/python bench/returns.py --orders 2000

It writes to the database it is given (created when missing on PostgreSQL); without
DATABASE_URL it uses a SQLite file in a temporary folder. It makes N billed, fulfilled
orders like TV1 (4 units at 25.00, tax 8 %), then times, one RMA per order: creating it
with a PERCENTAGE 10 fee and approving it (T1–T5), *Return items* of 2 of its 3 units with
its documents and refund (T6–T10), a simple return of the last unit (T12), and the
collection of the CM-R, SO and INV lines they staged (T14). Prints RMAs/s, ms and queries
per RMA; checks TV1's figures on every RMA (credit 54.00, fee 5.40, refund 48.60).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["CONTRA_VAR_DIR"] = tempfile.mkdtemp(prefix="contra-bench-")

from bench.orders_admin import ensure_postgres_database  # noqa: E402

START = dt.date(2030, 1, 1)


def create_orders(n: int) -> list[int]:
    """N activated, billed and fulfilled orders like TV1, through the services."""
    from djmoney.money import Money

    from orders.models import Account, Order, OrderItem, PriceBook, Product
    from orders.services import order_activate, order_fulfil, order_item_save, order_save
    from orders.services.billing import billing_run_execute

    account = Account.objects.get(number="ACC-1001")
    book = PriceBook.objects.get(name="Standard 2026")
    product = Product.objects.get(sku="HW-X1")
    ids = []
    for i in range(n):
        order = order_save(
            order=Order(
                account=account,
                price_book=book,
                currency="USD",
                effective_date=START,
                reference=f"BENCH-RMA-{i}",
            ),
            user=None,
        )
        order_item_save(
            item=OrderItem(
                order=order,
                product=product,
                quantity=Decimal(4),
                unit_price=Money("25.00", "USD"),
                tax_rate=Decimal(8),
                service_start_date=START,
            ),
            user=None,
        )
        order_activate(order=order, user=None)
        ids.append(order.pk)
    billing_run_execute(run_date=START, trigger="COMMAND", orders=ids)
    for pk in ids:
        order_fulfil(order=Order.objects.get(pk=pk), user=None)
    return ids


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def timed(label: str, n: int, fn):
    from django.db import connection

    counter = Counter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
    print(
        f"{label}: {n:,} in {elapsed:.1f} s = {n / elapsed:,.1f}/s, "
        f"{elapsed * 1000 / n:.1f} ms and {counter.n / n:.0f} queries each"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    args = parser.parse_args()

    ensure_postgres_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from djmoney.money import Money

    from orders.models import Order, Product
    from returns.models import LineType, Refund, ReturnOrder
    from returns.services import (
        FeeInput,
        ReturnLineInput,
        ReturnQuantities,
        SimpleLineInput,
        return_items_process,
        return_order_create,
        return_order_transition,
        simple_return_submit,
    )
    from revenue.models import CollectionRun, InboundLine
    from revenue.services.collection import collection_collect

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    started = time.perf_counter()
    ids = create_orders(args.orders)
    print(f"{len(ids):,} billed, fulfilled orders in {time.perf_counter() - started:.1f} s")
    collection_collect(trigger=CollectionRun.Trigger.COMMAND)  # their own SO and INV lines
    fee_product = Product.objects.get(sku="FEE-RESTOCK")
    fee = FeeInput(amount=Decimal(10), amount_type="PERCENTAGE", fee_product=fee_product)
    orders = list(Order.objects.filter(pk__in=ids).prefetch_related("items"))
    staged_before = InboundLine.objects.count()

    def create():
        rmas = []
        for order in orders:
            item = order.items.all()[0]
            rma = return_order_create(
                order=order,
                lines=[ReturnLineInput(order_item=item, quantity=3, reason="DAMAGED", fees=[fee])],
                user=None,
            )
            rmas.append(return_order_transition(return_order=rma, name="approve", user=None))
        return rmas

    rmas = timed("create + approve RMA with a fee", len(orders), create)

    def process():
        for rma in rmas:
            line = rma.lines.exclude(type=LineType.FEE).get()
            return_items_process(
                return_order=rma, quantities={line.pk: ReturnQuantities(returned=2)}, user=None
            )

    timed("return items (2 of 3) + documents + refund", len(rmas), process)

    def simple():
        for order in orders:
            item = order.items.all()[0]
            simple_return_submit(
                order=order,
                lines=[SimpleLineInput(order_item=item, quantity=1, reason="OTHER")],
                user=None,
            )

    timed("simple return of the last unit", len(orders), simple)
    staged = InboundLine.objects.count() - staged_before
    started = time.perf_counter()
    run = collection_collect(trigger=CollectionRun.Trigger.COMMAND)
    elapsed = time.perf_counter() - started
    print(
        f"collection of the {staged:,} CM-R / SO / INV lines the returns staged: "
        f"{run.collected:,} collected, {run.stopped} stopped in {elapsed:.1f} s = "
        f"{run.collected / elapsed:,.0f} lines/s"
    )
    refunds = Refund.objects.filter(return_order__in=rmas)
    wrong = refunds.exclude(amount=Money("48.60", "USD")).count()
    assert wrong == 0, f"{wrong} RMA refunds differ from TV1's 48.60"
    assert ReturnOrder.objects.filter(pk__in=[r.pk for r in rmas], credited_total=54).count() == (
        len(rmas)
    )
    print(f"checked: {refunds.count():,} RMA refunds of 48.60 (credit 54.00 − fee 5.40)")


if __name__ == "__main__":
    main()
