"""Hub staff: create accounts, log in, check bearer tokens (plain Python over a session)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.staff.models import LoginAttempt, StaffAccount, StaffRole, StaffToken
from schemas.divisions import DivisionCodeError, level_of
from schemas.errors import Conflict, Unauthorized, ValidationFailed
from schemas.i18n import _
from schemas.runtime.database import utcnow
from schemas.runtime.login import LoginPolicy, PasswordLogin
from schemas.runtime.passwords import (
    check_password_strength,
    hash_password,
    new_token,
    token_digest,
)
from schemas.runtime.throttle import FailedLogins


@dataclass(frozen=True)
class LoginNotice:
    """最近有 N 次失败登录: failed logins on the account since its previous login; an
    administrator also sees every other account's and those against unknown usernames."""

    own: int = 0
    accounts: tuple[FailedLogins, ...] = ()
    unknown_usernames: int = 0


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    account: StaffAccount
    notice: LoginNotice = LoginNotice()


class StaffService:
    """Accounts, logins and tokens of hub staff."""

    def __init__(self, session: Session, policy: LoginPolicy | None = None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.session = session
        self.policy = policy or LoginPolicy()
        self.clock = clock
        self.logins = PasswordLogin(session, StaffAccount, LoginAttempt, self.policy, clock)

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
            raise Conflict(_("Staff account %(repr)s already exists.",
                             repr=repr(username)), {"field": "username"})
        account = StaffAccount(
            username=username, display_name=display_name or username, role=role,
            scope_code=scope, password_hash=hash_password(password), active=True,
            created_at=self.clock(),
        )
        self.session.add(account)
        self.session.flush()
        return account

    def login(self, username: str, password: str, address: str = "") -> IssuedToken:
        """Check a password from the client ``address`` and issue a token: the node's login
        (schemas/runtime/login.py), throttled per address and per account, never locking the
        account for everyone; administrators also hear of every other account's failures."""
        account, failures = self.logins.check(
            username, password, address, sees_everyone=lambda a: a.role is StaffRole.ADMIN)
        notice = LoginNotice(own=failures.own,
                             accounts=tuple(f for _account, f in failures.accounts),
                             unknown_usernames=failures.unknown_usernames)
        now = self.clock()
        token = new_token()
        expires_at = now + self.policy.token_ttl
        self.session.add(StaffToken(account_id=account.id, token_hash=token_digest(token),
                                    created_at=now, expires_at=expires_at))
        self.session.flush()
        return IssuedToken(token, expires_at, account, notice)

    def authenticate(self, token: str) -> tuple[StaffAccount, StaffToken]:
        """The account a live bearer token belongs to."""
        row = self.session.scalar(
            select(StaffToken).where(StaffToken.token_hash == token_digest(token)))
        if row is None or row.revoked_at is not None:
            raise Unauthorized(_("The token is not valid or has been revoked."))
        if row.expires_at <= self.clock():
            raise Unauthorized(_("The token has expired; log in again."))
        if not row.account.active:
            raise Unauthorized(_("The account is disabled."))
        return row.account, row

    def logout(self, token: StaffToken) -> None:
        token.revoked_at = self.clock()
        self.session.flush()
