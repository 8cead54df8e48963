"""The panels of an SO line page as texts: its figures grouped the way a revenue accountant
reads them (sell price and reductions P1–P5, revenue S10, allocation A2–A3 with the carve
booked K9, contra P7–P8), the reductions table (a column per RORD / CM-R) and the contra AR
table.

A returned line (return flag Y) shows recognized, deferred and allocatable empty (P2),
as the lines export does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse
from django.utils.html import format_html

from ..models import SoLine
from ..models.periods import period_label
from ..selectors_ledger import ContraRow, LineFigures, ReductionSchedule
from .carve_panels import line_carve, treatment_hint, treatment_label
from .charts_reductions import reduction_color
from .common import amount_text
from .staging import plain

EMPTY = "—"


@dataclass
class Figure:
    label: str
    value: str
    hint: str = ""
    css: str = ""


@dataclass
class FigureGroup:
    title: str
    rules: str  # the spec's rules behind the group (for readers of the code, not shown)
    figures: list[Figure]


def _money(value: Decimal | None, currency: str, *, empty: str = EMPTY) -> str:
    if value is None:
        return empty
    return format_html(
        '<span class="contra-num{}">{}</span>',
        " revenue-negative" if value < 0 else "",
        amount_text(value, currency),
    )


def _ssp_input(line: SoLine) -> tuple[str, str]:
    if line.ssp_pct is not None:
        return f"SSP_PCT {plain(line.ssp_pct)} %", "Ext SSP = net ELP × SSP_PCT / 100"
    if line.ssp_price is not None:
        return (
            f"SSP_PRICE {plain(line.ssp_price)}",
            "Ext SSP = SSP_PRICE × quantity × term months, less what reductions took",
        )
    return EMPTY, "No SSP: the line stays out of the allocation pool"


def figure_groups(line: SoLine, figures: LineFigures) -> list[FigureGroup]:
    c = figures.currency
    returned = figures.returned
    p2 = "Shown empty on a returned line"
    ssp, ssp_hint = _ssp_input(line)
    net_elp = line.ext_lst_prc.amount + line.reduced_lst_prc
    return [
        FigureGroup(
            "Sell price",
            "P1–P5",
            [
                Figure("SO ESP", _money(figures.esp, c), "EXT_SLL_PRC of the latest SO"),
                Figure("Σ RORD", _money(figures.rord, c), "Sum of the collected RORDs' ESP"),
                Figure("Σ CM-R", _money(figures.cmr, c), "What CM-R lines took off"),
                Figure(
                    "Net sell price",
                    _money(figures.net, c),
                    "N = SO ESP + Σ RORD + Σ CM-R: the schedule's total",
                    "strong",
                ),
                Figure(
                    "ORD_QTY",
                    plain(line.quantity),
                    f"returned {plain(line.returned_qty) or 0}" if line.returned_qty else "",
                ),
            ],
        ),
        FigureGroup(
            "Revenue",
            "S10, P2",
            [
                Figure("Recognized", _money(figures.recognized, c), p2 if returned else ""),
                Figure("Deferred", _money(figures.deferred, c), p2 if returned else ""),
                Figure("Allocatable", _money(figures.allocatable, c), p2 if returned else ""),
                Figure(
                    "Return flag",
                    format_html(
                        '<span class="revenue-flag {}">{}</span>',
                        "yes" if returned else "no",
                        line.return_flag,
                    ),
                    "Y: fully reduced or returned" if returned else "",
                    "returned" if returned else "",
                ),
            ],
        ),
        FigureGroup(
            "Allocation",
            "A2, A3, K9",
            [
                Figure("SSP input", ssp, ssp_hint),
                Figure(
                    "Ext SSP",
                    _money(figures.ext_ssp, c),
                    f"net ELP {amount_text(net_elp, c)}" if line.ssp_pct is not None else "",
                ),
                Figure("Allocated", _money(figures.allocated, c), "Σ ESP × Ext SSP / Σ Ext SSP"),
                Figure(
                    "Carve",
                    _money(figures.carve, c),
                    "allocated − net ESP"
                    + (
                        " (carve-in)"
                        if (figures.carve or 0) > 0
                        else " (carve-out)"
                        if (figures.carve or 0) < 0
                        else ""
                    ),
                ),
                *_carve_figures(line, c),
            ],
        ),
        FigureGroup(
            "Contra AR",
            "P7, P8",
            [
                Figure(
                    "Net billed", _money(figures.net_billed, c), "Σ ESP of INV, CM, CM-R, CM-RO"
                ),
                Figure(
                    "Net sell",
                    _money(figures.esp + figures.rord, c),
                    "Σ ESP of SO and RORD lines",
                ),
                Figure(
                    "Contra outstanding",
                    _money(figures.contra, c),
                    "Contra booked less removed / reversed",
                    "strong",
                ),
            ],
        ),
    ]


def _carve_figures(line: SoLine, currency: str) -> list[Figure]:
    """The carve booked as adjustment revenue through the open period (recognized) and
    still to come (deferred), and how the contract's allocation was last placed; none
    without a carve."""
    split = line_carve(line, line.contract.treatment)
    if not split.has_carve:
        return []
    return [
        Figure(
            "Carve recognized",
            _money(split.recognized, currency),
            "Booked as adjustment revenue through the open period",
        ),
        Figure("Carve deferred", _money(split.deferred, currency), "Carve − carve recognized"),
        Figure(
            "Treatment",
            treatment_label(split.treatment, short=True) or EMPTY,
            treatment_hint(split.treatment),
        ),
    ]


# --- reductions: the original schedule, a column per RORD / CM-R, the net ----------------


def _text(value: Decimal | None, currency: str) -> str:
    return "" if value is None else amount_text(value, currency)


def _inbound_link(inbound, label: str) -> str:
    if inbound is None:
        return label
    url = reverse("admin:revenue_inboundline_change", args=[inbound.pk])
    return format_html('<a href="{}" title="staging line #{}">{}</a>', url, inbound.pk, label)


def _dates(inbound) -> str:
    if inbound is None or not inbound.start_date:
        return ""
    end = inbound.end_date or inbound.start_date
    return f"{period_label_of(inbound.start_date)} – {period_label_of(end)}"


def period_label_of(day) -> str:
    return f"{day:%Y-%m}"


def reduction_table(schedule: ReductionSchedule) -> dict:
    """The reductions table of an SO line as texts (amounts in the line's currency)."""
    c = schedule.currency
    columns = []
    for index, reduction in enumerate(schedule.reductions):
        inbound = reduction.inbound
        columns.append(
            {
                "label": reduction.label,
                "kind": reduction.kind,
                "link": _inbound_link(inbound, reduction.label),
                "esp": _text(getattr(inbound, "ext_sll_prc", None), c),
                "dates": _dates(inbound),
                "color": reduction_color(index),
                "booked": _text(reduction.booked, c),
                "scheduled": _text(reduction.scheduled, c),
                "total": _text(reduction.total, c),
                "split": bool(reduction.scheduled) and bool(reduction.booked),
            }
        )
    rows = []
    for row in schedule.rows:
        rows.append(
            {
                "label": row.label,
                "state": row.state,
                "is_open": row.is_open,
                "original": _text(row.original, c),
                "cells": [
                    None if cell is None else {"text": _text(cell.amount, c), "state": cell.state}
                    for cell in row.cells
                ],
                "net": _text(row.net, c),
                "changed": bool(row.reversed),
            }
        )
    return {
        "columns": columns,
        "rows": rows,
        "original": _text(schedule.original, c),
        "net": _text(schedule.net, c),
        "reversed": _text(schedule.reversed, c),
        "scheduled": _text(schedule.scheduled, c),
        "booked": _text(schedule.booked, c),
        "has_scheduled": bool(schedule.scheduled),
    }


def contra_table(rows: list[ContraRow], currency: str) -> list[dict]:
    """The contra AR entries of an SO line (P7, P8) as texts, each reversal linked to the
    entry it reverses."""
    out = []
    for row in rows:
        entry = row.entry
        reversal = row.is_reversal
        if reversal:
            state, state_css = ("posted", "posted") if row.posted else ("not posted", "pending")
        elif row.fully_removed:
            state, state_css = "not posted · removed", "removed"
        else:
            state, state_css = ("posted", "posted") if row.posted else ("not posted", "pending")
        links = []
        if entry.reverses_id:
            links.append(
                format_html(
                    'reverses <a href="#contra-{}">#{} ({} contra)</a>',
                    entry.reverses_id,
                    entry.reverses_id,
                    period_label(entry.reverses.period),
                )
            )
        for answer in row.reversed_by:
            links.append(
                format_html(
                    'reversed by <a href="#contra-{}">#{} ({})</a>',
                    answer.pk,
                    answer.pk,
                    period_label(answer.period),
                )
            )
        # a reversal takes its amount off: shown negative, with one minus sign
        amount = _text(-entry.amount.amount if reversal else entry.amount.amount, currency)
        out.append(
            {
                "pk": entry.pk,
                "period": row.label,
                "kind": entry.get_kind_display(),
                "is_reversal": reversal,
                "accounts": "Contra AR Dr / CL Cr" if reversal else "CL Dr / Contra AR Cr",
                "amount": amount,
                "amount_negative": amount.startswith("-"),
                "removed": "" if reversal else _text(entry.removed, currency),
                "reversed": "" if reversal else _text(entry.reversed, currency),
                "outstanding": _text(row.outstanding, currency),
                "booked_by": _inbound_link(entry.inbound_line, row.booked_by),
                "removed_by": _inbound_link(entry.removed_by, row.removed_by)
                if entry.removed_by_id
                else "",
                "links": links,
                "state": state,
                "state_css": state_css,
                "removed_any": bool(entry.removed) and not reversal,
            }
        )
    return out
