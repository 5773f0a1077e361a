"""An application-level writer lock for a SQLite database shared by several processes.

SQLite lets one transaction write at a time.  A second writer's ``BEGIN IMMEDIATE`` waits in
SQLite's busy handler, which sleeps in growing steps (1, 2, 5 … up to 100 ms) and retries: a
writer that comes just after the lock is released still sleeps out its step, and under load a
few requests sleep again and again — a case's p99 was 220 ms to 3 s against a p50 of 24 ms
(issue 17).  So before SQLite's own lock, a write transaction takes this one: a ``flock`` on
``<database>.writelock`` across the processes of a node (gunicorn workers, the sync worker, the
CLI), and a re-entrant mutex between the threads of one process.  A waiting writer polls it
every millisecond or two, so it starts within that of the previous writer's commit.

It is a queue in front of SQLite's lock, never a replacement: SQLite's ``BEGIN IMMEDIATE``
still decides, so a process that does not take this lock (an older version, ``sqlite3`` by
hand) is still kept out correctly.  A writer that waits longer than :data:`WAIT_SECONDS` (the
busy timeout) goes on to SQLite's lock as before, and the lock of a process that dies is
released by the kernel.  Nested write transactions in one thread (the mutex is re-entrant) take
the file lock once.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time

from schemas.runtime.files import FILE_MODE

WAIT_SECONDS = 30.0  # as SQLite's busy_timeout: then SQLite's own wait (and error) takes over
POLL_SECONDS = (0.0005, 0.001, 0.002)  # the first waits; then every 2 ms


class WriterLock:
    """The writer lock of one SQLite database file, for this process."""

    def __init__(self, database: str) -> None:
        self.path = f"{database}.writelock"
        self._start()

    def _start(self) -> None:
        # per process: a descriptor inherited through fork() shares its lock with the parent
        # and every sibling (which would let them all in at once), and a mutex copied by fork()
        # may look held by a thread that does not exist in the child
        self._pid = os.getpid()
        self._mutex = threading.RLock()
        self._depth = 0  # re-entries of the thread that holds the mutex
        self._fd: int | None = None

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
                               FILE_MODE)
        return self._fd

    def acquire(self, wait: float = WAIT_SECONDS) -> bool:
        """Take the lock; False (and nothing held) when ``wait`` seconds passed first."""
        if self._pid != os.getpid():
            self._start()
        deadline = time.monotonic() + wait
        if not self._mutex.acquire(timeout=wait):
            return False
        if self._depth:
            self._depth += 1
            return True
        fd = self._file()
        step = 0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    self._mutex.release()
                    raise
            if time.monotonic() >= deadline:
                self._mutex.release()
                return False
            time.sleep(POLL_SECONDS[min(step, len(POLL_SECONDS) - 1)])
            step += 1
        self._depth = 1
        return True

    def release(self) -> None:
        """Give the lock back (once per :meth:`acquire` that returned True)."""
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._file(), fcntl.LOCK_UN)
        self._mutex.release()


__all__ = ["WAIT_SECONDS", "WriterLock"]
