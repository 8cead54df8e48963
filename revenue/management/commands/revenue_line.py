import re
from datetime import date

from ...models import SoLine
from ...selectors import money_text, open_period_id, so_lines_with_amounts
from ...services.manual import so_line_dates_change, so_line_hold, so_line_release
from ..base import RevenueCommand

ACTIONS = {"hold": so_line_hold, "release": so_line_release}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Command(RevenueCommand):
    help = (
        "S10: hold (manual deferral) or release an SO line, or change its revenue dates; "
        "each marks the line for V7."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("hold", "manual deferral: the line releases nothing from the open period on"),
            ("release", "end a hold: everything due catches up in the open period"),
        ):
            action = sub.add_parser(name, help=text)
            action.add_argument("so_line_id", metavar="SO_LINE_ID")
            action.add_argument("--reason", default="", help="kept in the line's history")
        dates = sub.add_parser("dates", help="change the revenue dates (future rows rebuilt)")
        dates.add_argument("so_line_id", metavar="SO_LINE_ID")
        dates.add_argument("start", metavar="START", help="YYYY-MM-DD")
        dates.add_argument("end", metavar="END", help="YYYY-MM-DD")
        dates.add_argument("--reason", default="", help="kept in the line's history")

    def handle(self, *args, action, so_line_id, reason="", **options):
        if len(reason) > 500:
            self.refuse(f"--reason is {len(reason)} characters long: at most 500")
        line = SoLine.objects.filter(so_line_id=so_line_id.strip()).first()
        if line is None:
            self.refuse(
                f"SO_LINE_ID: no SO line '{so_line_id}' in the sub-ledger "
                "(an SO line exists once its SO row is collected)"
            )
        if action == "dates":
            start = self._date(options["start"], "START")
            end = self._date(options["end"], "END")
            if end < start:
                self.refuse(f"END {end} is before START {start}")
            if (start, end) == (line.rev_start_date, line.rev_end_date):
                self.stdout.write(
                    f"{line.so_line_id} already has revenue dates {start} to {end}: "
                    f"nothing changed; {self._figures(line)}"
                )
                return
            line = so_line_dates_change(line=line, start=start, end=end, actor=None, reason=reason)
            done = f"revenue dates {line.rev_start_date} to {line.rev_end_date}"
        else:
            line = ACTIONS[action](line=line, actor=None, reason=reason)
            done = "on hold" if action == "hold" else "released"
        self.stdout.write(
            f"{line.so_line_id} {done}, marked as changed by hand [RPRO-00356]; "
            f"{self._figures(line)}"
        )

    def _date(self, text: str, name: str) -> date:
        try:
            if not ISO_DATE.fullmatch(text.strip()):
                raise ValueError(text)
            value = date.fromisoformat(text.strip())
        except ValueError:
            self.refuse(f"{name} '{text}' is not a date: use YYYY-MM-DD, e.g. 2026-01-31")
        if not 1900 <= value.year <= 2999:
            self.refuse(f"{name} {value}: the year must be between 1900 and 2999")
        return value

    @staticmethod
    def _figures(line: SoLine) -> str:
        """S10: recognized and deferred (held rows count as deferred) after the action."""
        period = open_period_id()
        amounts = so_lines_with_amounts(SoLine.objects.filter(pk=line.pk), period=period)
        row = amounts.values("recognized_amount", "deferred_amount").get()
        return (
            f"recognized {money_text(row['recognized_amount'])}, "
            f"deferred {money_text(row['deferred_amount'])} {line.currency} "
            f"with {period} open"
        )
