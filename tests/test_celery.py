"""A real worker takes jobs from the configured broker (filesystem:// or Redis)."""

import io

import pytest
from django.core.management import CommandError, call_command

from core.tasks import worker_heartbeat


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
