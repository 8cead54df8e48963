"""The order admin: list, change page, transition buttons, refusals as messages."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money

from orders.models import Order, OrderItem, OrderStatus
from orders.services import order_activate
from tests.factories import OrderFactory, PriceBookEntryFactory, make_order

pytestmark = pytest.mark.django_db


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def _put(data, key, value):
    if value is None or value is False:
        return
    if isinstance(value, Money):  # MoneyField widgets: amount + currency
        value = [value.amount, value.currency]
    if isinstance(value, (list, tuple)):
        for i, part in enumerate(value):
            data[f"{key}_{i}"] = "" if part is None else str(part)
    else:
        data[key] = str(value)


def form_data(response):
    """The POST data the change page would send as it is (main form + inline formsets)."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        _put(data, name, form[name].value())
    for formset in response.context["inline_admin_formsets"]:
        fs = formset.formset
        for key, value in fs.management_form.initial.items():
            data[f"{fs.prefix}-{key}"] = value
        for sub in fs.forms:
            for name in sub.fields:
                _put(data, f"{sub.prefix}-{name}", sub[name].value())
    return data


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def post_product_row(client, order, **row):
    """Post the order page with its first products row filled in; return the response
    and the products formset's errors as text."""
    data = form_data(client.get(change_url(order)))
    data.update({f"items-0-{name}": value for name, value in row.items()})
    response = client.post(change_url(order), data)
    errors = ""
    if response.status_code == 200:
        errors = str(response.context["inline_admin_formsets"][0].formset.errors)
    return response, errors


def test_order_list_shows_number_account_status_and_totals(admin_client):
    order = make_order(lines=[("3", "10.00")], activate=True)
    response = admin_client.get(reverse("admin:orders_order_changelist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert order.number in html and order.account.name in html
    assert '<span class="contra-badge ACTIVATED">Activated</span>' in html
    assert "$30.00" in html


def test_order_list_filters_and_search(admin_client):
    draft = make_order()
    active = make_order(activate=True)
    url = reverse("admin:orders_order_changelist")
    html = admin_client.get(url, {"status__exact": "ACTIVATED"}).content.decode()
    assert active.number in html and draft.number not in html
    html = admin_client.get(url, {"q": draft.account.name}).content.decode()
    assert draft.number in html and active.number not in html
    dates = {"effective_date__range__gte": "2025-01-01", "effective_date__range__lte": "2025-12-31"}
    assert admin_client.get(url, dates).context["cl"].result_count == 0
    assert admin_client.get(url, {"kind__exact": "STANDARD"}).context["cl"].result_count == 2


def test_order_list_runs_a_constant_number_of_queries(admin_client):
    url = reverse("admin:orders_order_changelist")
    make_order(activate=True)
    admin_client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    for _ in range(12):
        make_order(lines=[("2", "5.00"), ("1", "3.00")], activate=True)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert response.context["cl"].result_count == 13
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_draft_change_page_has_editable_products_and_activate_button(admin_client):
    order = make_order()
    html = admin_client.get(change_url(order)).content.decode()
    assert 'name="_fsm_transition_to"' in html and 'value="activate"' in html
    assert 'value="fulfil"' not in html and 'value="deactivate"' not in html
    assert 'name="items-0-quantity"' in html  # inline editable (O4)
    assert 'id="order-history"' in html and "created" in html


def test_activated_change_page_is_read_only_with_fulfil_and_deactivate(admin_client):
    order = make_order(activate=True)
    html = admin_client.get(change_url(order)).content.decode()
    assert 'value="fulfil"' in html and 'value="deactivate"' in html
    assert 'value="activate"' not in html
    assert 'name="items-0-quantity"' not in html  # O4: no longer editable
    assert 'name="account"' not in html  # O3: fixed
    assert "Record fulfilment" in html


def transition_url(order, name: str) -> str:
    return reverse("admin:orders_order_transition", args=[order.pk, name])


def test_activate_button_activates_and_records_history(admin_client):
    order = make_order()
    data = form_data(admin_client.get(change_url(order)))
    data["_fsm_transition_to"] = "activate"
    response = admin_client.post(change_url(order), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert response["Location"] == transition_url(order, "activate")  # O9: asked first
    response = admin_client.post(transition_url(order, "activate"), {"comment": ""})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVATED
    assert f"{order.number}: activated." in messages_of(response)
    page = admin_client.get(change_url(order)).content.decode()
    assert 'Draft <span class="arrow">→</span> Activated' in page


def test_fulfil_button_fulfils(admin_client):
    order = make_order(activate=True)
    data = form_data(admin_client.get(change_url(order)))
    data["_fsm_transition_to"] = "fulfil"
    admin_client.post(change_url(order), data)
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert order.items.get().fulfilled_quantity == Decimal("3")


def test_deactivate_button_asks_for_a_reason(admin_client):
    order = make_order(activate=True)
    data = form_data(admin_client.get(change_url(order)))
    data["_fsm_transition_to"] = "deactivate"
    response = admin_client.post(change_url(order), data)
    form_url = reverse("admin:orders_order_transition", args=[order.pk, "deactivate"])
    assert response["Location"] == form_url
    assert "Reason" in admin_client.get(form_url).content.decode()
    response = admin_client.post(form_url, {"comment": "wrong account"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


def test_o2_refused_activation_is_a_message_in_words(admin_client):
    """O2: the refusal says what to do; the rule ID is not shown."""
    order = OrderFactory()  # no products
    data = form_data(admin_client.get(change_url(order)))
    data["_fsm_transition_to"] = "activate"
    response = admin_client.post(change_url(order), data, follow=True)
    assert response.status_code == 200
    html = response.content.decode()  # the confirmation page says why, with no button
    assert "It cannot be done now: add at least one order product before activating" in html
    assert 'name="confirm"' not in html
    # posted anyway (an old page): refused by the service, as a message
    response = admin_client.post(transition_url(order, "activate"), {"comment": ""}, follow=True)
    assert messages_of(response) == ["add at least one order product before activating"]
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


def test_stale_transition_post_is_refused_with_a_message(admin_client):
    order = make_order()
    data = form_data(admin_client.get(change_url(order)))
    order_activate(order=order, user=None)  # someone else was quicker
    data["_fsm_transition_to"] = "activate"
    response = admin_client.post(change_url(order), data, follow=True)
    assert response.status_code == 200
    assert f"activate is not allowed: {order} is Activated" in response.content.decode()
    response = admin_client.post(transition_url(order, "activate"), {"comment": ""}, follow=True)
    assert any(m.startswith("activate is not allowed") for m in messages_of(response))  # O1


def test_inline_product_with_quantity_zero_is_refused_on_the_field(admin_client):
    order = OrderFactory()
    entry = PriceBookEntryFactory(price_book=order.price_book)
    response, errors = post_product_row(
        admin_client, order, product=str(entry.product_id), quantity="0"
    )
    assert response.status_code == 200
    assert "quantity must be greater than 0" in errors and "O7" not in errors
    assert not OrderItem.objects.exists()


def test_inline_unit_price_is_an_amount_in_the_orders_currency(admin_client):
    """O3: an order has one currency: the products inline takes an amount, no currency
    picker per line, and the line is priced in the order's currency."""
    order = OrderFactory(currency="EUR")
    entry = PriceBookEntryFactory(price_book=order.price_book, list_price=Money("9.00", "EUR"))
    page = admin_client.get(change_url(order))
    row = page.context["inline_admin_formsets"][0].formset.forms[0]
    assert "unit_price_1" not in row["unit_price"].as_widget()  # no currency select
    response, errors = post_product_row(
        admin_client, order, product=str(entry.product_id), quantity="2", unit_price="5.00"
    )
    assert response.status_code == 302, errors
    item = OrderItem.objects.get(order=order)
    assert item.unit_price == Money("5.00", "EUR") and item.total == Money("10.00", "EUR")


def test_add_order_with_products_in_one_form(admin_client):
    entry = PriceBookEntryFactory(list_price=Money("12.50", "USD"))
    page = admin_client.get(reverse("admin:orders_order_add"))
    data = form_data(page)
    account = OrderFactory().account
    data.update(
        {
            "account": str(account.pk),
            "price_book": str(entry.price_book_id),
            "currency": "USD",
            "effective_date": "2026-02-01",
            "items-0-product": str(entry.product_id),
            "items-0-quantity": "4",
        }
    )
    response = admin_client.post(reverse("admin:orders_order_add"), data)
    assert response.status_code == 302, response.context and (
        response.context["errors"],
        response.context["inline_admin_formsets"][0].formset.errors,
    )
    order = Order.objects.latest("id")
    assert order.status == OrderStatus.DRAFT and order.number.startswith("ORD-")
    assert order.gross_total == Money("50.00", "USD")  # tax: on the product's own page


def test_activated_order_cannot_be_deleted_from_admin(admin_client):
    order = make_order(activate=True)
    response = admin_client.get(reverse("admin:orders_order_delete", args=[order.pk]))
    assert response.status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()


def test_bulk_activate_action_reports_each_refusal(admin_client):
    good = make_order()
    empty = OrderFactory()
    action = {"action": "activate_selected", "_selected_action": [good.pk, empty.pk]}
    # first a page that says what it will do to each, and does nothing yet
    page = admin_client.post(reverse("admin:orders_order_changelist"), action)
    html = page.content.decode()
    assert "stages 1 revenue line (1 SO)" in html and "add at least one order product" in html
    good.refresh_from_db()
    assert good.status == OrderStatus.DRAFT
    response = admin_client.post(
        reverse("admin:orders_order_changelist"), {**action, "confirm": "yes"}, follow=True
    )
    msgs = messages_of(response)
    assert f"{empty.number}: add at least one order product before activating" in msgs  # O2
    assert "Activated: 1 of 2." in msgs
    good.refresh_from_db()
    assert good.status == OrderStatus.ACTIVATED


def test_partial_fulfilment_page(admin_client):
    order = make_order(lines=[("10", "5.00")], activate=True)
    item = order.items.get()
    url = reverse("admin:orders_order_fulfil_items", args=[order.pk])
    assert "Record fulfilment" in admin_client.get(url).content.decode()
    response = admin_client.post(url, {f"quantity_{item.pk}": "11"})
    assert response.status_code == 200
    html = response.content.decode()  # O6, in words
    assert "line 1: 11 cannot be fulfilled, 10.00 of 10.00 are still open" in html
    assert "O6:" not in html
    response = admin_client.post(url, {f"quantity_{item.pk}": "4", "comment": "truck 1"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.fulfilled_quantity == Decimal("4")


def test_user_without_activate_permission_sees_no_activate_button(client, ops_user):
    from django.contrib.auth.models import Permission

    ops_user.user_permissions.remove(Permission.objects.get(codename="activate_order"))
    client.force_login(ops_user)
    order = make_order()
    html = client.get(change_url(order)).content.decode()
    assert 'value="activate"' not in html
    data = form_data(client.get(change_url(order)))
    data["_fsm_transition_to"] = "activate"
    response = client.post(change_url(order), data, follow=True)
    assert "you do not have the permission to activate orders" in response.content.decode()
    response = client.post(transition_url(order, "activate"), {"comment": ""}, follow=True)
    assert any("permission to activate" in m for m in messages_of(response))
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


@pytest.mark.parametrize("name", ["account", "product", "pricebook", "pricebookentry", "order"])
def test_reference_lists_and_add_pages_render(admin_client, name):
    make_order(activate=True)
    assert admin_client.get(reverse(f"admin:orders_{name}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:orders_{name}_add")).status_code == 200


def test_audit_trail_admin_is_read_only(admin_client):
    make_order(activate=True)
    url = reverse("admin:core_auditevent_changelist")
    assert "activate" in admin_client.get(url).content.decode()
    assert admin_client.get(reverse("admin:core_auditevent_add")).status_code == 403


def test_inline_product_missing_from_price_book_is_refused(admin_client):
    order = OrderFactory()
    stranger = PriceBookEntryFactory()  # priced, but in another price book
    response, errors = post_product_row(
        admin_client, order, product=str(stranger.product_id), quantity="1"
    )
    assert response.status_code == 200
    assert "has no active USD price in price book" in errors and "O2" not in errors
    assert not OrderItem.objects.exists()


def test_account_page_lists_its_orders(admin_client):
    order = make_order(activate=True)
    url = reverse("admin:orders_account_change", args=[order.account_id])
    html = admin_client.get(url).content.decode()
    assert order.number in html and "Activated" in html


@pytest.mark.parametrize("activate", [False, True])
def test_order_page_runs_a_constant_number_of_queries(admin_client, activate):
    """The products inline prefetches its autocomplete labels: no query per line."""
    counts = []
    for lines in (2, 25):
        order = make_order(lines=[("1", "2.00")] * lines, activate=activate)
        url = change_url(order)
        admin_client.get(url)
        with CaptureQueriesContext(connection) as queries:
            html = admin_client.get(url).content.decode()
        counts.append(len(queries))
        product = order.items.order_by("line_number").last().product
        assert html.count(str(product)) >= 1
    assert counts[0] == counts[1], counts


def test_price_book_row_repeating_a_product_and_currency_is_refused_not_500(admin_client):
    """One list price per product and currency in a price book
    (pricebookentry_one_price_per_currency): the price book page's extra row that repeats
    an existing entry's product and currency answers with the form's error, not a 500
    from the database, and writes nothing."""
    entry = PriceBookEntryFactory()
    url = reverse("admin:orders_pricebook_change", args=[entry.price_book_id])
    data = form_data(admin_client.get(url))
    data.update(
        {
            "entries-1-product": str(entry.product_id),
            "entries-1-list_price_0": "99.00",
            "entries-1-list_price_1": entry.list_price.currency.code,
            "entries-1-is_active": "on",
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    errors = str(response.context["inline_admin_formsets"][0].formset.errors)
    assert "already exists" in errors, errors
    assert entry.price_book.entries.count() == 1
