"""Waking the nodes that wait on their mailboxes (docs/scale.md, "Serving model").

A node long-polls ``GET /api/v1/mailbox?wait=…``.  While it waits, the hub holds its socket
and one :class:`Waiter` here — no database connection and, under the gevent worker the hub
is served with, no thread either.  What rings a waiter:

- **PostgreSQL**: the transaction that puts rows in mailboxes also runs
  ``pg_notify('tongban_mb_<md5 of the schema>', '<code>,<code>,…')``
  (:func:`notify_statements`).  PostgreSQL delivers it when that transaction commits, to
  every hub process listening on the same database.  Each process keeps one listening
  connection (:class:`MailboxBell`'s listener) and rings the waiters of the codes named.
  While the listener is not connected (the database restarting), waiters fall back to
  looking every second; a listener that (re)connects rings everybody, since it
  may have missed a notification.
- **SQLite** has no notification channel: a delivery rings the waiters of its own process
  once it commits (:meth:`MailboxBell.ring`), and waiters look again every ``poll_seconds``
  (bounded fallback) for what other processes delivered.

No Flask here: the mailbox view and the relay service use it.  ``threading`` is what gevent
patches, so the same code waits on a greenlet under gevent and on a thread elsewhere (the
Flask test client, ``--dev``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine, text

log = logging.getLogger("tongban.hub.wakeup")

# One channel per database schema (channels are database-wide; hubs sharing a schema share
# the channel), named in SQL from the schema so that both sides agree: 11 + 32 characters.
CHANNEL_SQL = "'tongban_mb_' || md5(current_schema())"
EVERYONE = "*"
# NOTIFY payloads are limited to 8,000 bytes; 9-digit codes and commas, well below it
PAYLOAD_CODES = 700
LISTEN_RETRY_SECONDS = 1.0
LISTENER_DOWN_LOOK_SECONDS = 1.0
LISTEN_RETRY_CAP_SECONDS = 30.0


def notify_payloads(codes: Iterable[str]) -> list[str]:
    """The payloads that name ``codes``: comma-separated, at most PAYLOAD_CODES each."""
    ordered = sorted(set(codes))
    return [",".join(ordered[start:start + PAYLOAD_CODES])
            for start in range(0, len(ordered), PAYLOAD_CODES)]


def notify_statements(codes: Iterable[str]) -> list[tuple[Any, dict[str, str]]]:
    """``pg_notify`` statements (with their parameters) that ring the mailboxes of ``codes``
    when the transaction executing them commits (PostgreSQL only)."""
    return [(text(f"SELECT pg_notify({CHANNEL_SQL}, :payload)"), {"payload": payload})
            for payload in notify_payloads(codes)]


class Waiter:
    """One waiting request's doorbell."""

    def __init__(self, code: str) -> None:
        self.code = code
        self._event = threading.Event()

    def ring(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; whether it was rung (and clear it for the next)."""
        rung = self._event.wait(timeout)
        self._event.clear()
        return rung


class MailboxBell:
    """The waiters of one hub process, and what rings them (see the module docstring)."""

    def __init__(self, engine: Engine, *, poll_seconds: float) -> None:
        self.engine = engine
        self.poll_seconds = poll_seconds
        self.has_channel = engine.dialect.name == "postgresql"
        self._waiters: dict[str, set[Waiter]] = {}
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._listening = threading.Event()  # set while LISTEN is in force
        self._stopping = threading.Event()

    # -- waiting ------------------------------------------------------------------------

    @contextmanager
    def waiter(self, code: str) -> Iterator[Waiter]:
        """Register a waiter for ``code``'s mailbox for the block.  Register *before* the
        last look at the mailbox, so that a delivery committed after the look rings it."""
        if self.has_channel:
            self._ensure_listener()
        waiter = Waiter(code)
        with self._lock:
            self._waiters.setdefault(code, set()).add(waiter)
        try:
            yield waiter
        finally:
            with self._lock:
                found = self._waiters.get(code)
                if found is not None:
                    found.discard(waiter)
                    if not found:
                        del self._waiters[code]

    def next_look(self, remaining: float) -> float:
        """How long a waiter may wait before it looks at its mailbox again: all that is
        left while notifications are known to arrive; on SQLite at most ``poll_seconds``;
        on PostgreSQL while the listener reconnects at most ``LISTENER_DOWN_LOOK_SECONDS``
        (or ``poll_seconds`` if longer): thousands of waiters looking ten times a second
        would weigh on a database that is just coming back."""
        if not self.has_channel:
            return min(remaining, self.poll_seconds)
        if self._listening.is_set():
            return remaining
        return min(remaining, max(self.poll_seconds, LISTENER_DOWN_LOOK_SECONDS))

    def waiting(self) -> int:
        """How many requests wait in this process (``/healthz`` reports it)."""
        with self._lock:
            return sum(len(found) for found in self._waiters.values())

    # -- ringing ------------------------------------------------------------------------

    def ring(self, codes: Iterable[str]) -> None:
        """Ring the waiters of ``codes`` (or everybody's for ``*``) in this process."""
        with self._lock:
            if EVERYONE in codes:
                rung = [w for found in self._waiters.values() for w in found]
            else:
                rung = [w for code in codes for w in self._waiters.get(code, ())]
        for waiter in rung:
            waiter.ring()

    def ring_everyone(self) -> None:
        self.ring([EVERYONE])

    # -- the PostgreSQL listener --------------------------------------------------------

    def _ensure_listener(self) -> None:
        with self._lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._listener = threading.Thread(
                target=self._listen_forever, name="tongban-mailbox-listener", daemon=True)
            self._listener.start()

    def close(self) -> None:
        self._stopping.set()

    def _listen_forever(self) -> None:
        # the engine's own connection arguments, not its URL rendered again: a rendered URL
        # writes the spaces of ``options=-c a=1 -c b=2`` as '+', which libpq does not decode
        # (the listener then named a schema that does not exist and never listened)
        args, params = self.engine.dialect.create_connect_args(self.engine.url)
        delay = LISTEN_RETRY_SECONDS
        while not self._stopping.is_set():
            try:
                with psycopg.connect(*args, autocommit=True, **params) as connection:
                    row = connection.execute(f"SELECT {CHANNEL_SQL}").fetchone()
                    if row is None or row[0] is None:  # the search_path names no schema
                        raise psycopg.OperationalError("the hub's schema does not exist")
                    connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(row[0])))
                    self._listening.set()
                    delay = LISTEN_RETRY_SECONDS
                    # whatever was delivered while nobody listened: everybody looks again
                    self.ring_everyone()
                    while not self._stopping.is_set():
                        for notification in connection.notifies(timeout=5.0):
                            self.ring(notification.payload.split(","))
            except psycopg.Error as exc:
                log.warning("mailbox notifications interrupted (%s); waiters look every "
                            "%.1f s until the listener reconnects", exc, self.poll_seconds)
            finally:
                self._listening.clear()
            self._stopping.wait(delay)
            delay = min(delay * 2, LISTEN_RETRY_CAP_SECONDS)

