"""Many threads on one node's outbox against PostgreSQL (READ COMMITTED, the production
database): envelopes signed at once by many transactions get gap-free, unique seqs; several
pushes started at once post each envelope exactly once; and no lock is left standing.

SQLite is skipped: there every writing transaction takes the database lock up front, so
writers never overlap (tests/unit/node/test_case_concurrency.py covers cases the same way).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text

from node.directives.service import DirectiveService
from node.metadata import load_all_models
from node.models import Base
from node.sync.models import OutboxEnvelope, OutboxState
from node.sync.names import RegistryCenterNames
from node.sync.outbox import SigningOutbox
from node.sync.service import SyncService
from schemas.keys import generate_private_key
from schemas.runtime.database import Database
from tests.unit.node.test_sync_fakes import FakeHub

THREADS = 16
PER_THREAD = 10
JOIN_TIMEOUT = 60
COUNTY, TOWNSHIP = "450981", "450981101"
KEY = generate_private_key()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    if not database_url.startswith("postgresql"):
        pytest.skip("outbox races need PostgreSQL: SQLite serialises every writer")
    load_all_models()
    database = Database(database_url)
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def run_threads(targets: list[Callable[[], Any]]) -> list[Any]:
    """Start every target together (a barrier); each result is its value or its exception."""
    results: list[Any] = [None] * len(targets)
    barrier = threading.Barrier(len(targets))

    def wrap(index: int, target: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = target()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test to inspect
            results[index] = exc

    threads = [threading.Thread(target=wrap, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
        assert not thread.is_alive(), "a thread is stuck (deadlock left standing?)"
    return results


def no_locks_held(db: Database) -> None:
    """No backend but this one holds or waits for a lock on this test's tables (the test
    database is shared with other tests, each in its own schema)."""
    with db.engine.connect() as connection:
        held = connection.execute(text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND l.pid <> pg_backend_pid()")).scalar_one()
    assert held == 0


def issue(db: Database, count: int, label: str) -> list[str]:
    ids = []
    due = dt.date(2026, 12, 31)
    for number in range(count):
        with db.unit_of_work() as session:
            directive = DirectiveService(session, outbox=SigningOutbox(COUNTY, KEY),
                                         names=RegistryCenterNames(COUNTY, "")).issue(
                "chief", TOWNSHIP, "text", f"{label}-{number}", due)
            ids.append(directive.directive_id)
    return ids


def test_concurrent_signers_get_gap_free_unique_seqs(db: Database) -> None:
    results = run_threads([lambda i=i: issue(db, PER_THREAD, f"t{i}") for i in range(THREADS)])
    assert [r for r in results if isinstance(r, BaseException)] == []
    with db.sessions() as session:
        seqs = list(session.scalars(select(OutboxEnvelope.seq).order_by(OutboxEnvelope.seq)))
        kinds = Counter(session.scalars(select(OutboxEnvelope.kind)))
    assert seqs == list(range(1, THREADS * PER_THREAD + 1))
    assert kinds == {"directive": THREADS * PER_THREAD}
    no_locks_held(db)


def test_concurrent_pushes_post_each_envelope_once(db: Database) -> None:
    issue(db, 95, "push")
    hub = FakeHub()
    service = SyncService(db, hub, code=COUNTY, push_batch_size=10)
    reports = run_threads([service.push for _ in range(8)])
    assert [r for r in reports if isinstance(r, BaseException)] == []
    posted = Counter(envelope_id for batch in hub.posted_batches for envelope_id in batch)
    assert len(posted) == 95
    assert set(posted.values()) == {1}, "an envelope was posted twice"
    assert sum(r.sent for r in reports) == 95
    assert sum(r.duplicate for r in reports) == 0
    # the hub saw them in seq order, batch after batch
    with db.sessions() as session:
        order = dict(session.execute(select(OutboxEnvelope.id, OutboxEnvelope.seq)).all())
        assert session.scalar(select(func.count()).select_from(OutboxEnvelope)
                              .where(OutboxEnvelope.state != OutboxState.SENT)) == 0
    sent_seqs = [order[i] for batch in hub.posted_batches for i in batch]
    assert sent_seqs == sorted(sent_seqs)
    no_locks_held(db)


def test_signers_and_pushers_together_leave_nothing_behind(db: Database) -> None:
    hub = FakeHub()
    service = SyncService(db, hub, code=COUNTY, push_batch_size=7)

    def push_until_quiet() -> int:
        sent = 0
        for _ in range(20):
            sent += service.push().sent
        return sent

    targets: list[Callable[[], Any]] = [
        lambda i=i: issue(db, PER_THREAD, f"mix{i}") for i in range(8)]
    targets += [push_until_quiet for _ in range(4)]
    results = run_threads(targets)
    assert [r for r in results if isinstance(r, BaseException)] == []
    service.push()  # whatever was signed after the last push of the threads
    posted = Counter(envelope_id for batch in hub.posted_batches for envelope_id in batch)
    assert len(posted) == 8 * PER_THREAD
    assert set(posted.values()) == {1}
    with db.sessions() as session:
        seqs = list(session.scalars(select(OutboxEnvelope.seq).order_by(OutboxEnvelope.seq)))
    assert seqs == list(range(1, 8 * PER_THREAD + 1))
    no_locks_held(db)
