"""The groups *Ops* and *Revenue accountant* (core migration 0002): made by the migration
on a fresh database, reversible, idempotent; what each may do; R1 *Create Reduction
Orders* for Ops only."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from orders.models import ChargeType, Order, OrderKind, OrderStatus

from .conftest import ACCOUNTANT, GROUPS, OPS, SECURITY_MIGRATION

APPS = ("core", "orders", "revenue", "returns")
# custom permissions no group gets: finance supervisors (superusers) keep them
SUPERUSER_ONLY = {
    "orders.bill_order",
    "orders.post_invoice",
    "orders.void_invoice",
    "orders.issue_creditmemo",
    "orders.void_creditmemo",
}


def group_perms(name: str) -> set[str]:
    rows = Group.objects.get(name=name).permissions.select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}" for p in rows}


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_migration_makes_the_groups_on_a_fresh_database_and_reverses():
    """Reversed: no group. Forward with no permission row of our apps (post_migrate has
    not run on a fresh database): the rows and both groups are made. Again: no change."""
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate([("core", "0001_initial")])
    assert not Group.objects.filter(name__in=GROUPS).exists()
    Permission.objects.filter(content_type__app_label__in=APPS).delete()
    migrate(leaves)
    for name, perms in GROUPS.items():
        assert group_perms(name) == set(perms)
    counts = {name: Group.objects.get(name=name).permissions.count() for name in GROUPS}
    SECURITY_MIGRATION.groups_create(apps, type("Editor", (), {"connection": connection}))
    assert {name: Group.objects.get(name=name).permissions.count() for name in GROUPS} == counts
    assert Group.objects.filter(name__in=GROUPS).count() == 2


def test_ops_may_work_orders_and_returns_and_not_revenue(security_groups):
    perms = group_perms(OPS)
    assert {
        "orders.view_order",
        "orders.add_order",
        "orders.change_order",
        "orders.add_orderitem",
        "orders.change_orderitem",
        "orders.activate_order",
        "orders.deactivate_order",
        "orders.fulfil_order",
        "orders.create_reduction_order",  # R1
        "orders.change_reductionorder",
        "orders.view_invoice",
        "orders.view_creditmemo",
        "orders.view_billingrun",
        "orders.view_account",
        "orders.view_product",
        "orders.view_pricebook",
        "returns.add_returnorder",
        "returns.approve_returnorder",
        "returns.process_returnorder",
        "returns.close_returnorder",
        "returns.cancel_returnorder",
        "returns.simple_return",
        "returns.settle_refund",
    } <= perms
    assert not {p for p in perms if p.startswith("revenue.")}
    assert not perms & SUPERUSER_ONLY
    assert "orders.change_account" not in perms and "orders.change_invoice" not in perms


def test_revenue_accountant_works_the_ledger_and_only_reads_orders_and_returns(
    security_groups,
):
    perms = group_perms(ACCOUNTANT)
    assert {
        "revenue.view_inboundline",
        "revenue.change_inboundline",
        "revenue.review_inboundline",  # *Mark RORD Review Completed* (I5)
        "revenue.view_collectionrun",
        "revenue.collect_now",  # I6
        "revenue.add_period",
        "revenue.change_period",
        "revenue.close_period",  # S2
        "revenue.view_journalentry",
        "revenue.view_soline",
        "revenue.manage_schedule",  # S10
        "revenue.view_revenuecontract",
        "revenue.change_validationrule",
        "revenue.change_profilesetting",
        "orders.view_order",
        "returns.view_returnorder",
    } <= perms
    others = {p for p in perms if p.split(".")[0] in ("orders", "returns")}
    assert others and all(p.split(".")[1].startswith("view_") for p in others)
    assert "orders.create_reduction_order" not in perms


def test_every_custom_permission_goes_to_a_group_or_stays_with_superusers(security_groups):
    """A permission added to a model's Meta.permissions must be given to a group (a new
    migration) or listed here as kept for superusers."""
    given = group_perms(OPS) | group_perms(ACCOUNTANT)
    custom = {
        f"{label}.{codename}"
        for label in APPS
        for model in apps.get_app_config(label).get_models()
        for codename, _ in model._meta.permissions
    }
    assert custom - given == SUPERUSER_ONLY
    assert custom >= SUPERUSER_ONLY  # none of them stale


# --- R1: Create Reduction Orders -------------------------------------------------------
def reducible_order() -> Order:
    for order in Order.objects.filter(kind=OrderKind.STANDARD, status=OrderStatus.ACTIVATED):
        if order.items.filter(charge_type=ChargeType.ONE_TIME, available_quantity__gt=0):
            return order
    raise AssertionError("the demo data has no activated order with a one-time product")


@pytest.mark.parametrize("role, allowed", [("ops", True), ("accountant", False), ("staff", False)])
def test_r1_create_reduction_orders_is_ops_only(client, role_users, demo, role, allowed):
    """R1: Ops see *Create reduction order…* and create one; the revenue accountant and
    staff without permissions get no button and a 403 (nothing is created)."""
    client.force_login(role_users[role])
    order = reducible_order()
    item = order.items.filter(charge_type=ChargeType.ONE_TIME, available_quantity__gt=0)[0]
    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == (200 if role != "staff" else 403)
    assert ("Create reduction order" in page.content.decode()) is allowed
    url = reverse("admin:orders_order_reduce", args=[order.pk])
    before = Order.objects.filter(kind=OrderKind.REDUCTION).count()
    response = client.post(url, {f"quantity_{item.pk}": "1"})
    if allowed:
        reduction = Order.objects.filter(kind=OrderKind.REDUCTION).latest("pk")
        assert response.status_code == 302, response.content.decode()[:2000]
        assert reduction.original_order == order and reduction.status == OrderStatus.DRAFT
    else:
        assert response.status_code == 403
        assert Order.objects.filter(kind=OrderKind.REDUCTION).count() == before
