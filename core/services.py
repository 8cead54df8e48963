"""Shared services: audit events, document numbers, money rounding and splitting."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from djmoney.money import Money
from moneyed import get_currency

from .models import AuditAction, AuditEvent, DocumentSequence

# the events a dry run records (core.lifecycle.transition_dry_run), None when not recording
AUDIT_RECORDING: ContextVar[list | None] = ContextVar("audit_recording", default=None)


def audit_record(
    *,
    document: models.Model,
    actor,
    action: AuditAction | str,
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
    data: dict | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """O8: append one audit event for ``document``. ``actor`` None means a system job.
    ``action`` is an ``AuditAction`` (its value is accepted too; any other word is a
    programming error: ``ValueError``)."""
    action = AuditAction(action)
    user = actor if getattr(actor, "pk", None) else None
    label = actor_label or (user.get_username() if user else "system")
    event = AuditEvent.objects.create(
        content_type=ContentType.objects.get_for_model(document, for_concrete_model=False),
        object_id=str(document.pk),
        object_repr=str(document)[:200],
        action=action,
        from_state=from_state or "",
        to_state=to_state or "",
        actor=user,
        actor_label=label[:150],
        comment=comment or "",
        data=data or {},
    )
    recording = AUDIT_RECORDING.get()
    if recording is not None:
        recording.append(event)
    return event


def sequence_next(*, name: str) -> int:
    """Next value of a document series. One ``UPDATE … RETURNING``: the row lock it takes
    is held until the caller's transaction ends, so two callers never share a number."""
    table = connection.ops.quote_name(DocumentSequence._meta.db_table)
    sql = f"UPDATE {table} SET last_value = last_value + 1 WHERE name = %s RETURNING last_value"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [name])
        row = cursor.fetchone()
        if row is None:  # a new series: create it (a racing creator wins, we then update)
            DocumentSequence.objects.get_or_create(name=name)
            cursor.execute(sql, [name])
            row = cursor.fetchone()
        return row[0]


def currency_exponent(currency: str) -> int:
    """Minor unit digits of an ISO 4217 currency (USD 2, JPY 0)."""
    sub_unit = get_currency(str(currency)).sub_unit or 1
    return len(str(sub_unit)) - 1


def money_round(*, amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit."""
    quantum = Decimal(1).scaleb(-currency_exponent(currency))
    return Decimal(amount).quantize(quantum, rounding=ROUND_HALF_UP)


def money_split(*, total: Money, weights: Sequence[Decimal]) -> list[Money]:
    """Split ``total`` by ``weights`` with cumulative rounding: the parts add up exactly.

    Part i = round(total × cum_weight(i) / sum) − round(total × cum_weight(i−1) / sum).
    """
    currency = str(total.currency)
    weights = [Decimal(w) for w in weights]
    whole = sum(weights, Decimal(0))
    if not weights:
        return []
    if whole == 0:
        raise ValueError("weights add up to zero: nothing to split by")
    parts: list[Money] = []
    running = Decimal(0)
    previous = money_round(amount=Decimal(0), currency=currency)
    for weight in weights:
        running += weight
        upto = money_round(amount=total.amount * running / whole, currency=currency)
        parts.append(Money(upto - previous, currency))
        previous = upto
    return parts


def sum_exact(value, *, places: int = 2) -> Decimal:
    """A database SUM of fixed-point amounts, back to an exact Decimal.

    SQLite adds decimals as floating point (0.15 − 0.14 → 0.00999999999999998); every
    amount has at most ``places`` decimals, so rounding the sum restores it exactly.
    """
    if value is None:
        return Decimal(0)
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
