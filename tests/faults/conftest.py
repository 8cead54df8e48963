"""Fault tests: a real Celery worker process, killed with SIGKILL and started again.

They need PostgreSQL (a separate worker process must see the test's committed rows and
row locks must hold across processes) and a networked broker (Redis): elsewhere they skip.
"""

import pytest

from config.celery import app as celery_app
from revenue.services.settings import registry_seed
from tests.faults.workers import KillableWorker, broker_forget

QUEUES: list[str] = []  # every queue of this session, for broker_forget


@pytest.fixture
def killable_worker(transactional_db, tmp_path):
    """A worker process on a queue of its own (not started yet); the app's default queue
    points at it, so the product's own ``.delay()`` calls reach it. Stopped at the end,
    before the database is flushed."""
    registry_seed()  # an earlier transactional test's flush emptied the migration's seed
    worker = KillableWorker(log=tmp_path / "worker.log")
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = worker.queue
    celery_app.amqp.queues.select_add(worker.queue)
    try:
        yield worker
    finally:
        celery_app.conf.task_default_queue = previous
        celery_app.amqp.queues.deselect(worker.queue)
        celery_app.amqp.queues.pop(worker.queue, None)
        worker.stop()
        QUEUES.append(worker.queue)
        for queue in QUEUES:  # a later test's publishing can declare an earlier queue again
            broker_forget(queue)
