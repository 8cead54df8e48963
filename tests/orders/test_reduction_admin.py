"""The admin face of reduction orders and cancellations (R1, R2, R5-R7, R9, R11, R12, C1, C2)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money

from orders.models import ContractAction, Order, OrderItem, OrderKind, OrderStatus
from orders.services import order_activate
from orders.services.reductions import (
    ReductionLine,
    reduction_order_activate,
    reduction_order_create,
)
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, UserFactory, make_order
from tests.orders.test_admin import form_data, messages_of

pytestmark = pytest.mark.django_db
D = Decimal
REDUCER_PERMS = [
    "view_order",
    "change_order",
    "view_orderitem",
    "view_reductionorder",
    "change_reductionorder",
    "delete_reductionorder",
    "activate_order",
    "deactivate_order",
    "create_reduction_order",
    "view_account",
]


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def reduction_url(reduction):
    return reverse("admin:orders_reductionorder_change", args=[reduction.pk])


def reduce_url(order):
    return reverse("admin:orders_order_reduce", args=[order.pk])


def cancel_url(order):
    return reverse("admin:orders_order_cancel_product", args=[order.pk])


@pytest.fixture
def reducer(db):
    """An ops clerk with *Create Reduction Orders* (R1), not a superuser."""
    user = UserFactory(is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="orders", codename__in=REDUCER_PERMS)
    )
    return user


@pytest.fixture
def reducer_client(client, reducer):
    client.force_login(reducer)
    return client


@pytest.fixture
def ord1():
    """OV1: 30 × 10.00 USD, one-time, activated."""
    return make_order(lines=[(30, "10.00")], activate=True)


@pytest.fixture
def subscription():
    """100 licences × 1200.00 USD over 2026, recurring monthly, activated."""
    order = OrderFactory(effective_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31))
    OrderItemFactory(
        order=order,
        product=ProductFactory(recurring=True),
        quantity=D(100),
        unit_price=Money("1200.00", "USD"),
        service_start_date=dt.date(2026, 1, 1),
        service_end_date=dt.date(2026, 12, 31),
    )
    return order_activate(order=order, user=None)


def reduce(order, qty, user=None, **dates):
    item = order.items.order_by("line_number").first()
    return reduction_order_create(
        original=order, lines=[ReductionLine(item_id=item.pk, quantity=D(qty), **dates)], user=user
    )


# --- R1: permission, button, 403, CSRF -------------------------------------------------


def test_r1_without_the_permission_no_button_and_403_on_reduce_and_cancel(
    client, ops_user, subscription
):
    client.force_login(ops_user)
    html = client.get(change_url(subscription)).content.decode()
    assert "Create reduction order" not in html and "Cancel order product" not in html
    item = subscription.items.get()
    for url in (reduce_url(subscription), cancel_url(subscription)):
        assert client.get(url).status_code == 403
        data = {f"quantity_{item.pk}": "1", "item": item.pk, "terminated_date": "2026-06-30"}
        assert client.post(url, data).status_code == 403
    assert not Order.objects.filter(kind=OrderKind.REDUCTION).exists()


def test_r1_with_the_permission_button_form_and_reduction_created(reducer_client, ord1):
    """R1, R5: the button opens the form; the reduction is a Draft with quantity −10."""
    html = reducer_client.get(change_url(ord1)).content.decode()
    assert "Create reduction order…" in html and reduce_url(ord1) in html
    item = ord1.items.get()
    page = reducer_client.get(reduce_url(ord1)).content.decode()
    assert item.product.name in page and f'name="quantity_{item.pk}"' in page
    assert f'name="start_date_{item.pk}"' not in page  # one-time: quantity only (R6)
    response = reducer_client.post(reduce_url(ord1), {f"quantity_{item.pk}": "10"})
    reduction = Order.objects.get(kind=OrderKind.REDUCTION)
    assert response.status_code == 302 and response["Location"] == reduction_url(reduction)
    assert reduction.status == OrderStatus.DRAFT and reduction.original_order == ord1
    assert reduction.items.get().quantity == D(-10)
    assert any("created in Draft" in m for m in messages_of(response))


def test_r1_csrf_is_enforced_on_the_reduce_form(reducer, ord1):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reducer)
    item = ord1.items.get()
    assert client.post(reduce_url(ord1), {f"quantity_{item.pk}": "1"}).status_code == 403
    assert client.post(cancel_url(ord1), {"item": item.pk}).status_code == 403
    assert not Order.objects.filter(kind=OrderKind.REDUCTION).exists()


def test_r2_a_draft_order_has_no_button_and_the_form_says_why(reducer_client):
    draft = make_order(lines=[(3, "10.00")])
    assert "Create reduction order" not in reducer_client.get(change_url(draft)).content.decode()
    response = reducer_client.get(reduce_url(draft), follow=True)
    assert messages_of(response) == [  # R2, in words
        f"Only Activated or Fulfilled standard orders can be reduced ({draft} is Draft)."
    ]


# --- R6, R7: refusals on the fields, nothing saved ---------------------------------------


def test_r7_over_reduction_is_refused_on_the_quantity_field(reducer_client, ord1):
    reduce(ord1, 10)  # a draft counts (R7)
    item = ord1.items.get()
    response = reducer_client.post(reduce_url(ord1), {f"quantity_{item.pk}": "25"})
    assert response.status_code == 200
    errors = response.context["form"].errors[f"quantity_{item.pk}"]
    assert errors == [f"{item.so_line_id}: only 20 of 30 can still be reduced"]  # R7
    assert Order.objects.filter(kind=OrderKind.REDUCTION).count() == 1  # nothing new


def test_r6_recurring_dates_outside_the_original_are_refused(reducer_client, subscription):
    item = subscription.items.get()
    page = reducer_client.get(reduce_url(subscription)).content.decode()
    assert f'name="start_date_{item.pk}"' in page and f'name="end_date_{item.pk}"' in page
    response = reducer_client.post(
        reduce_url(subscription),
        {
            f"quantity_{item.pk}": "10",
            f"start_date_{item.pk}": "2025-12-01",
            f"end_date_{item.pk}": "2026-06-30",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    messages = [e for errors in form.errors.values() for e in errors]
    assert any("is outside the product's service dates" in e for e in messages), messages
    assert any(key.startswith(("start_date_", "end_date_")) for key in form.errors)
    html = response.content.decode()
    assert "is outside the product&#x27;s service dates" in html and "R6" not in html
    assert not Order.objects.filter(kind=OrderKind.REDUCTION).exists()


def test_r6_recurring_reduction_inside_the_dates_is_created(reducer_client, subscription):
    item = subscription.items.get()
    response = reducer_client.post(
        reduce_url(subscription),
        {
            f"quantity_{item.pk}": "10",
            f"start_date_{item.pk}": "2026-07-01",
            f"end_date_{item.pk}": "2026-12-31",
            "comment": "downsizing",
        },
    )
    assert response.status_code == 302
    reduced = OrderItem.objects.get(order__kind=OrderKind.REDUCTION)
    assert reduced.service_start_date == dt.date(2026, 7, 1) and reduced.quantity == -10


# --- C1, C2: cancel an order product ---------------------------------------------------


def test_c1_c2_cancel_product_form_creates_an_activated_cancellation(reducer_client, subscription):
    html = reducer_client.get(change_url(subscription)).content.decode()
    assert "Cancel order product…" in html
    item = subscription.items.get()
    page = reducer_client.get(cancel_url(subscription)).content.decode()
    assert 'name="activate"' in page and "checked" in page  # activate now: on by default
    response = reducer_client.post(
        cancel_url(subscription),
        {"item": item.pk, "terminated_date": "2026-06-30", "activate": "on"},
    )
    cancellation = Order.objects.get(kind=OrderKind.REDUCTION)
    assert response["Location"] == reduction_url(cancellation)
    assert cancellation.status == OrderStatus.ACTIVATED
    assert cancellation.items.get().contract_action == ContractAction.CANCEL
    item.refresh_from_db()
    assert item.terminated_date == dt.date(2026, 6, 30)
    # C1: nothing left to cancel -> no button any more
    assert (
        "Cancel order product" not in reducer_client.get(change_url(subscription)).content.decode()
    )


def test_c2_terminated_date_outside_the_service_dates_is_refused_on_the_field(
    reducer_client, subscription
):
    item = subscription.items.get()
    response = reducer_client.post(
        cancel_url(subscription), {"item": item.pk, "terminated_date": "2027-03-31"}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["terminated_date"]
    assert errors and not any("C2" in e for e in errors), errors  # C2, in words
    assert not Order.objects.filter(kind=OrderKind.REDUCTION).exists()


def test_c1_one_time_only_order_has_no_cancel_button(reducer_client, ord1):
    assert "Cancel order product" not in reducer_client.get(change_url(ord1)).content.decode()
    response = reducer_client.get(cancel_url(ord1), follow=True)
    assert messages_of(response) == [f"{ord1} has no recurring product left to cancel."]  # C1


# --- R12: the original's page ------------------------------------------------------------


def test_r12_order_page_lists_reductions_and_net_quantities(reducer_client, ord1):
    active = reduction_order_activate(reduction=reduce(ord1, 10), user=None)
    draft = reduce(ord1, 5)
    html = reducer_client.get(change_url(ord1)).content.decode()
    assert 'id="order-reductions"' in html
    assert reduction_url(active) in html and reduction_url(draft) in html
    assert "-$100.00" in html and '<span class="contra-badge REDUCTION">' in html
    net = html[html.index('class="contra-net"') :]
    # sold 30, reduced 10, pending 5, net 20, available 20
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in net.split("</td>")[2:7]]
    assert cells == ["30", "10", "5", "20", "20"], cells


def test_order_list_leaves_reduction_orders_to_their_own_admin(admin_client, ord1):
    reduction = reduce(ord1, 1)
    html = admin_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert ord1.number in html and reduction.number not in html
    response = admin_client.get(change_url(reduction))
    assert response.status_code == 302 and response["Location"] == reduction_url(reduction)


# --- the reduction order admin -----------------------------------------------------------


def test_reduction_list_shows_kind_status_original_and_filters(admin_client, ord1, subscription):
    reduction = reduce(ord1, 3)
    from orders.services.cancellations import cancellation_create

    cancellation = cancellation_create(
        original_item=subscription.items.get(), terminated_date=dt.date(2026, 6, 30), user=None
    )
    url = reverse("admin:orders_reductionorder_changelist")
    html = admin_client.get(url).content.decode()
    assert reduction.number in html and cancellation.number in html
    assert change_url(ord1) in html and ">Cancellation<" in html and ">Reduction<" in html
    assert 'class="contra-badge DRAFT"' in html and 'class="contra-badge ACTIVATED"' in html
    assert "addlink" not in html  # created from the original's page only
    only_cancel = admin_client.get(url, {"kind": "cancellation"}).context["cl"]
    assert [o.pk for o in only_cancel.result_list] == [cancellation.pk]
    assert admin_client.get(url, {"q": ord1.number}).context["cl"].result_count == 1
    assert admin_client.get(url, {"status__exact": "ACTIVATED"}).context["cl"].result_count == 1
    assert admin_client.get(reverse("admin:orders_reductionorder_add")).status_code == 403


def test_reduction_page_items_read_only_and_activate_deactivate_buttons(admin_client, ord1):
    """R9, R11: the buttons run the reduction services; deactivation asks a reason."""
    reduction = reduce(ord1, 10)
    response = admin_client.get(reduction_url(reduction))
    html = response.content.decode()
    assert f"{ord1.number}-1" in html  # the original's SO line it reduces
    assert 'value="activate"' in html and 'name="items-0-quantity"' not in html
    assert 'id="reduction-history"' in html
    data = form_data(response)
    data["_fsm_transition_to"] = "activate"
    response = admin_client.post(reduction_url(reduction), data)
    confirm = reverse("admin:orders_reductionorder_transition", args=[reduction.pk, "activate"])
    assert response["Location"] == confirm  # R9: it stages RORD lines, so it asks first
    assert "stages 1 revenue line (1 RORD)" in admin_client.get(confirm).content.decode()
    response = admin_client.post(confirm, {"comment": ""})
    assert response.status_code == 302
    reduction.refresh_from_db()
    assert reduction.status == OrderStatus.ACTIVATED
    assert ord1.items.get().available_quantity == 20
    assert f"{reduction.number}: activated." in messages_of(response)

    data = form_data(admin_client.get(reduction_url(reduction)))
    data["_fsm_transition_to"] = "deactivate"
    response = admin_client.post(reduction_url(reduction), data)
    form_url = reverse("admin:orders_reductionorder_transition", args=[reduction.pk, "deactivate"])
    assert response["Location"] == form_url
    response = admin_client.post(form_url, {"comment": "customer changed their mind"})
    assert response.status_code == 302
    reduction.refresh_from_db()
    assert reduction.status == OrderStatus.DRAFT
    assert ord1.items.get().available_quantity == 30


def test_r7_refused_activation_is_a_message_in_words(admin_client, ord1):
    first, second = reduce(ord1, 20), reduce(ord1, 10)
    OrderItem.objects.filter(order=second).update(quantity=D(-15))  # past the save check
    reduction_order_activate(reduction=first, user=None)
    data = form_data(admin_client.get(reduction_url(second)))
    data["_fsm_transition_to"] = "activate"
    response = admin_client.post(reduction_url(second), data, follow=True)
    assert response.status_code == 200
    assert "It cannot be done now: " in response.content.decode()  # the R7 refusal
    confirm = reverse("admin:orders_reductionorder_transition", args=[second.pk, "activate"])
    response = admin_client.post(confirm, {"comment": ""}, follow=True)
    msgs = messages_of(response)
    assert any("can still be reduced" in m for m in msgs) and not any("R7" in m for m in msgs)


def test_reduction_delete_only_while_draft(admin_client, ord1):
    draft = reduce(ord1, 1)
    active = reduction_order_activate(reduction=reduce(ord1, 1), user=None)
    delete = "admin:orders_reductionorder_delete"
    assert admin_client.get(reverse(delete, args=[active.pk])).status_code == 403
    response = admin_client.post(reverse(delete, args=[draft.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Order.objects.filter(pk=draft.pk).exists()


def test_reduction_page_without_permission_shows_no_activate_button(client, ops_user, ord1):
    ops_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_reductionorder", "change_reductionorder"])
    )
    client.force_login(ops_user)
    reduction = reduce(ord1, 1)
    response = client.get(reduction_url(reduction))
    assert 'value="activate"' not in response.content.decode()  # R1
    data = form_data(response)
    data["_fsm_transition_to"] = "activate"  # a crafted POST reaches no transition
    response = client.post(reduction_url(reduction), data, follow=True)
    assert response.status_code == 403
    confirm = reverse("admin:orders_reductionorder_transition", args=[reduction.pk, "activate"])
    assert client.post(confirm, {"comment": ""}).status_code == 403
    reduction.refresh_from_db()
    assert reduction.status == OrderStatus.DRAFT


# --- constant query counts -------------------------------------------------------------


def _count_queries(client, url):
    client.get(url)  # warm caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_reduction_list_runs_a_constant_number_of_queries(admin_client):
    url = reverse("admin:orders_reductionorder_changelist")
    counts = []
    for n in (2, 20):
        Order.objects.filter(kind=OrderKind.REDUCTION).delete()
        order = make_order(lines=[(100, "1.00")], activate=True)
        for i in range(n):
            reduction = reduce(order, 1)
            if i % 2:
                reduction_order_activate(reduction=reduction, user=None)
        counts.append(_count_queries(admin_client, url))
    assert counts[0] == counts[1], counts


def test_order_page_with_reductions_runs_a_constant_number_of_queries(admin_client):
    counts = []
    for n in (2, 20):
        order = make_order(lines=[(100, "1.00"), (50, "2.00")], activate=True)
        for i in range(n):
            reduction = reduce(order, 1)
            if i % 2:
                reduction_order_activate(reduction=reduction, user=None)
        counts.append(_count_queries(admin_client, change_url(order)))
    assert counts[0] == counts[1], counts


def test_reduction_page_runs_a_constant_number_of_queries(admin_client):
    counts = []
    for n in (2, 20):
        order = make_order(lines=[(10, "1.00")] * n, activate=True)
        lines = [ReductionLine(item_id=i.pk, quantity=D(1)) for i in order.items.all()]
        reduction = reduction_order_create(original=order, lines=lines, user=None)
        counts.append(_count_queries(admin_client, reduction_url(reduction)))
    assert counts[0] == counts[1], counts


def test_r12_order_list_leaves_reductions_to_their_own_list(admin_client, ord1):
    """Reduction orders are listed under *Reduction orders*; the order list neither shows
    them nor offers a kind filter that can only come back empty."""
    ro = reduce(ord1, 5)
    page = admin_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert ord1.number in page and ro.number not in page
    assert "kind__exact=REDUCTION" not in page and "kind__exact=STANDARD" in page
    own = admin_client.get(reverse("admin:orders_reductionorder_changelist")).content.decode()
    assert ro.number in own
