"""The release schedule of a new SO line booked row by row in Python (S6–S8): what
collection did before ``releases_sql.releases_insert`` and what it must still write. The
reference of the SQL's tests and of ``bench/releases_sql.py``, not used by the product."""

from __future__ import annotations

from revenue.models import SoLine
from revenue.models.choices import RowKind, Source
from revenue.services.ledger import Booker, _merged
from revenue.services.splits import schedule_split


def so_schedule_book(*, booker: Booker, line: SoLine, inbound_id: int | None) -> None:
    """S6–S8: the parts of the line's sell price per period, the closed periods' parts
    caught up in the open one, each a schedule row and (unless held) its journal pair."""
    currency = line.currency
    parts = schedule_split(
        total=line.ext_sll_prc.amount,
        currency=currency,
        method=line.rev_method,
        start=line.rev_start_date,
        end=line.rev_end_date,
    )
    for period, amount, catch_up in _merged(parts, booker.open):
        booker.schedule(
            line=line,
            period=period,
            source=Source.SO,
            amount=amount,
            kind=RowKind.RELEASE,
            inbound_id=inbound_id,
            held=line.hold,
            catch_up=catch_up,
            currency=currency,
        )
