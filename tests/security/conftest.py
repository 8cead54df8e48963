"""Users of each role, the two groups of the security migration, and demo data."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from tests.factories import UserFactory

SECURITY_MIGRATION = importlib.import_module("core.migrations.0002_security_groups")
GROUPS = SECURITY_MIGRATION.GROUPS
OPS, ACCOUNTANT = "Ops", "Revenue accountant"
ROLES = ("anonymous", "staff", "ops", "accountant", "superuser")


class _Editor:
    """What the migration's functions read of a schema editor: its connection."""

    connection = connection


def groups_ensure() -> None:
    """The groups as the migration makes them. A transactional test run earlier flushes
    every table (data migrations do not run again), so they are made again when missing;
    the migration itself is tested in test_groups.py."""
    if Group.objects.filter(name__in=GROUPS).count() < len(GROUPS):
        SECURITY_MIGRATION.groups_create(apps, _Editor())


@pytest.fixture
def security_groups(db):
    groups_ensure()
    return {name: Group.objects.get(name=name) for name in GROUPS}


def role_user(role: str, groups: dict):
    """The user of ``role`` (None for anonymous); every role but anonymous is staff."""
    if role == "anonymous":
        return None
    user = UserFactory(username=f"sec-{role}", is_staff=True, is_superuser=role == "superuser")
    if role in ("ops", "accountant"):
        user.groups.add(groups[OPS if role == "ops" else ACCOUNTANT])
    return user


@pytest.fixture
def role_users(security_groups):
    return {role: role_user(role, security_groups) for role in ROLES}


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
