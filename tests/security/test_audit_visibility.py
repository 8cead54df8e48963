"""Issue 18, defect 3 (O8): the audit trail shows a user only the events of documents whose
model they may view (or change); superusers see every event. One query whatever the
number of events or models; an event of a model the user may not view answers 404."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditAction, AuditEvent
from core.services import audit_record
from revenue.models import Period
from tests.factories import make_order

LIST = "admin:core_auditevent_changelist"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(client, **query) -> set[str]:
    response = client.get(reverse(LIST), query)
    assert response.status_code == 200
    return {event.object_repr for event in response.context["cl"].result_list}


@pytest.fixture
def events(role_users):
    """An order's event (Ops and accountants view orders), a period's (accountants only)
    and a user's (neither: superusers only)."""
    order = make_order(lines=())
    period = Period.objects.create(id=202601)
    boss = role_users["superuser"]
    return {
        "order": audit_record(document=order, actor=boss, action=AuditAction.CREATED),
        "period": audit_record(document=period, actor=boss, action=AuditAction.CREATED),
        "user": audit_record(document=boss, actor=boss, action=AuditAction.CHANGED),
    }


def test_o8_ops_sees_order_events_but_not_revenue_period_events(role_users, events):
    """Ops may view orders, not revenue periods (the security migration's groups)."""
    ops = role_users["ops"]
    assert ops.has_perm("orders.view_order") and ops.has_perm("core.view_auditevent")
    assert not ops.has_perm("revenue.view_period") and not ops.has_perm("revenue.change_period")
    assert listed(client_for(ops)) == {events["order"].object_repr}


def test_o8_accountant_sees_order_and_period_events(role_users, events):
    accountant = client_for(role_users["accountant"])
    assert listed(accountant) == {events["order"].object_repr, events["period"].object_repr}


def test_o8_superuser_sees_every_event(role_users, events):
    assert listed(client_for(role_users["superuser"])) == {
        event.object_repr for event in events.values()
    }


def test_o8_change_page_of_an_event_the_user_may_not_view_is_not_found(role_users, events):
    """Ops opening the period's event by its id: 404; the order's event opens; staff
    without the right to view audit events: 403."""
    ops = client_for(role_users["ops"])
    url = reverse("admin:core_auditevent_change", args=[events["period"].pk])
    assert ops.get(url).status_code == 404
    history = reverse("admin:core_auditevent_history", args=[events["period"].pk])
    assert ops.get(history).status_code == 404
    order_url = reverse("admin:core_auditevent_change", args=[events["order"].pk])
    assert ops.get(order_url).status_code == 200
    assert client_for(role_users["superuser"]).get(url).status_code == 200
    assert client_for(role_users["staff"]).get(url).status_code == 403  # no audit rights


def test_o8_content_type_filter_lists_only_viewable_models(role_users, events):
    """The "content type" filter offers Ops no revenue models."""
    response = client_for(role_users["ops"]).get(reverse(LIST))
    choices = [
        choice["display"]
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "field_path", "") == "content_type"
        for choice in spec.choices(response.context["cl"])
    ]
    assert any("order" in str(c).lower() for c in choices)
    assert not any("period" in str(c).lower() for c in choices)


@pytest.mark.parametrize("role", ["ops", "accountant", "superuser"])
def test_o8_the_list_costs_the_same_queries_for_10_or_200_events(role_users, events, role):
    """The visible events are found in one filtered query (content_type_id IN a subquery of
    the user's rights), not per event or per model."""
    client = client_for(role_users[role])
    listed(client)  # warm the content type cache and the session

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            listed(client)
        return len(queries)

    before = count()
    order = make_order(lines=())
    period = Period.objects.get(id=202601)
    for n in range(100):
        audit_record(document=order, actor=None, action=AuditAction.CHANGED, comment=str(n))
        audit_record(document=period, actor=None, action=AuditAction.CHANGED, comment=str(n))
    assert count() == before
    assert AuditEvent.objects.count() >= 203
