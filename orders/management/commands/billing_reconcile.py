"""``manage.py billing_reconcile [--period YYYYMM] [--currency CUR] [--format …] [--output PATH]``
(close.md M5, interchange.md): billing documents against revenue lines.

Data goes to stdout alone unless ``--output``; the one-line summary then goes to stderr.
Exit 2 with a message on a bad period, currency or output, and for XLSX without --output.
"""

import os
import sys
from pathlib import Path

from revenue.management.base import RevenueCommand
from revenue.reports.base import amount_text
from revenue.reports.output import FORMATS, write_text, write_xlsx
from revenue.services.periods import period_parse

from ...reports.reconcile import billing_reconcile_report


class Command(RevenueCommand):
    help = "Billing documents of a period against their revenue lines."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="YYYYMM (default: the open period)")
        parser.add_argument("--currency", help="only documents in this currency, e.g. EUR")
        parser.add_argument("--format", choices=FORMATS, default="table")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, period=None, currency=None, output=None, **options):
        fmt = options["format"]
        if period is not None:
            period = period_parse(period, field="period")
        if fmt == "xlsx" and not output:
            self.refuse("--format xlsx writes a file: give --output PATH")
        target = Path(output) if output else None
        if target is not None and not target.parent.is_dir():
            self.refuse(f"--output {output}: the folder does not exist")
        report = billing_reconcile_report(period=period, currency=currency)
        self.stdout.ending = ""  # the writers end their own lines
        if target is None:
            try:
                count = write_text(report, fmt=fmt, out=self.stdout)
            except BrokenPipeError:  # the reader stopped early (| head): not a failure
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return
        elif fmt == "xlsx":
            count = write_xlsx(report, str(target))
        else:
            with target.open("w", newline="", encoding="utf-8") as out:
                count = write_text(report, fmt=fmt, out=out)
        differences = ", ".join(
            f"{t['currency']} {amount_text(t['difference'], t['currency'])}"
            for t in report.total_rows()
        )
        summary = (
            f"reconciled {count} billing document line{'' if count == 1 else 's'} of "
            f"{report.period}: difference {differences or 'none'}"
            f"{' (written to ' + output + ')' if output else ''}\n"
        )
        if output:
            self.stdout.write(summary)
        else:  # stdout holds the data alone
            self.stderr.write(summary, style_func=str)
