"""The 500s the admin crawl found, each pinned down with the answer it gives now."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse

from orders.models import Order
from revenue.models import Period


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


def said(response) -> str:
    return " | ".join(str(m) for m in get_messages(response.wsgi_request))


@pytest.mark.parametrize(
    "name", ["orders_order_reduce", "orders_order_fulfil_items", "revenue_period_gl"]
)
@pytest.mark.parametrize("bad", ["abc", "1.5", "9" * 30])
def test_a_custom_page_opened_on_a_malformed_id_is_not_found(admin_client, demo, name, bad):
    response = admin_client.get(reverse(f"admin:{name}", args=[bad]))
    assert response.status_code == 404


def test_an_action_on_a_malformed_id_runs_nothing_and_says_why(admin_client, demo):
    draft = Order.objects.filter(status="DRAFT", kind="STANDARD").first()
    url = reverse("admin:orders_order_changelist")
    data = {"action": "activate_selected", "index": "0", "_selected_action": [draft.pk, "abc"]}
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert "'abc' is not the id of any order: the action was not run." in said(response)
    draft.refresh_from_db()
    assert draft.status == "DRAFT"


def test_s2_closing_a_period_far_ahead_closes_nothing(admin_client, demo):
    """The close page closes the open period; thirty digits closed every month to 2999."""
    opened = Period.objects.get(status="OPEN")
    response = admin_client.post(reverse("admin:revenue_period_close"), {"period": "9" * 30})
    assert response.status_code == 302
    assert "is not the open period" in said(response)
    assert Period.objects.get(status="OPEN") == opened


@pytest.mark.parametrize(
    "query", [{"at__year": "9999"}, {"at__year": "9" * 25}, {"at__year": "2026", "at__month": "13"}]
)
def test_a_date_hierarchy_out_of_range_is_a_bad_parameter(admin_client, demo, query):
    response = admin_client.get(reverse("admin:core_auditevent_changelist"), query)
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize(
    "request_args",
    [
        ("get", "admin:orders_order_changelist", {"account": "a\x00b"}),
        ("get", "admin:revenue_validationrule_change", None),
        ("post", "admin:revenue_profilesetting_changelist", {"form-0-name": "x\x00"}),
    ],
)
def test_a_nul_character_anywhere_in_a_request_is_refused_with_400(
    admin_client, demo, request_args
):
    method, name, data = request_args
    url = reverse(name, args=["1\x00"]) if data is None else reverse(name)
    response = getattr(admin_client, method)(url, data or {})
    assert response.status_code == 400 and b"NUL character" in response.content


@pytest.mark.parametrize("bad", ["abc", "9" * 30])
def test_an_autocomplete_given_a_malformed_id_shows_the_field_error(admin_client, demo, bad):
    url = reverse("admin:orders_pricebookentry_add")
    response = admin_client.post(url, {"product": bad, "price_book": bad, "list_price_0": "1"})
    assert response.status_code == 200
    assert "product" in response.context["adminform"].form.errors
