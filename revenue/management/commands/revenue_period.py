from ...services.periods import period_close, period_open, period_open_get, period_parse
from ..base import RevenueCommand


class Command(RevenueCommand):
    help = "S1/S2: open the first period, close the open period (or through YYYYMM), or show it."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        opener = sub.add_parser("open", help="set the first open period (empty ledger only)")
        opener.add_argument("period", help="YYYYMM")
        closer = sub.add_parser("close", help="close the open period and open the next")
        closer.add_argument("--through", help="close every period through YYYYMM")
        sub.add_parser("show", help="print the open period")

    def handle(self, *args, action, **options):
        if action == "open":
            period = period_open(period=period_parse(options["period"]), actor=None)
            self.stdout.write(f"open period {period.id}")
        elif action == "close":
            through = options.get("through")
            through = period_parse(through, field="through") if through else None
            closed = period_close(actor=None, through=through)
            current = period_open_get()
            names = ", ".join(str(p.id) for p in closed)
            self.stdout.write(f"closed {names}; open period {current.id}")
        else:
            current = period_open_get()
            self.stdout.write(f"open period {current.id}" if current else "no open period")
