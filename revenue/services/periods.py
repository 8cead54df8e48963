"""S1, S2: the open period, closing it (posting, GL transfer file) and the monthly job."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from core.models import AuditAction
from core.parsing import ascii_int
from core.services import audit_record, sum_exact

from ..models import BookedEntry, JournalEntry, Period, ScheduleRow
from ..models.choices import RowKind
from ..reports.checklist import (
    CLOSE_BLOCKED,
    Check,
    checklist_blockers,
    checklist_run,
    checklist_words,
)
from .settings import profile_get
from .splits import period_add, period_of
from .totals import ledger_totals_compact


def period_parse(text: str, *, field: str = "period") -> int:
    """'201901' → 201901; refuses anything that is not a YYYYMM month (S1)."""
    value = str(text).strip()
    period = ascii_int(value, max_digits=6)  # '20261²', '٢٠٢٦٠١': not a period
    if len(value) != 6 or period is None or not 1 <= period % 100 <= 12:
        raise BusinessRuleRefused(
            rule="S1",
            message=f"'{str(text)[:20]}' is not a period: use YYYYMM, e.g. 201901",
            field=field,
        )
    if not 1900 <= period // 100 <= 2999:
        raise BusinessRuleRefused(rule="S1", message=f"'{text}': year out of range", field=field)
    return period


def period_open_get() -> Period | None:
    return Period.objects.filter(status=Period.Status.OPEN).first()


def period_open_locked() -> int | None:
    """The open period, share-locked until the transaction ends: a close waits for the
    batches that book into it, and a batch never books into a period being closed (S1)."""
    sql = "SELECT id FROM revenue_period WHERE status = 'OPEN'"
    if connection.vendor == "postgresql":
        sql += " FOR SHARE"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return row[0] if row else None


def period_open(*, period: int, actor) -> Period:
    """S1: set the first open period. Only while the ledger has no entries."""
    with transaction.atomic():
        list(Period.objects.select_for_update().all())
        if JournalEntry.objects.exists() or ScheduleRow.objects.exists():
            current = period_open_get()
            raise BusinessRuleRefused(
                rule="S1",
                message=(
                    f"the ledger already has entries (open period {current.id if current else '-'})"
                    ": periods move forward only by closing"
                ),
                field="period",
            )
        Period.objects.all().delete()
        opened = Period.objects.create(id=period, status=Period.Status.OPEN)
        audit_record(document=opened, actor=actor, action=AuditAction.OPEN, to_state="OPEN")
    return opened


REASON_MAX = 2000


def _force_reason(*, force: bool, reason: str) -> str:
    """M4: a forced close needs a reason, which is audited."""
    reason = (reason or "").strip()
    if not force:
        return ""
    if not reason:
        raise BusinessRuleRefused(
            rule="M4",
            message="reason: a forced close needs a reason (why close despite the blockers)",
            field="reason",
        )
    if len(reason) > REASON_MAX or "\x00" in reason:
        raise BusinessRuleRefused(
            rule="M4",
            message=f"reason: at most {REASON_MAX} characters of text",
            field="reason",
        )
    return reason


def period_close(
    *,
    actor,
    through: int | None = None,
    force: bool = False,
    reason: str = "",
    on_checklist: Callable[[int, list[Check]], None] | None = None,
) -> list[Period]:
    """S2: close the open period (or every period through ``through``) and open the next.

    M4: before each close the pre-close checklist runs (lines staged before this call
    count); a blocker refuses the close unless ``force`` with a ``reason``, which the close
    event records with the blockers it overrode. With ``through``, the periods closed
    before a blocked one stay closed and the refusal names the blocked period (its facts:
    ``period``, ``blockers``, ``closed``). ``on_checklist(period, rows)`` sees each
    period's checklist (the command prints it).

    Each close: held rows roll into the next period (S10), the period's entries are
    posted, its trial balance is kept and its GL transfer file written, all in one
    transaction with an audit event.
    """
    reason = _force_reason(force=force, reason=reason)
    started_at = timezone.now()
    closed: list[Period] = []
    while True:
        with transaction.atomic():
            period = Period.objects.select_for_update().filter(status=Period.Status.OPEN).first()
            if period is None:
                raise BusinessRuleRefused(
                    rule="S1", message="no open period: open one first (revenue_period open)"
                )
            if through is not None and period.id > through:
                if not closed:
                    raise BusinessRuleRefused(
                        rule="S1",
                        message=f"the open period {period.id} is already after {through}",
                        field="through",
                    )
                break
            rows = checklist_run(period=period.id, started_at=started_at)
            if on_checklist is not None:
                on_checklist(period.id, rows)
            blockers = checklist_blockers(rows)
            if blockers and not force:
                raise _blocked(period=period, blockers=blockers, closed=closed)
            forced = {}
            if blockers:
                forced = {"forced": True, "overrode": [b.as_data() for b in blockers]}
            _close_one(period=period, actor=actor, reason=reason, forced=forced)
            closed.append(period)
        if through is None or closed[-1].id >= through:
            break
    return closed


def _blocked(*, period: Period, blockers: list[Check], closed: list[Period]):
    before = ""
    if closed:
        before = f" ({', '.join(str(p.id) for p in closed)} closed before it)"
    return BusinessRuleRefused(
        rule="M4",
        message=(
            f"period {period.id} was not closed{before}: {checklist_words(blockers)}. "
            "Resolve these first, or force the close with a reason"
        ),
        field="force",
        period=period.id,
        blockers=[b.as_data() for b in blockers],
        closed=list(closed),
    )


def _close_one(*, period: Period, actor, reason: str = "", forced: dict | None = None) -> None:
    following = period_add(period.id, 1)
    rolled = _held_roll_forward(period=period.id, following=following)
    # the stored entries are marked; those of schedule rows read the period's status
    posted = BookedEntry.objects.filter(period=period.id, posted=False).update(posted=True)
    posted += ScheduleRow.objects.filter(period=period.id, entry__isnull=False).count()
    ledger_totals_compact(period=period.id)  # M6: the period's totals, one row per key
    period.trial_balance = trial_balance(period=period.id)
    period.gl_file.save(f"GL_{period.id}.csv", ContentFile(gl_transfer_csv(period)), save=False)
    period.close()
    period.closed_at = timezone.now()
    period.closed_by = actor if getattr(actor, "pk", None) else None
    period.save()
    Period.objects.create(id=following, status=Period.Status.OPEN)
    audit_record(
        document=period,
        actor=actor,
        action=AuditAction.CLOSE,
        from_state="OPEN",
        to_state="CLOSED",
        comment=reason,
        data={
            "posted_entries": posted,
            "held_rows_rolled": rolled,
            "next": following,
            **(forced or {}),
        },
    )


def _held_roll_forward(*, period: int, following: int) -> int:
    """S10: the held amounts of a closing period move to the next one. A held row that
    books no entry moves; one that booked its entry before the hold stays with its entry
    (releases stored once), and two held rows without entries take its amount out of the
    period and into the next (the same nets per line, period and source)."""
    held = ScheduleRow.objects.filter(period=period, held=True)
    staying = list(
        held.filter(entry__isnull=False).values_list(
            "line_id", "source", "amount", "amount_currency"
        )
    )
    moved = held.filter(entry__isnull=True).update(period=following)
    if staying:
        ScheduleRow.objects.bulk_create(
            ScheduleRow(
                line_id=line_id,
                period=month,
                source=source,
                amount=Money(sign * amount, currency),
                kind=RowKind.HOLD,
                held=True,
            )
            for line_id, source, amount, currency in staying
            for month, sign in ((period, -1), (following, 1))
        )
    return moved + len(staying)


def trial_balance(*, period: int) -> list[dict]:
    """Debits and credits per account and currency of one period's entries."""
    totals: dict[tuple[str, str], dict] = {}
    for side, account_field in (("dr", "dr_account"), ("cr", "cr_account")):
        rows = (
            JournalEntry.objects.filter(period=period)
            .values(account_field, "amount_currency")
            .annotate(total=Sum("amount"), n=Count("id"))
        )
        for row in rows:
            key = (row[account_field], row["amount_currency"])
            entry = totals.setdefault(
                key, {"account": key[0], "currency": key[1], "dr": "0.00", "cr": "0.00", "n": 0}
            )
            entry[side] = f"{sum_exact(row['total']):.2f}"
            entry["n"] += row["n"]
    return [totals[key] for key in sorted(totals)]


GL_COLUMNS = ["PERIOD", "ACCOUNT", "CURRENCY", "DR", "CR", "ENTRY_SIDES"]


def gl_transfer_csv(period: Period) -> bytes:
    """S2: the GL transfer file: the period's posted totals per account and currency."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GL_COLUMNS)
    for row in period.trial_balance:
        writer.writerow(
            [period.id, row["account"], row["currency"], row["dr"], row["cr"], row["n"]]
        )
    return out.getvalue().encode()


def period_close_due(*, today: date | None = None) -> list[Period]:
    """The monthly beat job: with AUTO_CLOSE_PERIOD = Y, close every open period whose
    month has ended. With N it does nothing. It never forces (M4): at a blocked period it
    records why (``close_blocked``) and returns the periods it did close."""
    if profile_get("AUTO_CLOSE_PERIOD") != "Y":
        return []
    current = period_of(today or timezone.localdate())
    period = period_open_get()
    if period is None or period.id >= current:
        return []
    try:
        return period_close(actor=None, through=period_add(current, -1))
    except BusinessRuleRefused as refusal:
        if refusal.rule != "M4" or "blockers" not in refusal.facts:
            raise
        _close_blocked_record(refusal)
        return refusal.facts["closed"]


def _close_blocked_record(refusal: BusinessRuleRefused) -> None:
    """M4: the auto-close never forces; why it did not close is an audit event on the
    period it stopped at (shown on the period's page and the admin's home page)."""
    period = Period.objects.get(pk=refusal.facts["period"])
    audit_record(
        document=period,
        actor=None,
        actor_label="auto-close",
        action=CLOSE_BLOCKED,
        comment=refusal.message,
        data={"blockers": refusal.facts["blockers"]},
    )
