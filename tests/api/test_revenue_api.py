"""The HTTP API's revenue resources (interchange.md "HTTP API"; issue 18): token auth, the
admin's permissions, errors as {"code", "detail", "errors"}, Idempotency-Key, staging (I1,
I2), review (I5), collection runs (I6), SO line actions (S10), period close (S2, M4),
exports and reports, and a schema that validates."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from revenue.models import CollectionRun, InboundBatch, InboundLine, Period
from revenue.services.collection import collection_collect
from revenue.services.periods import period_open
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SO = {
    "TRAN_TYPE": "SO",
    "SO_NUM": "S1",
    "SO_LINE_ID": "S1-1",
    "SO_DATE": "2026-01-01",
    "CUSTOMER": "Acme",
    "ITEM": "Support",
    "ORD_QTY": "12",
    "EXT_LST_PRC": "1200",
    "EXT_SLL_PRC": "1200",
    "CURR": "USD",
    "F_CUR": "USD",
    "START_DATE": "2026-01-01",
    "END_DATE": "2026-12-31",
    "REV_METHOD": "RATABLE_MONTHLY",
}
BAD = {**SO, "SO_LINE_ID": "S1-2", "SO_DATE": "2026-13-01"}


def v1(name: str, *args) -> str:
    return reverse(f"v1:{name}", args=args)


def client_of(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def accountant():
    user = UserFactory(is_staff=True, username="acct")
    user.groups.add(Group.objects.get(name="Revenue accountant"))
    return user


@pytest.fixture
def api(accountant):
    period_open(period=202601, actor=None)
    return client_of(accountant)


def test_anonymous_gets_401_in_the_error_shape():
    response = APIClient().get(v1("inbound-line-list"))
    assert response.status_code == 401
    assert set(response.json()) == {"code", "detail", "errors"}


def test_i1_i2_stage_a_json_array_keeps_bad_rows_stopped_and_says_which(api):
    response = api.post(v1("inbound-line-list"), [SO, BAD], format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    batch = InboundBatch.objects.get(pk=body["batch"])
    assert batch.source == InboundBatch.SourceKind.API and body["staged"] == 2
    assert [problem["row"] for problem in body["parse_errors"]] == [2]
    assert body["parse_errors"][0]["errors"][0]["code"] == "INB-000"
    listed = api.get(v1("inbound-line-list"), {"batch": batch.pk}).json()
    assert listed["count"] == 2
    assert {line["so_line_id"] for line in listed["results"]} == {"S1-1", "S1-2"}


def test_i1_stage_a_csv_body_like_revenue_import(api):
    header = ",".join(SO)
    body = header + "\n" + ",".join(SO.values()) + "\n"
    response = api.generic("POST", v1("inbound-line-list"), body, content_type="text/csv")
    assert response.status_code == 201, response.content
    assert response.json()["staged"] == 1


def test_a_body_that_is_not_rows_is_a_400_naming_the_body(api):
    response = api.generic(
        "POST", v1("inbound-line-list"), b"\x89PNG not json", content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "body" in body["errors"]
    assert not InboundBatch.objects.exists()


def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(api):
    url = v1("inbound-line-list")
    first = api.post(url, [SO], format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post(url, [SO], format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replay"] == "true"
    assert InboundBatch.objects.count() == 1  # staged once
    other = api.post(url, [BAD], format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key"
    assert api.post(url, [SO], format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201
    assert InboundBatch.objects.count() == 2


def test_the_admins_permissions_hold_here(api):
    """Ops may not read the sub-ledger; staff without permissions may do nothing."""
    ops = UserFactory(is_staff=True, username="ops-api")
    ops.groups.add(Group.objects.get(name="Ops"))
    response = client_of(ops).get(v1("inbound-line-list"))
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    nobody = client_of(UserFactory(is_staff=True, username="nobody-api"))
    assert nobody.post(v1("inbound-line-list"), [SO], format="json").status_code == 403
    assert not InboundBatch.objects.exists()


def test_i6_post_starts_a_collection_run_and_get_reads_its_progress(api):
    api.post(v1("inbound-line-list"), [SO], format="json")
    response = api.post(v1("collection-run-list"))
    assert response.status_code == 202
    run = CollectionRun.objects.get(pk=response.json()["id"])
    assert run.status == CollectionRun.Status.QUEUED and run.trigger == "API"
    assert api.get(v1("collection-run-detail", run.pk)).json()["status"] == "QUEUED"


def test_s10_hold_and_release_an_so_line_refusal_is_409(api, accountant):
    api.post(v1("inbound-line-list"), [SO], format="json")
    collection_collect(trigger="COMMAND")
    held = api.post(v1("so-line-hold", "S1-1"), {"reason": "dispute"}, format="json")
    assert held.status_code == 200 and held.json()["hold"] is True
    again = api.post(v1("so-line-hold", "S1-1"), {"reason": "dispute"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "S10" and "already on hold" in again.json()["detail"]
    assert api.post(v1("so-line-release", "S1-1"), {}, format="json").json()["hold"] is False
    assert api.get(v1("so-line-detail", "NO-SUCH")).status_code == 404


def test_s2_m4_close_is_refused_with_409_while_lines_wait_then_closes(api):
    api.post(v1("inbound-line-list"), [SO], format="json")  # staged, not collected
    refused = api.post(v1("period-close"), {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "M4"
    assert Period.objects.get(pk=202601).status == "OPEN"
    collection_collect(trigger="COMMAND")
    closed = api.post(v1("period-close"), {}, format="json")
    assert closed.status_code == 200, closed.content
    assert [p["id"] for p in closed.json()] == [202601]
    bad = api.post(v1("period-close"), {"through": "2026²"}, format="json")
    assert bad.status_code == 400


def test_journal_pages_and_reports_read_like_the_exports(api):
    api.post(v1("inbound-line-list"), [SO], format="json")
    collection_collect(trigger="COMMAND")
    page = api.get(v1("journal"), {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    assert "PERIOD" in page["results"][0]
    schedule = api.get(v1("schedule"), {"page_size": 1000}).json()["results"]
    assert sum(float(row["AMOUNT"]) for row in schedule) == pytest.approx(1200.0)
    report = api.get(v1("report", "checklist"))
    assert report.status_code == 200 and json.loads(report.content)["report"] == "checklist"
    assert api.get(v1("report", "nonsense")).status_code == 404
    assert api.get(v1("journal"), {"page": "²"}).status_code == 400


def test_i5_review_sets_the_flag_on_rord_lines_only(api):
    rord = {**SO, "TRAN_TYPE": "RORD", "SO_LINE_ID": "S1-1R", "ORIG_SO_LINE_ID": "S1-1"}
    api.post(v1("inbound-line-list"), [rord], format="json")
    line = InboundLine.objects.get(so_line_id="S1-1R")
    response = api.post(v1("inbound-line-review"), {"ids": [line.pk]}, format="json")
    assert response.status_code == 200 and response.json()["changed"] == 1
    line.refresh_from_db()
    assert line.rord_review_completed == "Y"
    bad = api.post(v1("inbound-line-review"), {"ids": "all"}, format="json")
    assert bad.status_code == 400 and "ids" in bad.json()["errors"]


def test_schema_validates_and_the_docs_work_offline(api):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    validate_schema(SchemaGenerator().get_schema(request=None, public=True))
    schema = api.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200 and "/api/v1/inbound-lines/" in schema.json()["paths"]
    docs = api.get("/api/docs/")
    html = docs.content.decode()
    assert docs.status_code == 200 and "swagger-ui" in html
    assert "cdn" not in html.lower()  # the page's scripts are the app's own static files


def test_api_token_command_creates_then_shows_the_same_key(accountant, capsys):
    call_command("api_token", "acct")
    first = capsys.readouterr().out.strip()
    call_command("api_token", "acct")
    assert capsys.readouterr().out.strip() == first == Token.objects.get(user=accountant).key


def test_api_token_rotate_replaces_the_key(accountant, capsys):
    """interchange.md: ``api_token USERNAME --rotate`` replaces the user's key; the old one
    no longer authenticates."""
    call_command("api_token", "acct")
    first = capsys.readouterr().out.strip()
    call_command("api_token", "acct", "--rotate")
    second = capsys.readouterr().out.strip()
    assert second != first and Token.objects.get(user=accountant).key == second
    assert not Token.objects.filter(key=first).exists()
