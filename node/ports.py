"""What the node's features need from the sync layer, and what they give it.

A feature (cases, catalog, calendar, directives …) never imports :mod:`node.sync`.  It sends
through an :class:`Outbox` it is handed, reads what was applied through an :class:`Inbox`,
and declares the envelope kinds it applies as :data:`EnvelopeHandler` s.  The composition root
(:mod:`node.composition`) builds the sync layer's implementations once per process, fills an
:class:`EnvelopeRegistry` from every feature's declaration and gives it to the sync service,
the way a Django app registers itself in ``AppConfig.ready()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
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


class Inbox(Protocol):
    """Reads the envelopes this node has applied."""

    def applied_bodies(self, session: Session, *, sender: str, kind: Kind,
                       excluding: str | None = None) -> Iterator[Mapping[str, Any]]:
        """The bodies of the ``kind`` envelopes of ``sender`` applied here, but for the
        envelope ``excluding`` (by id)."""
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


__all__ = ["DuplicateHandler", "EnvelopeHandler", "EnvelopeRegistry", "Inbox", "Outbox"]
