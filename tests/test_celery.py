"""A real worker takes jobs from the configured broker (filesystem:// or Redis)."""

import io
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import CommandError, call_command

from config.celery import app as celery_app
from core.tasks import worker_heartbeat


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


@pytest.mark.broker
def test_worker_answers_a_heartbeat_through_the_broker(embedded_worker):
    answer = worker_heartbeat.delay().get(timeout=30)
    assert answer["worker"] and answer["at"]


@pytest.mark.broker
def test_celery_check_command_reports_the_worker(embedded_worker):
    out = io.StringIO()
    call_command("celery_check", "--timeout", "30", stdout=out)
    assert "answered in" in out.getvalue()


def test_celery_check_refuses_a_bad_timeout():
    with pytest.raises(CommandError, match="--timeout must be greater than 0"):
        call_command("celery_check", "--timeout", "0")
