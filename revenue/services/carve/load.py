"""What the carve step reads of the ledger (carve.md K2–K7): a contract's lines, each
line's contractual release per period (R's rows, held rows excluded), the carve booked and
caught up per period and, for a held free line, the last period it released in before its
hold (K2's h)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Q, Sum

from core.lookups import array_param
from core.services import currency_exponent, sum_exact

from ...models import CarveEntry, CarveEntryType, Period, RevenueContract, ScheduleRow, SoLine
from ..allocation import ALLOCATION_COLUMNS, _amount, ext_ssp_of
from ..solines import so_lines_read
from ..splits import period_add, to_minor
from .targets import LineCarve

# what the carve step reads of a line (attribute names): A4's columns and the release's
CARVE_LINE_COLUMNS = (
    *ALLOCATION_COLUMNS,
    "hold",
    "carve_residual",
    "rev_method",
    "rev_start_date",
    "rev_end_date",
    "hold_period",
    "created_at",
)


@dataclass
class ContractCarve:
    """One contract as the carve step reads it."""

    pk: int
    treatment: str
    since: int | None  # K7: the version's last closed period
    lines: list[SoLine]  # in SO_LINE_ID order (K8)
    carves: dict[int, LineCarve]  # SoLine pk → its K view

    def by_line_id(self, so_line_id: str) -> LineCarve | None:
        for so in self.lines:
            if so.so_line_id == so_line_id:
                return self.carves[so.pk]
        return None

    def first_period(self) -> int | None:
        periods = [p for c in self.carves.values() for p in (*c.released, *c.booked)]
        return min(periods) if periods else None


@dataclass
class CarveRead:
    """What the carve step read for some contracts; ``contracts`` builds them from it
    without a query (the rows' thread of ``CarveWriter`` does, on PostgreSQL)."""

    lines: dict[int, list[SoLine]]  # contract id → its lines, in SO_LINE_ID order (K8)
    heads: dict[int, tuple[str, int | None]]  # contract id → (treatment, since)
    released: dict[int, dict[int, int]]
    booked: dict[int, dict[int, int]]
    caught: dict[int, dict[int, int]]
    through: dict[int, int | None]

    def contracts(self) -> Iterator[ContractCarve]:
        """The contracts in id order, each with every line and its K view."""
        for pk in sorted(self.lines):
            treatment, since = self.heads[pk]
            contract = ContractCarve(
                pk=pk, treatment=treatment, since=since, lines=self.lines[pk], carves={}
            )
            for so in contract.lines:
                contract.carves[so.pk] = _line_carve(
                    so,
                    self.released[so.pk],
                    self.booked[so.pk],
                    self.caught[so.pk],
                    hold_through=self.through.get(so.pk),
                )
            yield contract


def contracts_read(ids: list[int], *, lines: dict[int, list[SoLine]] | None = None) -> CarveRead:
    """What the carve step reads of the contracts ``ids``: every line, its released rows and
    its booked carve. ``lines``: contract id → all its lines, already in hand (the others
    are read)."""
    lines = lines or {}
    unread = [pk for pk in ids if pk not in lines]
    every = [so for pk in ids if pk in lines for so in lines[pk]]
    if unread:
        every += so_lines_read(
            SoLine.objects.filter(contract_id__any=unread), columns=CARVE_LINE_COLUMNS
        )
    every.sort(key=lambda so: so.so_line_id)
    heads = dict(
        (pk, (treatment, since))
        for pk, treatment, since in RevenueContract.objects.filter(pk__any=ids).values_list(
            "pk", "treatment", "carve_period"
        )
    )
    # carve is booked only once placed (K6, K7)
    booked, caught = _booked([so.pk for so in every if heads[so.contract_id][0]])
    members: dict[int, list[SoLine]] = defaultdict(list)
    for so in every:
        members[so.contract_id].append(so)
    return CarveRead(
        lines=dict(members),
        heads=heads,
        released=_released([so.pk for so in every]),
        booked=booked,
        caught=caught,
        through=_holds_through(every),
    )


def _holds_through(lines: list[SoLine]) -> dict[int, int | None]:
    """Per held line, h: the last period it released in before its hold (K2: a held free
    line's W share stops there, as R(p) stops at a held line's last unheld row). The hold
    reverses and holds the rows of its period and later (S10), so h is the period before
    ``hold_period``; unless the line came into the ledger in that period: what it had for
    earlier periods was booked there as a catch-up (S8), held with it, so it released in
    none (None). A held line without a recorded period counts as held in the open one."""
    held = [so for so in lines if so.hold]
    if not held:
        return {}
    periods = {so.hold_period for so in held if so.hold_period is not None}
    opened: dict[int, datetime] = {}
    open_period = None
    for pk, status, at in Period.objects.filter(
        Q(pk__in=periods) | Q(status=Period.Status.OPEN)
    ).values_list("pk", "status", "opened_at"):
        opened[pk] = at
        if status == Period.Status.OPEN:
            open_period = pk
    out: dict[int, int | None] = {}
    for so in held:
        period = so.hold_period if so.hold_period is not None else open_period
        if period is None:
            out[so.pk] = None
            continue
        at = opened.get(period)
        entered = at is None or so.created_at < at  # in the ledger before the hold's period
        out[so.pk] = period_add(period, -1) if entered else None
    return out


def _line_carve(
    so: SoLine, released: dict, booked: dict, caught: dict, *, hold_through: int | None = None
) -> LineCarve:
    exponent = currency_exponent(so.currency)

    def minor(value) -> int | None:
        return None if value is None else to_minor(Decimal(value), exponent)

    return LineCarve(
        pk=so.pk,
        so_line_id=so.so_line_id,
        currency=so.currency,
        carve=minor(_amount(so, "carve")),
        net=minor(so.net_sll_prc),
        returned=so.is_returned,
        hold=so.hold,
        hold_through=hold_through,
        residual=minor(so.carve_residual),
        method=so.rev_method,
        rev_start=so.rev_start_date,
        rev_end=so.rev_end_date,
        ext_ssp_of=lambda: minor(ext_ssp_of(so)),
        released={p: _cents_minor(c, exponent) for p, c in released.items() if c},
        booked={p: _cents_minor(c, exponent) for p, c in booked.items() if c},
        catch_up={p: _cents_minor(c, exponent) for p, c in caught.items() if c},
    )


def _cents_minor(cents: int, exponent: int) -> int:
    """An amount as stored (two decimals in every currency) in cents, in the currency's
    minor units: what ``to_minor`` gives, without a Decimal for the usual exact case."""
    if exponent == 2:
        return cents
    if exponent > 2:
        return cents * 10 ** (exponent - 2)
    scale = 10 ** (2 - exponent)
    if cents % scale == 0:
        return cents // scale
    return to_minor(Decimal(cents).scaleb(-2), exponent)


def _booked(line_ids: list[int]) -> tuple[dict, dict]:
    """Per line and period, the carve booked and the part of it caught up (K4), in cents;
    through the carve rows' line index."""
    booked: dict[int, dict[int, int]] = defaultdict(dict)
    caught: dict[int, dict[int, int]] = defaultdict(dict)
    if not line_ids:
        return booked, caught
    if connection.vendor == "postgresql":  # exact numeric sums, no Decimal per row
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT line_id, period, entry_type, CAST(sum(amount) * 100 AS bigint)
                FROM {CarveEntry._meta.db_table} WHERE line_id = ANY(%s::bigint[])
                GROUP BY 1, 2, 3
                """,
                [array_param(line_ids)],
            )
            rows = cursor.fetchall()
    else:
        rows = [
            (line_id, period, kind, int(sum_exact(total).scaleb(2)))  # SQLite adds floats
            for line_id, period, kind, total in CarveEntry.objects.filter(line_id__any=line_ids)
            .values_list("line_id", "period", "entry_type")
            .annotate(total=Sum("amount"))
            .order_by()
        ]
    for line_id, period, kind, cents in rows:
        booked[line_id][period] = booked[line_id].get(period, 0) + cents
        if kind == CarveEntryType.CATCH_UP:
            caught[line_id][period] = caught[line_id].get(period, 0) + cents
    return booked, caught


def _released(line_ids: list[int]) -> dict[int, dict[int, int]]:
    """Per line and period, the contractual rows not held (R's terms, K2), in cents."""
    out: dict[int, dict[int, int]] = defaultdict(dict)
    if not line_ids:
        return out
    if connection.vendor == "postgresql":
        # line by line through the line index, as the ledger's states (see states_load);
        # PostgreSQL adds numerics exactly
        table = ScheduleRow._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT l.id, s.period, s.cents
                FROM unnest(%s::bigint[]) AS l(id)
                CROSS JOIN LATERAL (
                    SELECT period, CAST(sum(amount) * 100 AS bigint) AS cents FROM {table}
                    WHERE line_id = l.id AND NOT held GROUP BY period
                ) AS s
                """,
                [array_param(line_ids)],
            )
            for line_id, period, cents in cursor.fetchall():
                out[line_id][period] = cents
        return out
    for line_id, period, total in (
        ScheduleRow.objects.filter(line_id__any=line_ids, held=False)
        .values_list("line_id", "period")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        out[line_id][period] = int(sum_exact(total).scaleb(2))  # SQLite adds floats
    return out
