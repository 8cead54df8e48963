"""A chart of a revenue contract's allocation (A3, Chart.js through
admin/revenue/includes/chart.html): per line, net ESP against allocated, with the carve at
the end of the bars. A click on a line's bar opens the SO line."""

from __future__ import annotations

from django.urls import reverse

from .chartjs import chart_bar, chart_links
from .common import amount_text

ESP_COLOR, ALLOCATED_COLOR = "#b9c2cb", "#2f7dc1"


def _carve_label(line, currency: str) -> dict:
    if line.allocated is None:
        why = "returned: outside the pool" if line.is_returned else "no SSP: outside the pool"
        return {"text": why, "tone": "quiet"}
    carve = line.carve.amount if line.carve is not None else 0
    sign = "+" if carve > 0 else ""
    return {
        "text": f"carve {sign}{amount_text(carve, currency)}",
        "tone": "bad" if carve < 0 else "good",
    }


def allocation_chart(lines, currency: str) -> dict | None:
    """Horizontal bars per line: net ESP (grey) and allocated (blue); the carve, or why
    the line has no allocation, past the end of its bars."""
    lines = [line for line in lines if line.currency == currency]
    if not lines:
        return None
    esp = [line.net_sll_prc for line in lines]
    allocated = [None if line.allocated is None else line.allocated.amount for line in lines]
    carves = [_carve_label(line, currency) for line in lines]
    pairs = list(zip(carves, allocated, strict=True))
    on_allocated = [None if a is None else c for c, a in pairs]
    on_esp = [c if a is None else None for c, a in pairs]  # why there is no allocation
    urls = [reverse("admin:revenue_soline_change", args=[line.pk]) for line in lines]
    return chart_bar(
        id=f"chart-allocation-{currency}",
        title=f"{currency}: net ESP and allocated per line",
        labels=[[line.so_line_id, line.item] if line.item else line.so_line_id for line in lines],
        datasets=[
            {
                "label": "Net ESP",
                "data": esp,
                "color": ESP_COLOR,
                "point_labels": on_esp,
            },
            {
                "label": "Allocated",
                "data": allocated,
                "color": ALLOCATED_COLOR,
                "point_labels": on_allocated,
            },
        ],
        currency=currency,
        horizontal=True,
        links=[urls, chart_links(urls, allocated)],
        y_label=f"Amount ({currency})",
        height=70 + 46 * len(lines),
        label_head="SO line",
        aria_label=(
            f"Net ESP and allocated of {len(lines)} line{'s' if len(lines) != 1 else ''} "
            f"in {currency}: Σ net ESP {amount_text(sum(esp), currency)}, Σ allocated "
            f"{amount_text(sum(a for a in allocated if a is not None), currency)}."
        ),
    )
