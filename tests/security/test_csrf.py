"""CSRF is enforced on the admin: a form or action POSTed without the token is refused
with 403 and changes nothing; the same POST with the token goes through."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from orders.models import Account, Order, OrderKind, OrderStatus


@pytest.fixture
def csrf_client(role_users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_users["ops"])
    return client


def token_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.cookies["csrftoken"].value


def test_admin_action_without_csrf_token_is_403_and_runs_nothing(csrf_client, demo):
    order = Order.objects.filter(
        kind=OrderKind.STANDARD, status=OrderStatus.DRAFT, items__isnull=False
    ).first()
    url = reverse("admin:orders_order_changelist")
    data = {"action": "activate_selected", ACTION_CHECKBOX_NAME: [order.pk], "index": "0"}
    assert csrf_client.post(url, data).status_code == 403
    assert csrf_client.post(url, {**data, "csrfmiddlewaretoken": "x" * 32}).status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    token = token_of(csrf_client, url)
    confirm = {**data, "csrfmiddlewaretoken": token}
    assert csrf_client.post(url, confirm).status_code == 200  # what it will do, first
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    forged = {**data, "confirm": "yes", "csrfmiddlewaretoken": "x" * 32}
    assert csrf_client.post(url, forged).status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    response = csrf_client.post(url, {**confirm, "confirm": "yes"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVATED  # O2: the demo draft has products


def test_admin_form_without_csrf_token_is_403_and_saves_nothing(role_users, demo):
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_users["superuser"])
    url = reverse("admin:orders_account_add")
    data = {"number": "ACC-CSRF", "name": "Forged Ltd", "currency": "USD", "is_active": "on"}
    data |= {f"orders-{key}": 0 for key in ("TOTAL_FORMS", "INITIAL_FORMS")}  # its orders
    assert client.post(url, data).status_code == 403
    assert not Account.objects.filter(number="ACC-CSRF").exists()
    token = token_of(client, url)
    response = client.post(url, {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Account.objects.filter(number="ACC-CSRF").exists()


def test_reduce_form_without_csrf_token_is_403(csrf_client, demo):
    """R1's form too: even for Ops, who may reduce, a forged POST creates nothing."""
    order = Order.objects.filter(kind=OrderKind.STANDARD, status=OrderStatus.ACTIVATED).first()
    item = order.items.first()
    url = reverse("admin:orders_order_reduce", args=[order.pk])
    before = Order.objects.filter(kind=OrderKind.REDUCTION).count()
    assert csrf_client.post(url, {f"quantity_{item.pk}": "1"}).status_code == 403
    assert Order.objects.filter(kind=OrderKind.REDUCTION).count() == before
