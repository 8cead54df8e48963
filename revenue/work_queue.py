"""The revenue part of the home page's work queue (``core.work_queue``): lines stopped in
staging by reason, RORDs awaiting review (I5), collection runs running or failed, and the
open period with its pre-close checklist (M4). Reads indexes built for these screens: the
stopped lines' codes come from ``inbound_error_codes`` without reading the table."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from core.work_queue import ALERT, STATE, QueueItem

from .models import CollectionRun, InboundLine, Period, ValidationRule
from .models.choices import LineStatus
from .reports.checklist import BLOCKER, WARNING, checklist_run
from .selectors_ledger import REVIEW_CODES, rords_awaiting_review
from .services.collection import SYSTEM_ERROR
from .services.parsing import PARSE_ERROR
from .services.validation import WAITING

AREA = "Revenue"
SHOWN_CODES = 4  # the most frequent reasons one by one, the rest together
FAILED_DAYS = 7
REASONS = {
    PARSE_ERROR: "a value could not be read",
    SYSTEM_ERROR: "a system error while collecting",
}


def _inbound(query: str) -> str:
    return f"{reverse('admin:revenue_inboundline_changelist')}?{query}"


def stopped_by_code() -> Counter:
    """Stopped lines per error code (a line with two codes counts under each)."""
    rows = (
        InboundLine.objects.filter(status=LineStatus.ERROR)
        .values_list("error_codes")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: Counter = Counter()
    for codes, n in rows:
        for code in filter(None, (codes or "").split(";")):
            counts[code] += n
    return counts


def _staging_items() -> list[QueueItem]:
    counts = stopped_by_code()
    waiting = counts.pop(WAITING, 0)
    for code in REVIEW_CODES:  # RORDs awaiting review have their own line
        counts.pop(code, None)
    words = dict(ValidationRule.objects.values_list("code", "message"))
    items = []
    ranked = counts.most_common()
    for code, n in ranked[:SHOWN_CODES]:
        items.append(
            QueueItem(
                area=AREA,
                label=f"Stopped: {REASONS.get(code) or words.get(code) or code}",
                count=n,
                url=_inbound(f"status__exact={LineStatus.ERROR}&error_code={code}"),
                tone=ALERT,
                detail=f"code {code}",
            )
        )
    rest = sum(n for _, n in ranked[SHOWN_CODES:])
    if rest or not ranked:
        items.append(
            QueueItem(
                area=AREA,
                label="Stopped: other reasons" if ranked else "Lines stopped in staging",
                count=rest,
                url=_inbound(f"status__exact={LineStatus.ERROR}"),
                tone=ALERT,
                detail="correct them, or delete what should not be booked",
            )
        )
    if waiting:
        items.append(
            QueueItem(
                area=AREA,
                label="Waiting for an earlier line",
                count=waiting,
                url=_inbound(f"error_code={WAITING}"),
                tone=STATE,
                detail="collected by themselves once it is",
            )
        )
    return items


def _review_item() -> QueueItem:
    unmarked = rords_awaiting_review().exclude(rord_review_completed="Y").count()
    return QueueItem(
        area=AREA,
        label="RORDs awaiting review",
        count=unmarked,
        url=_inbound("rord_review=unmarked"),
        detail="review them, then tick RORD Review Completed",
    )


def _run_items() -> list[QueueItem]:
    since = timezone.now() - timedelta(days=FAILED_DAYS)
    base = reverse("admin:revenue_collectionrun_changelist")
    active = CollectionRun.objects.filter(
        status__in=[CollectionRun.Status.QUEUED, CollectionRun.Status.RUNNING]
    ).count()
    failed = CollectionRun.objects.filter(
        status__in=[CollectionRun.Status.FAILED, CollectionRun.Status.INTERRUPTED],
        created_at__gte=since,
    ).count()
    return [
        QueueItem(
            area=AREA,
            label="Collection runs running",
            count=active,
            url=f"{base}?status__exact={CollectionRun.Status.RUNNING}",
            tone=STATE,
            detail="queued or collecting now",
        ),
        QueueItem(
            area=AREA,
            label="Collection runs failed",
            count=failed,
            url=f"{base}?status__exact={CollectionRun.Status.FAILED}",
            tone=ALERT,
            detail=f"failed or interrupted in the last {FAILED_DAYS} days",
        ),
    ]


def _period_item() -> QueueItem:
    period = Period.objects.filter(status=Period.Status.OPEN).first()
    if period is None:
        return QueueItem(
            area=AREA,
            label="No open period",
            count=None,
            url=reverse("admin:revenue_period_changelist"),
            tone=ALERT,
            detail="open the first period before collecting",
        )
    rows = checklist_run(period=period.id, started_at=timezone.now())
    blockers = sum(1 for row in rows if row.severity == BLOCKER)
    warnings = sum(1 for row in rows if row.severity == WARNING)
    if blockers:
        state = f"{blockers} blocker(s), {warnings} warning(s) on the checklist"
    elif warnings:
        state = f"ready to close; {warnings} warning(s) to look at"
    else:
        state = "ready to close: every check passes"
    return QueueItem(
        area=AREA,
        label=f"Open period: {period.label}",
        count=None,
        url=reverse("admin:revenue_period_close"),
        tone=ALERT if blockers else STATE,
        detail=state,
    )


def revenue_work_queue(request) -> list[QueueItem]:
    user = request.user
    items = []
    if user.has_perm("revenue.view_inboundline"):
        items += _staging_items()
        items.append(_review_item())
    if user.has_perm("revenue.view_collectionrun"):
        items += _run_items()
    if user.has_perm("revenue.view_period"):
        items.append(_period_item())
    return items
