"""hub.relay.wakeup: what rings a waiting long poll, on both databases.

(Real hub processes — 50 waiting nodes beside /healthz, and a push to one process waking a
long poll held by another — are tests/integration/test_hub_waiting.py.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, make_url

from hub.relay.wakeup import PAYLOAD_CODES, MailboxBell, notify_payloads, notify_statements
from schemas.runtime.database import make_engine


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def bell(engine: Engine) -> Iterator[MailboxBell]:
    bell = MailboxBell(engine, poll_seconds=0.5)
    yield bell
    bell.close()


def test_payloads_name_every_code_once_within_postgresql_s_limit() -> None:
    codes = [f"450981{n:03d}" for n in range(2000)] + ["450981", "450981"]
    payloads = notify_payloads(codes)
    assert len(payloads) == -(-2001 // PAYLOAD_CODES)
    assert all(len(payload.encode()) < 8000 for payload in payloads)
    named = [code for payload in payloads for code in payload.split(",")]
    assert sorted(named) == sorted(set(codes))
    assert notify_payloads([]) == []


def test_a_ring_wakes_the_waiters_of_its_codes_only(bell: MailboxBell) -> None:
    with bell.waiter("450981") as county, bell.waiter("450921") as other:
        assert bell.waiting() == 2
        bell.ring(["450981"])
        assert county.wait(0) is True
        assert other.wait(0) is False
        assert county.wait(0) is False  # a ring is used up by the wait it ended
        bell.ring_everyone()
        assert other.wait(0) is True
    assert bell.waiting() == 0


def test_a_waiter_is_woken_from_another_thread_at_once(bell: MailboxBell) -> None:
    with bell.waiter("450981") as waiter:
        threading.Timer(0.2, bell.ring, args=(["450981"],)).start()
        started = time.monotonic()
        assert waiter.wait(10) is True
        assert time.monotonic() - started < 5


def test_sqlite_waiters_look_again_every_poll_interval(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL waits for notifications")
    bell = MailboxBell(engine, poll_seconds=0.5)
    assert not bell.has_channel
    assert bell.next_look(20) == 0.5
    assert bell.next_look(0.2) == 0.2


def test_a_committed_notify_wakes_a_postgresql_waiter_and_a_rolled_back_one_does_not(
    engine: Engine, bell: MailboxBell,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no notification channel")
    with bell.waiter("450981101") as waiter:
        deadline = time.monotonic() + 10
        while bell.next_look(20) != 20 and time.monotonic() < deadline:
            time.sleep(0.05)  # the listener connects and LISTENs
        assert bell.next_look(20) == 20, "the listener never listened"
        waiter.wait(0.5)  # the ring of a (re)connecting listener: everybody looks again
        with engine.connect() as connection:
            for statement, parameters in notify_statements(["450981101"]):
                connection.execute(statement, parameters)
            connection.rollback()
        assert waiter.wait(1.0) is False
        with engine.begin() as connection:
            for statement, parameters in notify_statements(["450981102", "450981101"]):
                connection.execute(statement, parameters)
        assert waiter.wait(10) is True


def test_the_listener_connects_with_every_option_of_the_hubs_url(database_url: str) -> None:
    """A production URL may carry several ``-c`` options; the listener once rendered the URL
    again, which wrote their spaces as '+', and then named no schema and never listened."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no notification channel")
    schema = str(url.query["options"]).removeprefix("-csearch_path=")
    two_options = url.update_query_dict(
        {"options": f"-c search_path={schema} -c statement_timeout=60000"})
    engine = make_engine(two_options.render_as_string(hide_password=False))
    bell = MailboxBell(engine, poll_seconds=0.5)
    try:
        with bell.waiter("450981101") as waiter:
            deadline = time.monotonic() + 10
            while bell.next_look(20) != 20 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert bell.next_look(20) == 20, "the listener never listened"
            waiter.wait(0.5)  # the ring of a (re)connecting listener
            with engine.begin() as connection:
                for statement, parameters in notify_statements(["450981101"]):
                    connection.execute(statement, parameters)
            assert waiter.wait(10) is True
    finally:
        bell.close()
        engine.dispose()
