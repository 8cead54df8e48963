import time

from celery.exceptions import TimeoutError as CeleryTimeout
from django.core.management.base import BaseCommand, CommandError

from core.tasks import worker_heartbeat


class Command(BaseCommand):
    help = "Send a heartbeat job through the broker and wait for a worker to answer."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait")

    def handle(self, *args, timeout: float, **options):
        if timeout <= 0:
            raise CommandError("--timeout must be greater than 0", returncode=2)
        started = time.perf_counter()
        try:
            answer = worker_heartbeat.delay().get(timeout=timeout)
        except CeleryTimeout:
            raise CommandError(f"no worker answered within {timeout:g} s", returncode=1) from None
        except Exception as error:  # broker down, refused connection, ...
            raise CommandError(f"broker failure: {error}", returncode=1) from error
        elapsed = (time.perf_counter() - started) * 1000
        self.stdout.write(f"worker {answer['worker']} answered in {elapsed:.0f} ms")
