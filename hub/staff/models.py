"""Hub staff accounts and their bearer tokens."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models import Base
from schemas.runtime.database import Timestamp, UTCDateTime, enum_column, utcnow
from schemas.runtime.throttle import LoginAttemptColumns


class StaffRole(enum.StrEnum):
    """``viewer`` reads figures and rankings of its scope; ``admin`` also saves methodologies."""

    VIEWER = "viewer"
    ADMIN = "admin"


class StaffAccount(Base):
    """A person at the hub, bound to one scope (a division code: that node and its subtree)."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole))
    scope_code: Mapped[str] = mapped_column(String(9))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LoginAttempt(LoginAttemptColumns, Base):
    """A staff login whose password was checked (schemas/runtime/throttle.py, as on the node)."""


class StaffToken(Base):
    """A bearer token of a staff account; only its SHA-256 is stored."""

    __tablename__ = "staff_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    expires_at: Mapped[Timestamp]
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[StaffAccount] = relationship()
