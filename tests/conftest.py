import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import Permission

from config.celery import app as celery_app
from tests.factories import UserFactory


@pytest.fixture
def ops_user(db):
    """An ops clerk with the order permissions (not a superuser)."""
    user = UserFactory(is_staff=True)
    perms = Permission.objects.filter(
        content_type__app_label="orders",
        codename__in=[
            "view_order",
            "add_order",
            "change_order",
            "delete_order",
            "view_orderitem",
            "add_orderitem",
            "change_orderitem",
            "delete_orderitem",
            "activate_order",
            "deactivate_order",
            "fulfil_order",
            "view_account",
            "view_product",
            "view_pricebook",
            "view_pricebookentry",
        ],
    )
    user.user_permissions.set(perms)
    return user


@pytest.fixture
def admin_user(db):
    return UserFactory(is_staff=True, is_superuser=True, username="boss")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def embedded_worker(transactional_db):
    """A worker thread on the real broker, on a queue of its own (no stray workers)."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    celery_app.amqp.queues.select_add(queue)
    try:
        with start_worker(celery_app, perform_ping_check=False, queues=[queue]) as worker:
            yield worker
    finally:
        celery_app.conf.task_default_queue = previous
