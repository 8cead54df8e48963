"""bench/collect.py --workers N: collection by N Celery worker processes on Redis.

Each worker is a separate ``celery worker --pool solo`` process on a queue of its own, as
production runs them. The benchmark queues N collection runs (what *Collect now* or beat
does), times from the first task sent to the last run finished, and reads each worker's
peak resident memory (VmHWM) from /proc before stopping it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BROKER = "redis://127.0.0.1:6379/15"


def _peak_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of a live process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Workers:
    """N worker processes on one queue; a context manager."""

    def __init__(self, count: int, *, database_url: str, broker: str):
        self.count = count
        self.queue = f"bench-{uuid.uuid4().hex[:8]}"
        self.names = [f"w{n}-{self.queue}@bench" for n in range(1, count + 1)]
        self.env = dict(os.environ, DATABASE_URL=database_url, CELERY_BROKER_URL=broker)
        self.env["CELERY_TASK_ALWAYS_EAGER"] = "0"
        self.logs = [Path(tempfile.mkstemp(prefix=f"{n}-", suffix=".log")[1]) for n in self.names]
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> Workers:
        from config.celery import app

        for name, log in zip(self.names, self.logs, strict=True):
            command = [sys.executable, "-m", "celery", "-A", "config", "worker"]
            command += ["--pool", "solo", "-Q", self.queue, "-n", name, "--loglevel", "WARNING"]
            command += ["--without-mingle", "--without-gossip", "--prefetch-multiplier", "1"]
            with log.open("w") as out:
                self.processes.append(
                    subprocess.Popen(
                        command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
                    )
                )
        deadline = time.monotonic() + 90
        answered: set[str] = set()
        while answered != set(self.names):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                tail = self.tail()  # before __exit__ removes the logs
                self.__exit__(None, None, None)
                sys.exit("workers did not start:\n" + tail)
            for reply in app.control.ping(destination=self.names, timeout=0.5):
                answered |= set(reply)
        return self

    def tail(self) -> str:
        return "\n".join(f"{log}:\n{log.read_text()[-3000:]}" for log in self.logs)

    def peak_mb(self) -> list[float]:
        return [_peak_mb(p.pid) for p in self.processes]

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # warm shutdown
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs:
            log.unlink(missing_ok=True)


def workers_collect(
    count: int, *, database_url: str, broker: str, batch_size: int | None
) -> tuple[float, list[float], list]:
    """Collect everything staged with ``count`` workers: (seconds, peak MB per worker,
    the runs)."""
    from django.db import connection

    from revenue.models import CollectionRun
    from revenue.services.collection import collection_run_create
    from revenue.services.settings import profile_set
    from revenue.tasks import collect_inbound_task

    if batch_size:
        profile_set(name="COLLECTION_BATCH_SIZE", value=str(batch_size), actor=None)
    with Workers(count, database_url=database_url, broker=broker) as workers:
        runs = [collection_run_create(trigger=CollectionRun.Trigger.ADMIN) for _ in range(count)]
        connection.close()
        started = time.perf_counter()
        for run in runs:
            collect_inbound_task.apply_async(kwargs={"run_id": run.pk}, queue=workers.queue)
        finished = set()
        while len(finished) < count:
            time.sleep(0.2)
            for run in runs:
                run.refresh_from_db()
                if run.status in ("SUCCEEDED", "FAILED", "INTERRUPTED"):
                    finished.add(run.pk)
            if any(p.poll() is not None for p in workers.processes):
                sys.exit("a worker died:\n" + workers.tail())
        seconds = time.perf_counter() - started
        peaks = workers.peak_mb()
        failed = [run for run in runs if run.status != "SUCCEEDED"]
        if failed:
            print(workers.tail())
            sys.exit(f"runs failed: {[(run.pk, run.status, run.message) for run in failed]}")
    return seconds, peaks, runs
