from pathlib import Path

from core.parsing import ascii_int

from ...reports import KINDS, report_build
from ...reports.base import BASES
from ...reports.output import FORMATS, write_text, write_xlsx
from ...services.periods import period_parse
from ..base import RevenueCommand


class Command(RevenueCommand):
    help = (
        "Month-end reports (close.md M1–M4): waterfall, rollforward, balances, checklist. "
        "CSV, JSON and table go to standard output unless --output; XLSX needs --output."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("--period", help="YYYYMM (default: the open period)")
        parser.add_argument("--through", help="rollforward: the last period, YYYYMM")
        parser.add_argument("--periods", help="waterfall: how many periods ahead (default 12)")
        parser.add_argument("--by", choices=["contract", "customer", "item", "line"])
        parser.add_argument("--currency", help="ISO 4217 code, e.g. USD")
        parser.add_argument(
            "--basis",
            default="asc606",
            metavar="asc606|contractual",
            help="waterfall, rollforward, balances: ASC 606 (with the carve, the default) or "
            "contractual revenue",
        )
        parser.add_argument("--format", choices=FORMATS, default="table")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, kind, **options):
        fmt, output = options["format"], options.get("output")
        if fmt == "xlsx" and not output:
            self.refuse("--format xlsx writes a file: give --output PATH")
        if output and not Path(output).parent.is_dir():
            self.refuse(f"--output {output}: the folder does not exist")
        report = report_build(kind, **self._options(options))
        if fmt == "xlsx":
            count = write_xlsx(report, output)
        elif output:
            with open(output, "w", newline="", encoding="utf-8") as out:
                count = write_text(report, fmt=fmt, out=out)
        else:
            self.stdout.ending = ""  # the writers end their own lines
            try:
                count = write_text(report, fmt=fmt, out=self.stdout)
            finally:
                self.stdout.ending = "\n"

        summary = f"{kind} {report.period}: {count} rows{' to ' + output if output else ''}\n"
        # data alone on stdout (| jq, > file.csv); the summary on stderr then
        (self.stderr if fmt in ("csv", "json") and not output else self.stdout).write(summary)

    def _options(self, options) -> dict:
        period, through = options.get("period"), options.get("through")
        periods = options.get("periods")
        if periods is not None:
            number = ascii_int(str(periods).strip())  # '²', '٣': not a number of periods
            if number is None or not 1 <= number <= 120:
                self.refuse(
                    f"--periods {str(periods)[:30]}: give a whole number of periods from 1 to 120"
                )
            periods = number
        basis = (options.get("basis") or "asc606").strip()
        if basis not in BASES:  # exit 2 (argparse's own refusal would exit 1 in call_command)
            self.refuse(f"--basis {str(options['basis'])[:30]}: give asc606 or contractual")
        currency = (options.get("currency") or "").strip().upper() or None
        if currency is not None and (len(currency) != 3 or not currency.isalpha()):
            self.refuse(f"--currency {options['currency']}: give an ISO 4217 code such as USD")
        return {
            "period": period_parse(period) if period else None,
            "through": period_parse(through, field="through") if through else None,
            "periods": periods,
            "by": options.get("by"),
            "currency": currency,
            "basis": basis,
        }
