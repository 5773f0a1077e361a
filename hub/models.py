"""The hub's declarative base and its registry of nodes (filled from certificates)."""

from __future__ import annotations

from sqlalchemy import Enum, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.divisions import CountyKind, Level
from schemas.runtime.database import Timestamp, new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


def _by_value(enum_cls: type) -> Enum:
    return Enum(
        enum_cls,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        length=32,
    )


class RegisteredNode(Base):
    """A center known to the hub, placed in the administrative tree."""

    __tablename__ = "nodes"

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[Level] = mapped_column(_by_value(Level))
    kind: Mapped[CountyKind | None] = mapped_column(_by_value(CountyKind))
    parent_code: Mapped[str | None] = mapped_column(String(9), index=True)
    registered_at: Mapped[Timestamp] = mapped_column(default=utcnow)


def load_all_models() -> None:
    """Import every module declaring hub models, so that ``Base.metadata`` is complete."""
    import hub.rankings.models
    import hub.registry.models
    import hub.relay.models
    import hub.staff.models  # noqa: F401
