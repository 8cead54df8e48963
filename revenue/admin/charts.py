"""An SO line's schedule as a table and as a waterfall chart (S6–S10, Chart.js through
admin/revenue/includes/chart.html).

Reads only: ScheduleRow summed per period, source and held flag. Recognized / deferred /
held follow the same split as ``selectors.so_lines_with_amounts`` (S10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum

from ..models import ScheduleRow, SoLine
from ..models.choices import Source
from ..models.periods import period_label
from .chartjs import chart_bar, chart_links
from .common import amount_text

ZERO = Decimal("0")
RECOGNIZED, DEFERRED, HELD = "recognized", "deferred", "held"


@dataclass
class PeriodRow:
    period: int
    currency: str
    so: Decimal = ZERO
    inv: Decimal = ZERO
    held_so: Decimal = ZERO
    held_inv: Decimal = ZERO
    cumulative: Decimal = ZERO
    base_state: str = DEFERRED  # by period only: up to the open period = recognized
    state: str = DEFERRED  # held when any of it is held
    is_open: bool = False

    @property
    def label(self) -> str:
        return period_label(self.period)

    @property
    def total(self) -> Decimal:
        return self.so + self.inv

    @property
    def held(self) -> Decimal:
        return self.held_so + self.held_inv

    def text(self, name: str) -> str:
        return amount_text(getattr(self, name), self.currency)

    @property
    def so_text(self) -> str:
        return self.text("so")

    @property
    def inv_text(self) -> str:
        return self.text("inv")

    @property
    def total_text(self) -> str:
        return self.text("total")

    @property
    def cumulative_text(self) -> str:
        return self.text("cumulative")


@dataclass
class Schedule:
    currency: str
    open_period: int | None
    rows: list[PeriodRow] = field(default_factory=list)

    def _sum(self, attr: str, state: str | None = None) -> Decimal:
        return sum((getattr(r, attr) for r in self.rows if state in (None, r.state)), ZERO)

    @property
    def so(self) -> Decimal:
        return self._sum("so")

    @property
    def inv(self) -> Decimal:
        return self._sum("inv")

    @property
    def total(self) -> Decimal:
        return self._sum("total")

    @property
    def recognized(self) -> Decimal:
        return sum((r.total - r.held for r in self.rows if r.base_state == RECOGNIZED), ZERO)

    @property
    def held(self) -> Decimal:
        return self._sum("held")

    @property
    def deferred(self) -> Decimal:
        return self.total - self.recognized

    @property
    def open_label(self) -> str:
        return period_label(self.open_period) if self.open_period else ""

    def text(self, name: str) -> str:
        return amount_text(getattr(self, name), self.currency)

    @property
    def texts(self) -> dict[str, str]:
        names = ("so", "inv", "total", "recognized", "deferred", "held")
        return {name: self.text(name) for name in names}


def so_line_schedule(line: SoLine, *, open_period: int | None) -> Schedule:
    """One query: the line's net amounts per period and source (held apart)."""
    schedule = Schedule(currency=line.currency, open_period=open_period)
    by_period: dict[int, PeriodRow] = {}
    sums = (
        ScheduleRow.objects.filter(line=line)
        .values_list("period", "source", "held")
        .annotate(total=Sum("amount"))
        .order_by("period", "source", "held")
    )
    for period, source, held, total in sums:
        row = by_period.setdefault(period, PeriodRow(period=period, currency=line.currency))
        total = total or ZERO
        if source == Source.INV:
            row.inv += total
            row.held_inv += total if held else ZERO
        else:
            row.so += total
            row.held_so += total if held else ZERO
    running = ZERO
    for period in sorted(by_period):
        row = by_period[period]
        running += row.total
        row.cumulative = running
        row.is_open = period == open_period
        if open_period and period <= open_period:
            row.base_state = RECOGNIZED
        row.state = HELD if row.held else row.base_state
        schedule.rows.append(row)
    return schedule


# --- waterfall ------------------------------------------------------------------------------

COLORS = {
    (RECOGNIZED, Source.INV): "#2e8b57",
    (RECOGNIZED, Source.SO): "#8fd1a8",
    (DEFERRED, Source.INV): "#2f7dc1",
    (DEFERRED, Source.SO): "#a9cdee",
    (HELD, Source.INV): "#d48a00",
    (HELD, Source.SO): "#f2c65c",
}
LABEL_OF = {
    (RECOGNIZED, Source.INV): "Recognized · billed",
    (RECOGNIZED, Source.SO): "Recognized · not billed",
    (DEFERRED, Source.INV): "Deferred · billed",
    (DEFERRED, Source.SO): "Deferred · not billed",
    (HELD, Source.INV): "Held · billed",
    (HELD, Source.SO): "Held · not billed",
}
TOTAL_LABEL = {RECOGNIZED: "Recognized", DEFERRED: "Deferred (not held)", HELD: "Held"}
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _short(label: str) -> tuple[str, str]:
    """'2026-01' → ('Jan', '2026'); other labels as they are."""
    if len(label) == 7 and label[4] == "-":
        return MONTHS[int(label[5:]) - 1], label[:4]
    return label, ""


def period_axis_labels(labels: list[str]) -> list[str | list[str]]:
    """Month names, with the year under the first one and under each January."""
    out: list[str | list[str]] = []
    for index, label in enumerate(labels):
        month, year = _short(label)
        out.append([month, year] if year and (index == 0 or month == "Jan") else month)
    return out


def _segments(row: PeriodRow) -> list[tuple[tuple[str, str], Decimal]]:
    out = []
    for source, amount, held in (
        (Source.INV, row.inv, row.held_inv),
        (Source.SO, row.so, row.held_so),
    ):
        if amount - held:
            out.append(((row.base_state, source), amount - held))
        if held:
            out.append(((HELD, source), held))
    return out


def schedule_anchor(label: str) -> str:
    """The schedule table's row of a period ('2026-11') on the SO line page."""
    return f"#schedule-{label}"


def waterfall_chart(schedule: Schedule) -> dict | None:
    """Floating bars: each period starts where the cumulative total stood and adds its
    release (by source, coloured by recognized / deferred / held), with a dashed line at
    each cumulative total; a last bar splits the line's total into recognized, deferred
    and held. A click on a period opens its row of the schedule table."""
    rows = schedule.rows
    if not rows:
        return None
    currency = schedule.currency
    points: dict[tuple[str, str], list] = {key: [] for key in LABEL_OF}
    for row in rows:
        level = row.cumulative - row.total
        at: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
        for key, amount in sorted(_segments(row), key=lambda s: s[1] < 0):
            at[key] = (level, level + amount)
            level += amount
        for key in LABEL_OF:
            points[key].append(at.get(key))
    totals, start = {}, ZERO
    for state, amount in (
        (RECOGNIZED, schedule.recognized),
        (DEFERRED, schedule.deferred - schedule.held),
        (HELD, schedule.held),
    ):
        totals[state] = (start, start + amount) if amount else None
        start += amount

    n = len(rows)
    anchors = [schedule_anchor(row.label) for row in rows]
    datasets, links = [], []
    for key, label in LABEL_OF.items():
        datasets.append({"label": label, "data": [*points[key], None], "color": COLORS[key]})
        links.append([*chart_links(anchors, points[key]), None])
    for state, label in TOTAL_LABEL.items():
        datasets.append(
            {
                "label": label,
                "data": [None] * n + [totals[state]],
                "color": COLORS[(state, Source.INV)],
                "legend": False,
            }
        )
        links.append([None] * n + ["#revenue-schedule"])
    texts = schedule.texts
    notes = [
        f"Cumulative {row.cumulative_text} {currency}" + (" · open period" if row.is_open else "")
        for row in rows
    ]
    notes.append(f"Total {texts['total']} {currency}")
    open_index = next((i for i, row in enumerate(rows) if row.is_open), None)
    held = f", of which held {texts['held']}" if schedule.held else ""
    return chart_bar(
        id="chart-waterfall",
        title="Revenue waterfall",
        labels=[*period_axis_labels([row.label for row in rows]), "Total"],
        datasets=datasets,
        currency=currency,
        overlay=True,
        links=links,
        y_label=f"Cumulative revenue ({currency})",
        highlight=None if open_index is None else {"index": open_index, "label": "open"},
        connectors=[row.cumulative for row in rows],
        notes=notes,
        height=300,
        label_head="Period",
        aria_label=(
            f"Revenue waterfall in {currency}, {rows[0].label} to {rows[-1].label}: total "
            f"{texts['total']}, recognized {texts['recognized']}, deferred "
            f"{texts['deferred']}{held}."
        ),
    )
