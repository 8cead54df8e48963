"""B4: ``manage.py billing_run [--date YYYY-MM-DD]``: the billing run in the foreground
(the same service as the daily Celery beat job). A one-line summary last; exit 2 with a
clear message on a bad argument, 1 on a system failure."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.exceptions import BusinessRuleRefused

from ...models import BillingRun
from ...services.billing import billing_run_execute


class Command(BaseCommand):
    help = "Bill every due, not yet billed period (idempotent: safe to run twice)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            dest="run_date",
            default=None,
            help="bill periods due on this date, YYYY-MM-DD (default: today)",
        )

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except BusinessRuleRefused as refusal:
            raise CommandError(refusal.bracketed, returncode=2) from None

    def handle(self, *args, run_date=None, **options):
        if run_date:
            try:
                run_date = dt.date.fromisoformat(run_date)
            except ValueError:
                raise CommandError(
                    f"--date must be a date as YYYY-MM-DD (got {run_date!r})", returncode=2
                ) from None
        else:
            run_date = timezone.localdate()
        try:
            run = billing_run_execute(run_date=run_date, trigger=BillingRun.Trigger.COMMAND)
        except Exception as exc:
            raise CommandError(f"billing run failed: {exc}", returncode=1) from exc
        for message in run.messages:
            rule = f"{message['rule']}: " if message.get("rule") else ""
            self.stdout.write(f"{message.get('order')}: {rule}{message.get('message')}")
        self.stdout.write(
            f"billed {run.invoices_created} invoice(s), {run.lines_created} line(s) for "
            f"{run_date.isoformat()}; {run.refused} refused"
        )
