"""A server-rendered SVG chart of a revenue contract's allocation (A3): per line, net ESP
against allocated, with the carve at the end of the bars. No JavaScript."""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .charts import n, tick_text
from .charts_reductions import axis_range
from .common import amount_text

ESP_COLOR, ALLOCATED_COLOR = "#b9c2cb", "#2f7dc1"
ROW_H, LABEL_W, ALLOC_W = 38, 190, 980


def allocation_svg(lines, currency: str) -> SafeString:
    """Horizontal bars per line: net ESP (grey) and allocated (blue), carve at the end."""
    lines = [line for line in lines if line.currency == currency]
    if not lines:
        return mark_safe("")
    values = [float(line.net_sll_prc) for line in lines]
    values += [float(line.allocated.amount) for line in lines if line.allocated is not None]
    low, high = min([0.0, *values]), max([0.0, *values])
    step, x_min, x_max = axis_range(low, high)
    plot_w = ALLOC_W - LABEL_W - 110
    top = 30
    height = top + ROW_H * len(lines) + 28

    def x(value: float) -> float:
        return LABEL_W + plot_w * (value - x_min) / (x_max - x_min)

    out = [
        format_html(
            '<svg class="revenue-svg revenue-allocation" xmlns="http://www.w3.org/2000/svg"'
            ' viewBox="0 0 {} {}" width="100%" style="max-width:{}px" role="img" '
            'aria-label="Net ESP and allocated per line in {}">',
            ALLOC_W,
            height,
            ALLOC_W,
            currency,
        )
    ]
    tick = x_min
    while tick <= x_max + step / 2:
        out.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="xtick" x="{}" y="{}">{}</text>',
                n(x(tick)),
                n(x(tick)),
                top - 4,
                top + ROW_H * len(lines),
                n(x(tick)),
                top + ROW_H * len(lines) + 16,
                tick_text(tick, step, currency),
            )
        )
        tick += step
    for index, line in enumerate(lines):
        y0 = top + index * ROW_H
        out.append(
            format_html(
                '<text class="line-label" x="{}" y="{}">{}</text>'
                '<text class="line-item" x="{}" y="{}">{}</text>',
                LABEL_W - 10,
                y0 + 15,
                line.so_line_id,
                LABEL_W - 10,
                y0 + 28,
                line.item or "",
            )
        )
        out.append(
            _hbar(
                x,
                y0 + 5,
                12,
                float(line.net_sll_prc),
                ESP_COLOR,
                f"{line.so_line_id} net ESP",
                line.net_sll_prc,
                currency,
            )
        )
        if line.allocated is not None:
            allocated = line.allocated.amount
            out.append(
                _hbar(
                    x,
                    y0 + 18,
                    12,
                    float(allocated),
                    ALLOCATED_COLOR,
                    f"{line.so_line_id} allocated",
                    allocated,
                    currency,
                )
            )
            carve = line.carve.amount if line.carve is not None else Decimal(0)
            out.append(
                format_html(
                    '<text class="carve{}" x="{}" y="{}">carve {}{}</text>',
                    " negative" if carve < 0 else "",
                    n(max(x(float(allocated)), x(float(line.net_sll_prc)), x(0)) + 6),
                    y0 + 28,
                    "+" if carve > 0 else "",
                    amount_text(carve, currency),
                )
            )
        else:
            why = "returned (P2)" if line.is_returned else "no SSP: outside the pool"
            out.append(
                format_html(
                    '<text class="carve none" x="{}" y="{}">{}</text>',
                    n(max(x(float(line.net_sll_prc)), x(0)) + 6),
                    y0 + 28,
                    why,
                )
            )
    out.append(
        format_html(
            '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>',
            n(x(0)),
            n(x(0)),
            top - 4,
            top + ROW_H * len(lines),
        )
    )
    legend_x = LABEL_W
    for color, text in ((ESP_COLOR, "Net ESP"), (ALLOCATED_COLOR, "Allocated (A3)")):
        out.append(
            format_html(
                '<rect x="{}" y="8" width="11" height="11" fill="{}"/>'
                '<text class="legend" x="{}" y="18">{}</text>',
                legend_x,
                color,
                legend_x + 15,
                text,
            )
        )
        legend_x += 30 + 6.2 * len(text)
    out.append(mark_safe("</svg>"))
    return mark_safe("".join(out))


def _hbar(x, y0: float, h: float, value: float, color: str, title: str, amount, currency):
    left, right = min(x(0), x(value)), max(x(0), x(value))
    return format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {} {}</title></rect>',
        n(left),
        n(y0),
        n(max(right - left, 1)),
        h,
        color,
        title,
        amount_text(amount, currency),
        currency,
    )
