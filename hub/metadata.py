"""Every feature's models on the hub's metadata.

Above every feature (it imports them all) and below the composition root and the migrations,
which call :func:`load_all_models` before they touch the schema.  hub/models.py, which every
feature's models import for the declarative base, imports none of them.
"""

from __future__ import annotations

from hub.audits import models as _audits  # noqa: F401
from hub.models import Base
from hub.rankings import models as _rankings  # noqa: F401
from hub.registry import models as _registry  # noqa: F401
from hub.relay import models as _relay  # noqa: F401
from hub.staff import models as _staff  # noqa: F401


def load_all_models() -> type[Base]:
    """Every feature's models registered on ``Base.metadata`` (importing this module did
    it); returns ``Base``."""
    return Base


__all__ = ["load_all_models"]
