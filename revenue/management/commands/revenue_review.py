from core.parsing import ascii_int

from ...services.inbound import inbound_review_set
from ..base import RevenueCommand


class Command(RevenueCommand):
    help = "Set RORD Review Completed = Y on staged RORD lines (by staging id)."

    def add_arguments(self, parser):
        parser.add_argument("line_ids", nargs="+", metavar="LINE_ID")
        parser.add_argument("--clear", action="store_true", help="set it back to N")

    def handle(self, *args, line_ids, clear=False, **options):
        ids = [ascii_int(str(i).strip()) for i in line_ids]  # '²', 5,000 digits: refused
        bad = [str(i)[:30] for i, pk in zip(line_ids, ids, strict=True) if pk is None]
        if bad:
            self.refuse(f"LINE_ID must be a staging id (a whole number): {', '.join(bad)}")
        value = "N" if clear else "Y"
        changed = inbound_review_set(line_ids=ids, value=value, actor=None)
        self.stdout.write(
            f"RORD Review Completed = {value} on {changed} line(s) "
            f"({len(set(ids)) - changed} already {value})"
        )
