"""Every feature's models on the node's metadata, and what bumps which cache counter.

Above every feature (it imports them all) and below the composition roots and the migrations,
which call :func:`load_all_models` before they touch the schema.
"""

from __future__ import annotations

from node.audit import models as _audit  # noqa: F401
from node.auth.models import ApiToken, User
from node.bundles import models as _bundles  # noqa: F401
from node.caches import AUTH, CALENDAR, CATALOG, watch
from node.calendar.models import CalendarOverride, CalendarSchedule, CalendarScheduleDay
from node.cases import models as _cases  # noqa: F401
from node.catalog.models import Department, Matter, MatterMaterial, Window
from node.directives import models as _directives  # noqa: F401
from node.feedback import models as _feedback  # noqa: F401
from node.metrics import models as _metrics  # noqa: F401
from node.models import Base
from node.numbers import NumberSequence  # noqa: F401
from node.rankings import models as _rankings  # noqa: F401
from node.rollups import DailyRollup  # noqa: F401
from node.sync import models as _sync  # noqa: F401
from node.verification import models as _verification  # noqa: F401


def load_all_models() -> type[Base]:
    """Every feature's models registered on ``Base.metadata`` (importing this module did
    it), with the per-process caches told which changes bump which counter; returns
    ``Base``."""
    watch(User, AUTH, new_too=False)
    watch(ApiToken, AUTH, new_too=False)
    for calendar_model in (CalendarOverride, CalendarSchedule, CalendarScheduleDay):
        watch(calendar_model, CALENDAR, new_too=True)
    for catalog_model in (Matter, MatterMaterial, Department, Window):
        watch(catalog_model, CATALOG, new_too=False)  # an unknown code is never kept
    return Base


__all__ = ["load_all_models"]
