"""The HTTP API end to end (interchange.md "HTTP API"; issue 18), as another system drives
it: a token from ``manage.py api_token``, a period opened with ``revenue_period``, SO,
INV and RORD lines staged through ``POST inbound-lines/`` (a JSON array with an
Idempotency-Key and its retry, then a CSV body), a bad row in each kept and stopped
(I1, I2), a collection started with ``POST collection-runs/`` and followed with GET until
it finished (I6, I8; Celery runs the task eagerly here, on commit), then the journal read
page by page equal row for row to ``revenue_export journal --format json`` and balanced
per period (S3), the schedule equal to its export, and the SO lines."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from config.celery import app as celery_app
from revenue.models import CollectionRun, InboundBatch, InboundLine

from .conftest import member, url

pytestmark = pytest.mark.django_db

BASE = {
    "SO_NUM": "E1",
    "SO_DATE": "2026-01-01",
    "CUSTOMER": "Acme",
    "ITEM": "Support",
    "CURR": "USD",
    "F_CUR": "USD",
}
SO_MONTHLY = {
    **BASE,
    "TRAN_TYPE": "SO",
    "SO_LINE_ID": "E1-1",
    "ORD_QTY": "12",
    "EXT_LST_PRC": "1200",
    "EXT_SLL_PRC": "1200",
    "START_DATE": "2026-01-01",
    "END_DATE": "2026-12-31",
    "REV_METHOD": "RATABLE_MONTHLY",
}
SO_DAILY = {
    **SO_MONTHLY,
    "SO_LINE_ID": "E1-2",
    "ORD_QTY": "1",
    "EXT_LST_PRC": "1000",
    "EXT_SLL_PRC": "999.99",
    "START_DATE": "2026-01-15",
    "END_DATE": "2026-07-14",
    "REV_METHOD": "RATABLE_DAILY",
}
INV = {
    **BASE,
    "TRAN_TYPE": "INV",
    "SO_LINE_ID": "E1-1",
    "INV_NUM": "EI-1",
    "INV_LINE_ID": "EI-1-1",
    "INV_DATE": "2026-01-05",
    "ORD_QTY": "12",
    "INV_QTY": "12",
    "EXT_LST_PRC": "1200",
    "EXT_SLL_PRC": "1200",
    "START_DATE": "2026-01-01",
    "END_DATE": "2026-12-31",
}
BAD_DATE = {**SO_MONTHLY, "SO_LINE_ID": "E1-9", "SO_DATE": "2026-13-01"}
SO_IMMEDIATE = {
    **SO_MONTHLY,
    "SO_NUM": "E2",
    "SO_LINE_ID": "E2-1",
    "ORD_QTY": "1",
    "EXT_LST_PRC": "300",
    "EXT_SLL_PRC": "300",
    "START_DATE": "2026-01-10",
    "END_DATE": "2026-01-10",
    "REV_METHOD": "IMMEDIATE",
}
RORD = {
    **BASE,
    "TRAN_TYPE": "RORD",
    "SO_LINE_ID": "E1-1-R1",
    "ORIG_SO_LINE_ID": "E1-1",
    "ORD_QTY": "3",
    "EXT_LST_PRC": "-300",
    "EXT_SLL_PRC": "-300",
    "START_DATE": "2026-10-01",
    "END_DATE": "2026-12-31",
}
BAD_NUMBER = {**SO_IMMEDIATE, "SO_LINE_ID": "E2-9", "EXT_SLL_PRC": "12x"}
COLUMNS = list(dict.fromkeys([*SO_MONTHLY, *INV, *RORD]))


def csv_body(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def all_pages(client: APIClient, name: str, page_size: int) -> list[dict]:
    """Every row of a paged export resource, following ``next`` to the end."""
    rows, params, pages = [], {"page_size": page_size}, 0
    while True:
        response = client.get(url(name), params)
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        pages += 1
        if not body["next"]:
            break
        params = {k: v[0] for k, v in parse_qs(urlsplit(body["next"]).query).items()}
        assert pages < 100
    assert pages > 1, "the rows span several pages"
    return rows


@pytest.fixture
def api():
    """An accountant's client with the key ``api_token`` printed, and January open."""
    user = member("e2e-acct", "Revenue accountant")
    key = command("api_token", user.username).strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    command("revenue_period", "open", "202601")
    assert "202601" in command("revenue_period", "show")
    return client


@pytest.fixture
def eager():
    """Celery runs a task in the caller (its on-commit ``delay``), errors raised."""
    conf = celery_app.conf
    before = (conf.task_always_eager, conf.task_eager_propagates)
    conf.task_always_eager = conf.task_eager_propagates = True
    yield
    conf.task_always_eager, conf.task_eager_propagates = before


def test_api_end_to_end_stage_collect_and_read_back_like_the_exports(
    api, eager, django_capture_on_commit_callbacks
):
    # --- I1, I2: a JSON array with an Idempotency-Key; a bad row kept and stopped --------
    rows = [SO_MONTHLY, SO_DAILY, INV, BAD_DATE]
    first = api.post(url("inbound-line-list"), rows, format="json", HTTP_IDEMPOTENCY_KEY="e2e-1")
    assert first.status_code == 201, first.content
    staged = first.json()
    assert staged["staged"] == 4
    (problem,) = staged["parse_errors"]
    assert problem["row"] == 4 and problem["errors"][0]["code"] == "INB-000"
    assert "SO_DATE" in json.dumps(problem["errors"])

    retry = api.post(url("inbound-line-list"), rows, format="json", HTTP_IDEMPOTENCY_KEY="e2e-1")
    assert retry.status_code == 201 and retry["Idempotent-Replay"] == "true"
    assert retry.json() == staged  # the same batch, staged once
    assert InboundBatch.objects.count() == 1 and InboundLine.objects.count() == 4

    listed = api.get(url("inbound-line-list"), {"batch": staged["batch"]}).json()
    assert listed["count"] == 4
    by_row = {line["row_number"]: line for line in listed["results"]}
    assert {
        n: (line["tran_type"], line["so_line_id"], line["status"], line["error_codes"])
        for n, line in by_row.items()
    } == {
        1: ("SO", "E1-1", "NEW", ""),
        2: ("SO", "E1-2", "NEW", ""),
        3: ("INV", "E1-1", "NEW", ""),
        4: ("SO", "E1-9", "ERROR", "INB-000"),
    }
    assert by_row[4]["id"] == problem["id"]

    # --- the same door with a CSV body ---------------------------------------------------
    body = csv_body([SO_IMMEDIATE, RORD, BAD_NUMBER])
    second = api.generic(
        "POST",
        url("inbound-line-list"),
        body,
        content_type="text/csv",
        HTTP_IDEMPOTENCY_KEY="e2e-2",
    )
    assert second.status_code == 201, second.content
    csv_staged = second.json()
    assert csv_staged["staged"] == 3 and csv_staged["batch"] != staged["batch"]
    (problem,) = csv_staged["parse_errors"]
    assert problem["row"] == 3 and "EXT_SLL_PRC" in json.dumps(problem["errors"])
    bad = api.get(url("inbound-line-list"), {"so_line_id": "E2-9"}).json()["results"]
    assert [(line["status"], line["error_codes"]) for line in bad] == [("ERROR", "INB-000")]
    assert api.get(url("inbound-line-list"), {"status": "NEW"}).json()["count"] == 5

    # --- I6, I8: start a run, follow its progress until it finished -----------------------
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(url("collection-run-list"), HTTP_IDEMPOTENCY_KEY="e2e-run")
    assert started.status_code == 202, started.content
    run = started.json()
    assert (run["status"], run["trigger"]) == ("QUEUED", "API")
    for _ in range(50):
        progress = api.get(url("collection-run-detail", run["id"])).json()
        if progress["status"] not in ("QUEUED", "RUNNING"):
            break
    assert progress["status"] == "SUCCEEDED", progress
    assert (progress["collected"], progress["stopped"], progress["waiting"]) == (5, 0, 0)
    assert progress["processed"] == progress["total"] == 5
    assert progress["finished_at"] and progress["started_at"]
    assert CollectionRun.objects.get(pk=run["id"]).trigger == CollectionRun.Trigger.API
    assert api.get(url("inbound-line-list"), {"status": "COLLECTED"}).json()["count"] == 5
    assert api.get(url("inbound-line-list"), {"error_code": "INB-000"}).json()["count"] == 2

    # --- S3, S5: the journal, every page, is the export row for row; it balances -----------
    journal = all_pages(api, "journal", page_size=7)
    exported = json.loads(command("revenue_export", "journal", "--format", "json"))
    assert journal == exported
    assert len(journal) > 14
    sides = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in journal:
        sides[(row["PERIOD"], row["CURRENCY"])][0] += Decimal(row["DR"])
        sides[(row["PERIOD"], row["CURRENCY"])][1] += Decimal(row["CR"])
    assert len(sides) >= 12
    assert all(dr == cr for dr, cr in sides.values()), dict(sides)
    assert {row["SO_LINE_ID"] for row in journal} == {"E1-1", "E1-2", "E2-1"}
    assert {row["ENTRY_TYPE"] for row in journal} >= {"INITIAL", "RELEASE", "REVERSAL"}

    # --- S6: the schedule, every page, is its export; each line's rows add up -------------
    schedule = all_pages(api, "schedule", page_size=10)
    assert schedule == json.loads(command("revenue_export", "schedule", "--format", "json"))
    per_line = defaultdict(Decimal)
    for row in schedule:
        per_line[row["SO_LINE_ID"]] += Decimal(row["AMOUNT"])
    assert dict(per_line) == {
        "E1-1": Decimal("900.00"),  # 1200 less the RORD's 300
        "E1-2": Decimal("999.99"),
        "E2-1": Decimal("300.00"),
    }

    # --- the SO lines ---------------------------------------------------------------------
    lines = api.get(url("so-line-list")).json()
    assert lines["count"] == 3
    assert [line["so_line_id"] for line in lines["results"]] == ["E1-1", "E1-2", "E2-1"]
    one = api.get(url("so-line-detail", "E1-1")).json()
    assert (one["currency"], one["ext_sll_prc"], one["rev_method"]) == (
        "USD",
        "1200.00",  # the SO's own price; the RORD took 300 off its schedule
        "RATABLE_MONTHLY",
    )
    assert api.get(url("so-line-detail", "E1-9")).status_code == 404  # never collected
