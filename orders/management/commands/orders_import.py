"""C6: ``manage.py orders_import FILE`` — standalone cancellations from JSON or CSV.

JSON: an array of records, or {"cancellations": [...]}; CSV: a header row. Every record
and every rule is checked before anything is created: on any problem nothing is imported,
each problem is printed on its own line ("record 3, billing_frequency: ... [C1]") and the
command exits 2. The last line of a success reads "imported N cancellation(s): RO-...".
"""

import csv
import io
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from orders.services.cancellations import cancellation_import


def _records(file: Path) -> list:
    text = file.read_text(encoding="utf-8-sig")
    if file.suffix.lower() == ".csv":
        return [
            {k.strip(): v for k, v in row.items() if k and not (v is None or v == "")}
            for row in csv.DictReader(io.StringIO(text))
        ]
    data = json.loads(text)
    if isinstance(data, dict) and "cancellations" in data:
        data = data["cancellations"]
    if not isinstance(data, list):
        raise ValueError('expected a JSON array of records or {"cancellations": [...]}')
    return data


def _where(field: str | None) -> str:
    """ "[3].billing_frequency" → "record 3, billing_frequency"."""
    if field and field.startswith("[") and "]." in field:
        number, name = field[1:].split("].", 1)
        return f"record {number}, {name}"
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
            records = _records(file)
        except (ValueError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"{path}: cannot be read: {error}", returncode=2) from None
        try:
            created = cancellation_import(records=records, user=None)
        except BusinessRuleRefused as refusal:
            refusals = refusal.refusals if isinstance(refusal, BusinessRulesRefused) else [refusal]
            for r in refusals:
                self.stderr.write(f"{_where(r.field)}: {r.bracketed}")
            raise CommandError(
                f"{len(refusals)} problem(s) in {file.name}: nothing imported", returncode=2
            ) from None
        numbers = ", ".join(order.number for order in created)
        self.stdout.write(f"imported {len(created)} cancellation(s): {numbers}")
