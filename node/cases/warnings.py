"""Electronic supervision (电子监察): a case's warning colour, computed when asked.

Green while time is ample, yellow as the deadline nears (at most N working days left, or at
least P % of the promised working days used — both configurable), red once overdue.  A
same-day matter (即办件: no working days counted) has no time to warn ahead of: it is green
until the end of its due day (the acceptance day, or the next working day when accepted on a
closed day) and red from the day after, never yellow.  The
colour is derived from the deadline and the calendar on every read, never stored, so it is
never stale.

Lists filter by colour in SQL (:class:`WarningBounds`): for a case whose clock runs without an
open suspension, the stored ``deadline_on`` is the deadline, and the colour rule turns into
date bounds computed once per request from today and the working calendar — red is
``deadline_on < today``, "at most k working days left" is ``deadline_on < b(k)`` with b(k) the
(k+1)-th working day after today, and "P % used" compares the working days left (a ``CASE``
over those bounds) with the case's counted days.  A suspended case's deadline moves every day
the suspension lasts, so its colour is computed here in Python from a compact read of the
suspended cases and their suspensions (few: the clock is stopped on a small share of cases).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import InternalTraversal

from node.calendar.workdays import ONE_DAY, Suspension, WorkingCalendar
from node.cases.models import Case
from node.cases.models import Suspension as Stop
from node.cases.states import CLOCK_STATES, CaseState


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
    if promised_days == 0:  # 即办件: green through its due day
        return Warning.GREEN
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
    return warning_of(case.state, case.accepted_on, case.counted_days, calendar, today,
                      policy, stops)


def warning_of(
    state: CaseState,
    accepted_on: dt.date | None,
    counted_days: int,
    calendar: WorkingCalendar,
    today: dt.date,
    policy: WarningPolicy,
    stops: Sequence[Suspension],
) -> Warning | None:
    """The colour from the parts of a case it depends on (see :func:`warning_for`)."""
    if state not in CLOCK_STATES or accepted_on is None:
        return None
    deadline_on = calendar.deadline(accepted_on, counted_days, stops, today=today)
    return colour(calendar.working_days_left(deadline_on, today), counted_days, policy)


# -- colours in SQL ---------------------------------------------------------------------------

# the clock runs and no suspension is open: the stored deadline is the deadline
RUNNING_STATES = (CaseState.ACCEPTED, CaseState.IN_REVIEW)
# the level given to a deadline beyond the furthest one seen when the bounds were made (only a
# case accepted in the same instant can have one): too many days left to be yellow by share
BEYOND = 1_000_000


class WarningBounds:
    """The colour rule as date bounds for one day (``today``), for SQL filters.

    Built once per request.  ``furthest`` is the latest stored deadline of a running case
    (:func:`furthest_deadline`): the "P % used" test needs the working days left of every
    deadline up to it, one ``CASE`` branch per working day.
    """

    def __init__(
        self,
        calendar: WorkingCalendar,
        today: dt.date,
        policy: WarningPolicy,
        furthest: dt.date | None,
    ) -> None:
        self.calendar, self.today, self.policy = calendar, today, policy
        levels = calendar.working_days_left(furthest, today) if furthest else 0
        # bounds[k] = b(k): the first date with more than k working days left
        self.bounds: list[dt.date] = []
        day = today
        for _ in range(max(levels, policy.yellow_days_left, 0) + 1):
            day += ONE_DAY
            while not calendar.is_working_day(day):
                day += ONE_DAY
            self.bounds.append(day)

    def _days_left_at_most(self, deadline: ColumnElement[Any], k: int) -> ColumnElement[bool]:
        """``deadline`` (not before today) has at most ``k`` working days left."""
        if k < 0:
            return false()
        return deadline < self.bounds[k]

    def _used_enough(self, deadline: ColumnElement[Any], counted: ColumnElement[Any]
                     ) -> ColumnElement[bool]:
        """At least P % of the counted days used, for a deadline not before today:
        ``100 × days_left <= counted × (100 − P)`` with counted > 0."""
        spare = 100 - self.policy.yellow_used_percent
        first = max(self.policy.yellow_days_left + 1, 0)
        if first >= len(self.bounds):
            return false()
        # the working days left of deadlines from b(first - 1) on
        days_left = case(
            *((deadline < self.bounds[k], literal(k)) for k in range(first, len(self.bounds))),
            else_=literal(BEYOND),
        )
        level = and_(counted > 0, 100 * days_left <= counted * spare)
        if self.policy.yellow_days_left >= 0:
            level = and_(deadline >= self.bounds[self.policy.yellow_days_left], level)
        return level

    def span(self, wanted: Iterable[Warning]) -> tuple[dt.date | None, dt.date | None]:
        """The deadlines the ``wanted`` colours can have, as [low, high): one index range.

        Red is before today; yellow from today up to the last bound (no stored deadline lies
        beyond it when the bounds were made); green from today on.
        """
        wanted = set(wanted)
        low = None if Warning.RED in wanted else self.today
        high = None if Warning.GREEN in wanted else (
            self.bounds[-1] if Warning.YELLOW in wanted else self.today)
        return low, high

    def condition(self, wanted: Iterable[Warning], deadline: Any, counted: Any
                  ) -> ColumnElement[bool]:
        """SQL true for a running case whose colour is one of ``wanted``."""
        red = deadline < self.today
        # a same-day case (counted 0) is never yellow
        soon = and_(counted > 0, self._days_left_at_most(deadline,
                                                         self.policy.yellow_days_left))
        yellow = and_(deadline >= self.today,
                      or_(soon, self._used_enough(deadline, counted)))
        terms: list[ColumnElement[bool]] = []
        wanted = set(wanted)
        if Warning.RED in wanted:
            terms.append(red)
        if Warning.YELLOW in wanted:
            terms.append(yellow)
        if Warning.GREEN in wanted:
            terms.append(and_(deadline >= self.today, ~or_(soon, self._used_enough(
                deadline, counted))))
        if not terms:
            return false()
        return or_(*terms) if len(terms) > 1 else terms[0]


def furthest_deadline(session: Session) -> dt.date | None:
    """The latest stored deadline of a running case (one probe of ``ix_cases_state_deadline_id``
    per state)."""
    found = [session.scalar(select(func.max(Case.deadline_on)).where(Case.state == state))
             for state in RUNNING_STATES]
    dates = [d for d in found if d is not None]
    return max(dates) if dates else None


class NotForIndex(ColumnElement[Any]):
    """A column the planner should not pick an index for: ``+column`` on SQLite (its
    documented way), the column itself elsewhere (PostgreSQL weighs the LIMIT by itself)."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, column: Any) -> None:
        self.column = column
        self.type = column.type


@compiles(NotForIndex)
def _plain_column(element: NotForIndex, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(NotForIndex, "sqlite")
def _unary_plus(element: NotForIndex, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.column, **kw))


def running_condition(bounds: WarningBounds, wanted: Iterable[Warning], *,
                      by_deadline: bool = True) -> ColumnElement[bool]:
    """Running cases (no open suspension) of the ``wanted`` colours, all in SQL.

    ``by_deadline`` false: the list is read in another order (newest first), so the deadline
    bounds are kept off the index — SQLite would otherwise read every red case by deadline and
    sort them all, when the (state, received_on) index finds a page of them in a few rows.
    """
    counted = Case.promised_days + func.coalesce(Case.extension_days, 0)
    # one range of deadlines on the index (when the list is read by deadline), the colours'
    # finer conditions off it: an OR of ranges would make SQLite read them all and sort
    ranged = Case.deadline_on if by_deadline else NotForIndex(Case.deadline_on)
    low, high = bounds.span(wanted)
    span = [*([ranged >= low] if low else []), *([ranged < high] if high else [])]
    return and_(Case.state.in_(RUNNING_STATES), Case.accepted_on.is_not(None),
                Case.deadline_on.is_not(None), *span,
                bounds.condition(wanted, NotForIndex(Case.deadline_on), counted))


class Colours:
    """The colours of many cases at once (a list's rows, the suspended cases), equal to
    :func:`warning_of`.

    ``D0``, the deadline over the closed suspensions only, is computed once per distinct
    (acceptance, counted days, closed suspensions).  Without an open suspension it is the
    deadline.  With one from ``s`` (nothing suspended after it): if ``D0`` falls before ``s``
    (or the suspension starts after today) the open one moves nothing; otherwise the ``R``
    working days of ``[s, D0]`` still to count restart today, so *left* = ``R`` − (1 if today
    is a working day).  Working days are counted from a table of running totals.  Any other
    shape (two open suspensions, a closed one after the open one) takes :func:`warning_of`.
    """

    def __init__(self, calendar: WorkingCalendar, today: dt.date, policy: WarningPolicy
                 ) -> None:
        self.calendar, self.today, self.policy = calendar, today, policy
        self.base = today
        self.totals: list[int] = [0]  # totals[i]: working days in [base, base + i)
        self.plain: dict[tuple[Any, ...], dt.date] = {}

    def _ordinal(self, day: dt.date) -> int:
        """Working days in [base, day), negative before base; the table grows as needed."""
        if day < self.base:
            extra = (self.base - day).days
            start = day
            head = [0]
            for i in range(extra):
                head.append(head[-1] + self.calendar.is_working_day(start + ONE_DAY * i))
            shift = head[-1]
            self.totals = head[:-1] + [t + shift for t in self.totals]
            self.base = day
        index = (day - self.base).days
        while len(self.totals) <= index:
            last = self.base + ONE_DAY * (len(self.totals) - 1)
            self.totals.append(self.totals[-1] + self.calendar.is_working_day(last))
        return self.totals[index]

    def _between(self, start: dt.date, end: dt.date) -> int:
        """Working days ``d`` with ``start <= d < end``."""
        if end <= start:
            return 0
        first = self._ordinal(start)  # first: reaching back before the table shifts it
        return self._ordinal(end) - first

    def _left(self, deadline: dt.date) -> int:
        """As :meth:`WorkingCalendar.working_days_left`."""
        if self.today <= deadline:
            return self._between(self.today + ONE_DAY, deadline + ONE_DAY)
        return -max(1, self._between(deadline + ONE_DAY, self.today + ONE_DAY))

    def _plain(self, accepted_on: dt.date, counted: int, closed: Sequence[Suspension]
               ) -> dt.date:
        key = (accepted_on, counted, *((s.start, s.end) for s in closed))
        plain = self.plain.get(key)
        if plain is None:
            # without a suspension, explain() walks the same days as add_working_days()
            plain = self.plain[key] = (
                self.calendar.deadline(accepted_on, counted, closed, today=self.today)
                if closed else self.calendar.add_working_days(accepted_on, counted))
        return plain

    def of_case(self, case: Case) -> Warning | None:
        if case.state not in CLOCK_STATES or case.accepted_on is None:
            return None  # no colour, and no reason to read its suspensions
        return self.colour(case.state, case.accepted_on, case.counted_days,
                           [Suspension(s.start_on, s.end_on, s.kind.value)
                            for s in case.suspensions])

    def colour(self, state: CaseState, accepted_on: dt.date | None, counted: int,
               stops: Sequence[Suspension]) -> Warning | None:
        if state not in CLOCK_STATES or accepted_on is None:
            return None
        open_stops = [s for s in stops if s.end is None]
        closed = [s for s in stops if s.end is not None]
        if not open_stops:
            return colour(self._left(self._plain(accepted_on, counted, closed)), counted,
                          self.policy)
        if len(open_stops) != 1 or any(
                s.end is not None and (s.end > open_stops[0].start or s.start > s.end)
                for s in closed):
            return warning_of(state, accepted_on, counted, self.calendar, self.today,
                              self.policy, stops)
        start = open_stops[0].start
        plain = self._plain(accepted_on, counted, closed)
        if plain < start or self.today <= start:
            days_left = self._left(plain)
        else:
            first = accepted_on if counted == 0 else accepted_on + ONE_DAY
            remaining = self._between(max(start, first), plain + ONE_DAY)
            days_left = remaining - self.calendar.is_working_day(self.today)
        return colour(days_left, counted, self.policy)


def running_counts(session: Session, bounds: WarningBounds,
                   conditions: Sequence[ColumnElement[bool]]) -> dict[Warning, int]:
    """The running cases (no open suspension) meeting ``conditions`` counted by colour, in one
    query: the colours' conditions summed over the rows, none of them read into Python."""
    counted = Case.promised_days + func.coalesce(Case.extension_days, 0)

    def tally(wanted: Warning) -> ColumnElement[Any]:
        hit = case((bounds.condition((wanted,), Case.deadline_on, counted), 1), else_=0)
        return func.coalesce(func.sum(hit), 0)

    red, yellow, every = session.execute(
        select(tally(Warning.RED), tally(Warning.YELLOW), func.count())
        .select_from(Case)
        .where(Case.state.in_(RUNNING_STATES), Case.accepted_on.is_not(None),
               Case.deadline_on.is_not(None), *conditions)).one()
    # the three colours' conditions split the running cases: green is the rest
    return {Warning.GREEN: int(every) - int(red) - int(yellow), Warning.YELLOW: int(yellow),
            Warning.RED: int(red)}


def colour_counts(session: Session, bounds: WarningBounds, colours: Colours,
                  conditions: Sequence[ColumnElement[bool]]) -> dict[Warning, int]:
    """The open cases meeting ``conditions`` counted by colour: the running ones in SQL
    (:func:`running_counts`), the suspended ones coloured here (:func:`suspended_colours`);
    equal to counting :func:`warning_of` over every case.  ``bounds`` and ``colours`` are for
    the same day."""
    found = running_counts(session, bounds, conditions)
    # in the order of ix_cases_state_deadline_id: by id alone SQLite scans the whole table
    order = (Case.deadline_on, Case.id)
    with closing(suspended_colours(session, conditions, colours, order, False)) as rows:
        for _, found_colour in rows:
            if found_colour is not None:
                found[found_colour] += 1
    return found


def suspended_colours(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    colours: Colours,
    columns: Sequence[Any],
    descending: bool,
) -> Generator[tuple[int, Warning | None], None, None]:
    """The suspended cases meeting ``conditions`` with their colours, in the order of
    ``columns`` (the last one the id), each coloured as it is read: a reader may stop early.

    Plain rows in batches, joined with their suspensions; one deadline per distinct
    (acceptance, counted days, closed suspensions) (:class:`Colours`).
    """
    ordering = [c.desc() for c in columns] if descending else list(columns)
    query = (
        select(Case.id, Case.accepted_on, Case.promised_days, Case.extension_days,
               Stop.start_on, Stop.end_on, Stop.kind)
        .outerjoin(Stop, Stop.case_id == Case.id)
        .where(Case.state == CaseState.SUSPENDED, *conditions)
        .order_by(*ordering)  # as the index gives them; a case's suspensions in any order
    )
    current: Any = None
    stops: list[Suspension] = []

    def coloured() -> tuple[int, Warning | None]:
        counted = current.promised_days + (current.extension_days or 0)
        return current.id, colours.colour(CaseState.SUSPENDED, current.accepted_on, counted,
                                          stops)

    # streamed in batches (a server-side cursor on PostgreSQL), closed however the reading
    # ends: callers close this generator when they have read enough
    result = session.execute(query.execution_options(yield_per=500))
    try:
        for row in result:
            if current is not None and row.id != current.id:
                yield coloured()
                stops = []
            current = row
            if row.start_on is not None:
                stops.append(Suspension(row.start_on, row.end_on, row.kind.value))
        if current is not None:
            yield coloured()
    finally:
        result.close()


def suspended_in_order(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    wanted: Iterable[Warning],
    colours: Colours,
    columns: Sequence[Any],
    descending: bool,
) -> Generator[int, None, None]:
    """The ids of the suspended cases meeting ``conditions`` whose colour is wanted, in the
    list's order (``columns``), coloured one by one as they are read: a page stops reading
    once it is full (:func:`suspended_colours`)."""
    wanted = set(wanted)
    with closing(suspended_colours(session, conditions, colours, columns, descending)) as rows:
        for case_id, found_colour in rows:
            if found_colour in wanted:
                yield case_id
