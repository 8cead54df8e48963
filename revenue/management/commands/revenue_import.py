from pathlib import Path

from ...models import InboundBatch
from ...services.inbound import inbound_file_stage
from ..base import RevenueCommand


class Command(RevenueCommand):
    help = "Stage every row of a CSV or JSON file of inbound transaction lines."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV with a header row, or a JSON array of objects")

    def handle(self, *args, path, **options):
        file = Path(path)
        if not file.is_file():
            self.refuse(f"{path}: no such file")
        with file.open("rb") as stream:
            batch = inbound_file_stage(
                stream=stream, filename=file.name, source=InboundBatch.SourceKind.COMMAND
            )
        if batch.error_count:
            self.stdout.write(
                f"{batch.error_count} of {batch.line_count} lines have values that could not be "
                f"parsed (INB-000): they are stopped in staging"
            )
        self.stdout.write(f"staged {batch.line_count} lines (batch {batch.pk})")
