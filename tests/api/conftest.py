"""Users of the two working groups and their API clients (token auth), for the order and
returns resources of the API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.security.conftest import groups_ensure


def url(name: str, *args) -> str:
    return reverse(f"v1:{name}", args=args)


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def member(username: str, group: str):
    groups_ensure()
    user = UserFactory(is_staff=True, username=username)
    user.groups.add(Group.objects.get(name=group))
    return user


def queries_of(client: APIClient, path: str, **params) -> int:
    """How many queries one GET of ``path`` runs (the answer must be a 200)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


@pytest.fixture
def ops(db):
    return member("ops-api", "Ops")


@pytest.fixture
def ops_api(ops) -> APIClient:
    return token_client(ops)


@pytest.fixture
def accountant_api(db) -> APIClient:
    return token_client(member("acct-api", "Revenue accountant"))
