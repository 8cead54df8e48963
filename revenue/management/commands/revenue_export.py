import sys
from pathlib import Path

from ...selectors import EXPORTS, export_write
from ..base import RevenueCommand


class Command(RevenueCommand):
    help = "Export the journal, schedules, lines or staging (interchange.md columns)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(EXPORTS))
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, kind, output=None, **options):
        fmt = options["format"]
        if output:
            target = Path(output)
            if not target.parent.is_dir():
                self.refuse(f"--output {output}: the folder does not exist")
            with target.open("w", newline="", encoding="utf-8") as out:
                count = export_write(kind=kind, fmt=fmt, out=out)
        else:
            count = export_write(kind=kind, fmt=fmt, out=self.stdout)
        (sys.stderr if not output else self.stdout).write(
            f"exported {count} {kind} rows{' to ' + output if output else ''}\n"
        )
