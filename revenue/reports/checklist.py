"""M4 pre-close checklist: one row per check for the open period.

Checks are functions registered by name; the revenue app registers its own
(``reports.checks``, from ``RevenueConfig.ready``), and other apps add theirs from their
``AppConfig.ready`` (the orders app registers M5's billing ↔ revenue check) so that revenue
never imports them (spec README). A function returns one or more rows; a check with
nothing to report returns one ``ok`` row with count 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from django.utils import timezone

from core.exceptions import BusinessRuleRefused
from core.models import AuditAction

from .base import COUNT, TEXT, Column, Report

BLOCKER, WARNING, OK = "blocker", "warning", "ok"
SEVERITIES = (BLOCKER, WARNING, OK)
CLOSE_BLOCKED = AuditAction.CLOSE_BLOCKED  # the audit action of an auto-close that did not close


@dataclass
class Check:
    """One row of the checklist. ``detail`` names what to look at (the command prints it);
    ``url`` is where the admin links it."""

    check: str
    severity: str
    count: int
    detail: str
    url: str = ""

    def as_data(self) -> dict:
        """What an audit event keeps of it (no link: links change, the facts do not)."""
        return {k: v for k, v in asdict(self).items() if k != "url"}


# (*, period: int, started_at: datetime) -> list[Check]
CheckFunction = Callable[..., list[Check]]
_REGISTRY: dict[str, tuple[int, int, CheckFunction]] = {}


def checklist_register(name: str, function: CheckFunction, *, rank: int = 100) -> None:
    """Add (or replace) a named check. Checks run and show by ``rank`` (the revenue app's
    own use 0), then in the order they were first registered."""
    order = _REGISTRY[name][1] if name in _REGISTRY else len(_REGISTRY)
    _REGISTRY[name] = (rank, order, function)


def checklist_registered() -> dict[str, CheckFunction]:
    ordered = sorted(_REGISTRY.items(), key=lambda item: item[1][:2])
    return {name: function for name, (_, _, function) in ordered}


def checklist_run(*, period: int, started_at: datetime) -> list[Check]:
    """Every registered check for ``period``; lines staged before ``started_at`` count."""
    rows: list[Check] = []
    for function in checklist_registered().values():
        rows.extend(function(period=period, started_at=started_at))
    return rows


def checklist_blockers(rows: list[Check]) -> list[Check]:
    return [row for row in rows if row.severity == BLOCKER]


def checklist_words(rows: list[Check]) -> str:
    """'3 lines … still NEW: collect them first; 1 collection run …' (a refusal, an event)."""
    return "; ".join(row.detail for row in rows)


CHECKLIST_COLUMNS = [
    Column("check", "Check"),
    Column("severity", "Severity"),
    Column("count", "Count", COUNT),
    Column("detail", "Detail", TEXT),
]


def checklist_report(*, period: int | None = None) -> Report:
    """M4 as a report (``revenue_report checklist``): the open period's checks now. Only
    the open period has a checklist: another ``period`` is refused, naming it."""
    from ..services.periods import period_open_get  # services import this module

    current = period_open_get()
    if current is None:
        raise BusinessRuleRefused(
            rule="S1", message="no open period: the checklist is for the open period"
        )
    if period is not None and int(period) != current.id:
        raise BusinessRuleRefused(
            rule="M4",
            message=f"period: the checklist is for the open period {current.id}, not {period}",
            field="period",
        )
    rows = checklist_run(period=current.id, started_at=timezone.now())
    return Report(
        kind="checklist",
        title="Pre-close checklist",
        period=current.id,
        columns=CHECKLIST_COLUMNS,
        rows=[{**asdict(row)} for row in rows],
        totals=[],
        identity="Only blockers refuse the close (unless forced with a reason); warnings "
        "name what to look at.",
    )


def close_blocked_events(*, period: int):
    """S2 + M4: the auto-close attempts that did not close ``period`` (newest first)."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import AuditEvent

    from ..models import Period

    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Period, for_concrete_model=False),
        object_id=str(period),
        action=CLOSE_BLOCKED,
    ).order_by("-at", "-id")


def close_blocked_open():
    """The last auto-close that did not close the open period (None if it has not been
    blocked): the admin's home page says so until the period closes."""
    from ..services.periods import period_open_get

    current = period_open_get()
    return close_blocked_events(period=current.id).first() if current else None
