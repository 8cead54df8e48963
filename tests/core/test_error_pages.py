"""Styled 403, 404, 500 and expired-form pages, each with a way back (issue 17)."""

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WAYS_BACK = ('href="javascript:history.back()"', 'href="/admin/"')


def assert_error_page(html: str, heading: str) -> None:
    assert heading in html
    assert "Contra back office" in html and "contra/error_pages.css" in html
    for way in WAYS_BACK:
        assert way in html


def test_unknown_address_is_a_styled_404(admin_client):
    response = admin_client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert_error_page(html, "This page does not exist")
    assert "/no/such/page/" in html


def test_a_page_without_the_permission_is_a_styled_403_naming_the_user(client):
    clerk = UserFactory(is_staff=True, username="clerk")
    client.force_login(clerk)
    response = client.get(reverse("admin:orders_order_fulfil_items", args=[1]))
    assert response.status_code == 403
    html = response.content.decode()
    assert_error_page(html, "You may not open this page")
    assert "(clerk)" in html and "Nothing was changed" in html


def test_the_500_page_renders_without_a_request_or_the_database():
    """Django renders 500.html with an empty context: nothing in it may need one."""
    html = render_to_string("500.html")
    assert_error_page(html, "Something went wrong on our side")


def test_an_expired_form_is_a_styled_403_that_says_what_to_do(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(reverse("admin:orders_account_add"), {"name": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert_error_page(html, "This form can no longer be sent")
    assert "reload the page" in html
