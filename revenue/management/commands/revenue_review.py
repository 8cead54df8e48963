from ...services.inbound import inbound_review_set
from ..base import RevenueCommand


class Command(RevenueCommand):
    help = "Set RORD Review Completed = Y on staged RORD lines (by staging id)."

    def add_arguments(self, parser):
        parser.add_argument("line_ids", nargs="+", metavar="LINE_ID")
        parser.add_argument("--clear", action="store_true", help="set it back to N")

    def handle(self, *args, line_ids, clear=False, **options):
        bad = [i for i in line_ids if not str(i).isdigit()]
        if bad:
            self.refuse(f"LINE_ID must be a staging id (a whole number): {', '.join(bad)}")
        value = "N" if clear else "Y"
        changed = inbound_review_set(line_ids=[int(i) for i in line_ids], value=value, actor=None)
        self.stdout.write(
            f"RORD Review Completed = {value} on {changed} line(s) "
            f"({len(set(line_ids)) - changed} already {value})"
        )
