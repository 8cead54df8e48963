from django.core.management.base import CommandError

from core.parsing import ascii_int

from ...models import CollectionRun
from ...services.collection import collection_collect
from ..base import RevenueCommand


class Command(RevenueCommand):
    help = "Run data collection in the foreground (the same code as the Celery task)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", default=None, help="lines a step, 1 to 50000")

    def handle(self, *args, batch_size=None, **options):
        if batch_size is not None:
            number = ascii_int(str(batch_size).strip())  # '²', '٣': not a batch size
            if number is None or not 1 <= number <= 50000:
                self.refuse("--batch-size must be a whole number between 1 and 50000")
            batch_size = number
        run = collection_collect(trigger=CollectionRun.Trigger.COMMAND, batch_size=batch_size)
        if run.status != CollectionRun.Status.SUCCEEDED:
            raise CommandError(f"run {run.pk} {run.status.lower()}: {run.message}", returncode=1)
        self.stdout.write(
            f"collected {run.collected}, stopped {run.stopped}, waiting {run.waiting}"
        )
