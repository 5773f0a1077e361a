"""The SQLite writer lock (issue 17): writers queue on a file lock instead of SQLite's
busy back-off; reads never take it; it is released however the transaction ends."""

from __future__ import annotations

import fcntl
import multiprocessing as mp
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from schemas.runtime.database import Database, mark_writing
from schemas.runtime.writelock import WriterLock


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with database.unit_of_work() as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)"))
    yield database
    database.dispose()


def held_elsewhere(path: str) -> bool:
    """Whether another open file description holds the lock on ``path``."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_write_transaction_holds_the_lock_until_it_ends(db: Database, tmp_path: Path) -> None:
    lock = str(tmp_path / "w.db.writelock")
    assert oct(os.stat(lock).st_mode & 0o777) == "0o600"
    for end in ("commit", "rollback", "close"):
        session = db.sessions()
        mark_writing(session)
        session.execute(text("INSERT INTO t (who) VALUES (:w)"), {"w": end})
        assert held_elsewhere(lock), end
        getattr(session, end)()
        session.close()
        assert not held_elsewhere(lock), f"still held after {end}"
    with db.sessions() as session:
        assert session.scalars(text("SELECT who FROM t ORDER BY id")).all() == ["commit"]


def test_a_read_transaction_does_not_take_it(db: Database, tmp_path: Path) -> None:
    with db.unit_of_work(write=False) as session:
        session.execute(text("SELECT count(*) FROM t"))
        assert not held_elsewhere(str(tmp_path / "w.db.writelock"))


def test_it_is_reentrant_in_a_thread_and_exclusive_between_threads(tmp_path: Path) -> None:
    lock = WriterLock(str(tmp_path / "x.db"))
    assert lock.acquire()
    assert lock.acquire()  # a nested write transaction of the same thread
    results: list[bool] = []
    other = threading.Thread(target=lambda: results.append(lock.acquire(wait=0.2)))
    other.start()
    other.join()
    assert results == [False]
    lock.release()
    assert held_elsewhere(lock.path)  # the outer transaction still holds it
    lock.release()
    assert not held_elsewhere(lock.path)


def _try(path: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    out.put(LOCKS[path].acquire(wait=0.3))


LOCKS: dict[str, WriterLock] = {}


def test_a_forked_child_does_not_share_its_parents_lock(tmp_path: Path) -> None:
    """gunicorn forks its workers: each must open the lock file itself, or they would all
    hold the lock at once through the descriptor they inherited."""
    path = str(tmp_path / "x.db")
    LOCKS[path] = lock = WriterLock(path)
    assert lock.acquire()
    context = mp.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_try, args=(path, out))
    child.start()
    assert out.get(timeout=30) is False
    child.join(timeout=30)
    lock.release()
    child = context.Process(target=_try, args=(path, out))
    child.start()
    assert out.get(timeout=30) is True
    child.join(timeout=30)


def _writer(url: str, started: mp.Event, out: mp.Queue) -> None:  # type: ignore[type-arg]
    database = Database(url)
    started.set()
    with database.unit_of_work() as session:
        session.execute(text("INSERT INTO t (who) VALUES ('second')"))
    out.put("done")
    database.dispose()


def test_a_second_process_waits_for_the_first_and_both_writes_stay(
    db: Database, tmp_path: Path
) -> None:
    session = db.sessions()
    mark_writing(session)
    session.execute(text("INSERT INTO t (who) VALUES ('first')"))
    context = mp.get_context("spawn")
    started, out = context.Event(), context.Queue()
    child = context.Process(target=_writer, args=(db.url, started, out))
    child.start()
    assert started.wait(60)
    with pytest.raises(Exception):  # noqa: B017, PT011 - queue.Empty: still waiting
        out.get(timeout=1.0)
    session.commit()
    session.close()
    assert out.get(timeout=60) == "done"
    child.join(timeout=30)
    with db.sessions() as reader:
        assert reader.scalars(text("SELECT who FROM t ORDER BY id")).all() == ["first",
                                                                              "second"]
