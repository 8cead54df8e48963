"""O8 in the admin: one transition mixin (core.fsm_admin.TransitionAdminMixin) on every
document page — a status path at the top with the allowed transitions beside it, each run
through the document's service, refusals and results in words."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from core.fsm_admin import TransitionAdminMixin, status_path_steps
from orders.admin.billing import CreditMemoAdmin, InvoiceAdmin
from orders.admin.orders import OrderAdmin
from orders.admin.reductions import ReductionOrderAdmin
from orders.models import Order, OrderStatus
from returns.admin.refunds import RefundAdmin
from returns.admin.rma import ReturnOrderAdmin
from revenue.admin.periods import PeriodAdmin
from tests.factories import make_order
from tests.orders.test_admin import form_data

pytestmark = pytest.mark.django_db

DOCUMENT_ADMINS = (
    OrderAdmin,
    ReductionOrderAdmin,
    InvoiceAdmin,
    CreditMemoAdmin,
    ReturnOrderAdmin,
    RefundAdmin,
    PeriodAdmin,
)


def page(client, order) -> str:
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def status_block(html: str) -> str:
    start = html.index('id="status-path"')
    return html[start : html.index("</div>\n</div>", start)]


@pytest.mark.parametrize("admin_class", DOCUMENT_ADMINS, ids=lambda a: a.__name__)
def test_o8_every_document_admin_declares_its_transitions_and_overrides_no_fsm_hook(admin_class):
    assert issubclass(admin_class, TransitionAdminMixin)
    assert admin_class.transitions, "declares the transitions it offers"
    for hook in ("_apply_fsm_transition", "fsm_transition_view", "_get_fsm_extra_context"):
        assert getattr(admin_class, hook) is getattr(TransitionAdminMixin, hook), hook


def test_status_path_marks_done_current_and_off_path_steps():
    path = (OrderStatus.DRAFT, OrderStatus.ACTIVATED, OrderStatus.FULFILLED)
    steps = status_path_steps(Order(status=OrderStatus.ACTIVATED), path)
    assert [(s["label"], s["state"]) for s in steps] == [
        ("Draft", "done"),
        ("Activated", "current"),
        ("Fulfilled", "todo"),
    ]
    off = status_path_steps(Order(status="ELSEWHERE"), path)
    assert off[-1] == {"label": "ELSEWHERE", "state": "off"}


def test_the_order_page_shows_its_path_and_its_transitions_at_the_top(admin_client):
    order = make_order()
    html = page(admin_client, order)
    block = status_block(html)
    assert re.search(r'<li class="current"[^>]*>Draft</li>', block)
    assert 'value="activate"' in block and 'form="order_form"' in block
    # not a second time at the bottom of the page
    assert html.count('name="_fsm_transition_to" value="activate"') == 1


def test_a_reader_sees_the_path_but_no_buttons(client, django_user_model):
    from django.contrib.auth.models import Permission

    reader = django_user_model.objects.create_user("reader", password="pw", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(reader)
    html = page(client, make_order())
    assert 'id="status-path"' in html and "_fsm_transition_to" not in html


def test_a_transition_runs_through_its_service_and_says_what_happened(admin_client):
    order = make_order()
    url = reverse("admin:orders_order_change", args=[order.pk])
    data = form_data(admin_client.get(url))
    response = admin_client.post(url, {**data, "_fsm_transition_to": "fulfil"}, follow=True)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("fulfil is not allowed" in t for t in texts), texts
    data = form_data(admin_client.get(url))
    response = admin_client.post(url, {**data, "_fsm_transition_to": "activate"})
    confirm = reverse("admin:orders_order_transition", args=[order.pk, "activate"])
    assert response["Location"] == confirm  # it stages revenue lines: asked first
    response = admin_client.post(confirm, {"comment": ""}, follow=True)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"{order}: activated." in texts
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVATED and order.revenue_batch_id  # O9 staged


def test_an_undeclared_transition_is_a_message_not_a_500(admin_client):
    order = make_order()
    for url in (
        reverse("admin:orders_order_transition", args=[order.pk, "delete"]),
        reverse("admin:orders_order_transition", args=[order.pk, "__init__"]),
    ):
        response = admin_client.get(url, follow=True)
        assert response.status_code == 200
        texts = [str(m) for m in get_messages(response.wsgi_request)]
        assert any("there is no action" in t for t in texts), texts
