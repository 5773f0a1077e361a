"""Per-process caches of what every request reads and almost nothing changes (issue 17): the
token → user of a staff request, and the working calendar.  Plain Python (no Flask).

Each cache is invalidated by a counter in the ``cache_versions`` table (one row per cache,
node migration 0024).  A change to what a cache holds bumps its counter in the same
transaction (:func:`bump`; for ORM changes the ``before_flush`` hook below does it), so the
counter moves exactly when the change commits.  A request reads all counters once (one small
``SELECT``, before anything it caches) and a cache whose counter moved is emptied: a change
made by another process — another gunicorn worker, the sync worker, the CLI — is seen on the
next request of every process, and nothing is served from a cache older than the counter the
request read.

The counters are read before the data: data loaded after a counter was read is at least as new
as that counter, so a cache can be behind the database for no longer than one request.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, String, event, select, update
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from node.models import Base
from schemas.runtime.database import insert_if_missing

AUTH = "auth"  # users and their tokens
CALENDAR = "calendar"  # local overrides and year schedules
CATALOG = "catalog"  # matters, their materials, departments and windows
NAMES = (AUTH, CALENDAR, CATALOG)

_READ = "tongban_cache_versions"  # session.info: (transaction, counters) read this transaction
_BUMPED = "tongban_cache_bumped"  # session.info: (transaction, names) bumped, not committed yet

V = TypeVar("V")


class CacheVersion(Base):
    """One counter per cache: bumped in the transaction that changes what the cache holds."""

    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


def versions(session: Session) -> dict[str, int]:
    """Every cache's counter as this transaction sees it (read once per transaction)."""
    transaction = session.get_transaction()
    held: tuple[SessionTransaction | None, dict[str, int]] | None = session.info.get(_READ)
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1]
    found = dict.fromkeys(NAMES, 0)
    found.update((name, version) for name, version in
                 session.execute(select(CacheVersion.name, CacheVersion.version)))
    session.info[_READ] = (session.get_transaction(), found)
    return found


def bump(session: Session, *names: str) -> None:
    """Move the counters of ``names`` in the session's transaction (so every process drops
    those caches once it commits).  Statements on the connection: no flush, callable from a
    flush hook."""
    connection = session.connection()
    for name in names:
        moved = connection.execute(update(CacheVersion).where(CacheVersion.name == name)
                                   .values(version=CacheVersion.version + 1)).rowcount
        if not moved:  # a database made without the migration's rows (tests' create_all)
            insert_if_missing(session, CacheVersion, {"name": name, "version": 1}, ["name"])
    session.info.pop(_READ, None)
    transaction = session.get_transaction()
    held = session.info.get(_BUMPED)
    already = held[1] if held is not None and held[0] is transaction else set()
    session.info[_BUMPED] = (transaction, already | set(names))


def _bumped(session: Session) -> set[str]:
    held: tuple[SessionTransaction | None, set[str]] | None = session.info.get(_BUMPED)
    if held is not None and held[0] is session.get_transaction():
        return held[1]
    return set()


class _Entries(Generic[V]):
    def __init__(self) -> None:
        self.version: int | None = None
        self.values: OrderedDict[Hashable, V] = OrderedDict()


class VersionedCache(Generic[V]):
    """Values by key, kept while the cache's counter stays where it was; at most ``size``
    of them per database (the least recently used go first).  Kept apart per engine: one
    process serving one database has one set; the test suite, lending one app to many
    databases, one per database."""

    def __init__(self, name: str, size: int = 10_000) -> None:
        if name not in NAMES:
            raise ValueError(f"no cache counter {name!r}")
        self.name = name
        self.size = size
        self._entries: weakref.WeakKeyDictionary[Any, _Entries[V]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self.loads = 0  # how many times a value was loaded (tests look at it)

    def get(self, session: Session, key: Hashable, load: Callable[[], V]) -> V:
        if self.name in _bumped(session):
            # this transaction changed what the cache holds and has not committed: its view is
            # its own, neither served from the cache nor kept in it (it may still roll back)
            return load()
        version = versions(session)[self.name]
        engine = session.get_bind()
        with self._lock:
            entries = self._entries.get(engine)
            if entries is None:
                entries = self._entries[engine] = _Entries()
            if version != entries.version:
                entries.values.clear()
                entries.version = version
            if key in entries.values:
                entries.values.move_to_end(key)
                return entries.values[key]
        value = load()
        self.loads += 1
        with self._lock:
            # None (nothing found) is not kept: a flood of made-up keys would evict real ones
            if entries.version == version and value is not None:
                entries.values[key] = value
                if len(entries.values) > self.size:
                    entries.values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# -- bumping on ORM changes -------------------------------------------------------------------

_WATCHED: dict[type, tuple[str, bool]] = {}


def watch(model: type, name: str, *, new_too: bool) -> None:
    """Bump ``name`` whenever an instance of ``model`` is changed or deleted in a flush, and
    when one is added if ``new_too`` (a new token is in no cache yet; a new override is part
    of the calendar)."""
    _WATCHED[model] = (name, new_too)


@event.listens_for(Session, "before_flush")
def _bump_on_change(session: Session, _context: Any, _instances: Any) -> None:
    if not _WATCHED:
        return
    touched = set()
    for obj in session.new:
        found = _WATCHED.get(type(obj))
        if found and found[1]:
            touched.add(found[0])
    for obj in session.deleted:
        if type(obj) in _WATCHED:
            touched.add(_WATCHED[type(obj)][0])
    for obj in session.dirty:
        if type(obj) in _WATCHED and session.is_modified(obj):
            touched.add(_WATCHED[type(obj)][0])
    if touched:
        bump(session, *sorted(touched))


__all__ = ["AUTH", "CALENDAR", "CATALOG", "CacheVersion", "VersionedCache", "bump", "versions",
           "watch"]
