import pytest
from django.contrib.auth.models import Permission

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
