"""Benchmark: a billing run over many subscriptions. Run by hand:

    .venv/bin/python bench/billing.py --orders 2000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/contra_bench_billing \\
        .venv/bin/python bench/billing.py --orders 20000

It writes to the database it is given (created when missing on PostgreSQL); without
DATABASE_URL it uses a SQLite file in a temporary folder. It creates N activated orders
with two recurring products billed monthly in advance for a year, runs the billing job
for the 1st of the sixth month (6 periods each), runs it again (B4: nothing new), and
prints orders/s, invoice lines/s, queries per order and the inbound lines staged.
Prints figures; asserts only that the second run billed nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["CONTRA_VAR_DIR"] = tempfile.mkdtemp(prefix="contra-bench-")

from bench.orders_admin import ensure_postgres_database  # noqa: E402

START = dt.date(2030, 1, 1)
END = dt.date(2030, 12, 31)


def create_orders(n: int) -> list[int]:
    """N activated orders copied from one template built through the services."""
    from djmoney.money import Money

    from orders.models import Account, Order, OrderItem, PriceBook, PriceBookEntry, Product
    from orders.services import order_activate, order_item_save, order_save

    account = Account.objects.get(number="ACC-1001")
    book = PriceBook.objects.get(name="Standard 2026")
    template = order_save(
        order=Order(
            account=account,
            price_book=book,
            currency="USD",
            effective_date=START,
            end_date=END,
            reference="BENCH-BILL-TEMPLATE",
        ),
        user=None,
    )
    for sku, qty in (("CLOUD-LIC", 10), ("ANL-ADD", 3)):
        product = Product.objects.get(sku=sku)
        entry = PriceBookEntry.objects.get(
            price_book=book, product=product, list_price_currency="USD"
        )
        order_item_save(
            item=OrderItem(
                order=template,
                product=product,
                quantity=qty,
                unit_price=Money(entry.list_price.amount, "USD"),
                billing_frequency="MONTHLY",
                billing_type="ADVANCE",
            ),
            user=None,
        )
    order_activate(order=template, user=None)
    template.refresh_from_db()
    skip = {"id", "order_id"}
    copied = [f.attname for f in OrderItem._meta.concrete_fields if f.attname not in skip]
    lines = list(OrderItem.objects.filter(order=template).values(*copied))
    ids = [template.pk]
    batch = 2000
    for offset in range(0, n - 1, batch):
        size = min(batch, n - 1 - offset)
        orders = [
            Order(
                number=f"BB-{offset + i:09d}",
                account_id=account.pk,
                price_book_id=book.pk,
                currency="USD",
                effective_date=START,
                end_date=END,
                reference=f"BENCH-BILL-{offset + i}",
                net_total=template.net_total,
                tax_total=template.tax_total,
                gross_total=template.gross_total,
            )
            for i in range(size)
        ]
        Order.objects.bulk_create(orders, batch_size=batch)
        Order.objects.filter(pk__in=[o.pk for o in orders]).update(status="ACTIVATED")
        OrderItem.objects.bulk_create(
            [OrderItem(**values, order_id=o.pk) for o in orders for values in lines],
            batch_size=batch,
        )
        ids += [o.pk for o in orders]
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    args = parser.parse_args()

    ensure_postgres_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from orders.services.billing import billing_run_execute
    from revenue.models import InboundLine

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    started = time.perf_counter()
    ids = create_orders(args.orders)
    print(f"created {len(ids):,} activated orders in {time.perf_counter() - started:.1f} s")

    staged_before = InboundLine.objects.count()
    run_date = dt.date(2030, 6, 1)
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        run = billing_run_execute(run_date=run_date, trigger="COMMAND", orders=ids)
        elapsed = time.perf_counter() - started
    staged = InboundLine.objects.count() - staged_before
    print(
        f"billing run: {run.invoices_created:,} invoices, {run.lines_created:,} lines in "
        f"{elapsed:.1f} s = {run.orders_seen / elapsed:,.0f} orders/s, "
        f"{run.lines_created / elapsed:,.0f} lines/s; "
        f"{len(queries) / max(run.orders_seen, 1):.1f} queries per order; "
        f"{staged:,} INV lines staged; refused {run.refused}"
    )
    started = time.perf_counter()
    again = billing_run_execute(run_date=run_date, trigger="COMMAND", orders=ids)
    elapsed = time.perf_counter() - started
    assert again.lines_created == 0, again.lines_created
    print(
        f"second run (B4): {again.lines_created} lines in {elapsed:.1f} s = "
        f"{again.orders_seen / elapsed:,.0f} orders/s checked"
    )


if __name__ == "__main__":
    main()
