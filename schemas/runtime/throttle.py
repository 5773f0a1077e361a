"""Failed staff logins, throttled so that strangers cannot turn the throttle against staff.

One implementation for the node (staff users) and the hub (staff accounts): each declares
its ``login_attempts`` table from :class:`LoginAttemptColumns` and hands the model to
:class:`LoginThrottle`.

Every login that reaches the password check is recorded: the username as typed (whether an
account of that name exists or not), the client address, the time, and whether it
succeeded.  Before a password is checked, three counts of recent failures (within
``window``) decide whether the attempt has to wait:

1. **this account from this address** (``free_per_pair`` failures free): one place guessing
   one account; a success from that address starts the count again;
2. **this address, any account** (``free_per_address``): one place trying many accounts;
3. **this account from strange addresses** (``free_per_account``): many places guessing one
   account.

An address is a **usual place** of an account when the account logged in successfully from
it within ``usual_place_days``.  Counts 2 and 3 do not apply at an account's usual place, so
strangers elsewhere cannot keep its owner out: at their usual place only their own mistakes
there (count 1) delay them.

Past its free failures each count imposes a delay from its latest failure, doubling with
every further failure: ``first_delay`` (30 s) up to ``longest_delay`` (15 min).  An attempt
inside the delay is refused (:class:`~schemas.errors.TooManyAttempts`, 429 with Retry-After)
without checking the password and without being recorded, so a steady attack does not
stretch the delay further or fill the table.

Nothing here depends on whether the account exists: a username nobody has is counted,
delayed and answered exactly like a real one (the callers verify a dummy hash for it, so the
work is the same too).  Rows older than ``keep`` are deleted as new failures come in; the
failures since an account's previous login are what its owner and the administrators are
told at their next login.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from schemas.errors import TooManyAttempts
from schemas.i18n import _
from schemas.runtime.database import Timestamp, utcnow

USERNAME_MAX = 64
ADDRESS_MAX = 64  # an IPv6 address with a zone fits


class LoginAttemptColumns:
    """The ``login_attempts`` table, mixed into each app's declarative model."""

    __tablename__ = "login_attempts"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805 - a class attribute, per model
        return (Index("ix_login_attempts_username_at", "username", "at"),
                Index("ix_login_attempts_address_at", "address", "at"),
                Index("ix_login_attempts_at", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX))
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[Timestamp]


@dataclass(frozen=True)
class ThrottlePolicy:
    free_per_pair: int = 5
    free_per_address: int = 20
    free_per_account: int = 20
    first_delay: dt.timedelta = dt.timedelta(seconds=30)
    longest_delay: dt.timedelta = dt.timedelta(minutes=15)
    window: dt.timedelta = dt.timedelta(hours=24)
    usual_place_days: int = 90
    keep: dt.timedelta = dt.timedelta(days=90)

    def delay(self, failures: int, free: int) -> dt.timedelta:
        """How long after the latest of ``failures`` the next attempt must wait."""
        if failures < free:
            return dt.timedelta(0)
        doublings = min(failures - free, 32)
        return min(self.longest_delay, self.first_delay * (1 << doublings))


@dataclass(frozen=True)
class FailedLogins:
    """Failures of one account since its previous successful login (told at the next)."""

    username: str
    count: int
    last_at: dt.datetime


def _key(text: str, limit: int) -> str:
    return text[:limit]


class LoginThrottle:
    """The throttle over one app's ``login_attempts`` table (plain Python over a session)."""

    def __init__(self, session: Session, model: type[LoginAttemptColumns],
                 policy: ThrottlePolicy | None = None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.session = session
        self.model = model
        self.policy = policy or ThrottlePolicy()
        self.clock = clock

    def check(self, username: str, address: str) -> None:
        """Refuse (TooManyAttempts) an attempt that must still wait; the same for every
        username, existing or not."""
        wait = self.wait(username, address)
        if wait > 0:
            raise TooManyAttempts(
                _("Too many failed logins; try again in %(wait)s seconds.", wait=wait), wait)

    def wait(self, username: str, address: str) -> int:
        """Seconds the attempt must still wait (0: go ahead)."""
        model, policy, now = self.model, self.policy, self.clock()
        username, address = _key(username, USERNAME_MAX), _key(address, ADDRESS_MAX)
        usual = set(self.session.scalars(
            select(model.address).where(
                model.username == username, model.succeeded.is_(True),
                model.at >= now - dt.timedelta(days=policy.usual_place_days))
            .distinct()))
        recent = self.session.execute(
            select(model.address, model.succeeded, model.at).where(
                model.username == username, model.at >= now - policy.window)
        ).all()
        last_pair_success = max((at for addr, ok, at in recent if ok and addr == address),
                                default=None)
        counts = [(
            [at for addr, ok, at in recent if addr == address and not ok
             and (last_pair_success is None or at > last_pair_success)],
            policy.free_per_pair)]
        if address not in usual:
            counts.append(([at for addr, ok, at in recent if not ok and addr not in usual],
                           policy.free_per_account))
            by_address = self.session.execute(
                select(func.count(), func.max(model.at)).where(
                    model.address == address, model.succeeded.is_(False),
                    model.at >= now - policy.window)
            ).one()
            counts.append(([by_address[1]] * int(by_address[0]) if by_address[0] else [],
                           policy.free_per_address))
        wait = dt.timedelta(0)
        for failures, free in counts:
            if failures:
                until = max(failures) + policy.delay(len(failures), free)
                wait = max(wait, until - now)
        return math.ceil(wait.total_seconds())

    def record(self, username: str, address: str, *, succeeded: bool) -> None:
        """Record an attempt whose password was checked; a failure also clears rows older
        than ``keep``."""
        now = self.clock()
        self.session.add(self.model(  # type: ignore[call-arg]
            username=_key(username, USERNAME_MAX), address=_key(address, ADDRESS_MAX),
            succeeded=succeeded, at=now))
        if not succeeded:
            self.session.execute(delete(self.model).where(
                self.model.at < now - self.policy.keep))
        self.session.flush()

    def failures_since(self, username: str, since: dt.datetime | None) -> int:
        """Failed logins of ``username`` after ``since`` (all kept ones when None)."""
        query = select(func.count()).select_from(self.model).where(
            self.model.username == _key(username, USERNAME_MAX),
            self.model.succeeded.is_(False))
        if since is not None:
            query = query.where(self.model.at > since)
        return int(self.session.scalar(query) or 0)

    def failures_by_username_since(self, since: dt.datetime | None) -> list[FailedLogins]:
        """Every username with failed logins after ``since``, most failures first."""
        query = (select(self.model.username, func.count(), func.max(self.model.at))
                 .where(self.model.succeeded.is_(False)))
        if since is not None:
            query = query.where(self.model.at > since)
        rows = self.session.execute(query.group_by(self.model.username)).all()
        found = [FailedLogins(name, int(count), last) for name, count, last in rows]
        return sorted(found, key=lambda f: (-f.count, f.username))


__all__ = ["FailedLogins", "LoginAttemptColumns", "LoginThrottle", "ThrottlePolicy"]
