"""An order product's own page (the products inline's *details* link) and the inline's
columns: the fields an operator edits on every line in the inline, the rest on the
product's page; editable while the order is Draft (O4), saved through the service."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from core.widgets import DateInput
from orders.models import OrderItem
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def item_url(item):
    return reverse("admin:orders_orderitem_change", args=[item.pk])


def test_inline_shows_the_columns_an_operator_edits_and_links_each_line(admin_client):
    order = make_order(lines=(("3", "10.00"), ("1", "5.00")))
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    inline = page.context["inline_admin_formsets"][0]
    names = [field["name"] for field in inline.fields()]
    assert names == [
        "line_number",
        "product",
        "quantity",
        "unit_price",
        "service_start_date",
        "service_end_date",
        "billing_frequency",
        "total",
        "details",
    ]
    html = page.content.decode()
    for item in order.items.all():
        assert f'href="{item_url(item)}"' in html


def test_product_page_edits_tax_and_revenue_method_through_the_service(admin_client):
    """O2: the line is re-priced and the order's totals follow; the order's history says
    what changed."""
    order = make_order(lines=(("4", "12.50"),))
    item = order.items.get()
    page = admin_client.get(item_url(item))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert {"tax_rate", "billing_type", "revenue_method"} <= set(form.fields)
    data = {
        "product": str(item.product_id),
        "quantity": "4",
        "unit_price": "12.50",
        "service_start_date": "2026-01-01",
        "service_end_date": "2026-12-31",
        "billing_frequency": item.billing_frequency,
        "tax_rate": "10",
        "billing_type": item.billing_type,
        "revenue_method": item.revenue_method,
    }
    events = AuditEvent.objects.count()
    response = admin_client.post(item_url(item), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:orders_order_change", args=[order.pk])
    item.refresh_from_db()
    order.refresh_from_db()
    assert item.tax_rate == Decimal("10") and str(item.tax_amount.amount) == "5.00"
    assert str(order.gross_total.amount) == "55.00"
    assert AuditEvent.objects.count() > events


def test_product_page_refuses_a_bad_quantity_on_the_field(admin_client):
    order = make_order(lines=(("4", "12.50"),))
    item = order.items.get()
    data = {
        "product": str(item.product_id),
        "quantity": "0",
        "unit_price": "12.50",
        "tax_rate": "0",
        "billing_type": item.billing_type,
        "revenue_method": item.revenue_method,
        "billing_frequency": item.billing_frequency,
    }
    response = admin_client.post(item_url(item), data)
    assert response.status_code == 200
    assert "quantity" in response.context["adminform"].form.errors
    item.refresh_from_db()
    assert item.quantity == Decimal("4")


def test_product_page_is_read_only_once_the_order_is_activated(admin_client):
    """O4: an activated order's products are read-only, here as on the order."""
    order = make_order(activate=True)
    item = order.items.get()
    page = admin_client.get(item_url(item))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert admin_client.post(item_url(item), {"quantity": "9"}).status_code == 403
    item.refresh_from_db()
    assert item.quantity == Decimal("3")


def test_order_products_are_added_and_deleted_on_the_order_only(admin_client):
    order = make_order()
    item = order.items.get()
    assert admin_client.get(reverse("admin:orders_orderitem_add")).status_code == 403
    delete = reverse("admin:orders_orderitem_delete", args=[item.pk])
    assert admin_client.get(delete).status_code == 403
    index = admin_client.get(reverse("admin:index"))
    models = {m["object_name"] for app in index.context["app_list"] for m in app["models"]}
    assert "OrderItem" not in models
    assert OrderItem.objects.filter(pk=item.pk).exists()


def test_product_page_runs_a_constant_number_of_queries(admin_client):
    order = make_order()
    item = order.items.get()
    admin_client.get(item_url(item))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(item_url(item))
    assert len(queries) <= 15, [q["sql"] for q in queries]


def test_every_admin_date_field_uses_the_one_date_input(admin_client):
    """One date input on every page: the browser's date picker with ISO values, on the
    order, its products inline and the custom forms alike."""
    order = make_order()
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    form = page.context["adminform"].form
    assert isinstance(form.fields["effective_date"].widget, DateInput)
    row = page.context["inline_admin_formsets"][0].formset.forms[0]
    assert isinstance(row.fields["service_start_date"].widget, DateInput)
    html = page.content.decode()
    assert 'type="date"' in html and "vDateField" not in html
    assert 'value="2026-01-01"' in html
