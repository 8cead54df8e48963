"""C6: ``manage.py orders_import FILE`` — standalone cancellations from JSON or CSV.

JSON: an array of records, or {"cancellations": [...]}; CSV: a header row. Every record
and every rule is checked before anything is created: on any problem nothing is imported,
each problem is printed on its own line ("record 3, billing_frequency: ... [C1]") and the
command exits 2. The last line of a success reads "imported N cancellation(s): RO-...".
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from orders.services.cancellation_files import (
    CancellationFileRefused,
    cancellation_records_read,
)
from orders.services.cancellations import cancellation_import


def _records(file: Path) -> list:
    """The file's records; CancellationFileRefused when it is not JSON or CSV at all,
    BusinessRulesRefused naming the column or record when it is ambiguous."""
    text = file.read_bytes().decode("utf-8-sig")  # line ends as written: the csv module reads them
    return cancellation_records_read(
        text=text, kind="csv" if file.suffix.lower() == ".csv" else "json"
    )


def _where(field: str | None) -> str:
    """ "[3].billing_frequency" → "record 3, billing_frequency"; "[3]" → "record 3"."""
    if field and field.startswith("[") and "]." in field:
        number, name = field[1:].split("].", 1)
        return f"record {number}, {name}"
    if field and field.startswith("[") and field.endswith("]"):
        return f"record {field[1:-1]}"
    return field or "import"


class Command(BaseCommand):
    help = "Import standalone cancellations (JSON array or CSV); all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("path", help='JSON array (or {"cancellations": [...]}) or CSV file')

    def handle(self, *args, path, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file", returncode=2)
        try:
            created = cancellation_import(records=_records(file), user=None)
        except UnicodeDecodeError as error:
            raise CommandError(
                f"{path}: cannot be read: it is not UTF-8 text ({error.reason} at byte "
                f"{error.start})",
                returncode=2,
            ) from None
        except CancellationFileRefused as error:
            raise CommandError(f"{path}: cannot be read: {error}", returncode=2) from None
        except BusinessRuleRefused as refusal:
            refusals = refusal.refusals if isinstance(refusal, BusinessRulesRefused) else [refusal]
            for r in refusals:
                self.stderr.write(f"{_where(r.field)}: {r.bracketed}")
            raise CommandError(
                f"{len(refusals)} problem(s) in {file.name}: nothing imported", returncode=2
            ) from None
        numbers = ", ".join(order.number for order in created)
        self.stdout.write(f"imported {len(created)} cancellation(s): {numbers}")
