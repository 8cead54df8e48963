"""The order list at volume (bench/admin.py): a typed account filter instead of a list of
every account, and a count that is never a COUNT(*) of a million orders (core.paginator)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse

from core.paginator import EstimatedCountPaginator
from tests.factories import AccountFactory, make_order

URL = "admin:orders_order_changelist"


def numbers(response) -> set[str]:
    return {order.number for order in response.context["cl"].result_list}


def test_account_filter_takes_a_typed_number_or_name(admin_client):
    acme = make_order(account=AccountFactory(number="ACC-00042", name="Acme Tools"))
    other = make_order(account=AccountFactory(number="ACC-00043", name="Beta Corp"))
    url = reverse(URL)
    assert numbers(admin_client.get(url, {"account": "acc-00042"})) == {acme.number}
    assert numbers(admin_client.get(url, {"account": "beta"})) == {other.number}
    assert numbers(admin_client.get(url, {"account": "ACC-99999"})) == set()
    assert numbers(admin_client.get(url)) == {acme.number, other.number}


def test_account_filter_is_a_box_not_a_list_of_accounts(admin_client):
    """A million orders over tens of thousands of accounts: no link per account (and no
    DISTINCT over every order to find them); the other filters stay as hidden inputs."""
    order = make_order(account=AccountFactory(name="Listed Nowhere"), activate=True)
    html = admin_client.get(
        reverse(URL), {"status__exact": "ACTIVATED", "account": order.account.number}
    ).content.decode()
    assert 'name="account"' in html and "account__id__exact" not in html
    assert '<input type="hidden" name="status__exact" value="ACTIVATED">' in html
    assert order.number in html


def test_order_page_does_not_build_the_list_sums(admin_client):
    """The fulfilment sums are the list's: the order page reads its order without them."""
    from django.test.utils import CaptureQueriesContext

    order = make_order(activate=True)
    url = reverse("admin:orders_order_change", args=[order.pk])
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(url).status_code == 200
    own = f'"orders_order"."id" = {order.pk})'  # get_object: the order by its id
    reads = [q["sql"] for q in queries if own in q["sql"]]
    assert reads and not any("SUM(" in sql for sql in reads)


def test_count_is_exact_off_postgresql(admin_client):
    for _ in range(3):
        make_order()
    with mock.patch.object(EstimatedCountPaginator, "exact_limit", 1):
        response = admin_client.get(reverse(URL))
    cl = response.context["cl"]
    if connection.vendor == "postgresql":
        pytest.skip("estimated on PostgreSQL: see the next test")
    assert cl.result_count == 3 and not cl.paginator.estimated
    assert "about" not in response.content.decode().split('class="paginator"')[1]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="estimates on PostgreSQL only")
def test_count_beyond_the_exact_limit_is_the_planner_estimate(admin_client):
    for _ in range(4):
        make_order()
    with mock.patch.object(EstimatedCountPaginator, "exact_limit", 2):
        response = admin_client.get(reverse(URL))
        few = admin_client.get(reverse(URL), {"q": "no such order"})
    cl = response.context["cl"]
    assert cl.paginator.estimated and cl.result_count >= 3  # at least what was counted
    assert "about" in response.content.decode().split('class="paginator"')[1]
    assert few.context["cl"].result_count == 0 and not few.context["cl"].paginator.estimated


def test_account_page_shows_its_latest_orders_and_links_to_all(admin_client):
    """Thousands of orders on one account: the page shows the latest ones and links to
    the order list filtered by the account (which counts them all)."""
    account = AccountFactory(number="ACC-00077")
    orders = [make_order(account=account) for _ in range(3)]
    make_order()  # another account's
    url = reverse("admin:orders_account_change", args=[account.pk])
    with mock.patch("orders.admin.reference.LATEST_ORDERS", 2):
        response = admin_client.get(url)
    html = response.content.decode()
    shown = {o.number for o in orders if o.number in html}
    newest = sorted(orders, key=lambda o: (o.effective_date, o.pk), reverse=True)[:2]
    assert shown == {o.number for o in newest}
    assert "?account=ACC-00077" in html and "All 3 orders of this account" in html
    listed = admin_client.get(reverse(URL), {"account": "ACC-00077"})
    assert numbers(listed) == {o.number for o in orders}
