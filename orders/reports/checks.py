"""M4's billing check, registered from ``OrdersConfig.ready`` (revenue never imports
orders): billing documents of the period whose revenue lines are missing, stopped or
different (close.md M4, M5)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.urls import NoReverseMatch, reverse

from revenue.models.periods import period_label
from revenue.reports.checklist import OK, WARNING, Check

from .reconcile import COLLECTED, MISSING, STOPPED
from .reconcile_totals import reconcile_summary

CHECK = "billing_reconcile"


def reconcile_url() -> str:
    """The admin's reconciliation page, when the admin has it."""
    try:
        return reverse("admin:report", args=["billing-reconcile"])
    except NoReverseMatch:
        return ""


def _words(counts: Counter) -> str:
    names = {MISSING: "missing", STOPPED: "stopped", COLLECTED: "collected for another amount"}
    parts = [f"{counts[s]} {names.get(s, s)}" for s in (MISSING, STOPPED, COLLECTED) if counts[s]]
    parts += [f"{n} {s}" for s, n in sorted(counts.items()) if s not in names]
    return ", ".join(parts)


def billing_reconcile_check(*, period: int, started_at: datetime | None = None) -> list[Check]:
    """One row: how many lines of the period's billing documents revenue is missing, has
    stopped, or collected for a different amount (a warning: it never blocks a close)."""
    counts: Counter = reconcile_summary(period=period).attention
    count = sum(counts.values())
    label = period_label(period)
    if not count:
        return [
            Check(
                check=CHECK,
                severity=OK,
                count=0,
                detail=f"every billing document line of {label} reached revenue as billed "
                "or is on its way",
                url=reconcile_url(),
            )
        ]
    lines = "line" if count == 1 else "lines"
    return [
        Check(
            check=CHECK,
            severity=WARNING,
            count=count,
            detail=f"{count} billing document {lines} of {label} differ from revenue: "
            f"{_words(counts)} (billing_reconcile --period {period})",
            url=reconcile_url(),
        )
    ]
