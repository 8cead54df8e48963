"""Project wiring: migrations, demo data, the two commands' pieces, the Celery broker."""

import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from config.celery import app as celery_app
from orders.models import Account, Order, OrderItem, OrderStatus, PriceBookEntry, Product


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_load_demo_covers_every_status_and_is_idempotent():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "7 orders" in out.getvalue()
    counts = [m.objects.count() for m in (Account, Product, PriceBookEntry, Order, OrderItem)]
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == {OrderStatus.DRAFT, OrderStatus.ACTIVATED, OrderStatus.FULFILLED}
    assert Product.objects.filter(charge_type="RECURRING").values("default_billing_frequency")
    assert Order.objects.filter(items__fulfilled_quantity__gt=0, status="ACTIVATED").exists()
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "nothing new" in out.getvalue()
    assert counts == [
        m.objects.count() for m in (Account, Product, PriceBookEntry, Order, OrderItem)
    ]


@pytest.mark.django_db
def test_ensure_demo_superuser_creates_one_only_once():
    out = io.StringIO()
    call_command("ensure_demo_superuser", stdout=out)
    assert "created demo superuser admin / admin" in out.getvalue()
    call_command("ensure_demo_superuser", stdout=io.StringIO())
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


def test_celery_broker_is_reachable():
    """The configured broker answers: filesystem:// by default, Redis when configured."""
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=5)
        assert conn.transport_cls in {"filesystem", "redis"}
        expected = settings.CELERY_BROKER_URL.split("://")[0]
        assert conn.transport_cls == expected


def test_database_is_the_configured_one():
    engine = settings.DATABASES["default"]["ENGINE"]
    if settings.DATABASE_URL.startswith("postgres"):
        assert engine == "django.db.backends.postgresql"
    else:
        assert engine == "django.db.backends.sqlite3"


def test_admin_index_lists_work_apps_first(admin_client):
    apps = [a["app_label"] for a in admin_client.get("/admin/").context["app_list"]]
    assert apps[0] == "orders"
    # the internals (users, audit, Celery results and schedules) under one heading, last
    assert apps[-1] == "administration"
    assert not {"core", "auth", "django_celery_beat", "django_celery_results"} & set(apps)
