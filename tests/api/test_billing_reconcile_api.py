"""``GET /api/v1/billing-reconcile/`` (interchange.md "HTTP API", close.md M5): the
``billing_reconcile --format json`` report over HTTP, with the command's ``period`` and
``currency``; a bad value is a 400 naming the field; read with the permission of the
admin's reconciliation page (view invoices)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import UserFactory

from .conftest import token_client, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0, stdout=io.StringIO())


def command_json(*args: str) -> dict:
    out, err = io.StringIO(), io.StringIO()
    call_command("billing_reconcile", "--format", "json", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue())


def test_m5_billing_reconcile_answers_the_commands_json_on_the_demo(demo, accountant_api):
    response = accountant_api.get(url("billing-reconcile"))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == command_json()
    assert list(body) == ["report", "period", "rows", "totals", "unexplained"]
    assert (body["report"], body["period"]) == ("billing_reconcile", "202611")
    statuses = {row["revenue_status"] for row in body["rows"]}
    assert {"collected", "stopped", "missing"} <= statuses
    (missing,) = [row for row in body["rows"] if row["revenue_status"] == "missing"]
    assert (missing["currency"], missing["billing_amount"]) == ("USD", "7500.00")
    totals = {t["currency"]: t["difference"] for t in body["totals"]}
    assert totals == {"EUR": "-220.80", "GBP": "0.00", "USD": "7500.00"}
    assert body["unexplained"]  # the revenue demo's own lines: another system's


def test_m5_billing_reconcile_takes_the_commands_period_and_currency(demo, accountant_api):
    response = accountant_api.get(url("billing-reconcile"), {"period": "202611", "currency": "eur"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == command_json("--period", "202611", "--currency", "eur")
    assert body["rows"] and {row["currency"] for row in body["rows"]} == {"EUR"}
    assert [t["currency"] for t in body["totals"]] == ["EUR"]
    stopped = [row for row in body["rows"] if row["revenue_status"] == "stopped"]
    assert [row["billing_amount"] for row in stopped] == ["-110.40", "-110.40"]
    empty = accountant_api.get(url("billing-reconcile"), {"period": "202501"}).json()
    assert (empty["period"], empty["rows"], empty["totals"]) == ("202501", [], [])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "20261²"}, "period"),
        ({"period": "abc"}, "period"),
        ({"period": "202613"}, "period"),
        ({"currency": "EURO"}, "currency"),
    ],
)
def test_m5_billing_reconcile_bad_input_is_a_400_naming_the_field(
    demo, accountant_api, params, field
):
    response = accountant_api.get(url("billing-reconcile"), params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "errors"}
    assert list(body["errors"]) == [field]
    assert params[field] in body["errors"][field][0]


def test_m5_billing_reconcile_without_an_open_period_asks_for_one(accountant_api):
    response = accountant_api.get(url("billing-reconcile"))
    assert response.status_code == 400
    assert response.json()["errors"] == {"period": ["there is no open period: give a period"]}


def test_m5_billing_reconcile_permissions_are_the_admin_pages(demo, ops_api):
    """The admin's reconciliation page needs *view invoices*: Ops has it, staff without
    permissions do not, anonymous callers get 401."""
    assert APIClient().get(url("billing-reconcile")).status_code == 401
    nobody = token_client(UserFactory(is_staff=True, username="nobody-reconcile"))
    refused = nobody.get(url("billing-reconcile"))
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert ops_api.get(url("billing-reconcile")).status_code == 200


def test_m5_billing_reconcile_is_in_the_schema_with_its_parameters(accountant_api):
    schema = accountant_api.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/billing-reconcile/"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"period", "currency"}
