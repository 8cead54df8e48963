from django.core.management.base import BaseCommand
from django.db import transaction

from orders.demo import orders_demo_load
from orders.demo_billing import billing_demo_load
from orders.demo_close import close_demo_load
from returns.demo import returns_demo_load
from revenue.demo import revenue_demo_load


class Command(BaseCommand):
    help = "Load a realistic demo data set. Idempotent: running it again changes nothing."

    def handle(self, *args, **options):
        with transaction.atomic():
            created = orders_demo_load()
        # revenue collects the orders and closes the periods before 2026-11; the billing
        # documents are dated in 2026-11 and booked there (close.md M5)
        created.update(revenue_demo_load())
        with transaction.atomic():
            created.update(billing_demo_load())
        created.update(returns_demo_load())
        created.update(close_demo_load())
        summary = ", ".join(f"{n} {what}" for what, n in created.items())
        self.stdout.write(f"demo data loaded: {summary or 'nothing new'}")
