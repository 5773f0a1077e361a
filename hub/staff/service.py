"""Hub staff: create accounts, log in, check bearer tokens (plain Python over a session)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.staff.models import StaffAccount, StaffRole, StaffToken
from schemas.database import utcnow
from schemas.divisions import DivisionCodeError, level_of
from schemas.errors import Conflict, TooManyAttempts, Unauthorized, ValidationFailed
from schemas.passwords import (
    check_password_strength,
    dummy_hash,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)


@dataclass(frozen=True)
class StaffPolicy:
    token_ttl: dt.timedelta = dt.timedelta(hours=8)
    max_failed_logins: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    account: StaffAccount


class StaffService:
    """Accounts, logins and tokens of hub staff."""

    def __init__(self, session: Session, policy: StaffPolicy | None = None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.session = session
        self.policy = policy or StaffPolicy()
        self.clock = clock

    def create_account(self, *, username: str, password: str, scope: str,
                       role: StaffRole = StaffRole.VIEWER, display_name: str = "") -> StaffAccount:
        """A new account bound to ``scope``; refuses a weak password or a taken username."""
        problems: dict[str, list[str]] = {}
        if (not 1 <= len(username) <= 64 or not username.isprintable()
                or username.strip() != username):
            problems["username"] = ["1 to 64 printable characters without surrounding spaces"]
        try:
            level_of(scope)
        except DivisionCodeError as exc:
            problems["scope"] = [str(exc)]
        weak = check_password_strength(password)
        if weak:
            problems["password"] = weak
        if problems:
            raise ValidationFailed(problems)
        if self.session.scalar(select(StaffAccount.id).where(StaffAccount.username == username)):
            raise Conflict(f"Staff account {username!r} already exists.", {"field": "username"})
        account = StaffAccount(
            username=username, display_name=display_name or username, role=role,
            scope_code=scope, password_hash=hash_password(password), active=True,
            failed_logins=0, created_at=self.clock(),
        )
        self.session.add(account)
        self.session.flush()
        return account

    def login(self, username: str, password: str) -> IssuedToken:
        """Check a password and issue a token; repeated failures lock the account a while."""
        now = self.clock()
        account = self.session.scalar(
            select(StaffAccount).where(StaffAccount.username == username))
        if account is None:
            verify_password(dummy_hash(), password)  # the same work as for a real account
            raise Unauthorized("Wrong username or password.")
        if account.locked_until is not None and account.locked_until > now:
            seconds = int((account.locked_until - now).total_seconds()) + 1
            raise TooManyAttempts("Too many failed logins; the account is locked for a while.",
                                  seconds)
        if not verify_password(account.password_hash, password) or not account.active:
            account.failed_logins += 1
            if account.failed_logins >= self.policy.max_failed_logins:
                account.locked_until = now + self.policy.lockout
                account.failed_logins = 0
            self.session.flush()
            raise Unauthorized("Wrong username or password.")
        account.failed_logins = 0
        account.locked_until = None
        account.last_login_at = now
        if needs_rehash(account.password_hash):
            account.password_hash = hash_password(password)
        token = new_token()
        expires_at = now + self.policy.token_ttl
        self.session.add(StaffToken(account_id=account.id, token_hash=token_digest(token),
                                    created_at=now, expires_at=expires_at))
        self.session.flush()
        return IssuedToken(token, expires_at, account)

    def authenticate(self, token: str) -> tuple[StaffAccount, StaffToken]:
        """The account a live bearer token belongs to."""
        row = self.session.scalar(
            select(StaffToken).where(StaffToken.token_hash == token_digest(token)))
        if row is None or row.revoked_at is not None:
            raise Unauthorized("The token is not valid or has been revoked.")
        if row.expires_at <= self.clock():
            raise Unauthorized("The token has expired; log in again.")
        if not row.account.active:
            raise Unauthorized("The account is disabled.")
        return row.account, row

    def logout(self, token: StaffToken) -> None:
        token.revoked_at = self.clock()
        self.session.flush()
