"""One worker per node: ``tongban node worker`` holds an exclusive lock on a file in the home.

Two workers of one node would both push, pull and run the deadline jobs: nothing would be lost
or applied twice (the outbox, the inbox and the jobs are idempotent), but every envelope would
be knocked on the hub twice and the jobs would race each other for row locks.  The lock is an
``flock`` on ``<home>/worker.lock``, so the kernel releases it when the holder exits, however
it exits (SIGKILL included): a stale lock file never blocks a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = "worker.lock"


class WorkerRunning(Exception):
    """Another process holds this node's worker lock."""

    def __init__(self, path: Path, holder: str) -> None:
        who = f"pid {holder}" if holder else "another process"
        super().__init__(
            f"a worker is already running for this node ({who} holds {path}); "
            "stop it before starting another"
        )
        self.path = path
        self.holder = holder


@contextlib.contextmanager
def worker_lock(home: str | Path) -> Iterator[Path]:
    """Hold ``<home>/worker.lock`` for the duration; raise :class:`WorkerRunning` at once if
    another process holds it.  The file keeps the holder's pid, for the message."""
    path = Path(home) / LOCK_NAME
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
            raise WorkerRunning(path, holder) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
        yield path
    finally:
        os.close(descriptor)  # closing the last descriptor releases the lock
