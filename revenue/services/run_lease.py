"""I9: whether a collection run's worker is alive, told by a lease the operating system or
the database drops the moment that worker's process dies.

The worker running a run holds the run's lease from before it marks the run *Running*
until after it marked it finished. A SIGKILL (OOM killer, a pool child killed, a lost
container) runs no ``finally``, but its lease goes with its process:

- PostgreSQL: a session advisory lock (space ``LOCK_SPACE``, key the run id) taken on a
  connection of its own, in autocommit (no transaction is held open, nothing for VACUUM
  to wait on). The killed process's sockets close and its server session ends, releasing
  the lock, whatever host the worker ran on. Its own connection, so that Django closing or
  resetting the run's connection (``close_old_connections``, an error) never drops it.
- SQLite (the embedded default: web, worker and beat share one file, hence one host): an
  exclusive ``flock`` on ``VAR_DIR/locks/<database>-collection-run-<id>.lock`` (named after
  the database file too: test runs, each on a file of its own, share ``VAR_DIR``). flock
  locks belong to the open file, so two threads of one process exclude each other too,
  and the kernel drops them when the process dies.

A run marked *Running* whose lease is free has no live worker, whatever its heartbeat
says: a task delivered again takes it over at once, and any other run or beat's tick
marks it FAILED ("worker lost") and collects the rest (``collection_run_lost``). A run
whose lease is held is never taken for lost, however old its heartbeat. The heartbeat
(``CONTRA_RUN_STALE_SECONDS``) decides only where a lease cannot tell (no ``fcntl``). A
host lost without closing its sockets keeps its server session, and so its lease, until
TCP keepalive gives up: its run is taken for lost then.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux or macOS
    fcntl = None

LOCK_SPACE = 0x434F4C4C  # "COLL": the advisory lock space of collection runs at work


class RunLease:
    """The lease of collection run ``run_id``: ``acquire()``, ``release()``."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.held = False
        self._session = None  # PostgreSQL: the connection holding the advisory lock
        self._file = None  # elsewhere: the locked file

    @property
    def reliable(self) -> bool:
        """Whether a free lease proves the run's worker is gone."""
        return connection.vendor == "postgresql" or fcntl is not None

    def acquire(self, *, wait: float = 0.0) -> bool:
        """Take the lease if nobody holds it, trying again for up to ``wait`` seconds (a
        killed worker's server session can take a moment to notice its closed socket)."""
        deadline = time.monotonic() + wait
        while not self._try():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        self.held = True
        return True

    def release(self, *, finished: bool = False) -> None:
        """Give the lease back; ``finished``: the run is marked finished, so its lock file
        can go (anyone who opened it before finds the run finished and leaves it). The
        file of a run still marked *Running* stays: unlinked, a second holder could lock a
        new file while a first still holds the old one."""
        if self._session is not None:
            # closing the session releases it anyway
            with contextlib.suppress(Exception), self._session.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_SPACE, self.run_id])
            self._session.close()
            self._session = None
        if self._file is not None:
            if finished:
                with contextlib.suppress(OSError):
                    os.unlink(self._file.name)
            self._file.close()  # closing releases the flock
            self._file = None
        self.held = False

    def _try(self) -> bool:
        if connection.vendor == "postgresql":
            return self._try_advisory()
        if fcntl is not None:
            return self._try_flock()
        return True  # nothing to tell by: the heartbeat decides (``reliable`` is False)

    def _try_advisory(self) -> bool:
        if self._session is None:
            self._session = connections.create_connection(DEFAULT_DB_ALIAS)
        with self._session.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_SPACE, self.run_id])
            taken = cursor.fetchone()[0]
        if not taken:
            self._session.close()
            self._session = None
        return taken

    def _try_flock(self) -> bool:
        folder = settings.VAR_DIR / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        database = str(Path(connection.settings_dict["NAME"]).resolve())
        name = f"{hashlib.sha1(database.encode()).hexdigest()[:12]}-collection-run-{self.run_id}"
        handle = open(folder / f"{name}.lock", "a+b")  # noqa: SIM115
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True


def run_worker_gone(run_id: int) -> bool:
    """Whether run ``run_id`` has no live worker: its lease is free (taken and given back
    at once). False where a lease cannot tell."""
    lease = RunLease(run_id)
    if not lease.reliable:
        return False
    try:
        return lease.acquire()
    finally:
        lease.release()
