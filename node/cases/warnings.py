"""Electronic supervision (电子监察): a case's warning colour, computed when asked.

Green while time is ample, yellow as the deadline nears (at most N working days left, or at
least P % of the promised working days used — both configurable), red once overdue.  The
colour is derived from the deadline and the calendar on every read, never stored, so it is
never stale.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from node.calendar.workdays import Suspension, WorkingCalendar
from node.cases.states import CLOCK_STATES

if TYPE_CHECKING:
    from node.cases.models import Case


class Warning(enum.StrEnum):  # the domain's word (预警); shadows the builtin on purpose
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True)
class WarningPolicy:
    yellow_days_left: int = 1
    yellow_used_percent: int = 80


def colour(days_left: int, promised_days: int, policy: WarningPolicy) -> Warning:
    """The colour for ``days_left`` working days left of ``promised_days`` promised."""
    if days_left < 0:
        return Warning.RED
    if days_left <= policy.yellow_days_left:
        return Warning.YELLOW
    used = promised_days - days_left
    if promised_days > 0 and used * 100 >= policy.yellow_used_percent * promised_days:
        return Warning.YELLOW
    return Warning.GREEN


def warning_for(
    case: Case,
    calendar: WorkingCalendar,
    today: dt.date,
    policy: WarningPolicy,
    stops: Sequence[Suspension],
) -> Warning | None:
    """The case's colour today; ``None`` for cases whose clock is not running."""
    if case.state not in CLOCK_STATES or case.accepted_on is None:
        return None
    deadline_on = calendar.deadline(case.accepted_on, case.counted_days, stops, today=today)
    return colour(calendar.working_days_left(deadline_on, today), case.counted_days, policy)
