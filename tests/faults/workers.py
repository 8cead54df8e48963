"""A real Celery worker process the fault tests can SIGKILL and start again.

The worker runs ``celery -A config worker --pool=solo`` on a queue of its own, against the
test database (pytest-django's ``test_<name>``, read from the live connection) and the
configured broker. It is started in a session of its own, so a kill takes its whole
process group (and any child it forked) at once, as an OOM killer or a lost host would.
Every start appends to one log file, which failures print.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

START_TIMEOUT = 60.0
# the fault tests: a worker process shares the test database, pings go through the broker
needs_postgres_and_redis = [
    pytest.mark.postgres,
    pytest.mark.broker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a worker process shares the test database: needs PostgreSQL (CI runs it)",
    ),
    pytest.mark.skipif(
        settings.CELERY_BROKER_URL.startswith("filesystem://"),
        reason="worker pings and restarts go through a networked broker (Redis)",
    ),
]


def tests_database_url() -> str:
    """DATABASE_URL of the database this test process uses (pytest-django's test copy)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (read from /proc), deepest last."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


class KillableWorker:
    """One worker at a time on ``queue``: ``start()``, ``kill()`` (SIGKILL), ``stop()``."""

    def __init__(self, *, log: Path, queue: str | None = None, pool: str = "solo"):
        self.queue = queue or f"faults-{uuid.uuid4().hex[:8]}"
        self.pool = pool  # "prefork": one pool child, which ``kill_pool_child`` kills
        self.log = log
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.kills = 0
        self.env = dict(
            os.environ,
            DATABASE_URL=tests_database_url(),
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            CONTRA_VAR_DIR=str(settings.VAR_DIR),
            CELERY_TASK_ALWAYS_EAGER="0",
            PYTHONUNBUFFERED="1",
        )
        celery = Path(sys.executable).with_name("celery")
        self.command = [str(celery)] if celery.exists() else [sys.executable, "-m", "celery"]

    @property
    def name(self) -> str:
        return f"w{self.starts}-{self.queue}@faults"

    def _note(self, text: str) -> None:
        with self.log.open("a") as out:
            out.write(f"\n=== {time.strftime('%H:%M:%S')} {text} ===\n")

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start a worker and wait until it answers a ping (so it consumes the queue)."""
        assert not self.alive, "a worker is already running"
        self.starts += 1
        self._note(f"start {self.name}")
        command = [*self.command, "-A", "config", "worker", f"--pool={self.pool}"]
        command += ["--concurrency=1"]
        command += ["-Q", self.queue, "-n", self.name, "--without-mingle", "--without-gossip"]
        command += ["--prefetch-multiplier=1", "--loglevel=INFO"]
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited at start:\n{self.tail()}")
            if celery_app.control.ping(destination=[self.name], timeout=0.5):
                return
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(
                    f"worker {self.name} did not answer in {timeout}s:\n" + self.tail()
                )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker, its process group and every child it has, and reap it."""
        if self.process is None:
            return
        pid = self.process.pid
        victims = _children(pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)  # start_new_session: its group id is its pid
        for child in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.kills += 1
        self._note(f"SIGKILL {self.name} (pid {pid}, children {victims})")
        self.process = None
        sessions_gone()

    def kill_pool_child(self) -> int:
        """SIGKILL the prefork pool's child (the process running the task), not the worker:
        the main process sees it die (WorkerLostError) and, the tasks being acks-late with
        reject_on_worker_lost, hands the message back to the broker for a new child.
        Returns the killed child's pid."""
        assert self.pool == "prefork" and self.alive, "needs a running prefork worker"
        children = [pid for pid in _children(self.process.pid) if _parent(pid) == self.process.pid]
        assert len(children) == 1, f"expected one pool child, found {children}"
        os.kill(children[0], signal.SIGKILL)
        self._note(f"SIGKILL pool child {children[0]} of {self.name} (pid {self.process.pid})")
        return children[0]

    def kill_at_random_moment(
        self, rng: random.Random, *, done: Callable[[], int], low: int, high: int
    ) -> dict:
        """SIGKILL the worker at a seeded random moment of the stretch of its work where
        ``done()`` (a count of committed work) goes from ``low`` to ``high``: once it
        reached a random point of the stretch, after a further random 0–1 s unless it
        reached ``high`` first. Returns the moment and whether the worker was inside a
        transaction then (pg_stat_activity)."""
        target = rng.randint(low, high - 1)
        pause = rng.uniform(0, 1.0)
        self.wait_until(lambda: done() >= target, timeout=60, what=f"progress to {target}")
        until = time.monotonic() + pause
        self.wait_until(
            lambda: time.monotonic() >= until or done() >= high,
            timeout=60,
            what="the moment to kill",
            every=0.02,
        )
        busy = worker_busy()
        self.kill()
        return {"target": target, "pause": round(pause, 2), "done": done(), "in_xact": busy}

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL if it does not go within 30 s."""
        if not self.alive:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def tail(self, chars: int = 6000) -> str:
        text = self.log.read_text() if self.log.exists() else ""
        return f"--- worker log {self.log} (last {chars} chars) ---\n{text[-chars:]}"

    def wait_until(
        self, done: Callable[[], bool], *, timeout: float, what: str, every: float = 0.2
    ) -> None:
        """Poll ``done`` until true; fail with the worker's log after ``timeout`` seconds or
        as soon as the worker dies on its own."""
        deadline = time.monotonic() + timeout
        while not done():
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the worker died while waiting for {what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}\n" + self.tail()
                )
            time.sleep(every)


def worker_busy() -> bool:
    """Whether another session on the test database is inside a transaction or statement
    right now (the worker mid-batch), from pg_stat_activity."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
        )
        return cursor.fetchone()[0] > 0


def sessions_gone(timeout: float = 30) -> None:
    """Wait until no other session is connected to the test database: PostgreSQL has
    noticed the killed worker's closed sockets and rolled its transactions back, so the
    next worker finds no row still locked by the dead one (a restart takes longer anyway)."""
    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            if not cursor.fetchone()[0]:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"the killed worker's sessions still open after {timeout}s")
        time.sleep(0.05)


def broker_forget(queue: str) -> None:
    """Drop what killed workers of ``queue`` left in Redis: their unacknowledged messages
    (kombu would restore them to a queue nobody reads once the visibility timeout passed),
    the queue's keys and the workers' control bindings."""
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    mark = queue.encode()
    for tag, payload in client.hscan_iter("unacked"):
        if mark in payload:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    for member in client.smembers("_kombu.binding.celery.pidbox"):
        if mark in member:
            client.srem("_kombu.binding.celery.pidbox", member)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    client.close()
