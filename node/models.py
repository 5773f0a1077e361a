"""The node's declarative base; every feature's models register on its metadata."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from schemas.runtime.database import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


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
