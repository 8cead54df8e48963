"""M4 pre-close checklist: one row per check for the open period.

Checks are functions registered by name; the revenue app registers its own, and other
apps add theirs from their ``AppConfig.ready`` (the orders app registers M5's billing ↔
revenue check) so that revenue never imports them (spec README).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

BLOCKER, WARNING, OK = "blocker", "warning", "ok"
SEVERITIES = (BLOCKER, WARNING, OK)


@dataclass
class Check:
    """One row of the checklist. ``detail`` names what to look at (the command prints it);
    ``url`` is where the admin links it."""

    check: str
    severity: str
    count: int
    detail: str
    url: str = ""


# (*, period: int, started_at: datetime) -> list[Check]
CheckFunction = Callable[..., list[Check]]
_REGISTRY: dict[str, CheckFunction] = {}


def checklist_register(name: str, function: CheckFunction) -> None:
    """Add (or replace) a named check; the order of registration is the order shown."""
    _REGISTRY[name] = function


def checklist_registered() -> dict[str, CheckFunction]:
    return dict(_REGISTRY)


def checklist_run(*, period: int, started_at: datetime) -> list[Check]:
    """Every registered check for ``period``; lines staged before ``started_at`` count."""
    rows: list[Check] = []
    for function in _REGISTRY.values():
        rows.extend(function(period=period, started_at=started_at))
    return rows
