"""Reads of the SO line and revenue contract pages (P1–P9, A1–A4).

What a reduction did to a line, period by period: the original schedule, each RORD /
CM-R's reversals (scheduled in future periods, booked in the open or a closed period),
the net, and the contra AR entries (P7, P8). Each read is one or two queries whatever
the line's size; the list pages read their sums per page (no N+1).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum

from core.services import sum_exact

from .models import ContraEntry, InboundLine, ScheduleRow, SoLine
from .models.choices import BILLING_TYPES, LineStatus, RowKind, TranType
from .models.periods import period_label

ZERO = Decimal("0")
NOT_ORIGINAL = (RowKind.REVERSAL, RowKind.CONVERSION)
CLOSED, OPEN, FUTURE = "closed", "open", "future"
SCHEDULED, BOOKED = "scheduled", "booked"
REVIEW_CODES = ("RPRO-00353", "RPRO-00356")  # V6, V7: skipped once reviewed (I5)


def _sum(value) -> Decimal:
    """A database SUM (a Money for money columns) as an exact Decimal (SQLite adds floats)."""
    return sum_exact(getattr(value, "amount", value)) + 0  # + 0: no "-0.00"


def period_state(period: int, open_period: int | None) -> str:
    """S1: before the open period = closed, after it = future."""
    if open_period is None or period < open_period:
        return CLOSED
    return OPEN if period == open_period else FUTURE


def reversal_state(period: int, open_period: int | None) -> str:
    """A reversal in a future period is *scheduled*: its journal pair is posted when its
    period closes (S2). In the open or a closed period it is *booked*."""
    return SCHEDULED if open_period is not None and period > open_period else BOOKED


def inbound_label(line: InboundLine | None) -> str:
    """'RORD SO101-1', 'CM-RO INV101-1': the type and the line's own id."""
    if line is None:
        return "—"
    return f"{line.tran_type} {line.line_key or line.so_line_id}".strip()


# --- the reduction schedule of one SO line ---------------------------------------------------


@dataclass
class Reduction:
    """One RORD or CM-R that reversed part of the line's schedule (a column)."""

    inbound: InboundLine | None
    inbound_id: int | None
    booked: Decimal = ZERO
    scheduled: Decimal = ZERO

    @property
    def label(self) -> str:
        return inbound_label(self.inbound) if self.inbound else f"#{self.inbound_id}"

    @property
    def kind(self) -> str:
        return self.inbound.tran_type if self.inbound else ""

    @property
    def total(self) -> Decimal:
        return self.booked + self.scheduled


@dataclass
class ReversalCell:
    amount: Decimal
    state: str  # scheduled / booked


@dataclass
class ReductionPeriod:
    period: int
    state: str  # closed / open / future
    original: Decimal = ZERO
    cells: list[ReversalCell | None] = field(default_factory=list)
    net: Decimal = ZERO

    @property
    def label(self) -> str:
        return period_label(self.period)

    @property
    def is_open(self) -> bool:
        return self.state == OPEN

    @property
    def reversed(self) -> Decimal:
        return sum((c.amount for c in self.cells if c), ZERO)

    @property
    def scheduled(self) -> Decimal:
        return sum((c.amount for c in self.cells if c and c.state == SCHEDULED), ZERO)


@dataclass
class ReductionSchedule:
    currency: str
    open_period: int | None
    reductions: list[Reduction] = field(default_factory=list)
    rows: list[ReductionPeriod] = field(default_factory=list)

    @property
    def original(self) -> Decimal:
        return sum((r.original for r in self.rows), ZERO)

    @property
    def net(self) -> Decimal:
        return sum((r.net for r in self.rows), ZERO)

    @property
    def reversed(self) -> Decimal:
        return sum((r.total for r in self.reductions), ZERO)

    @property
    def scheduled(self) -> Decimal:
        return sum((r.scheduled for r in self.reductions), ZERO)

    @property
    def booked(self) -> Decimal:
        return sum((r.booked for r in self.reductions), ZERO)


def so_line_reductions(line: SoLine, *, open_period: int | None) -> ReductionSchedule:
    """Two queries: the line's rows summed per period, kind and inbound line; the RORD /
    CM-R lines behind the reversals. Original = every kind but REVERSAL and CONVERSION
    (billing only moves amounts between sources); net = all rows of the period."""
    sums = (
        ScheduleRow.objects.filter(line=line)
        .values_list("period", "kind", "inbound_line_id")
        .annotate(total=Sum("amount"))
        .order_by("period", "kind", "inbound_line_id")
    )
    original: dict[int, Decimal] = defaultdict(lambda: ZERO)
    net: dict[int, Decimal] = defaultdict(lambda: ZERO)
    reversals: dict[tuple[int, int | None], Decimal] = defaultdict(lambda: ZERO)
    for period, kind, inbound_id, total in sums:
        total = _sum(total)
        net[period] += total
        if kind == RowKind.REVERSAL:
            reversals[(period, inbound_id)] += total
        elif kind not in NOT_ORIGINAL:
            original[period] += total
    ids = sorted({i for _, i in reversals if i is not None})
    inbound = {
        x.pk: x
        for x in InboundLine.objects.filter(pk__in=ids).only(
            "pk",
            "tran_type",
            "line_key",
            "so_line_id",
            "ext_sll_prc",
            "start_date",
            "end_date",
            "collected_at",
            "curr",
        )
    }

    def collected(inbound_id) -> tuple[float, int]:
        line = inbound.get(inbound_id)
        at = line.collected_at.timestamp() if line and line.collected_at else 0.0
        return at, inbound_id or 0

    order = sorted({i for _, i in reversals}, key=collected)  # the order they were collected
    reductions = [Reduction(inbound=inbound.get(i), inbound_id=i) for i in order]
    column = {r.inbound_id: index for index, r in enumerate(reductions)}
    schedule = ReductionSchedule(
        currency=line.currency, open_period=open_period, reductions=reductions
    )
    for period in sorted(set(net) | set(original)):
        row = ReductionPeriod(
            period=period,
            state=period_state(period, open_period),
            original=original[period],
            net=net[period],
            cells=[None] * len(reductions),
        )
        for inbound_id, index in column.items():
            amount = reversals.get((period, inbound_id))
            if amount is None:
                continue
            state = reversal_state(period, open_period)
            row.cells[index] = ReversalCell(amount=amount, state=state)
            target = reductions[index]
            if state == SCHEDULED:
                target.scheduled += amount
            else:
                target.booked += amount
        schedule.rows.append(row)
    return schedule


# --- contra AR (P7, P8) ------------------------------------------------------------------


@dataclass
class ContraRow:
    entry: ContraEntry
    posted: bool
    reversed_by: list[ContraEntry] = field(default_factory=list)

    @property
    def is_reversal(self) -> bool:
        return self.entry.kind == ContraEntry.Kind.CONTRA_REVERSAL

    @property
    def label(self) -> str:
        return period_label(self.entry.period)

    @property
    def outstanding(self) -> Decimal | None:
        return None if self.is_reversal else self.entry.outstanding

    @property
    def fully_removed(self) -> bool:
        """P8: removed before it was posted; its journal entry is gone with it."""
        entry = self.entry
        return not self.is_reversal and entry.removed >= entry.amount.amount

    @property
    def booked_by(self) -> str:
        return inbound_label(self.entry.inbound_line)

    @property
    def removed_by(self) -> str:
        return inbound_label(self.entry.removed_by) if self.entry.removed_by_id else ""


def so_line_contra(line: SoLine, *, open_period: int | None) -> list[ContraRow]:
    """One query: the line's contra entries with the inbound lines that booked, removed
    and reversed them. *Posted* = its period is before the open period (S2)."""
    entries = list(
        ContraEntry.objects.filter(line=line)
        .select_related("inbound_line", "removed_by", "reverses")
        .order_by("period", "id")
    )
    rows = [
        ContraRow(
            entry=e, posted=open_period is not None and e.period < open_period, reversed_by=[]
        )
        for e in entries
    ]
    by_pk = {row.entry.pk: row for row in rows}
    for row in rows:
        target = by_pk.get(row.entry.reverses_id)
        if target is not None:
            target.reversed_by.append(row.entry)
    return rows


def so_line_net_billed(line: SoLine) -> Decimal:
    """P7: Σ ESP of the line's collected INV, CM, CM-R and CM-RO lines (credits < 0)."""
    total = InboundLine.objects.filter(
        line=line, status=LineStatus.COLLECTED, tran_type__in=BILLING_TYPES
    ).aggregate(total=Sum("ext_sll_prc"))["total"]
    return _sum(total)


@dataclass
class LineFigures:
    """The header panel of an SO line (P2: a returned line's recognized, deferred and
    allocatable amounts are shown empty, as in ``lines_export_rows``)."""

    currency: str
    esp: Decimal
    rord: Decimal
    cmr: Decimal
    net: Decimal
    net_billed: Decimal
    recognized: Decimal | None
    deferred: Decimal | None
    allocatable: Decimal | None
    returned: bool
    ext_ssp: Decimal | None
    allocated: Decimal | None
    carve: Decimal | None
    contra: Decimal


def _amount(money) -> Decimal | None:
    return None if money is None else money.amount


def so_line_figures(line: SoLine, *, net_billed: Decimal) -> LineFigures:
    """``line`` comes from ``so_lines_with_amounts`` (recognized / deferred annotated)."""
    returned = line.is_returned
    return LineFigures(
        currency=line.currency,
        esp=line.ext_sll_prc.amount,
        rord=line.rord_sll_prc,
        cmr=line.cmr_sll_prc,
        net=line.net_sll_prc,
        net_billed=net_billed,
        recognized=None if returned else line.recognized_amount,
        deferred=None if returned else line.deferred_amount,
        allocatable=None if returned else line.net_sll_prc,
        returned=returned,
        ext_ssp=_amount(line.ext_ssp),
        allocated=_amount(line.allocated),
        carve=_amount(line.carve),
        contra=line.contra_balance,
    )


# --- revenue contracts (A1–A4) -------------------------------------------------------------


@dataclass
class CurrencyTotals:
    """One currency of a contract: A3 spreads Σ net ESP of the lines with an Ext SSP."""

    currency: str
    lines: int = 0
    esp: Decimal = ZERO
    net: Decimal = ZERO
    ext_ssp: Decimal = ZERO
    allocated: Decimal = ZERO
    carve: Decimal = ZERO
    pool_net: Decimal = ZERO  # Σ net ESP of the lines in the allocation pool
    outside: int = 0  # lines without SSP or returned: outside the pool

    @property
    def balanced(self) -> bool:
        return self.pool_net == self.allocated

    @property
    def pooled(self) -> bool:
        """Some line of this currency has an Ext SSP: allocated and carve mean something."""
        return self.outside < self.lines


def contract_lines(contract_id: int):
    """The contract's SO lines in SO_LINE_ID order (one query)."""
    return list(
        SoLine.objects.filter(contract_id=contract_id).order_by(
            "ext_sll_prc_currency", "so_line_id"
        )
    )


def contract_totals(lines: Iterable[SoLine]) -> list[CurrencyTotals]:
    totals: dict[str, CurrencyTotals] = {}
    for line in lines:
        t = totals.setdefault(line.currency, CurrencyTotals(currency=line.currency))
        t.lines += 1
        t.esp += line.ext_sll_prc.amount
        t.net += line.net_sll_prc
        if line.ext_ssp is None:
            t.outside += 1
            continue
        t.ext_ssp += line.ext_ssp.amount
        t.allocated += _amount(line.allocated) or ZERO
        t.carve += _amount(line.carve) or ZERO
        t.pool_net += line.net_sll_prc
    return [totals[c] for c in sorted(totals)]


def contracts_sums(contract_ids: Iterable[int]) -> dict[int, list[CurrencyTotals]]:
    """The contract list: lines, Σ net ESP and Σ carve per contract and currency for a
    page of contracts, in one query."""
    rows = (
        SoLine.objects.filter(contract_id__in=list(contract_ids))
        .values_list("contract_id", "ext_sll_prc_currency")
        .annotate(
            n=Count("pk"),
            esp=Sum("ext_sll_prc"),
            rord=Sum("rord_sll_prc"),
            cmr=Sum("cmr_sll_prc"),
            carve=Sum("carve"),
            allocated=Sum("allocated"),
            outside=Count("pk", filter=Q(ext_ssp__isnull=True)),
        )
        .order_by("contract_id", "ext_sll_prc_currency")
    )
    out: dict[int, list[CurrencyTotals]] = defaultdict(list)
    for contract_id, currency, n, esp, rord, cmr, carve, allocated, outside in rows:
        esp = _sum(esp)
        out[contract_id].append(
            CurrencyTotals(
                currency=currency,
                lines=n,
                esp=esp,
                net=esp + _sum(rord) + _sum(cmr),
                carve=_sum(carve),
                allocated=_sum(allocated),
                outside=outside,
            )
        )
    return out


# --- inbound: RORDs stopped by V6 / V7 (I5) ----------------------------------------------


def rords_awaiting_review(queryset=None):
    """RORD lines stopped in staging by V6 (RPRO-00353) or V7 (RPRO-00356)."""
    lines = InboundLine.objects.all() if queryset is None else queryset
    codes = Q()
    for code in REVIEW_CODES:
        codes |= Q(error_codes__contains=code)
    return lines.filter(codes, tran_type=TranType.RORD, status=LineStatus.ERROR)
