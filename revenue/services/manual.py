"""S10: manual actions on an SO line: hold (manual deferral), release, change revenue dates.
Each marks the line for V7 and is audited; the line's contract is locked like a run (I10)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Sum

from core.exceptions import BusinessRuleRefused
from core.models import AuditAction, AuditEvent
from core.services import audit_record, sum_exact

from ..models import RevenueContract, ScheduleRow, SoLine
from ..models.choices import EntryType, RowKind, Source
from .carve import carve_rebuild
from .ledger import CL, REV, Booker
from .periods import period_open_locked
from .splits import period_add, period_first_day, schedule_split

ZERO = Decimal("0")


def _locked(line: SoLine) -> tuple[SoLine, int]:
    RevenueContract.objects.select_for_update().get(pk=line.contract_id)
    line = SoLine.objects.select_for_update().get(pk=line.pk)
    open_period = period_open_locked()
    if open_period is None:
        raise BusinessRuleRefused(rule="S1", message="no open period: open one first")
    return line, open_period


def _sums(line: SoLine, **filters) -> dict[tuple[int, str], Decimal]:
    rows = (
        ScheduleRow.objects.filter(line=line, **filters)
        .values_list("period", "source")
        .annotate(total=Sum("amount"))
        .order_by("period", "source")
    )
    return {(p, s): sum_exact(t) for p, s, t in rows if sum_exact(t)}


def _carve(line: SoLine, open_period: int, action: str) -> None:
    """carve.md K4: the line's schedule changed, so its contract's carve is rebuilt in
    this transaction (a held line releases no carve until released, K3)."""
    carve_rebuild(contract_id=line.contract_id, open_period=open_period, trigger=f"{action} {line}")


def _hold_period(line: SoLine, open_period: int) -> int:
    """The period a new hold keeps the line's release back from (``SoLine.hold_period``):
    the open period, whose rows the hold reverses and holds with every later one, so the
    line has released what it booked in the periods before it (carve.md K2: a held free
    line's W share stops there). A line released in this open period and held again: the
    hold reverses that release's catch-up too, so the line has released only what it had
    before its earlier hold, whose period the release recorded (its audit event)."""
    last = (
        AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(SoLine),
            object_id=str(line.pk),
            action__in=[AuditAction.HOLD, AuditAction.RELEASE],
        )
        .order_by("-at", "-id")
        .values_list("action", "data")
        .first()
    )
    if last is not None and last[0] == AuditAction.RELEASE:
        data = last[1] or {}
        if data.get("period") == open_period and data.get("hold_period"):
            return int(data["hold_period"])
    return open_period


def so_line_hold(*, line: SoLine, actor, reason: str = "") -> SoLine:
    """Hold: the line releases nothing from the open period on; what it had booked there
    and later is reversed in the same periods and kept as held (deferred) rows. The line
    records the period of the hold (``_hold_period``)."""
    with transaction.atomic():
        line, open_period = _locked(line)
        if line.hold:
            raise BusinessRuleRefused(
                rule="S10", message=f"{line} is already on hold", field="hold"
            )
        booker = Booker(open_period=open_period)
        for (period, source), total in _sums(line, period__gte=open_period, held=False).items():
            booker.entry(
                line=line,
                period=period,
                source_type=source,
                entry_type=EntryType.REVERSAL,
                dr=REV,
                cr=CL,
                amount=total,
                inbound_id=None,
            )
        ScheduleRow.objects.filter(line=line, period__gte=open_period, held=False).update(held=True)
        booker.flush()
        line.hold = True
        line.hold_period = _hold_period(line, open_period)
        line.manually_released = True
        line.save(update_fields=["hold", "hold_period", "manually_released", "updated_at"])
        _carve(line, open_period, "hold")
        audit_record(
            document=line,
            actor=actor,
            action=AuditAction.HOLD,
            from_state="released",
            to_state="hold",
            comment=reason,
            data={"period": open_period, "hold_period": line.hold_period},
        )
    return line


def so_line_release(*, line: SoLine, actor, reason: str = "") -> SoLine:
    """Release a held line: everything due catches up in the open period, later periods
    release in their own period."""
    with transaction.atomic():
        line, open_period = _locked(line)
        if not line.hold:
            raise BusinessRuleRefused(rule="S10", message=f"{line} is not on hold", field="hold")
        booker = Booker(open_period=open_period)
        for (period, source), total in _sums(line, held=True).items():
            booker.entry(
                line=line,
                period=period,
                source_type=source,
                entry_type=EntryType.CATCH_UP if period <= open_period else EntryType.RELEASE,
                dr=CL,
                cr=REV,
                amount=total,
                inbound_id=None,
            )
        ScheduleRow.objects.filter(line=line, held=True).update(held=False)
        booker.flush()
        held_from = line.hold_period
        line.hold = False
        line.hold_period = None
        line.manually_released = True
        line.save(update_fields=["hold", "hold_period", "manually_released", "updated_at"])
        _carve(line, open_period, "release")
        audit_record(
            document=line,
            actor=actor,
            action=AuditAction.RELEASE,
            from_state="hold",
            to_state="released",
            comment=reason,
            # a hold again in this period takes the release back (``_hold_period``)
            data={"period": open_period, "hold_period": held_from},
        )
    return line


def so_line_dates_change(
    *, line: SoLine, start: date, end: date, actor, reason: str = ""
) -> SoLine:
    """Change the revenue dates: the future rows are rebuilt over the new dates (each
    source keeps its future total); if the new dates end before the future, that amount
    is released in the open period. Recognized revenue is not touched."""
    if not start or not end:
        raise BusinessRuleRefused(rule="S10", message="give both dates", field="start_date")
    if end < start:
        raise BusinessRuleRefused(
            rule="S10", message=f"end {end} is before start {start}", field="end_date"
        )
    with transaction.atomic():
        line, open_period = _locked(line)
        if (start, end) == (line.rev_start_date, line.rev_end_date):
            return line
        first_future = period_first_day(period_add(open_period, 1))
        current = _sums(line, period__gt=open_period)
        totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for (_, source), amount in current.items():
            totals[source] += amount
        target: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
        for source, total in totals.items():
            if end < first_future:
                target[(open_period, source)] += total
                continue
            for period, part in schedule_split(
                total=total,
                currency=line.currency,
                method=line.rev_method,
                start=max(start, first_future),
                end=end,
            ):
                target[(period, source)] += part
        booker = Booker(open_period=open_period)
        for key in sorted(set(current) | set(target)):
            delta = target.get(key, ZERO) - current.get(key, ZERO)
            booker.schedule(
                line=line,
                period=key[0],
                source=key[1],
                amount=delta,
                kind=RowKind.DATE_CHANGE,
                inbound_id=None,
                held=line.hold,
                catch_up=False,
            )
        booker.flush()
        old = (line.rev_start_date, line.rev_end_date)
        line.rev_start_date, line.rev_end_date = start, end
        line.dates_changed = True
        line.full_clean(exclude=["contract"])
        line.save()
        _carve(line, open_period, "dates")
        audit_record(
            document=line,
            actor=actor,
            action=AuditAction.CHANGE_REVENUE_DATES,
            from_state=f"{old[0]}–{old[1]}",
            to_state=f"{start}–{end}",
            comment=reason,
        )
    return line


__all__ = ["Source", "so_line_dates_change", "so_line_hold", "so_line_release"]
