"""The node's declarative base; every feature's models register on its metadata."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum
from sqlalchemy.orm import DeclarativeBase

from schemas.runtime.database import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


def enum_column(enum_cls: type[enum.Enum], **kwargs: Any) -> Enum:
    """An Enum stored by its value in a VARCHAR (portable across SQLite and PostgreSQL)."""
    return Enum(
        enum_cls,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        length=32,
        validate_strings=True,
        **kwargs,
    )


def load_all_models() -> None:
    """Import every feature's models so that ``Base.metadata`` is complete."""
    from node.audit import models as _audit  # noqa: F401
    from node.auth import models as _auth  # noqa: F401
    from node.caches import watch_node_models  # cache_versions (and what bumps its counters)
    from node.calendar import models as _calendar  # noqa: F401
    from node.cases import models as _cases  # noqa: F401
    from node.catalog import models as _catalog  # noqa: F401
    from node.directives import models as _directives  # noqa: F401
    from node.feedback import models as _feedback  # noqa: F401
    from node.metrics import models as _metrics  # noqa: F401
    from node.rankings import models as _rankings  # noqa: F401
    from node.sync import models as _sync  # noqa: F401

    watch_node_models()
