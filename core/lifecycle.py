"""The lifecycle kernel (O8): the one way a document changes state.

Orders, reduction orders, invoices, credit memos, RMAs and refunds all change status by
``document_transition``, in this order:

1. **lock** the document's row (``SELECT … FOR UPDATE``) and refuse if its status is no
   longer the one the caller read (someone else moved it meanwhile);
2. **check** the transition: allowed from this status, permitted to this user (a job acts
   without a user), and its FSM conditions hold (``transition_check``, which a service
   also calls on its own before testing its own rules);
3. **run** the FSM transition (its body stamps who and when);
4. ``full_clean`` and **save** the document (a value a rule forbids is a refusal, not a 500);
5. record a **typed audit event** (``AuditAction``): from, to, who, why;
6. register the **side effects** to run once the transaction commits.

What a transition does to other rows (stage revenue lines, issue a credit memo) stays in its
service, inside the same transaction; the kernel is what every transition shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django_fsm import FSMFieldMixin, can_proceed, has_transition_perm

from .exceptions import BusinessRuleRefused
from .models import AuditAction, AuditEvent
from .services import AUDIT_RECORDING, audit_record


def actor_of(user):
    """The user who acts, or None for a job (an anonymous or absent user)."""
    return user if getattr(user, "pk", None) else None


def fsm_field_name(document: models.Model) -> str:
    """The document's FSM field (every Contra document has one: ``status``)."""
    for candidate in document._meta.concrete_fields:
        if isinstance(candidate, FSMFieldMixin):
            return candidate.name
    raise TypeError(f"{type(document).__name__} has no FSM field")


def _status_text(document: models.Model, field: str) -> str:
    display = getattr(document, f"get_{field}_display", None)
    return display() if callable(display) else str(getattr(document, field))


def transition_check(
    *,
    document: models.Model,
    name: str,
    user,
    rule: str,
    noun: str = "documents",
    check_permission: bool = True,
) -> None:
    """Refuse (``BusinessRuleRefused`` naming ``rule`` and the status field) unless
    transition ``name`` is allowed from the document's status, ``user`` (when there is one,
    and unless the caller checked the user's right itself: ``check_permission`` False)
    holds its permission, and its conditions hold."""
    field = fsm_field_name(document)
    method = getattr(document, name, None)
    if method is None or not hasattr(method, "_django_fsm"):
        raise BusinessRuleRefused(rule=rule, field=field, message=f"there is no action {name!r}")
    if not can_proceed(method, check_conditions=False):
        raise BusinessRuleRefused(
            rule=rule,
            field=field,
            message=f"{name} is not allowed: {document} is {_status_text(document, field)}",
        )
    if check_permission and actor_of(user) is not None and not has_transition_perm(method, user):
        raise BusinessRuleRefused(
            rule=rule, field=field, message=f"you do not have the permission to {name} {noun}"
        )
    if not can_proceed(method):
        raise BusinessRuleRefused(
            rule=rule, field=field, message=f"{name} does not apply to {document}"
        )


def _lock(document: models.Model, *, field: str, rule: str) -> None:
    """Lock the document's row; refuse if it is gone or its status moved since it was read.
    The caller's instance is kept (with whatever it set before the transition)."""
    model = document._meta.concrete_model
    stored = (
        model._base_manager.select_for_update()
        .filter(pk=document.pk)
        .values_list(field, flat=True)
        .first()
    )
    if stored is None:
        raise BusinessRuleRefused(rule=rule, field=field, message=f"{document} no longer exists")
    if stored != getattr(document, field):
        now = model(**{field: stored})
        raise BusinessRuleRefused(
            rule=rule,
            field=field,
            message=f"{document} was changed by someone else meanwhile: it is "
            f"{_status_text(now, field)} now; reload it and try again",
        )


def document_clean(document: models.Model, *, field: str | None = None) -> None:
    """``full_clean`` of a document a service changed: its values and ``clean()`` are
    checked; its FSM field (protected: set by transitions only), its related rows (read
    under lock by the service) and its unique keys (the database's constraints) are not
    looked up again, one query each. A value a rule forbids becomes a refusal naming it."""
    field = field or fsm_field_name(document)
    related = [f.name for f in document._meta.concrete_fields if f.is_relation]
    try:
        document.full_clean(exclude=[field, *related], validate_unique=False)
    except ValidationError as error:
        problems = getattr(error, "message_dict", {"": error.messages})
        name, messages = next(iter(problems.items()))
        raise BusinessRuleRefused(
            rule="O8",
            field=None if name == "__all__" or not name else name,
            message=f"{document} cannot be saved: {'; '.join(messages)}",
        ) from error


def document_transition(
    *,
    document: models.Model,
    name: str,
    user,
    reason: str = "",
    rule: str = "O8",
    noun: str = "documents",
    data: dict | None = None,
    after: Iterable[Callable[[], None]] = (),
    check_permission: bool = True,
):
    """Run transition ``name`` on ``document`` (see the module's docstring for the steps);
    returns the document, saved. ``reason``: the user's comment, kept on the audit event.
    ``rule`` / ``noun``: what a refusal names ("O1", "orders"). ``data``: facts for the
    audit event. ``after``: callables run once the transaction commits.
    ``check_permission`` False: the transition follows from another one whose right the
    caller checked (a credit memo voided because its reduction was deactivated)."""
    field = fsm_field_name(document)
    with transaction.atomic():
        _lock(document, field=field, rule=rule)
        transition_check(
            document=document,
            name=name,
            user=user,
            rule=rule,
            noun=noun,
            check_permission=check_permission,
        )
        before = getattr(document, field)
        getattr(document, name)(by=actor_of(user))
        document_clean(document, field=field)
        document.save()
        audit_record(
            document=document,
            actor=user,
            action=AuditAction(name),
            from_state=before,
            to_state=getattr(document, field),
            comment=reason,
            data=data,
        )
        for effect in after:
            transaction.on_commit(effect)
    return document


@dataclass
class DryRun:
    """What a transition would do: its result and the audit events it wrote (in order),
    or the refusal that stopped it; ``lines``: the sentences its describer wrote."""

    result: Any = None
    events: list[AuditEvent] = field(default_factory=list)
    refusal: BusinessRuleRefused | None = None
    lines: list[str] = field(default_factory=list)


def transition_dry_run(
    run: Callable[[], Any], describe: Callable[[DryRun], list[str]] | None = None
) -> DryRun:
    """Run ``run`` (a transition through its service, exactly as the button would) in a
    transaction that is then rolled back, and say what it did: ``describe`` reads the
    result inside that transaction, before anything is undone. Nothing it wrote remains
    (document numbers included: their sequence rows roll back with it) and its on-commit
    side effects never run. A confirmation page shows this before the user confirms."""
    dry = DryRun()
    token = AUDIT_RECORDING.set(dry.events)
    try:
        with transaction.atomic():
            try:
                dry.result = run()
                if describe is not None:
                    dry.lines = describe(dry)
            except BusinessRuleRefused as refusal:
                dry.refusal = refusal
            transaction.set_rollback(True)  # whatever happened: nothing stays
    finally:
        AUDIT_RECORDING.reset(token)
    return dry
