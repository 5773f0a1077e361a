"""Reading cases: one case, its colour and deadline, and the keyset-paged search.

:class:`CaseReader` is the base of :class:`~node.cases.service.CaseService`: it holds the
service's collaborators and the queries that change nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, inspect, select, true
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from node.audit.chain import AuditLog
from node.auth.models import User
from node.calendar.workdays import DeadlineExplanation, WorkingCalendar, to_shanghai_date
from node.calendar.workdays import Suspension as ClockStop
from node.cases.models import (
    Case,
    CaseEvent,
    Channel,
    ReviewTask,
    Suspension,
    TaskState,
)
from node.cases.states import (
    CLOCK_STATES,
    Action,
    CaseState,
)
from node.cases.warnings import (
    RUNNING_STATES,
    Colours,
    Warning,
    WarningBounds,
    WarningPolicy,
    furthest_deadline,
    running_condition,
    suspended_in_order,
    warning_for,
)
from node.catalog.models import Department, Matter, Window
from node.listing import COUNT_CAP, Page, Position, capped_count, page_of_rows, position, turn
from schemas.errors import NotFound
from schemas.i18n import _
from schemas.runtime.database import utcnow


class ListOrder(enum.StrEnum):
    NEWEST = "newest"  # the latest received first
    DEADLINE = "deadline"  # the earliest deadline first (supervision)


def search_conditions(
    *,
    number: str | None = None,
    applicant: str | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    handler: str | None = None,
    forwarded: str | None = None,
    accepted_from: dt.date | None = None,
    accepted_to: dt.date | None = None,
    closed_from: dt.date | None = None,
    closed_to: dt.date | None = None,
) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a case search, each one read from an index (migration 0026).

    A number ending in ``*`` is a prefix: a range of the unique index on ``number`` (numbers
    are ASCII, compared bytewise on both engines), plus LIKE so that no collation can widen
    it.  The ID number and the phone match whole values only: a prefix of an ID number would
    let a search list people by birth region and date."""
    found: list[ColumnElement[bool]] = []
    if number:
        if number.endswith("*"):
            prefix = number.rstrip("*")
            upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            found += [Case.number >= prefix, Case.number < upper,
                      Case.number.startswith(prefix, autoescape=True)]
        else:
            found.append(Case.number == number)
    if applicant:
        found.append(Case.applicant_name == applicant.strip())
    if id_number:
        found.append(Case.applicant_id_number == id_number.strip().upper())
    if phone:
        found.append(Case.applicant_phone == phone.strip())
    if handler:
        found.append(Case.id.in_(select(CaseEvent.case_id).where(CaseEvent.actor == handler)))
    if forwarded == "in":
        found.append(Case.received_from.is_not(None))
    elif forwarded == "out":
        found.append(Case.forwarded_to.is_not(None))
    for column, low, high in ((Case.accepted_on, accepted_from, accepted_to),
                              (Case.closed_on, closed_from, closed_to)):
        if low:
            found.append(column >= low)
        if high:
            found.append(column <= high)
    return found


class StepHook(Protocol):
    """Told of every recorded step on a case, after it: the service that took it, the case,
    the action (None for a case arriving from another node), the states before and after and
    the reason.  The composition root hands them to the service (node/composition.py)."""

    def __call__(self, cases: CaseReader, case: Case, action: Action | None,
                 before: CaseState | None, after: CaseState, reason: str | None) -> None: ...


# what a list row shows, joined to the page's query; built once (loader options are
# immutable, and building them costs more than compiling the cached statement)
LIST_LOADS = (joinedload(Case.matter), joinedload(Case.department), joinedload(Case.window),
              joinedload(Case.owner))


class CaseReader:
    """The case service's collaborators and its queries that change nothing."""

    def __init__(
        self,
        session: Session,
        *,
        node_code: str,
        calendar: WorkingCalendar,
        warning_policy: WarningPolicy,
        clock: Callable[[], dt.datetime] = utcnow,
        after_step: Sequence[StepHook] = (),
    ) -> None:
        self.session = session
        self.node_code = node_code
        self.calendar = calendar
        self.warning_policy = warning_policy
        self.clock = clock
        self.audit = AuditLog(session, clock=clock)
        # called after every recorded step (node/cases/forwarding.py tells the node below)
        self.after_step = tuple(after_step)

    def today(self) -> dt.date:
        return to_shanghai_date(self.clock())


    # -- reading ---------------------------------------------------------------------------

    def get(self, case_id: int, *, whole: bool = False) -> Case:
        """The case with its matter, department, window and suspensions (its deadline and
        colour need them: read before a step, not while its audit entry holds the chain's
        head); with ``whole``, its whole file (owner, history, tasks, notices, files, the
        paper received) too, read eagerly, one query each."""
        options = [joinedload(Case.matter), joinedload(Case.department),
                   joinedload(Case.window), selectinload(Case.suspensions)]
        if whole:
            options += [joinedload(Case.owner), selectinload(Case.events),
                        selectinload(Case.tasks).joinedload(ReviewTask.department),
                        selectinload(Case.notices), selectinload(Case.attachments),
                        selectinload(Case.received_materials)]
        case = self.session.get(Case, case_id, options=options)
        if case is None:
            raise NotFound(_("No case %(case_id)s.", case_id=case_id), {"case_id": case_id})
        return case

    def warning(self, case: Case) -> Warning | None:
        return warning_for(
            case, self.calendar, self.today(), self.warning_policy, self._stops(case)
        )

    def colours(self) -> Colours:
        """Colours for many cases at once (a list's rows): equal to :meth:`warning`."""
        return Colours(self.calendar, self.today(), self.warning_policy)

    def explain_deadline(self, case: Case) -> DeadlineExplanation | None:
        if case.accepted_on is None:
            return None
        return self.calendar.explain(
            case.accepted_on, case.promised_days, self._stops(case), today=self.today(),
            extension_days=case.extension_days or 0,
        )

    def search(
        self,
        *,
        states: Iterable[CaseState] = (),
        matter_code: str | None = None,
        department_code: str | None = None,
        window_code: str | None = None,
        owner: str | None = None,
        pending_task_of: int | None = None,
        channel: Channel | None = None,
        received_from: dt.date | None = None,
        received_to: dt.date | None = None,
        warnings: Iterable[Warning] = (),
        number: str | None = None,
        applicant: str | None = None,
        id_number: str | None = None,
        phone: str | None = None,
        handler: str | None = None,
        forwarded: str | None = None,
        accepted_from: dt.date | None = None,
        accepted_to: dt.date | None = None,
        closed_from: dt.date | None = None,
        closed_to: dt.date | None = None,
        scope: ColumnElement[bool] | None = None,
        order: ListOrder = ListOrder.NEWEST,
        cursor: str | None = None,
        before: str | None = None,
        per_page: int = 20,
    ) -> Page[Case]:
        """One keyset page of the cases matching the filters (node/listing.py).

        ``NEWEST``: the latest received first (received_on, id descending); ``DEADLINE``: the
        earliest stored deadline first (deadline_on, id).  Each state asked for is read as a
        range of its own index and the ranges merged, so no list sorts more than a page.

        The warning filter applies to open cases only (closed cases have no colour): in SQL for
        running cases (node/cases/warnings.py), in Python for the suspended ones.

        The search filters (:func:`search_conditions`): number (exact, or a prefix ending in
        ``*``), applicant name, whole ID number and phone (exact only), handler, forwarded in
        or out, accepted and closed date ranges.  ``pending_task_of``: the cases with a task of
        that department (its id) still pending, the lead department's and joint ones alike
        (the department's queue), read from ``ix_review_tasks_department_state_case``.
        """
        conditions: list[ColumnElement[bool]] = search_conditions(
            number=number, applicant=applicant, id_number=id_number, phone=phone,
            handler=handler, forwarded=forwarded, accepted_from=accepted_from,
            accepted_to=accepted_to, closed_from=closed_from, closed_to=closed_to)
        if scope is not None:  # who sees what (node/cases/scopes.py)
            conditions.append(scope)
        states = list(dict.fromkeys(states))
        wanted = set(warnings)
        if matter_code:
            conditions.append(
                Case.matter_id.in_(select(Matter.id).where(Matter.code == matter_code))
            )
        if department_code:
            conditions.append(
                Case.department_id.in_(
                    select(Department.id).where(Department.code == department_code)
                )
            )
        if window_code:
            conditions.append(
                Case.window_id.in_(select(Window.id).where(Window.code == window_code))
            )
        if owner:
            conditions.append(Case.owner_id.in_(select(User.id).where(User.username == owner)))
        if pending_task_of is not None:
            conditions.append(Case.id.in_(select(ReviewTask.case_id).where(
                ReviewTask.department_id == pending_task_of,
                ReviewTask.state == TaskState.PENDING)))
        if channel:
            conditions.append(Case.channel == channel)
        if received_from:
            conditions.append(Case.received_on >= received_from)
        if received_to:
            conditions.append(Case.received_on <= received_to)
        newest = order is ListOrder.NEWEST
        columns = (Case.received_on, Case.id) if newest else (Case.deadline_on, Case.id)

        def key(case: Case) -> tuple[Any, ...]:
            return (case.received_on, case.id) if newest else (case.deadline_on, case.id)

        branches: list[ColumnElement[bool]] = []
        with_suspended = False
        if wanted:
            bounds = WarningBounds(self.calendar, self.today(), self.warning_policy,
                                   furthest_deadline(self.session))
            branches = [and_(Case.state == state,
                             running_condition(bounds, wanted, by_deadline=not newest))
                        for state in RUNNING_STATES if not states or state in states]
            with_suspended = not states or CaseState.SUSPENDED in states
        elif states:
            branches = [Case.state == state for state in states]
        else:
            branches = [true()]
        if not newest:
            conditions.append(Case.deadline_on.is_not(None))

        def read(where: Position) -> Page[Case]:
            # backwards (the page before): each range read the other way, the page turned
            # back into the list's order by page_of_rows
            paging = [*conditions, *where.conditions(columns, descending=newest)]
            ordering = where.ordering(columns, descending=newest)
            found: list[Case] = []
            counts: list[tuple[int, bool]] = []
            for branch in branches:
                rows = list(self.session.scalars(
                    select(Case).where(*paging, branch).order_by(*ordering)
                    .limit(per_page + 1).options(*self._list_loads())))
                found.extend(rows)
                if where.key is None and len(rows) <= per_page:
                    # the first page holds every match of this branch: that is its count (a
                    # search by ID number or number is mostly this: no second query)
                    counts.append((len(rows), True))
                else:
                    counts.append(capped_count(self.session,
                                               select(Case.id).where(*conditions, branch)))
            if with_suspended:
                colours = self.colours()
                reading_desc = where.reads_descending(newest)
                # the page's suspended cases: read in the page's order until it is full
                with closing(suspended_in_order(self.session, paging, wanted, colours,
                                                columns, reading_desc)) as reading:
                    ids = list(itertools.islice(reading, per_page + 1))
                if ids:
                    found.extend(self.session.scalars(
                        select(Case).where(Case.id.in_(ids)).options(*self._list_loads())))
                # and their number, read only as far as the total still needs it
                room = COUNT_CAP + 1 - sum(c for c, _ in counts)
                if room > 0:
                    with closing(suspended_in_order(self.session, conditions, wanted, colours,
                                                    columns, newest)) as reading:
                        counted = sum(1 for _ in itertools.islice(reading, room))
                    counts.append((counted, counted < room))
                else:
                    counts.append((0, False))
            found.sort(key=key, reverse=where.reads_descending(newest))
            self._load_stops(found[:per_page + 1])
            total = sum(c for c, _ in counts)
            exact = all(e for _, e in counts) and total <= COUNT_CAP
            return page_of_rows(found[:per_page + 1], per_page, key,
                                (total, True) if exact else (COUNT_CAP, False), where)

        return turn(position(cursor, before, (dt.date, int)), per_page, read)

    @staticmethod
    def _list_loads() -> tuple[Any, ...]:
        """What a list row shows, loaded with the page (not one query per row); the clock
        stops of the rows that have a colour follow (:meth:`_load_stops`)."""
        return LIST_LOADS

    def _load_stops(self, cases: Sequence[Case]) -> None:
        """Load the suspensions of the ``cases`` whose clock runs (only they have a colour) in
        one query, none when no row's clock runs; the others' stay unloaded (read if asked)."""
        running = [c for c in cases if c.state in CLOCK_STATES and c.accepted_on is not None
                   and "suspensions" in inspect(c).unloaded]
        if not running:
            return
        stops: dict[int, list[Suspension]] = {c.id: [] for c in running}
        for stop in self.session.scalars(select(Suspension).where(
                Suspension.case_id.in_(list(stops))).order_by(Suspension.id)):
            stops[stop.case_id].append(stop)
        for case in running:
            set_committed_value(case, "suspensions", stops[case.id])


    def _stops(self, case: Case) -> list[ClockStop]:
        return [ClockStop(s.start_on, s.end_on, s.kind.value) for s in case.suspensions]
