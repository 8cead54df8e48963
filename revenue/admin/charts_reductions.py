"""A server-rendered SVG chart of an SO line's reductions (P2–P8): no JavaScript.

Per period, the original release as a bar with each RORD / CM-R's reversal laid over it
as a downward segment (scheduled reversals hatched: posted when their period closes), the
net as a dark tick, and a lane of contra AR entries under the axis.
"""

from __future__ import annotations

import math

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ..selectors_ledger import FUTURE, SCHEDULED, ContraRow, ReductionSchedule
from .charts import LEFT, RIGHT, _nice_step, _short, n, y_axis
from .common import amount_text

PALETTE = ("#c0392b", "#d9730d", "#8e44ad", "#b03a6f", "#6d4c41", "#00838f")
ORIGINAL = {"recognized": "#8fd1a8", "deferred": "#a9cdee"}
CONTRA = "#6a3d9a"

PLOT_H = 230
TARGET_WIDTH = 1000
MIN_WIDTH = 820  # room for the legend when a line has only a few periods


def reduction_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def axis_range(low: float, high: float) -> tuple[float, float, float]:
    """A nice step and the axis ends around [low, high] (never an empty range)."""
    step = _nice_step(high - low)
    y_min = math.floor(low / step) * step
    y_max = math.ceil(high / step) * step
    if y_max == y_min:
        y_max = y_min + step
    return step, y_min, y_max


def _contra_by_period(contra: list[ContraRow]) -> dict[int, list[ContraRow]]:
    out: dict[int, list[ContraRow]] = {}
    for row in contra:
        out.setdefault(row.entry.period, []).append(row)
    return out


def reductions_svg(schedule: ReductionSchedule, contra: list[ContraRow]) -> SafeString:
    rows = schedule.rows
    if not rows:
        return mark_safe("")
    currency = schedule.currency
    low = min([0.0] + [float(r.original + r.reversed) for r in rows] + [float(r.net) for r in rows])
    high = max([0.0] + [float(r.original) for r in rows] + [float(r.net) for r in rows])
    step, y_min, y_max = axis_range(low, high)
    slot = min(72.0, max(30.0, (TARGET_WIDTH - LEFT - RIGHT) / len(rows)))
    bar_w, gap = round(slot * 0.62, 1), round(slot * 0.38, 1)
    width = max(round(LEFT + RIGHT + len(rows) * slot + gap), MIN_WIDTH)
    contra_at = _contra_by_period(contra)
    lines = [sum(_mark_lines(r) for r in rows_) for rows_ in contra_at.values()]
    lane = 12 + 12 * max(lines, default=0) if contra else 0
    legend, legend_lines = _legend(schedule, width)
    top = 28 + 17 * legend_lines
    axis_bottom = top + PLOT_H
    height = axis_bottom + 40 + lane + (18 if contra else 4)

    def y(value: float) -> float:
        return top + PLOT_H * (y_max - value) / (y_max - y_min)

    out = [
        format_html(
            '<svg class="revenue-svg revenue-reductions" xmlns="http://www.w3.org/2000/svg"'
            ' viewBox="0 0 {} {}" width="100%" style="max-width:{}px" role="img" '
            'aria-label="Original schedule and reductions in {}">',
            width,
            height,
            width,
            currency,
        ),
        mark_safe("<defs>"),
    ]
    for index in range(len(schedule.reductions)):
        color = reduction_color(index)
        out.append(
            format_html(
                '<pattern id="rdx-hatch-{}" patternUnits="userSpaceOnUse" width="6" height="6" '
                'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
                '<line x1="0" y1="0" x2="0" y2="6" stroke="{}" stroke-width="2.4"/></pattern>',
                index,
                color,
            )
        )
    out.append(mark_safe("</defs>"))
    out += y_axis(
        y=y,
        y_min=y_min,
        y_max=y_max,
        step=step,
        width=width,
        middle=top + PLOT_H / 2,
        label=f"Revenue per period ({currency})",
        currency=currency,
    )
    for index, row in enumerate(rows):
        x = LEFT + gap + index * slot
        out.extend(_period_bar(row, x, bar_w, gap, y, currency, top))
        label_y = axis_bottom + 16
        month, year = _short(row.label)
        out.append(
            format_html(
                '<text class="xtick" x="{}" y="{}">{}</text>', n(x + bar_w / 2), label_y, month
            )
        )
        if year and (index == 0 or month == "Jan"):
            out.append(
                format_html(
                    '<text class="xtick year" x="{}" y="{}">{}</text>',
                    n(x + bar_w / 2),
                    label_y + 13,
                    year,
                )
            )
        offset = 0
        for entry in contra_at.get(row.period, []):
            out.append(_contra_mark(entry, x + bar_w / 2, axis_bottom + 48 + offset * 12))
            offset += _mark_lines(entry)
    if contra:
        out.append(
            format_html(
                '<text class="lane-label" x="{}" y="{}">Contra AR</text>'
                '<text class="lane-help" x="{}" y="{}">+ contra booked · '
                '<tspan class="removed">struck</tspan> = removed by a CM-RO · '
                "− contra reversal</text>",
                LEFT - 6,
                axis_bottom + 52,
                LEFT,
                axis_bottom + 40 + lane + 10,
            )
        )
    out.extend(legend)
    out.append(mark_safe("</svg>"))
    return mark_safe("".join(out))


def _period_bar(row, x: float, bar_w: float, gap: float, y, currency: str, top: float):
    out = []
    if row.is_open:
        out.append(
            format_html(
                '<rect class="open-band" x="{}" y="{}" width="{}" height="{}"/>'
                '<text class="open-label" x="{}" y="{}">open</text>',
                n(x - gap / 2),
                top - 12,
                n(bar_w + gap),
                PLOT_H + 12,
                n(x + bar_w / 2),
                top - 3,
            )
        )
    base = "deferred" if row.state == FUTURE else "recognized"
    original = float(row.original)
    if original:
        top, bottom = max(0.0, original), min(0.0, original)
        out.append(
            format_html(
                '<rect class="original" x="{}" y="{}" width="{}" height="{}" fill="{}">'
                "<title>{} original: {} {}</title></rect>",
                n(x),
                n(y(top)),
                n(bar_w),
                n(max(y(bottom) - y(top), 1)),
                ORIGINAL[base],
                row.label,
                amount_text(row.original, currency),
                currency,
            )
        )
    level = original
    inset = max(bar_w * 0.14, 2)
    for index, cell in enumerate(row.cells):
        if cell is None or not cell.amount:
            continue
        start, level = level, level + float(cell.amount)
        top, bottom = max(start, level), min(start, level)
        color = reduction_color(index)
        scheduled = cell.state == SCHEDULED
        out.append(
            format_html(
                '<rect class="reversal {}" x="{}" y="{}" width="{}" height="{}" fill="{}" '
                'stroke="{}" stroke-width="1.2"{}><title>{} reversal {} ({}): {} {}</title></rect>',
                cell.state,
                n(x + inset),
                n(y(top)),
                n(bar_w - 2 * inset),
                n(max(y(bottom) - y(top), 1)),
                f"url(#rdx-hatch-{index})" if scheduled else color,
                color,
                mark_safe(' stroke-dasharray="3 2"') if scheduled else "",
                row.label,
                index + 1,
                "scheduled: posted when the period closes" if scheduled else "booked",
                amount_text(cell.amount, currency),
                currency,
            )
        )
    if row.reversed:
        out.append(
            format_html(
                '<line class="net" x1="{}" x2="{}" y1="{}" y2="{}"><title>{} net: {} {}</title>'
                "</line>",
                n(x - 3),
                n(x + bar_w + 3),
                n(y(float(row.net))),
                n(y(float(row.net))),
                row.label,
                amount_text(row.net, currency),
                currency,
            )
        )
    return out


def _contra_mark(row: ContraRow, cx: float, cy: float) -> str:
    """One contra entry in the lane: what its journal entry books (P8: a CM-RO shrinks an
    unposted contra; the amount it removed is shown struck)."""
    entry = row.entry
    amount = amount_text(entry.amount)
    state = "posted" if row.posted else "not posted"
    if row.is_reversal:
        return format_html(
            '<text class="contra reversal" x="{}" y="{}">−{}<title>{} contra reversal '
            "(Contra AR Dr / CL Cr) {}: {}</title></text>",
            n(cx),
            n(cy),
            amount,
            row.label,
            amount,
            state,
        )
    if row.fully_removed:
        return format_html(
            '<text class="contra removed" x="{}" y="{}">+{}<title>{} contra {}: removed by '
            "a CM-RO before it was posted</title></text>",
            n(cx),
            n(cy),
            amount,
            row.label,
            amount,
        )
    currency = str(entry.amount.currency)
    booked = amount_text(entry.amount.amount - entry.removed, currency)
    removed = amount_text(entry.removed, currency)
    return format_html(
        '<text class="contra" x="{}" y="{}">+{}<title>{} contra (CL Dr / Contra AR Cr) {}'
        "{}: {}</title></text>{}",
        n(cx),
        n(cy),
        booked,
        row.label,
        booked,
        f" ({amount} less {removed} removed by a CM-RO)" if entry.removed else "",
        state,
        format_html(
            '<text class="contra removed" x="{}" y="{}">+{}</text>', n(cx), n(cy + 12), amount
        )
        if entry.removed
        else "",
    )


def _mark_lines(row: ContraRow) -> int:
    """A contra a CM-RO shrank takes two lines: what it books, and its amount struck."""
    partly = not row.is_reversal and row.entry.removed and not row.fully_removed
    return 2 if partly else 1


def _legend(schedule: ReductionSchedule, width: int) -> tuple[list[str], int]:
    """The legend items, flowing onto a further line when the chart is narrow."""
    swatch = '<rect width="11" height="11" fill="{}"/>'
    items = [
        (format_html(swatch, ORIGINAL["recognized"]), 13, "Original · closed / open"),
        (format_html(swatch, ORIGINAL["deferred"]), 13, "Original · future"),
    ]
    for index, reduction in enumerate(schedule.reductions):
        color = reduction_color(index)
        pair = format_html(
            '<rect width="11" height="11" fill="{}"/>'
            '<rect x="13" width="11" height="11" fill="url(#rdx-hatch-{})" stroke="{}" '
            'stroke-dasharray="3 2"/>',
            color,
            index,
            color,
        )
        items.append((pair, 26, f"{reduction.label} booked / scheduled"))
    if schedule.reductions:
        net = mark_safe('<line x1="0" x2="14" y1="6" y2="6" class="net"/>')
        items.append((net, 15, "Net"))
    out, x, line = [], float(LEFT), 0
    for mark, mark_w, text in items:
        item_w = mark_w + 4 + 6.1 * len(text)
        if x > LEFT and x + item_w > width - RIGHT:
            x, line = float(LEFT), line + 1
        out.append(
            format_html(
                '<g transform="translate({} {})">{}<text class="legend" x="{}" y="10">{}</text>'
                "</g>",
                n(x),
                10 + 17 * line,
                mark,
                mark_w + 4,
                text,
            )
        )
        x += item_w + 16
    return out, line + 1
