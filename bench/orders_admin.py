"""Benchmark: the order admin list and order activation at volume. Run by hand:

    .venv/bin/python bench/orders_admin.py --orders 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/contra_bench \\
        .venv/bin/python bench/orders_admin.py --orders 1000000

It writes to the database it is given: point DATABASE_URL at a scratch database (it is
created when missing on PostgreSQL). Without DATABASE_URL it uses a SQLite file in a
temporary folder. Prints timings; asserts nothing.
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

from bench.pgdb import database_ensure  # noqa: E402


def ensure_postgres_database() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        database_ensure(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--activations", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    ensure_postgres_database()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from orders.models import Order, OrderItem, Product
    from orders.services import order_activate, order_item_save, order_save

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")

    existing = Order.objects.count()
    missing = max(args.orders - existing, 0)
    if missing:
        template = Order.objects.filter(status="ACTIVATED").select_related("account").first()
        skip = {"id", "order_id"}
        copied = [f.attname for f in OrderItem._meta.concrete_fields if f.attname not in skip]
        lines = list(OrderItem.objects.filter(order=template).values(*copied))
        started = time.perf_counter()
        batch = 5000
        base_day = dt.date(2024, 1, 1)
        for offset in range(0, missing, batch):
            size = min(batch, missing - offset)
            orders = [
                Order(
                    number=f"BEN-{existing + offset + i:09d}",
                    account_id=template.account_id,
                    price_book_id=template.price_book_id,
                    currency=template.currency,
                    effective_date=base_day + dt.timedelta(days=(offset + i) % 900),
                    reference=f"BENCH-{offset + i}",
                    net_total=template.net_total,
                    tax_total=template.tax_total,
                    gross_total=template.gross_total,
                )
                for i in range(size)
            ]
            Order.objects.bulk_create(orders, batch_size=batch)  # sets pks (RETURNING)
            Order.objects.filter(pk__in=[o.pk for o in orders[::2]]).update(status="ACTIVATED")
            items = [OrderItem(**values, order_id=order.pk) for order in orders for values in lines]
            OrderItem.objects.bulk_create(items, batch_size=batch)
        elapsed = time.perf_counter() - started
        print(f"created {missing:,} orders ({missing * len(lines):,} products) in {elapsed:.1f} s")
    total = Order.objects.count()
    print(f"orders in the database: {total:,}")

    user = get_user_model().objects.filter(is_superuser=True).first() or (
        get_user_model().objects.create_superuser("bench", "", "bench")
    )
    client = Client()
    client.force_login(user)
    pages = {
        "first page": "/admin/orders/order/",
        "status = Activated": "/admin/orders/order/?status__exact=ACTIVATED",
        "search reference": "/admin/orders/order/?q=BENCH-4242",
        "date range (1 month)": "/admin/orders/order/?effective_date__range__gte=2025-03-01"
        "&effective_date__range__lte=2025-03-31",
        "sorted by gross": "/admin/orders/order/?o=9",
        "order page": f"/admin/orders/order/{Order.objects.order_by('-id').first().pk}/change/",
    }
    print(f"{'admin page':<24}{'median ms':>10}{'max ms':>10}{'queries':>9}")
    for label, url in pages.items():
        times = []
        for _ in range(args.repeat):
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        times.sort()
        print(f"{label:<24}{times[len(times) // 2]:>10.1f}{times[-1]:>10.1f}{len(queries):>9}")

    demo = Order.objects.filter(reference="DEMO-02").get()
    products = list(Product.objects.filter(sku__in=["CLOUD-LIC", "SVC-ONB"]))
    drafts = []
    for _ in range(args.activations):
        draft = order_save(
            order=Order(
                account_id=demo.account_id,
                price_book_id=demo.price_book_id,
                currency=demo.currency,
                effective_date=demo.effective_date,
                end_date=demo.end_date,
            ),
            user=user,
        )
        for product in products:
            order_item_save(item=OrderItem(order=draft, product=product, quantity=2), user=user)
        drafts.append(draft)
    started = time.perf_counter()
    for order in drafts:
        order_activate(order=order, user=user)
    elapsed = time.perf_counter() - started
    print(
        f"order_activate: {args.activations} orders in {elapsed:.2f} s "
        f"= {args.activations / elapsed:,.0f} activations/s (locks, checks, audit)"
    )


if __name__ == "__main__":
    main()
