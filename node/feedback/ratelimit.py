"""A fixed-window rate limiter whose counts live in the database.

Web requests are served by several gunicorn worker processes, so a counter in process memory
would let each process grant the full limit. Each attempt instead upserts one row per
(key, window) and reads the new count back in the same statement, which SQLite and PostgreSQL
both perform atomically: concurrent attempts from one address are counted one after another
and never lost.

Windows are fixed and aligned to the epoch (one minute by default). Rows of earlier windows
are deleted by the first attempt of each new window of a key, so the table stays about one
row per recently active key without a scheduled job.

The caller owns the transaction, as with every service; but a refused attempt usually ends in
an error answer whose transaction is rolled back, so callers commit right after counting and
only then refuse (:func:`public_attempt`, :meth:`RateDecision.check`; node/api/public.py and
node/web/public.py, with ``schemas.runtime.webapp.commit_early``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from node.models import Base
from schemas.errors import TooManyAttempts
from schemas.i18n import _
from schemas.runtime.database import UTCDateTime

DEFAULT_WINDOW = dt.timedelta(minutes=1)
KEY_LENGTH = 100  # "public:" and an IPv6 address (at most 45 characters) fit


class RateLimit(Base):
    """How many attempts one key (e.g. a client address) made in one window."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    # indexed on its own: the clean-up deletes by window across all keys
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True, index=True)
    count: Mapped[int]


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one counted attempt."""

    allowed: bool
    count: int  # attempts of the key in the current window, this one included
    limit: int
    retry_after_seconds: int  # until the current window ends (at least 1)

    def check(self) -> None:
        """Raise :class:`TooManyAttempts` (429 with Retry-After) for a refused attempt."""
        if not self.allowed:
            raise TooManyAttempts(
                _("Too many requests from your address: at most %(limit)s a minute. Try "
                  "again in %(retry_after_seconds)s seconds.",
                  limit=self.limit, retry_after_seconds=self.retry_after_seconds),
                self.retry_after_seconds,
            )


def window_start(now: dt.datetime, window: dt.timedelta = DEFAULT_WINDOW) -> dt.datetime:
    """The start of the fixed window that contains ``now`` (UTC, aligned to the epoch)."""
    if now.tzinfo is None:
        raise ValueError("the rate limiter needs a timezone-aware time")
    seconds = window.total_seconds()
    if seconds <= 0:
        raise ValueError("a rate-limit window must be longer than zero")
    start = math.floor(now.timestamp() / seconds) * seconds
    return dt.datetime.fromtimestamp(start, dt.UTC)


def _upsert(
    session: Session, key: str, start: dt.datetime
) -> postgresql.Insert | sqlite.Insert:
    """INSERT the key's window with count 1, or add 1 to the count already there."""
    values = {"key": key, "window_start": start, "count": 1}
    keys = ["key", "window_start"]
    increment = {"count": RateLimit.count + 1}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(RateLimit).values(values).on_conflict_do_update(
            index_elements=keys, set_=increment
        )
    if dialect == "sqlite":
        return sqlite.insert(RateLimit).values(values).on_conflict_do_update(
            index_elements=keys, set_=increment
        )
    raise RuntimeError(f"the rate limiter supports SQLite and PostgreSQL, not {dialect}")


def hit(
    session: Session,
    key: str,
    *,
    limit: int,
    now: dt.datetime,
    window: dt.timedelta = DEFAULT_WINDOW,
) -> RateDecision:
    """Count one attempt of ``key`` and say whether it is within ``limit`` per ``window``.

    Every attempt counts, refused ones included, so hammering does not reopen the door before
    the window ends. Runs in the caller's transaction and never commits it.
    """
    if not key or len(key) > KEY_LENGTH:
        raise ValueError(f"a rate-limit key has 1 to {KEY_LENGTH} characters")
    start = window_start(now, window)
    statement = _upsert(session, key, start).returning(RateLimit.count)
    count = session.execute(statement).scalar_one()
    if count == 1:
        # the key's first attempt in this window: sweep every key's finished windows
        session.execute(
            delete(RateLimit)
            .where(RateLimit.window_start < start)
            .execution_options(synchronize_session=False)
        )
    remaining = (start + window - now).total_seconds()
    return RateDecision(
        allowed=count <= limit,
        count=count,
        limit=limit,
        retry_after_seconds=max(1, math.ceil(remaining)),
    )


PUBLIC_KEY = "public:{address}"


def public_attempt(session: Session, address: str, *, limit: int,
                   now: dt.datetime) -> RateDecision:
    """Count one request of the public (lookups, evaluations, complaints, online
    applications) against its client ``address``.

    One budget covers every public door alike: each of them checks a query code, and a shared
    budget keeps the guessing rate at ``limit`` a minute whichever door is used.  The caller
    commits the count before it answers, then calls :meth:`RateDecision.check`.
    """
    return hit(session, PUBLIC_KEY.format(address=address), limit=limit, now=now)


__all__ = ["DEFAULT_WINDOW", "PUBLIC_KEY", "RateDecision", "RateLimit", "hit", "public_attempt",
           "window_start"]
