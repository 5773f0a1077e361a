"""What the node's features need from the sync layer, and what they give it.

A feature (cases, catalog, calendar, directives …) never imports :mod:`node.sync`.  It sends
through an :class:`Outbox` it is handed, reads what was applied through an :class:`Inbox`,
declares the envelope kinds it applies as :data:`EnvelopeHandler` s and the jobs it wants run
on a schedule as :class:`ScheduledJob` s.  The composition root (:mod:`node.composition`)
builds the sync layer's implementations once per process, fills an :class:`EnvelopeRegistry`
from every feature's declaration and gives it to the sync service, and fills a
:class:`JobRegistry` the worker schedules, the way a Django app registers itself in
``AppConfig.ready()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from schemas.envelope import Envelope, Kind
from schemas.errors import TongbanError


class SyncError(TongbanError):
    """Something kept an exchange with the hub from completing."""

    code = "sync_error"


class HubUnavailable(SyncError):
    """The hub could not be reached, failed (5xx, 429) or gave an answer that is not what was
    asked: try again later.  The one error of every signed call to the hub (sync and the
    rankings asked as this node alike)."""

    code = "hub_unavailable"


EnvelopeHandler = Callable[[Session, Envelope], None]
"""Applies one envelope addressed to this node in the caller's transaction (flushes, never
commits); raising refuses it and the sync service records why."""


class Outbox(Protocol):
    """Sends signed envelopes as this node, in the caller's transaction.

    An envelope exists if and only if the change that caused it commits: :meth:`send` only
    adds a row to ``session``, so a rollback takes the envelope (and its seq) with it.
    """

    @property
    def node_code(self) -> str:
        """The sender: this node's division code."""
        ...

    def send(self, session: Session, *, kind: Kind, to: str, body: Mapping[str, Any],
             now: dt.datetime | None = None) -> Envelope:
        """Sign ``body`` as a ``kind`` envelope to ``to`` with the node's next seq and queue
        it; raises :class:`schemas.envelope.EnvelopeError` for a bad body."""
        ...

    def sent_body(self, session: Session, envelope_id: str) -> Mapping[str, Any] | None:
        """The body of the envelope ``envelope_id`` this node queued, unless the hub refused
        it for good (or it is not in the outbox): what the hub has, or will have."""
        ...


class Inbox(Protocol):
    """Reads the envelopes this node has applied."""

    def applied_bodies(self, session: Session, *, sender: str, kind: Kind,
                       excluding: str | None = None) -> Iterator[Mapping[str, Any]]:
        """The bodies of the ``kind`` envelopes of ``sender`` applied here, but for the
        envelope ``excluding`` (by id)."""
        ...


class CenterNames(Protocol):
    """Centers by name for the messages a person reads: 北流市政务服务中心（450981）, never a
    bare code (issue 19).  node.sync implements it from the registry's names it keeps; this
    node's own code is its configured name."""

    def text(self, session: Session, code: str) -> str:
        """``code``'s center by name with the code beside it (:func:`schemas.names.center_text`);
        未登记名称的中心（code） for a center whose name this node does not hold."""
        ...


class DuplicateHandler(Exception):
    """Two features declared the same envelope kind (a wiring fault, found at start)."""


class EnvelopeRegistry:
    """Which feature applies which envelope kind: filled once per process by the composition
    root from each feature's declaration; the sync service dispatches through it."""

    def __init__(self) -> None:
        self._handlers: dict[Kind, EnvelopeHandler] = {}

    def register(self, handlers: Mapping[Kind, EnvelopeHandler]) -> None:
        """Add a feature's handlers; a kind another feature already handles is refused."""
        taken = sorted(kind.value for kind in handlers if kind in self._handlers)
        if taken:
            raise DuplicateHandler(f"envelope kinds handled twice: {', '.join(taken)}")
        self._handlers.update(handlers)

    def handlers(self) -> dict[Kind, EnvelopeHandler]:
        return dict(self._handlers)


@dataclass(frozen=True)
class ScheduledJob:
    """A job a feature wants run every ``every`` by the worker (never in a web process):
    ``name`` is its id in the scheduler, ``title`` what the log calls it; ``run`` takes no
    argument and owns its transactions."""

    name: str
    title: str
    every: dt.timedelta
    run: Callable[[], object]


class DuplicateJob(Exception):
    """Two features declared a job of the same name (a wiring fault, found at start)."""


class JobRegistry:
    """The scheduled jobs of every feature, filled once per process by the composition root
    from each feature's ``scheduled_jobs(...)``; the worker schedules each of them."""

    def __init__(self) -> None:
        self._jobs: dict[str, ScheduledJob] = {}

    def declare(self, jobs: Iterable[ScheduledJob]) -> None:
        """Add a feature's jobs; a name another job already has is refused."""
        jobs = list(jobs)
        names = [job.name for job in jobs]
        taken = sorted({name for name in names
                        if name in self._jobs or names.count(name) > 1})
        if taken:
            raise DuplicateJob(f"scheduled jobs declared twice: {', '.join(taken)}")
        self._jobs.update((job.name, job) for job in jobs)

    def jobs(self) -> list[ScheduledJob]:
        """The jobs in the order they were declared."""
        return list(self._jobs.values())


__all__ = ["CenterNames", "DuplicateHandler", "DuplicateJob", "EnvelopeHandler",
           "EnvelopeRegistry", "Inbox", "JobRegistry", "Outbox", "ScheduledJob"]
