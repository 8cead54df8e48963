"""O8: the lifecycle kernel (``core.lifecycle``): one way every document changes state —
lock, FSM check, transition, full_clean, save, typed audit event, side effects on commit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from core.exceptions import BusinessRuleRefused, Refusal
from core.lifecycle import document_transition, transition_check
from core.models import AuditAction, AuditEvent
from core.services import audit_record
from orders.models import Order, OrderStatus
from revenue.services.refusals import LineRefusal
from tests.factories import UserFactory, make_order

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def events_of(document) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_id=str(document.pk)).order_by("at", "id"))


def test_o8_a_transition_is_saved_cleaned_and_audited_with_a_typed_action():
    order = make_order()
    user = UserFactory(is_superuser=True)
    done = document_transition(
        document=order, name="activate", user=user, reason="signed", rule="O1", data={"n": 1}
    )
    assert done.status == OrderStatus.ACTIVATED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ACTIVATED
    event = events_of(order)[-1]
    assert event.action == AuditAction.ACTIVATE
    assert event.get_action_display() == "Activated"
    assert (event.from_state, event.to_state) == (OrderStatus.DRAFT, OrderStatus.ACTIVATED)
    assert (event.actor, event.comment, event.data) == (user, "signed", {"n": 1})


def test_o1_a_transition_the_status_does_not_allow_is_refused_and_nothing_is_written():
    order = make_order()
    before = len(events_of(order))
    with pytest.raises(BusinessRuleRefused) as refused:
        document_transition(document=order, name="fulfil", user=None, rule="O1")
    assert refused.value.rule == "O1" and refused.value.field == "status"
    assert refused.value.message == f"fulfil is not allowed: {order} is Draft"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT
    assert len(events_of(order)) == before


def test_o1_a_user_without_the_transition_permission_is_refused_unless_the_caller_checked():
    order = make_order()
    clerk = UserFactory()  # no orders.activate_order
    with pytest.raises(BusinessRuleRefused, match="you do not have the permission to activate"):
        transition_check(document=order, name="activate", user=clerk, rule="O1", noun="orders")
    clerk.user_permissions.add(Permission.objects.get(codename="activate_order"))
    clerk = type(clerk).objects.get(pk=clerk.pk)  # permissions are cached per instance
    transition_check(document=order, name="activate", user=clerk, rule="O1", noun="orders")
    # a consequence of another transition whose right was checked: no second check
    other = make_order()
    stranger = UserFactory()
    document_transition(
        document=other, name="activate", user=stranger, rule="O1", check_permission=False
    )
    assert Order.objects.get(pk=other.pk).status == OrderStatus.ACTIVATED


def test_o8_a_document_moved_by_someone_else_meanwhile_is_refused_not_overwritten():
    order = make_order()
    stale = Order.objects.get(pk=order.pk)  # read by this user …
    document_transition(document=order, name="activate", user=None, rule="O1")  # … moved
    with pytest.raises(BusinessRuleRefused) as refused:
        document_transition(document=stale, name="activate", user=None, rule="O1")
    assert "was changed by someone else meanwhile: it is Activated now" in str(refused.value)
    assert [e.action for e in events_of(order)].count(AuditAction.ACTIVATE) == 1


def test_o8_a_value_a_rule_forbids_is_a_refusal_naming_the_field_and_nothing_is_saved():
    order = make_order()
    order.reference = "x" * 500  # longer than the field allows
    with pytest.raises(BusinessRuleRefused) as refused:
        document_transition(document=order, name="activate", user=None, rule="O1")
    assert refused.value.field == "reference"
    assert "cannot be saved" in refused.value.message
    stored = Order.objects.get(pk=order.pk)
    assert stored.status == OrderStatus.DRAFT and stored.reference != order.reference


def test_o8_side_effects_run_once_the_transaction_commits(django_capture_on_commit_callbacks):
    order = make_order()
    seen = []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        document_transition(
            document=order,
            name="activate",
            user=None,
            rule="O1",
            after=[lambda: seen.append(Order.objects.get(pk=order.pk).status)],
        )
    assert seen == [] and len(callbacks) == 1  # not before the commit
    callbacks[0]()
    assert seen == [OrderStatus.ACTIVATED]


def test_o8_an_audit_action_outside_the_typed_list_is_a_programming_error():
    order = make_order()
    with pytest.raises(ValueError):
        audit_record(document=order, actor=None, action="did something")
    event = audit_record(document=order, actor=None, action="changed")  # a value is accepted
    assert event.action == AuditAction.CHANGED


def test_o8_revenue_line_refusals_and_service_refusals_are_one_type():
    assert LineRefusal is Refusal
    stop = Refusal.stop(code="RPRO-00353", rule="V9", field="EXT_SLL_PRC", detail="below")
    assert stop.as_dict() == {
        "code": "RPRO-00353",
        "rule": "V9",
        "field": "EXT_SLL_PRC",
        "message": "RPRO-00353: below",  # the code an accountant looks up; V9 in "rule"
    }
    error = BusinessRuleRefused(rule="O2", field="items", message="add a product")
    assert error.refusal == Refusal(rule="O2", field="items", message="add a product")
    again = BusinessRuleRefused.of(error.refusal)
    assert (str(again), again.bracketed) == ("add a product", "add a product [O2]")


SERVICE_PACKAGES = ("orders/services", "returns/services")


def test_o8_services_import_each_other_at_module_level_only():
    """No function-local imports in the services: an import cycle would need one."""
    local = []
    for package in SERVICE_PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    for inner in ast.walk(node):
                        if isinstance(inner, ast.Import | ast.ImportFrom):
                            local.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert local == []


def test_o8_every_transition_goes_through_the_kernel():
    """No service runs a transition method or audits one by itself."""
    offenders = []
    for package in SERVICE_PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            text = path.read_text()
            for needle in ("can_proceed(", "has_transition_perm(", "transition_audited"):
                if needle in text:
                    offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []
