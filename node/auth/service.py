"""Passwords, logins, bearer tokens and user administration (no Flask)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from node.auth.inputs import NewUser, UserChanges
from node.auth.models import ApiToken, LoginAttempt, User
from node.auth.permissions import ROLES_WITH_DEPARTMENT, Permission, Role, allows
from node.caches import AUTH, VersionedCache, bump
from node.catalog.models import Department, StaffMember
from schemas.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from schemas.i18n import _
from schemas.names import PERMISSION_NAMES, ROLE_NAMES, name_of
from schemas.runtime.database import utcnow
from schemas.runtime.login import LoginPolicy, PasswordLogin

# Argon2id hashing, the strength rule and token digests are shared with the hub's staff
# accounts (hash_password and token_digest are also imported from here by callers)
from schemas.runtime.passwords import (
    check_password_strength,
    hash_password,
    token_digest,
)

__all__ = ["AccountFailures", "AuthService", "IssuedToken", "LoginNotice",
           "check_password_strength", "hash_password", "token_digest"]


@dataclass(frozen=True)
class AccountFailures:
    """Failed logins of one account since the reader's previous login."""

    user: User
    count: int
    last_at: dt.datetime


@dataclass(frozen=True)
class LoginNotice:
    """What a login tells its user (最近有 N 次失败登录): the failed logins on their own
    account since their previous login; administrators also every other account's and those
    against usernames nobody has."""

    own: int = 0
    accounts: tuple[AccountFailures, ...] = ()
    unknown_usernames: int = 0


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    user: User
    notice: LoginNotice = LoginNotice()


# bearer token digest -> the columns of the token and of its user (node/caches.py)
TOKENS: VersionedCache[tuple[dict[str, Any], dict[str, Any]] | None] = VersionedCache(AUTH)


def _columns(row: Any) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in inspect(type(row)).column_attrs}


def _attached(session: Session, rows: tuple[dict[str, Any], dict[str, Any]]) -> ApiToken:
    """A token and its user as persistent objects of ``session``, built from cached columns
    without a query (``merge(load=False)``); the user is the token's ``user``."""
    token_columns, user_columns = rows
    user, token = User(**user_columns), ApiToken(**token_columns)
    make_transient_to_detached(user)
    make_transient_to_detached(token)
    attached = session.merge(token, load=False)
    set_committed_value(attached, "user", session.merge(user, load=False))  # no lazy load
    return attached


class AuthService:
    def __init__(
        self,
        session: Session,
        policy: LoginPolicy,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.session = session
        self.policy = policy
        self.clock = clock
        self.logins = PasswordLogin(session, User, LoginAttempt, policy, clock)

    # -- login and tokens ------------------------------------------------------------------

    def login(self, username: str, password: str, address: str = "") -> IssuedToken:
        """Check a password from the client ``address`` and issue a token: the one login of
        node and hub (schemas/runtime/login.py), throttled per address and per account, never
        locking the account for everyone; user administrators also hear of every other
        account's failed logins."""
        user, failures = self.logins.check(
            username, password, address,
            sees_everyone=lambda u: allows(u.role, Permission.USERS_MANAGE))
        notice = LoginNotice(
            own=failures.own,
            accounts=tuple(AccountFailures(account, f.count, f.last_at)
                           for account, f in failures.accounts),
            unknown_usernames=failures.unknown_usernames,
        )
        return replace(self._issue(user, self.clock()), notice=notice)

    def _issue(self, user: User, now: dt.datetime) -> IssuedToken:
        token = secrets.token_urlsafe(32)
        expires_at = now + self.policy.token_ttl
        self.session.add(
            ApiToken(user_id=user.id, token_hash=token_digest(token), expires_at=expires_at)
        )
        self.session.flush()
        return IssuedToken(token=token, expires_at=expires_at, user=user)

    def authenticate(self, token: str) -> tuple[User, ApiToken]:
        """The user a bearer token belongs to, if it is live.

        The token's and its user's rows come from this process's cache while the ``auth``
        counter has not moved (node/caches.py: any change to a user or a token moves it), as
        fresh objects of this session, so that a change made through them is written as
        ever; expiry is checked against the clock on every request."""
        digest = token_digest(token)
        found = TOKENS.get(self.session, digest, lambda: self._token_rows(digest))
        row = _attached(self.session, found) if found is not None else None
        now = self.clock()
        if row is None or row.revoked_at is not None:
            raise Unauthorized(_("The token is not valid or has been revoked."))
        if row.expires_at <= now:
            raise Unauthorized(_("The token has expired; log in again."))
        if not row.user.active:
            raise Unauthorized(_("The account is disabled."))
        return row.user, row

    def _token_rows(self, digest: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        row = self.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == digest)
            .options(joinedload(ApiToken.user))
        )
        if row is None:
            return None
        return _columns(row), _columns(row.user)

    def logout(self, token_row: ApiToken) -> None:
        token_row.revoked_at = self.clock()
        self.session.flush()

    def revoke_all(self, user: User) -> int:
        result = self.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=self.clock())
        )
        bump(self.session, AUTH)  # a statement, not an ORM change: the hook does not see it
        return int(result.rowcount)  # type: ignore[attr-defined]

    @staticmethod
    def require(user: User, permission: Permission) -> None:
        if not allows(user.role, permission):
            raise Forbidden(
                _("Role %(repr)s may not do this (%(value)s).",
                  repr=name_of(ROLE_NAMES, user.role), value=name_of(PERMISSION_NAMES, permission)),
                {"permission": permission.value, "role": user.role.value},
            )

    # -- user administration ---------------------------------------------------------------

    def list_users(self) -> Sequence[User]:
        return self.session.scalars(select(User).order_by(User.username)).all()

    def user(self, username: str) -> User:
        user = self.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(_("No user %(repr)s.", repr=repr(username)), {"username": username})
        return user

    def create_user(self, new: NewUser, *, password_hash: str | None = None) -> User:
        """A new account. ``password_hash``: ``new.password``'s hash made before by the caller
        (``hash_password``), stored as it is: ``tongban demo`` hashes each of its logins once
        for all its centers instead of once a center (0.2 s of CPU each)."""
        if self.session.scalar(select(User.id).where(User.username == new.username)):
            raise Conflict(
                _("User %(repr)s already exists.",
                  repr=repr(new.username)), {"field": "username"}
            )
        problems = check_password_strength(new.password)
        if problems:
            raise ValidationFailed({"password": problems})
        user = User(
            username=new.username,
            display_name=new.display_name or new.username,
            role=Role(new.role),
            password_hash=password_hash or hash_password(new.password),
            active=True,
        )
        self._apply(user, new.given())
        self.session.add(user)
        self.session.flush()
        return user

    def update_user(self, actor: User, username: str, update: UserChanges) -> User:
        user = self.user(username)
        changes = update.given()
        if user.id == actor.id and (
            changes.get("active") is False
            or ("role" in changes and changes["role"] != actor.role)
        ):
            raise Conflict(_("You cannot disable your own account or change your own role."))
        if "password" in changes:
            problems = check_password_strength(changes["password"])
            if problems:
                raise ValidationFailed({"password": problems})
            user.password_hash = hash_password(changes["password"])
            self.revoke_all(user)
        for field in ("display_name", "role", "active"):
            if field in changes:
                setattr(user, field, changes[field])
        self._apply(user, changes)
        if changes.get("active") is False:
            self.revoke_all(user)
        self.session.flush()
        return user

    def _apply(self, user: User, data: Mapping[str, Any]) -> None:
        if "department_code" in data:
            code = data["department_code"]
            user.department = (
                self.session.scalar(select(Department).where(Department.code == code))
                if code else None
            )
            if code and user.department is None:
                raise ValidationFailed({"department_code": [_("no department %(repr)s",
                                                              repr=repr(code))]})
        if "staff_code" in data:
            code = data["staff_code"]
            user.staff_member = (
                self.session.scalar(select(StaffMember).where(StaffMember.code == code))
                if code else None
            )
            if code and user.staff_member is None:
                raise ValidationFailed({"staff_code": [_("no staff member %(repr)s",
                                                         repr=repr(code))]})
        if Role(user.role) in ROLES_WITH_DEPARTMENT and user.department is None:
            raise ValidationFailed(
                {"department_code": [_("a %(role)s must belong to a department",
                                       role=name_of(ROLE_NAMES, user.role))]}
            )
