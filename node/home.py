"""What each role's home page (首页) shows and what the navigation's badge counts: plain
Python over the features' tables (no Flask), read by node/web/home.py.

- **awaiting** (the badge): incoming directives not answered done (who may answer them:
  ``supervision.manage``), complaints to resolve here (the same; one sent to the center that
  handled its case is resolved there) and cases forwarded in from below still open here, among
  the cases the user sees (node/cases/scopes.py: a clerk their department's and their own).
- **clerk**: their own open cases by warning colour (counted, not loaded: see
  :func:`by_colour`), online applications no clerk has taken
  for 预审, cases from below open here, and their cases whose result came back from above.
- **approver**: the department's running cases by warning colour.
- **supervisor**: received and completed today, this month, last month and the same month last
  year; the yellow and red cases; complaints and rectifications open and overdue.
- **admin**: the years without national holiday data, the sync's backlog and dead letters,
  disabled accounts and accounts with failed logins in the last day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from node.auth.models import User
from node.auth.permissions import Permission, allows
from node.cases.models import Case, Channel
from node.cases.reading import CaseReader
from node.cases.states import CaseState
from node.cases.warnings import (
    Colours,
    Warning,
    WarningBounds,
    colour_counts,
    furthest_deadline,
)
from node.directives.models import Directive, DirectiveDirection, DirectiveState
from node.feedback.models import OPEN_RECTIFICATION_STATES, Complaint, ComplaintState, Rectification
from schemas.i18n import _

# a case from below still to be decided here (it arrives accepted)
OPEN_HERE = (CaseState.ACCEPTED, CaseState.IN_REVIEW, CaseState.SUSPENDED)
# a case sent up whose decision came back: the origin completes and delivers it
RESULT_BACK = (CaseState.APPROVED, CaseState.DENIED)
UNANSWERED = (DirectiveState.RECEIVED, DirectiveState.ACKNOWLEDGED, DirectiveState.IN_PROGRESS)
COLOURS = (Warning.GREEN, Warning.YELLOW, Warning.RED)


def _count(session: Session, *conditions: ColumnElement[bool] | None,
           entity: type = Case) -> int:
    wanted = [c for c in conditions if c is not None]
    return int(session.scalar(select(func.count()).select_from(entity).where(*wanted)) or 0)


@dataclass(frozen=True)
class Awaiting:
    """What waits for the user: the badge's parts (0 where the role has nothing to do)."""

    directives: int = 0
    forwarded_in: int = 0
    complaints: int = 0

    @property
    def total(self) -> int:
        return self.directives + self.forwarded_in + self.complaints


def awaiting(session: Session, user: User, scope: ColumnElement[bool] | None) -> Awaiting:
    """The badge of ``user``; ``scope`` is the cases they see (None: all)."""
    manages = allows(user.role, Permission.SUPERVISION_MANAGE)
    handles = allows(user.role, Permission.CASES_HANDLE) or allows(user.role,
                                                                    Permission.CASES_DECIDE)
    return Awaiting(
        directives=_count(session, Directive.direction == DirectiveDirection.INCOMING,
                          Directive.state.in_(UNANSWERED), entity=Directive) if manages else 0,
        forwarded_in=_count(session, Case.received_from.is_not(None),
                            Case.state.in_(OPEN_HERE), scope)
        if handles or manages else 0,
        complaints=_count(session, Complaint.state == ComplaintState.RECEIVED,
                          Complaint.sent_to.is_(None), entity=Complaint) if manages else 0,
    )


def by_colour(reader: CaseReader, *conditions: ColumnElement[bool]) -> dict[str, int]:
    """The open cases matching ``conditions`` counted by warning colour, as the lists colour
    them: the running ones counted in SQL from the day's deadline bounds, the suspended ones
    (few) coloured in Python (node/cases/warnings.py colour_counts).  No case is loaded: a
    department of a large center holds thousands of running cases."""
    session = reader.session
    today = reader.today()
    bounds = WarningBounds(reader.calendar, today, reader.warning_policy,
                           furthest_deadline(session))
    found = colour_counts(session, bounds, Colours(reader.calendar, today,
                                                   reader.warning_policy), conditions)
    return {c.value: found[c] for c in COLOURS}


@dataclass(frozen=True)
class ClerkHome:
    mine: dict[str, int]
    online_waiting: int
    from_below: int
    results_back: int


def clerk_home(reader: CaseReader, user: User, scope: ColumnElement[bool] | None) -> ClerkHome:
    session = reader.session
    return ClerkHome(
        mine=by_colour(reader, Case.owner_id == user.id),
        online_waiting=_count(session, Case.channel == Channel.ONLINE,
                              Case.state == CaseState.SUBMITTED, Case.owner_id.is_(None)),
        from_below=_count(session, Case.received_from.is_not(None), Case.state.in_(OPEN_HERE),
                          scope),
        results_back=_count(session, Case.forwarded_to.is_not(None),
                            Case.state.in_(RESULT_BACK), scope),
    )


def department_home(reader: CaseReader, user: User) -> dict[str, int]:
    """The approver's department queue by colour (no department: nothing)."""
    if user.department_id is None:
        return dict.fromkeys((c.value for c in COLOURS), 0)
    return by_colour(reader, Case.department_id == user.department_id)


@dataclass(frozen=True)
class Figures:
    """Received and completed cases in a span of days."""

    label: str
    received: int
    completed: int


@dataclass(frozen=True)
class SupervisorHome:
    figures: list[Figures]
    yellow: int
    red: int
    warnings_exact: bool
    complaints_open: int
    complaints_overdue: int
    rectifications_open: int
    rectifications_overdue: int


def month_start(day: dt.date, back: int = 0) -> dt.date:
    """The first day of the month ``back`` months before ``day``'s."""
    months = day.year * 12 + day.month - 1 - back
    return dt.date(months // 12, months % 12 + 1, 1)


def spans(today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """Today, this month (to today), last month and the same month last year."""
    this_month = month_start(today)
    last_month = month_start(today, 1)
    a_year_ago = month_start(today, 12)
    return [
        (_("今日"), today, today),
        (_("本月"), this_month, today),
        (_("上月"), last_month, this_month - dt.timedelta(days=1)),
        (_("去年同月"), a_year_ago, month_start(today, 11) - dt.timedelta(days=1)),
    ]


def supervisor_home(reader: CaseReader, today: dt.date) -> SupervisorHome:
    session = reader.session
    figures = [
        Figures(label,
                _count(session, Case.received_on >= start, Case.received_on <= end),
                _count(session, Case.completed_on >= start, Case.completed_on <= end))
        for label, start, end in spans(today)
    ]
    yellow = reader.search(warnings=[Warning.YELLOW], per_page=1)
    red = reader.search(warnings=[Warning.RED], per_page=1)
    complaint_open = (Complaint.state == ComplaintState.RECEIVED, Complaint.sent_to.is_(None))
    rectification_open = Rectification.state.in_(OPEN_RECTIFICATION_STATES)
    return SupervisorHome(
        figures=figures, yellow=yellow.total, red=red.total,
        warnings_exact=yellow.total_exact and red.total_exact,
        complaints_open=_count(session, *complaint_open, entity=Complaint),
        complaints_overdue=_count(session, *complaint_open, Complaint.due_on < today,
                                  entity=Complaint),
        rectifications_open=_count(session, rectification_open, entity=Rectification),
        rectifications_overdue=_count(session, rectification_open,
                                      Rectification.due_on < today, entity=Rectification),
    )


@dataclass(frozen=True)
class AdminHome:
    missing_years: list[int]
    sync: dict[str, object]
    disabled_users: int
    failed_logins: list[tuple[str, int]] = field(default_factory=list)


__all__ = ["AdminHome", "Awaiting", "ClerkHome", "Figures", "SupervisorHome", "awaiting",
           "by_colour", "clerk_home", "department_home", "month_start", "spans",
           "supervisor_home"]
