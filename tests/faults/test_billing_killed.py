"""B4, B5: a real billing worker SIGKILLed at random moments, again and again.

Hundreds of activated and fulfilled subscriptions (a monthly and a quarterly product each,
billed in advance) are due for January–June 2025. The daily billing job runs in a Celery
worker process on a queue of its own; the worker is killed with SIGKILL at seeded random
moments, started again, and the job is queued again, as beat (or *Bill now*) would. Each
order is billed in one transaction, so whatever the moments: every period is invoiced
exactly once, each order has one invoice of exactly what was due, the invoice numbers have
no gap (core: gap-free document series) and each invoice line is staged once for revenue.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Sum
from djmoney.money import Money

from core.models import AuditEvent
from orders.models import (
    BillingFrequency,
    BillingRun,
    BillingType,
    Invoice,
    InvoiceLine,
    Order,
    OrderItem,
    OrderStatus,
)
from orders.services import order_activate, order_fulfil
from orders.tasks import billing_run_task
from revenue.models import InboundLine
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory
from tests.faults.workers import needs_postgres_and_redis

pytestmark = needs_postgres_and_redis

ORDERS = 250  # each template's copies: 2 × ORDERS orders in all
SEED = 20260908
KILLS = 4
START, END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
RUN_DATE = "2025-06-01"
RUN_TIMEOUT = 120
# (quantity, unit price, frequency, tax %) and, due by 1 June in advance, the periods
PRODUCTS = (
    ("1", "1200.00", BillingFrequency.MONTHLY, "8"),  # 100.00 + 8.00 tax a month
    ("2", "600.00", BillingFrequency.QUARTERLY, "10"),  # 300.00 + 30.00 tax a quarter
)
DUE = {
    1: [dt.date(2025, month, 1) for month in range(1, 7)],
    2: [dt.date(2025, 1, 1), dt.date(2025, 4, 1)],
}
NET, TAX = Decimal("1200.00"), Decimal("108.00")  # 6 × 100 + 2 × 300; 6 × 8 + 2 × 30


def template(*, fulfil: bool) -> Order:
    """One subscription built through the services: activated, and fulfilled if asked."""
    order = OrderFactory(effective_date=START, end_date=END)
    for qty, price, frequency, tax in PRODUCTS:
        OrderItemFactory(
            order=order,
            product=ProductFactory(recurring=True),
            quantity=Decimal(qty),
            unit_price=Money(price, "USD"),
            service_start_date=START,
            service_end_date=END,
            billing_frequency=frequency,
            billing_type=BillingType.ADVANCE,
            tax_rate=Decimal(tax),
        )
    order = order_activate(order=order, user=None)
    if fulfil:
        order = order_fulfil(order=order, user=None)
    assert order.status == (OrderStatus.FULFILLED if fulfil else OrderStatus.ACTIVATED)
    return order


def copies(order: Order, count: int, prefix: str) -> None:
    """``count`` more orders like ``order`` (same products, status and next bill dates),
    written in bulk as ``bench/billing.py`` does: the services made the template."""
    skip = {"id", "number", "status"}
    fields = [f.attname for f in Order._meta.concrete_fields if f.attname not in skip]
    values = Order.objects.values(*fields).get(pk=order.pk)
    made = Order.objects.bulk_create(
        [Order(**values, number=f"{prefix}-{n:06d}") for n in range(count - 1)]
    )
    Order.objects.filter(pk__in=[o.pk for o in made]).update(status=order.status)
    item_fields = [f.attname for f in OrderItem._meta.concrete_fields]
    items = [f for f in item_fields if f not in ("id", "order_id")]
    rows = list(OrderItem.objects.filter(order=order).values(*items))
    OrderItem.objects.bulk_create([OrderItem(**row, order_id=o.pk) for o in made for row in rows])


def invoices_made() -> int:
    return Invoice.objects.count()


def run_status(pk: int) -> str:
    return BillingRun.objects.values_list("status", flat=True).get(pk=pk)


def queue_run(worker, last: int) -> int:
    """Queue the billing job (beat's daily run, or *Bill now*) and wait for its run."""
    billing_run_task.delay(run_date=RUN_DATE)

    def recorded():
        return BillingRun.objects.filter(pk__gt=last).exists()

    worker.wait_until(recorded, timeout=60, what="the billing run to be recorded")
    return BillingRun.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[0]


def test_b4_worker_killed_at_random_moments_every_period_billed_exactly_once(killable_worker):
    """B4, B5: 4 SIGKILLs during a billing run over 500 subscriptions, re-queued each time:
    each period billed once, one invoice per order of what was due, numbers gap-free."""
    worker = killable_worker
    copies(template(fulfil=False), ORDERS, "FLT-A")
    copies(template(fulfil=True), ORDERS, "FLT-F")
    total = 2 * ORDERS
    assert Order.objects.filter(status__in=["ACTIVATED", "FULFILLED"]).count() == total
    assert not Invoice.objects.exists()
    rng = random.Random(SEED)
    kills = []

    worker.start()
    run = queue_run(worker, last=0)
    for attempt in range(KILLS):
        kill = worker.kill_at_random_moment(  # in the attempt-th fifth: one fifth is left
            rng,
            done=invoices_made,
            low=total * attempt // (KILLS + 1),
            high=total * (attempt + 1) // (KILLS + 1),
        )
        kills.append({"run": run, "status": run_status(run), **kill})
        assert kills[-1]["status"] == "RUNNING", (kills, worker.tail())
        worker.start()
        run = queue_run(worker, last=run)
    worker.wait_until(
        lambda: run_status(run) != "RUNNING", timeout=RUN_TIMEOUT, what=f"billing run {run}"
    )
    again = queue_run(worker, last=run)  # the next day's beat: nothing left to bill (B4)
    worker.wait_until(
        lambda: run_status(again) != "RUNNING", timeout=RUN_TIMEOUT, what=f"billing run {again}"
    )

    runs = list(BillingRun.objects.order_by("pk"))
    report = f"kills: {kills}\nruns: {[(r.pk, r.status, r.invoices_created) for r in runs]}"
    print(report)
    last, final = runs[-2], runs[-1]
    assert (last.status, last.refused, last.messages) == ("SUCCEEDED", 0, []), report
    assert (final.status, final.invoices_created, final.lines_created) == ("SUCCEEDED", 0, 0)
    # the killed runs are not left *Running* forever: the next run closed their records
    # with what they committed, so the runs' counts add up to the invoices, each once
    killed = runs[:-2]
    assert [r.pk for r in killed] == [k["run"] for k in kills], report
    for r in killed:
        assert r.status == "FAILED" and r.finished_at, report
        assert r.messages[0]["message"].startswith("interrupted: its worker stopped"), report
        assert r.invoices_created == Invoice.objects.filter(billing_run=r).count(), report
    assert sum(r.invoices_created for r in runs) == total, report
    assert sum(r.lines_created for r in runs) == 8 * total, report

    # every billing period invoiced exactly once: per product, its due periods, once each
    lines = InvoiceLine.objects.filter(is_void=False)
    billed = {}
    for item_id, number, period in lines.values_list(
        "order_item_id", "order_item__line_number", "period_start"
    ):
        billed.setdefault((item_id, number), []).append(period)
    assert len(billed) == 2 * total, report
    wrong = {key: p for key, p in billed.items() if sorted(p) != DUE[key[1]]}
    assert not wrong, (list(wrong.items())[:5], report)

    # one posted invoice per order (no duplicate for an order and period), of what was due
    invoices = Invoice.objects.annotate(n=Count("lines"))
    assert invoices.count() == total, report
    assert set(invoices.values_list("order_id", flat=True)) == set(
        Order.objects.values_list("pk", flat=True)
    )
    per_invoice = set(invoices.values_list("status", "n", "net_total", "tax_total", "gross_total"))
    assert per_invoice == {("POSTED", 8, NET, TAX, NET + TAX)}, report
    sums = lines.aggregate(net=Sum("net"), tax=Sum("tax"))
    assert (sums["net"], sums["tax"]) == (total * NET, total * TAX)

    # gap-free numbers: INV-000001 … one per invoice, no number lost to a killed order
    numbers = sorted(int(n.removeprefix("INV-")) for n in invoices.values_list("number", flat=True))
    assert numbers == list(range(1, total + 1)), (numbers[:3], numbers[-3:], report)

    # B5: each invoice line staged once for revenue, each invoice audited once
    staged = InboundLine.objects.filter(tran_type="INV")
    assert staged.count() == staged.values("inv_line_id").distinct().count() == 8 * total
    assert not Invoice.objects.filter(revenue_batch_id=None).exists()
    created = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Invoice), action="created"
    )
    assert created.count() == created.values("object_id").distinct().count() == total
    assert worker.kills == KILLS
