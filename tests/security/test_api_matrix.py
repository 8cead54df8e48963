"""The API answers each role as the admin would (issue 18): every list of ``/api/v1/`` is
read with the model's view (or change) permission, 401 without credentials, 403 without
the permission, never a 500 — for anonymous, staff without permissions, Ops, Revenue
accountant and a superuser, on the demo data."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api.urls import router

from .conftest import ROLES

LISTS = [(basename, viewset) for _prefix, viewset, basename in router.registry]


def may_read(user, viewset) -> bool:
    if user.is_superuser:
        return True
    opts = viewset.model._meta
    return any(
        user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")
        for action in ("view", "change")
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_api_list_answers_each_role_as_its_permissions_say(role, role_users, demo):
    user = role_users[role]
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    problems = []
    for basename, viewset in LISTS:
        url = reverse(f"v1:{basename}-list")
        response = client.get(url)
        expected = 401 if user is None else 200 if may_read(user, viewset) else 403
        if response.status_code != expected:
            problems.append(f"GET {url}: {role} got {response.status_code}, expected {expected}")
        elif expected != 200:
            assert set(response.json()) == {"code", "detail", "errors"}
    assert len(LISTS) >= 11
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ["staff", "ops"])
def test_writes_without_the_permission_are_refused_and_change_nothing(role, role_users, demo):
    """Staff without permissions and Ops (no revenue rights) may not stage lines, start
    a collection or close a period through the API."""
    from revenue.models import CollectionRun, InboundBatch, Period

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=role_users[role])
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    before = (InboundBatch.objects.count(), CollectionRun.objects.count())
    periods = list(Period.objects.values_list("pk", "status"))
    assert client.post(reverse("v1:inbound-line-list"), [{}], format="json").status_code == 403
    assert client.post(reverse("v1:collection-run-list")).status_code == 403
    assert client.post(reverse("v1:period-close"), {}, format="json").status_code == 403
    assert (InboundBatch.objects.count(), CollectionRun.objects.count()) == before
    assert list(Period.objects.values_list("pk", "status")) == periods
