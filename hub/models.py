"""The hub's declarative base and its registry of nodes (filled from certificates)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.divisions import CountyKind, Level
from schemas.runtime.database import Timestamp, enum_column, new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


class RegisteredNode(Base):
    """A center known to the hub, placed in the administrative tree."""

    __tablename__ = "nodes"

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[Level] = mapped_column(enum_column(Level))
    kind: Mapped[CountyKind | None] = mapped_column(enum_column(CountyKind))
    parent_code: Mapped[str | None] = mapped_column(String(9), index=True)
    registered_at: Mapped[Timestamp] = mapped_column(default=utcnow)
