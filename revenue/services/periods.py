"""S1, S2: the open period, closing it (posting, GL transfer file) and the monthly job."""

from __future__ import annotations

import csv
import io
from datetime import date

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from core.exceptions import BusinessRuleRefused
from core.services import audit_record, sum_exact

from ..models import JournalEntry, Period, ScheduleRow
from .settings import profile_get
from .splits import period_add, period_of


def period_parse(text: str, *, field: str = "period") -> int:
    """'201901' → 201901; refuses anything that is not a YYYYMM month (S1)."""
    value = str(text).strip()
    if len(value) != 6 or not value.isdigit() or not 1 <= int(value[4:]) <= 12:
        raise BusinessRuleRefused(
            rule="S1", message=f"'{text}' is not a period: use YYYYMM, e.g. 201901", field=field
        )
    if not 1900 <= int(value[:4]) <= 2999:
        raise BusinessRuleRefused(rule="S1", message=f"'{text}': year out of range", field=field)
    return int(value)


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
        audit_record(document=opened, actor=actor, action="open", to_state="OPEN")
    return opened


def period_close(*, actor, through: int | None = None) -> list[Period]:
    """S2: close the open period (or every period through ``through``) and open the next.

    Each close: held rows roll into the next period (S10), the period's entries are
    posted, its trial balance is kept and its GL transfer file written, all in one
    transaction with an audit event.
    """
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
            _close_one(period=period, actor=actor)
            closed.append(period)
        if through is None or closed[-1].id >= through:
            break
    return closed


def _close_one(*, period: Period, actor) -> None:
    following = period_add(period.id, 1)
    rolled = ScheduleRow.objects.filter(period=period.id, held=True).update(period=following)
    posted = JournalEntry.objects.filter(period=period.id, posted=False).update(posted=True)
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
        action="close",
        from_state="OPEN",
        to_state="CLOSED",
        data={"posted_entries": posted, "held_rows_rolled": rolled, "next": following},
    )


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
    month has ended. With N it does nothing."""
    if profile_get("AUTO_CLOSE_PERIOD") != "Y":
        return []
    current = period_of(today or timezone.localdate())
    period = period_open_get()
    if period is None or period.id >= current:
        return []
    return period_close(actor=None, through=period_add(current, -1))
