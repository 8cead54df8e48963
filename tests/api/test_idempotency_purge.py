"""Idempotency-Key records are kept 24 hours (interchange.md "HTTP API"): an hourly beat
job deletes the older ones; a keyed POST no longer sweeps the table, and forgets only an
expired record of its own key."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from api.idempotency import KEPT, idempotent_requests_purge
from api.models import IdempotentRequest
from api.tasks import idempotent_requests_purge_task
from revenue.models import InboundBatch
from revenue.services.periods import period_open

from .conftest import url

pytestmark = pytest.mark.django_db

BEAT = importlib.import_module("api.migrations.0002_idempotent_requests_purge_beat")
SO = {
    "TRAN_TYPE": "SO",
    "SO_NUM": "K1",
    "SO_LINE_ID": "K1-1",
    "SO_DATE": "2026-01-01",
    "ORD_QTY": "1",
    "EXT_LST_PRC": "100",
    "EXT_SLL_PRC": "100",
    "CURR": "USD",
    "F_CUR": "USD",
    "START_DATE": "2026-01-01",
    "END_DATE": "2026-12-31",
}


def record(key: str, age: timedelta, **fields) -> IdempotentRequest:
    made = IdempotentRequest.objects.create(
        scope="s" * 64, path="/api/v1/x/", key=key, body_hash="b" * 64, **fields
    )
    IdempotentRequest.objects.filter(pk=made.pk).update(created_at=timezone.now() - age)
    return made


def test_the_purge_deletes_records_older_than_24_hours_only():
    old = record("old", KEPT + timedelta(minutes=1))
    fresh = record("fresh", KEPT - timedelta(minutes=1))
    assert idempotent_requests_purge() == 1
    assert list(IdempotentRequest.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not IdempotentRequest.objects.filter(pk=old.pk).exists()
    assert idempotent_requests_purge() == 0  # safe to run twice
    assert idempotent_requests_purge(now=timezone.now() + timedelta(hours=1)) == 1


def test_the_beat_task_runs_the_purge():
    record("old", KEPT + timedelta(hours=2))
    assert idempotent_requests_purge_task.apply().get() == 1
    assert not IdempotentRequest.objects.exists()


def test_the_purge_is_an_hourly_beat_job():
    """Seeded by api migration 0002 (seeded again here: a transactional test run before
    flushes the migration's rows); seeding twice keeps one job."""
    PeriodicTask.objects.filter(name=BEAT.NAME).delete()
    BEAT.seed(django_apps, None)
    BEAT.seed(django_apps, None)
    (task,) = PeriodicTask.objects.filter(name=BEAT.NAME)
    assert task.task == "api.tasks.idempotent_requests_purge_task" and task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("45", "*")
    from config.celery import app

    app.loader.import_default_modules()
    assert task.task in app.tasks


def test_a_keyed_post_leaves_other_records_to_the_purge(accountant_api):
    """Before: every keyed POST deleted every expired record. Now the hourly job does."""
    period_open(period=202601, actor=None)
    old = record("someone-elses", KEPT + timedelta(hours=3))
    response = accountant_api.post(
        url("inbound-line-list"), [SO], format="json", HTTP_IDEMPOTENCY_KEY="p-1"
    )
    assert response.status_code == 201, response.content
    assert IdempotentRequest.objects.filter(pk=old.pk).exists()
    assert IdempotentRequest.objects.filter(key="p-1").count() == 1


def test_an_expired_record_of_the_same_key_is_forgotten_and_the_post_runs_again(
    accountant_api,
):
    period_open(period=202601, actor=None)
    first = accountant_api.post(
        url("inbound-line-list"), [SO], format="json", HTTP_IDEMPOTENCY_KEY="p-2"
    )
    again = accountant_api.post(
        url("inbound-line-list"), [SO], format="json", HTTP_IDEMPOTENCY_KEY="p-2"
    )
    assert again["Idempotent-Replay"] == "true" and InboundBatch.objects.count() == 1
    IdempotentRequest.objects.filter(key="p-2").update(
        created_at=timezone.now() - KEPT - timedelta(minutes=1)
    )
    later = accountant_api.post(
        url("inbound-line-list"), [SO], format="json", HTTP_IDEMPOTENCY_KEY="p-2"
    )
    assert later.status_code == 201 and not later.has_header("Idempotent-Replay")
    assert later.json()["batch"] != first.json()["batch"]
    assert InboundBatch.objects.count() == 2
    assert IdempotentRequest.objects.filter(key="p-2").count() == 1
