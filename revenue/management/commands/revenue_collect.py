from django.core.management.base import CommandError

from ...models import CollectionRun
from ...services.collection import collection_collect
from ..base import RevenueCommand


class Command(RevenueCommand):
    help = "Run data collection in the foreground (the same code as the Celery task)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args, batch_size=None, **options):
        if batch_size is not None and not 1 <= batch_size <= 50000:
            self.refuse("--batch-size must be between 1 and 50000")
        run = collection_collect(trigger=CollectionRun.Trigger.COMMAND, batch_size=batch_size)
        if run.status != CollectionRun.Status.SUCCEEDED:
            raise CommandError(f"run {run.pk} {run.status.lower()}: {run.message}", returncode=1)
        self.stdout.write(
            f"collected {run.collected}, stopped {run.stopped}, waiting {run.waiting}"
        )
