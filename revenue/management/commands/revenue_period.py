from core.exceptions import BusinessRuleRefused

from ...reports.checklist import BLOCKER, OK
from ...services.periods import period_close, period_open, period_open_get, period_parse
from ..base import RevenueCommand


class Command(RevenueCommand):
    help = (
        "S1/S2: open the first period, close the open period (or through YYYYMM) after the "
        "pre-close checklist (M4), or show it."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        opener = sub.add_parser("open", help="set the first open period (empty ledger only)")
        opener.add_argument("period", help="YYYYMM")
        closer = sub.add_parser("close", help="close the open period and open the next")
        closer.add_argument("--through", help="close every period through YYYYMM")
        closer.add_argument(
            "--force",
            action="store_true",
            help="Close despite the checklist's blockers (needs --reason; audited)",
        )
        closer.add_argument("--reason", default="", help="why the close is forced (audited)")
        sub.add_parser("show", help="print the open period")

    def handle(self, *args, action, **options):
        if action == "open":
            period = period_open(period=self.period(options["period"], "PERIOD"), actor=None)
            self.stdout.write(f"open period {period.id}")
        elif action == "close":
            self.close(options)
        else:
            current = period_open_get()
            self.stdout.write(f"open period {current.id}" if current else "no open period")

    def close(self, options):
        """M4: each period's blockers and warnings, one line each, then the close; a
        blocker refuses it (exit 2, RevenueCommand) unless --force --reason."""
        through = options.get("through")
        through = self.period(through, "--through") if through else None
        if options.get("force") and not (options.get("reason") or "").strip():
            self.refuse("M4: --force needs --reason TEXT: say why the close goes ahead (audited)")
        closed = period_close(
            actor=None,
            through=through,
            force=options.get("force", False),
            reason=options.get("reason") or "",
            on_checklist=self.checklist_print,
        )
        current = period_open_get()
        names = ", ".join(str(p.id) for p in closed)
        forced = " (forced: blockers overridden, reason audited)" if self.overridden else ""
        self.stdout.write(f"closed {names}{forced}; open period {current.id}")

    def period(self, text: str, argument: str) -> int:
        """A YYYYMM argument ('20261²', '٢٠٢٦٠١', a 5,000-digit number: exit 2 naming it)."""
        try:
            return period_parse(text, field=argument.lstrip("-").lower())
        except BusinessRuleRefused as refusal:
            self.refuse(f"{argument}: {refusal.bracketed}")

    overridden = False

    def checklist_print(self, period: int, rows) -> None:
        for row in rows:
            if row.severity == OK:
                continue
            self.overridden = self.overridden or row.severity == BLOCKER
            self.stdout.write(
                f"checklist {period}: {row.severity} {row.check} ({row.count}): {row.detail}"
            )
