"""The carve on the SO line and revenue contract pages as texts (carve.md K9): a line's
carve recognized (booked through the open period) and deferred, the contract's treatment,
a line's carve rows with what triggered them, and a contract's allocation versions.

Everything here reads what the page already holds, or one query whatever the size.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse
from django.utils.html import format_html

from core.services import sum_exact

from ..models import CarveEntry, CarveVersion, SoLine, Treatment
from ..models.periods import period_label
from .common import amount_text

ZERO = Decimal("0")
SHORT = {Treatment.RETROSPECTIVE: "Retrospective", Treatment.PROSPECTIVE: "Prospective"}
TREATMENT_HINT = {
    Treatment.RETROSPECTIVE: "A change re-shares the whole contract; closed periods catch "
    "up in the open one",
    Treatment.PROSPECTIVE: "Recognized revenue stays; the rest is spread over what is "
    "still to deliver",
}


def treatment_label(treatment: str, *, short: bool = False) -> str:
    """The contract's treatment in words ('' when it has none yet)."""
    if not treatment:
        return ""
    if short:
        return SHORT.get(treatment, treatment)
    try:
        return Treatment(treatment).label
    except ValueError:
        return treatment


def treatment_hint(treatment: str) -> str:
    return TREATMENT_HINT.get(treatment, "")


@dataclass
class LineCarve:
    """A line's carve split (None when the line has no carve)."""

    carve: Decimal | None
    recognized: Decimal | None
    deferred: Decimal | None
    treatment: str

    @property
    def has_carve(self) -> bool:
        return self.carve is not None


def line_carve(line: SoLine, treatment: str) -> LineCarve:
    """``line`` comes from ``so_lines_with_amounts`` (``carve_recognized`` annotated), as
    in the lines export: recognized = carve booked through the open period, deferred = the
    rest of CARVE; empty when CARVE is."""
    if line.carve is None:
        return LineCarve(None, None, None, "")
    carve = line.carve.amount
    recognized = sum_exact(getattr(line, "carve_recognized", None))
    return LineCarve(carve, recognized, carve - recognized, treatment)


@dataclass
class CarveTotals:
    """Per currency: the carve of every line that has one (returned lines included: a
    prospective reduction can leave carve on them), recognized and deferred."""

    currency: str
    carve: Decimal = ZERO
    recognized: Decimal = ZERO
    deferred: Decimal = ZERO
    lines: int = 0
    outside: Decimal = ZERO  # carve left on lines out of the pool (a returned line's)

    @property
    def balanced(self) -> bool:
        return self.carve == 0


def carve_totals(lines, treatment: str) -> dict[str, CarveTotals]:
    out: dict[str, CarveTotals] = {}
    for line in lines:
        t = out.setdefault(line.currency, CarveTotals(currency=line.currency))
        split = line_carve(line, treatment)
        if not split.has_carve:
            continue
        t.lines += 1
        t.carve += split.carve
        t.recognized += split.recognized
        t.deferred += split.deferred
        if line.ext_ssp is None:
            t.outside += split.carve
    return out


def trigger_link(record) -> str:
    """What caused a carve row or version, as the carve export spells it ('SO3002-1#12':
    the inbound line's SO_LINE_ID and staging id; 'hold SO3001-1': a manual action), with
    the inbound line's type in front and a link to its page when there is one."""
    inbound = record.inbound_line if record.inbound_line_id else None
    if inbound is None:
        return record.trigger
    url = reverse("admin:revenue_inboundline_change", args=[inbound.pk])
    return format_html(
        '<span class="revenue-type">{}</span> <a href="{}" title="staging line #{}">{}</a>',
        inbound.tran_type,
        url,
        inbound.pk,
        record.trigger,
    )


# --- an SO line's carve rows -----------------------------------------------------------------


def so_line_carve_rows(line: SoLine, *, open_period: int | None) -> dict:
    """The line's carve rows (one query), oldest first, with a running total; posted =
    the period is before the open period (its close posted it)."""
    currency = line.currency
    entries = (
        CarveEntry.objects.filter(line=line).select_related("inbound_line").order_by("period", "id")
    )
    rows, running = [], ZERO
    for entry in entries:
        amount = entry.amount.amount
        running += amount
        posted = open_period is not None and entry.period < open_period
        rows.append(
            {
                "pk": entry.pk,
                "period": period_label(entry.period),
                "is_open": entry.period == open_period,
                "entry_type": entry.get_entry_type_display(),
                "amount": amount_text(amount, currency),
                "negative": amount < 0,
                "cumulative": amount_text(running, currency),
                "trigger": trigger_link(entry),
                "posted": "Y" if posted else "N",
            }
        )
    return {"rows": rows, "total": amount_text(running, currency)}


# --- a contract's allocation versions ----------------------------------------------------


def contract_versions(contract_id: int) -> list[dict]:
    """How the contract's allocation was placed, newest first (one query)."""
    versions = (
        CarveVersion.objects.filter(contract_id=contract_id)
        .select_related("inbound_line")
        .order_by("-created_at", "-id")
    )
    return [
        {
            "pk": version.pk,
            "treatment": treatment_label(version.treatment),
            "hint": treatment_hint(version.treatment),
            "closed_period": period_label(version.closed_period)
            if version.closed_period
            else "none closed yet",
            "open_period": period_label(version.open_period),
            "trigger": trigger_link(version),
            "created_at": version.created_at,
        }
        for version in versions
    ]
