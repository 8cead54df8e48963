"""A chart of an SO line's reductions (P2–P8, Chart.js through
admin/revenue/includes/chart.html).

Per period, the original release as a bar with each RORD / CM-R's reversal laid over it as
a downward segment (scheduled reversals hatched: posted when their period closes) and the
net as a dark tick. The contra AR entries of a period (P7, P8) are in its tooltip.
"""

from __future__ import annotations

from django.urls import reverse

from ..selectors_ledger import FUTURE, SCHEDULED, ContraRow, ReductionSchedule
from .chartjs import chart_bar, chart_links
from .charts import period_axis_labels, schedule_anchor
from .common import amount_text

PALETTE = ("#c0392b", "#d9730d", "#8e44ad", "#b03a6f", "#6d4c41", "#00838f")
ORIGINAL = {"recognized": "#8fd1a8", "deferred": "#a9cdee"}
NET = "#1d2731"


def reduction_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def contra_note(row: ContraRow) -> str:
    """One contra entry as its period's tooltip says it (P8: a CM-RO shrinks an unposted
    contra; what it removed is said)."""
    entry = row.entry
    currency = str(entry.amount.currency)
    amount = amount_text(entry.amount, currency)
    state = "posted" if row.posted else "not posted"
    if row.is_reversal:
        return f"Contra reversal -{amount} (Contra AR Dr / CL Cr), {state}"
    if row.fully_removed:
        return f"Contra +{amount}: removed by a CM-RO before it was posted"
    if entry.removed:
        booked = amount_text(entry.amount.amount - entry.removed, currency)
        removed = amount_text(entry.removed, currency)
        return (
            f"Contra +{booked} (CL Dr / Contra AR Cr): {amount} less {removed} removed "
            f"by a CM-RO, {state}"
        )
    return f"Contra +{amount} (CL Dr / Contra AR Cr), {state}"


def reduction_anchor(label: str) -> str:
    """The reductions table's row of a period ('2026-11') on the SO line page."""
    return f"#reduction-{label}"


def reductions_chart(schedule: ReductionSchedule, contra: list[ContraRow]) -> dict | None:
    rows = schedule.rows
    if not rows:
        return None
    currency = schedule.currency
    row_anchor = reduction_anchor if schedule.reductions else schedule_anchor
    anchors = [row_anchor(row.label) for row in rows]
    closed = [row.original if row.state != FUTURE and row.original else None for row in rows]
    future = [row.original if row.state == FUTURE and row.original else None for row in rows]
    datasets = [
        {"label": "Original · closed / open", "data": closed, "color": ORIGINAL["recognized"]},
        {"label": "Original · future", "data": future, "color": ORIGINAL["deferred"]},
    ]
    links = [chart_links(anchors, closed), chart_links(anchors, future)]
    segments = [([None] * len(rows), [None] * len(rows)) for _ in schedule.reductions]
    for p, row in enumerate(rows):
        level = row.original
        for index, cell in enumerate(row.cells):
            if cell is None or not cell.amount:
                continue
            segments[index][cell.state == SCHEDULED][p] = (level, level + cell.amount)
            level += cell.amount
    for index, reduction in enumerate(schedule.reductions):
        color = reduction_color(index)
        inbound = reduction.inbound
        url = reverse("admin:revenue_inboundline_change", args=[inbound.pk]) if inbound else None
        booked, scheduled = segments[index]
        datasets.append(
            {"label": f"{reduction.label} booked", "data": booked, "color": color, "width": 0.6}
        )
        datasets.append(
            {
                "label": f"{reduction.label} scheduled",
                "data": scheduled,
                "color": color,
                "width": 0.6,
                "pattern": "hatch",
            }
        )
        links += [chart_links([url] * len(rows), booked), chart_links([url] * len(rows), scheduled)]
    if schedule.reductions:
        net = [row.net if row.reversed else None for row in rows]
        datasets.append({"label": "Net", "data": net, "color": NET, "type": "marker"})
        links.append(chart_links(anchors, net))

    by_period: dict[int, list[str]] = {}
    for entry in contra:
        by_period.setdefault(entry.entry.period, []).append(contra_note(entry))
    open_index = next((i for i, row in enumerate(rows) if row.is_open), None)
    return chart_bar(
        id="chart-reductions",
        title="Original schedule, reversals and net",
        labels=period_axis_labels([row.label for row in rows]),
        datasets=datasets,
        currency=currency,
        overlay=True,
        links=links,
        y_label=f"Revenue per period ({currency})",
        highlight=None if open_index is None else {"index": open_index, "label": "open"},
        notes=[by_period.get(row.period) for row in rows],
        height=300,
        label_head="Period",
        aria_label=(
            f"Original schedule and reductions in {currency}: original "
            f"{amount_text(schedule.original, currency)}, reversed "
            f"{amount_text(schedule.reversed, currency)} (booked "
            f"{amount_text(schedule.booked, currency)}, scheduled "
            f"{amount_text(schedule.scheduled, currency)}), net "
            f"{amount_text(schedule.net, currency)}."
        ),
    )
