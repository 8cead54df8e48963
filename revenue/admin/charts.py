"""An SO line's schedule as a table and as a server-rendered waterfall chart (S6–S10).

Reads only: ScheduleRow summed per period, source and held flag. Recognized / deferred /
held follow the same split as ``selectors.so_lines_with_amounts`` (S10).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ..models import ScheduleRow, SoLine
from ..models.choices import Source
from ..models.periods import period_label
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
LEGEND = (
    ((RECOGNIZED, Source.INV), "Recognized · billed"),
    ((RECOGNIZED, Source.SO), "Recognized · not billed"),
    ((DEFERRED, Source.INV), "Deferred · billed"),
    ((DEFERRED, Source.SO), "Deferred · not billed"),
    ((HELD, Source.INV), "Held"),
)
TOP, BOTTOM, LEFT, RIGHT = 38, 58, 78, 16
HEIGHT = 320
TARGET_WIDTH = 1000  # the bars share this width: wide bars for a year, thin ones for five


def n(value: float) -> str:
    """A coordinate: one decimal is enough on screen."""
    return f"{value:.1f}"


def tick_text(tick: float, step: float, currency: str) -> str:
    """Axis labels without decimals when the step is whole: 12,500 not 12,500.00."""
    if step >= 1 and float(step).is_integer():
        return f"{round(tick):,}"
    return amount_text(Decimal(str(round(tick, 6))), currency)


def _nice_step(span: float) -> float:
    raw = span / 5 or 1
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def y_axis(*, y, y_min, y_max, step, width, middle, label, currency) -> list[SafeString]:
    """Grid lines with their tick labels, the zero axis and the rotated axis label."""
    out = []
    tick = y_min
    while tick <= y_max + step / 2:
        out.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="ytick" x="{}" y="{}">{}</text>',
                LEFT,
                width - RIGHT,
                n(y(tick)),
                n(y(tick)),
                LEFT - 6,
                n(y(tick) + 4),
                tick_text(tick, step, currency),
            )
        )
        tick += step
    out.append(
        format_html(
            '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<text class="ylabel" x="12" y="{}" transform="rotate(-90 12 {})">{}</text>',
            LEFT,
            width - RIGHT,
            n(y(0)),
            n(y(0)),
            middle,
            middle,
            label,
        )
    )
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


def waterfall_svg(schedule: Schedule) -> SafeString:
    """Floating bars: each period starts where the cumulative total stood and adds its
    release (stacked by source, coloured by recognized / deferred / held); a last bar
    shows the line's total split into recognized, deferred and held."""
    rows = schedule.rows
    if not rows:
        return mark_safe("")
    bars = []  # (label, [(y0, y1, color, title)], is_open)
    low = high = 0.0
    for row in rows:
        base = float(row.cumulative - row.total)
        up = base
        parts = []
        segments = _segments(row)
        for key, amount in sorted(segments, key=lambda s: s[1] < 0):
            start = up
            up += float(amount)
            parts.append((start, up, COLORS[key], f"{row.label} {LABEL_OF[key]}", amount))
            low, high = min(low, start, up), max(high, start, up)
        bars.append((row.label, parts, row.is_open))
    total_parts, start = [], 0.0
    for key, amount in (
        ((RECOGNIZED, Source.INV), schedule.recognized),
        ((DEFERRED, Source.INV), schedule.deferred - schedule.held),
        ((HELD, Source.INV), schedule.held),
    ):
        if amount:
            label = LABEL_OF[key].split(" · ")[0]
            total_parts.append((start, start + float(amount), COLORS[key], label, amount))
            start += float(amount)
            low, high = min(low, start), max(high, start)
    bars.append(("Total", total_parts, False))

    slot = min(72.0, max(26.0, (TARGET_WIDTH - LEFT - RIGHT) / len(bars)))
    bar_w, gap = round(slot * 0.64, 1), round(slot * 0.36, 1)
    step = _nice_step(high - low)
    y_min = math.floor(low / step) * step
    y_max = math.ceil(high / step) * step or step
    width = round(LEFT + RIGHT + len(bars) * slot + gap)
    plot_h = HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h * (y_max - value) / (y_max - y_min)

    currency = schedule.currency
    out = [
        format_html(
            '<svg class="revenue-waterfall" xmlns="http://www.w3.org/2000/svg" '
            'viewBox="0 0 {} {}" width="100%" style="max-width:{}px" role="img" '
            'aria-label="Revenue waterfall in {}">',
            width,
            HEIGHT,
            width,
            currency,
        )
    ]
    out += y_axis(
        y=y,
        y_min=y_min,
        y_max=y_max,
        step=step,
        width=width,
        middle=TOP + plot_h / 2,
        label=f"Cumulative revenue ({currency})",
        currency=currency,
    )
    previous_top = None
    for index, (label, parts, is_open) in enumerate(bars):
        x = LEFT + gap + index * (bar_w + gap)
        if is_open:
            out.append(
                format_html(
                    '<rect class="open-band" x="{}" y="{}" width="{}" height="{}"/>'
                    '<text class="open-label" x="{}" y="{}">open</text>',
                    x - gap / 2,
                    TOP - 14,
                    bar_w + gap,
                    plot_h + 14,
                    x + bar_w / 2,
                    TOP - 4,
                )
            )
        if previous_top is not None and parts:
            out.append(
                format_html(
                    '<line class="connector" x1="{}" x2="{}" y1="{}" y2="{}"/>',
                    x - gap,
                    x,
                    n(y(previous_top)),
                    n(y(previous_top)),
                )
            )
        for y0, y1, color, title, amount in parts:
            top, bottom = max(y0, y1), min(y0, y1)
            out.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}: {} {}</title></rect>",
                    x,
                    n(y(top)),
                    bar_w,
                    n(max(y(bottom) - y(top), 1)),
                    color,
                    title,
                    amount_text(amount, currency),
                    currency,
                )
            )
        if parts:
            previous_top = parts[-1][1] if label != "Total" else None
        label_y = HEIGHT - BOTTOM + 16
        month, year = _short(label)
        out.append(
            format_html(
                '<text class="xtick{}" x="{}" y="{}">{}</text>',
                " total" if label == "Total" else "",
                x + bar_w / 2,
                label_y,
                month,
            )
        )
        if year and (index == 0 or month == "Jan"):
            out.append(
                format_html(
                    '<text class="xtick year" x="{}" y="{}">{}</text>',
                    x + bar_w / 2,
                    label_y + 14,
                    year,
                )
            )
    legend_x = LEFT
    for key, text in LEGEND:
        out.append(
            format_html(
                '<rect x="{}" y="10" width="11" height="11" fill="{}"/>'
                '<text class="legend" x="{}" y="20">{}</text>',
                legend_x,
                COLORS[key],
                legend_x + 15,
                text,
            )
        )
        legend_x += 22 + 6.2 * len(text)
    out.append(mark_safe("</svg>"))
    return mark_safe("".join(out))


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _short(label: str) -> tuple[str, str]:
    """'2026-01' → ('Jan', '2026'); other labels as they are."""
    if len(label) == 7 and label[4] == "-":
        return MONTHS[int(label[5:]) - 1], label[:4]
    return label, ""


LABEL_OF = {key: text for key, text in LEGEND} | {
    (HELD, Source.SO): "Held · not billed",
    (HELD, Source.INV): "Held · billed",
}
