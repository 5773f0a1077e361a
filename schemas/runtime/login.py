"""The one password login of node and hub staff: the throttle (schemas/runtime/throttle.py),
the password check, the failures told at the next login, and the hash upgraded on the way.

An unknown username, a wrong password and a disabled account answer alike, after the same
work: the throttle's reads, one Argon2 verification (of a dummy hash for a name nobody has)
and one recorded failure.  Failed logins are throttled per address and per account, never
locking the account for everyone.  Each application keeps its accounts, tokens and who sees
everyone's failures; this module keeps the rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.errors import Unauthorized
from schemas.i18n import _
from schemas.runtime.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from schemas.runtime.throttle import (
    FailedLogins,
    LoginAttemptColumns,
    LoginThrottle,
    ThrottlePolicy,
)


@dataclass(frozen=True)
class LoginPolicy:
    """How long a token lives, and how failed logins are throttled."""

    token_ttl: dt.timedelta = dt.timedelta(hours=8)
    # failed logins on one account from one address before each further try has to wait
    # (schemas.runtime.throttle: the delay doubles from 30 s up to ``lockout``)
    max_failed_logins: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=15)

    def throttle(self) -> ThrottlePolicy:
        return ThrottlePolicy(free_per_pair=self.max_failed_logins,
                              longest_delay=max(self.lockout, ThrottlePolicy.first_delay))


class Account(Protocol):
    """What a login reads and writes of a staff account (node users, hub staff)."""

    username: str
    password_hash: str
    active: bool
    last_login_at: dt.datetime | None


A = TypeVar("A", bound=Account)


@dataclass(frozen=True)
class Failures(Generic[A]):
    """最近有 N 次失败登录: the failed logins on the account since its previous login; for
    one who sees everyone's, every other account's and those against usernames nobody has."""

    own: int
    accounts: tuple[tuple[A, FailedLogins], ...] = ()
    unknown_usernames: int = 0


class PasswordLogin(Generic[A]):
    """Logs staff of one application in: ``accounts`` is its account model, ``attempts`` its
    ``login_attempts`` model."""

    def __init__(self, session: Session, accounts: type[A],
                 attempts: type[LoginAttemptColumns], policy: LoginPolicy,
                 clock: Callable[[], dt.datetime]) -> None:
        self.session = session
        self.accounts = accounts
        self.clock = clock
        self.throttle = LoginThrottle(session, attempts, policy.throttle(), clock)

    def check(self, username: str, password: str, address: str,
              sees_everyone: Callable[[A], bool]) -> tuple[A, Failures[A]]:
        """The account ``username`` if ``password`` is its own, with the failures to tell it;
        :class:`Unauthorized` otherwise (after the same work)."""
        self.throttle.check(username, address)
        model = cast(Any, self.accounts)
        account: A | None = self.session.scalar(select(model).where(model.username == username))
        matches = verify_password(account.password_hash if account is not None else dummy_hash(),
                                  password)
        if account is None or not matches or not account.active:
            self.throttle.record(username, address, succeeded=False)
            raise Unauthorized(_("Wrong username or password."))
        failures = self._failures(account, account.last_login_at, sees_everyone(account))
        self.throttle.record(username, address, succeeded=True)
        account.last_login_at = self.clock()
        if needs_rehash(account.password_hash):
            account.password_hash = hash_password(password)
        return account, failures

    def _failures(self, account: A, since: dt.datetime | None, everyone: bool) -> Failures[A]:
        own = self.throttle.failures_since(account.username, since)
        if not everyone:
            return Failures(own)
        failed = self.throttle.failures_by_username_since(since)
        model = cast(Any, self.accounts)
        known: dict[str, A] = {a.username: a for a in self.session.scalars(
            select(model).where(model.username.in_([f.username for f in failed])))}
        return Failures(
            own,
            tuple((known[f.username], f) for f in failed
                  if f.username in known and f.username != account.username),
            sum(f.count for f in failed if f.username not in known),
        )
