"""Passwords, logins, bearer tokens and user administration (no Flask)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from node.auth.models import ApiToken, User
from node.auth.permissions import ROLES_WITH_DEPARTMENT, Permission, Role, allows
from node.catalog.models import Department, StaffMember
from schemas.database import utcnow
from schemas.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyAttempts,
    Unauthorized,
    ValidationFailed,
)

# Argon2id hashing, the strength rule and token digests are shared with the hub's staff
# accounts (hash_password and token_digest are also imported from here by callers)
from schemas.passwords import (
    check_password_strength,
    dummy_hash,
    hash_password,
    needs_rehash,
    token_digest,
    verify_password,
)

__all__ = ["AuthPolicy", "AuthService", "IssuedToken", "check_password_strength",
           "hash_password", "token_digest"]


@dataclass(frozen=True)
class AuthPolicy:
    token_ttl: dt.timedelta
    max_failed_logins: int
    lockout: dt.timedelta


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    user: User


class AuthService:
    def __init__(
        self,
        session: Session,
        policy: AuthPolicy,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.session = session
        self.policy = policy
        self.clock = clock

    # -- login and tokens ------------------------------------------------------------------

    def login(self, username: str, password: str) -> IssuedToken:
        """Check a password and issue a token; repeated failures lock the account for a while."""
        now = self.clock()
        user = self.session.scalar(select(User).where(User.username == username))
        if user is None:
            _verify(dummy_hash(), password)  # same work as for a real account
            raise Unauthorized("Wrong username or password.")
        if user.locked_until is not None and user.locked_until > now:
            seconds = int((user.locked_until - now).total_seconds()) + 1
            raise TooManyAttempts(
                "Too many failed logins; the account is locked for a while.", seconds
            )
        if not _verify(user.password_hash, password) or not user.active:
            user.failed_logins += 1
            if user.failed_logins >= self.policy.max_failed_logins:
                user.locked_until = now + self.policy.lockout
                user.failed_logins = 0
            self.session.flush()
            raise Unauthorized("Wrong username or password.")
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return self._issue(user, now)

    def _issue(self, user: User, now: dt.datetime) -> IssuedToken:
        token = secrets.token_urlsafe(32)
        expires_at = now + self.policy.token_ttl
        self.session.add(
            ApiToken(user_id=user.id, token_hash=token_digest(token), expires_at=expires_at)
        )
        self.session.flush()
        return IssuedToken(token=token, expires_at=expires_at, user=user)

    def authenticate(self, token: str) -> tuple[User, ApiToken]:
        """The user a bearer token belongs to, if it is live."""
        row = self.session.scalar(
            select(ApiToken)
            .where(ApiToken.token_hash == token_digest(token))
            .options(joinedload(ApiToken.user))
        )
        now = self.clock()
        if row is None or row.revoked_at is not None:
            raise Unauthorized("The token is not valid or has been revoked.")
        if row.expires_at <= now:
            raise Unauthorized("The token has expired; log in again.")
        if not row.user.active:
            raise Unauthorized("The account is disabled.")
        return row.user, row

    def logout(self, token_row: ApiToken) -> None:
        token_row.revoked_at = self.clock()
        self.session.flush()

    def revoke_all(self, user: User) -> int:
        result = self.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=self.clock())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    @staticmethod
    def require(user: User, permission: Permission) -> None:
        if not allows(user.role, permission):
            raise Forbidden(
                f"Role {user.role.value!r} may not do this ({permission.value}).",
                {"permission": permission.value, "role": user.role.value},
            )

    # -- user administration ---------------------------------------------------------------

    def list_users(self) -> Sequence[User]:
        return self.session.scalars(select(User).order_by(User.username)).all()

    def user(self, username: str) -> User:
        user = self.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"No user {username!r}.", {"username": username})
        return user

    def create_user(self, data: Mapping[str, Any]) -> User:
        if self.session.scalar(select(User.id).where(User.username == data["username"])):
            raise Conflict(
                f"User {data['username']!r} already exists.", {"field": "username"}
            )
        problems = check_password_strength(data["password"])
        if problems:
            raise ValidationFailed({"password": problems})
        user = User(
            username=data["username"],
            display_name=data.get("display_name") or data["username"],
            role=Role(data["role"]),
            password_hash=hash_password(data["password"]),
            active=True,
            failed_logins=0,
        )
        self._apply(user, data)
        self.session.add(user)
        self.session.flush()
        return user

    def update_user(self, actor: User, username: str, changes: Mapping[str, Any]) -> User:
        user = self.user(username)
        if user.id == actor.id and (
            changes.get("active") is False
            or ("role" in changes and changes["role"] != actor.role)
        ):
            raise Conflict("You cannot disable your own account or change your own role.")
        if "password" in changes:
            problems = check_password_strength(changes["password"])
            if problems:
                raise ValidationFailed({"password": problems})
            user.password_hash = hash_password(changes["password"])
            user.failed_logins = 0
            user.locked_until = None
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
                raise ValidationFailed({"department_code": [f"no department {code!r}"]})
        if "staff_code" in data:
            code = data["staff_code"]
            user.staff_member = (
                self.session.scalar(select(StaffMember).where(StaffMember.code == code))
                if code else None
            )
            if code and user.staff_member is None:
                raise ValidationFailed({"staff_code": [f"no staff member {code!r}"]})
        if Role(user.role) in ROLES_WITH_DEPARTMENT and user.department is None:
            raise ValidationFailed(
                {"department_code": [f"a {Role(user.role).value} must belong to a department"]}
            )


def _verify(password_hash: str, password: str) -> bool:
    return verify_password(password_hash, password)
