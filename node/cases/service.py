"""The life of a case: submission, one-time notice, acceptance, review, suspension, joint
decisions, fees, completion, delivery, ownership and warnings.  Plain Python (no Flask).

Every state change goes through :meth:`CaseService._move`, which checks the state machine,
records the step in the case's history and appends it to the node's audit chain.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import itertools
import json
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, and_, insert, inspect, select, true
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from node.audit.chain import AuditLog
from node.auth.models import User
from node.auth.permissions import Permission, Role, allows
from node.caches import CATALOG, VersionedCache
from node.calendar.workdays import DeadlineExplanation, WorkingCalendar, to_shanghai_date
from node.calendar.workdays import Suspension as ClockStop
from node.cases import authorization
from node.cases.authorization import deciding_task, takes_ownership
from node.cases.errors import CaseStateError, StaleCaseError
from node.cases.models import (
    AttachmentRole,
    Case,
    CaseEvent,
    Channel,
    FeePayment,
    PaymentPlace,
    ReviewTask,
    SupplementNotice,
    Suspension,
    SuspensionKind,
    TaskState,
)
from node.cases.numbers import next_number
from node.cases.query_codes import hash_query_code
from node.cases.states import (
    CLOCK_STATES,
    Action,
    CaseState,
    SystemRole,
    TransitionRefused,
    plan,
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
from node.listing import COUNT_CAP, Page, after, capped_count, decode_cursor, page_of_rows
from node.metrics.rollup import invalidate
from schemas.errors import Conflict, Forbidden, NotFound, ValidationFailed
from schemas.personal import phone_problems, resident_id_problems
from schemas.runtime.database import utcnow

if TYPE_CHECKING:
    from node.cases.forwarding import Forwarding

# reaching one of these closes the case for the deadline clock and the metrics
CLOSING_STATES = frozenset(
    {CaseState.COMPLETED, CaseState.REJECTED, CaseState.WITHDRAWN, CaseState.FORWARDED,
     CaseState.RETURNED}
)
NOTICE_WINDOW_DAYS = 5  # Art. 32: notice on the spot or within five (working) days
JOINT_LEGAL_LIMIT_DAYS = 45  # Art. 42: joint or concentrated handling
EXTENSION_DAYS = 10  # Art. 42: a decision may be extended by ten days…
JOINT_EXTENSION_DAYS = 15  # …and joint handling by fifteen
QUERY_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


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


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user, or the worker's scheduled jobs."""

    username: str
    role: str
    user_id: int | None = None
    department_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.username, user.role.value, user.id, user.department_id)


SYSTEM_ACTOR = Actor("system", SystemRole.SYSTEM.value)


# (case, action — None for a case arriving from another node, state before, state after, reason)
StepHook = Callable[[Case, Action | None, CaseState | None, CaseState, str | None], None]


@dataclass(frozen=True)
class Submission:
    case: Case
    query_code: str  # shown once to the applicant; only its hash is stored (query_codes.py)


def touch(case: Case, now: dt.datetime) -> None:
    """Every recorded step rewrites the case row, so its version moves and a client acting on
    what it read before gets a 409 — even when no column changed in the same clock tick."""
    case.updated_at = now
    flag_modified(case, "updated_at")


def _normalised_personal_fields(data: Mapping[str, Any]) -> dict[str, str]:
    """ID numbers and phones as stored: without surrounding spaces, ID check letter upper."""
    fields = {}
    for field in ("applicant_id_number", "agent_id_number", "applicant_phone"):
        value = data.get(field)
        if isinstance(value, str):
            value = value.strip()
            fields[field] = value.upper() if field.endswith("id_number") else value
    return fields


# a matter's, its department's and its window's columns (the window may be absent)
_MatterRows = tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]
# active matters by code, for submissions (node/caches.py; dropped when the catalog changes)
MATTERS: VersionedCache[_MatterRows | None] = VersionedCache(CATALOG, size=2000)


def _columns(row: Any) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in inspect(type(row)).column_attrs}


_Row = TypeVar("_Row")


def _detached(model: type[_Row], columns: dict[str, Any]) -> _Row:
    """A persistent-looking copy of a row, to ``merge(load=False)`` into a session."""
    row = model(**columns)
    make_transient_to_detached(row)
    return row


class CaseService:
    def __init__(
        self,
        session: Session,
        *,
        node_code: str,
        calendar: WorkingCalendar,
        warning_policy: WarningPolicy,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.session = session
        self.node_code = node_code
        self.calendar = calendar
        self.warning_policy = warning_policy
        self.clock = clock
        self.audit = AuditLog(session, clock=clock)
        # called after every recorded step (node/cases/forwarding.py tells the node below)
        self.after_step: list[StepHook] = []
        self.forwarding: Forwarding | None = None  # set by Forwarding when installed

    def today(self) -> dt.date:
        return to_shanghai_date(self.clock())

    # -- reading ---------------------------------------------------------------------------

    def get(self, case_id: int, *, whole: bool = False) -> Case:
        """The case with its matter, department, window and suspensions (its deadline and
        colour need them: read before a step, not while its audit entry holds the chain's
        head); with ``whole``, its whole file (owner, history, tasks, notices, files) too,
        read eagerly, one query each."""
        options = [joinedload(Case.matter), joinedload(Case.department),
                   joinedload(Case.window), selectinload(Case.suspensions)]
        if whole:
            options += [joinedload(Case.owner), selectinload(Case.events),
                        selectinload(Case.tasks).joinedload(ReviewTask.department),
                        selectinload(Case.notices), selectinload(Case.attachments)]
        case = self.session.get(Case, case_id, options=options)
        if case is None:
            raise NotFound(f"No case {case_id}.", {"case_id": case_id})
        return case

    def by_number(self, number: str) -> Case | None:
        return self.session.scalar(select(Case).where(Case.number == number))

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
        or out, accepted and closed date ranges.
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

        last = decode_cursor(cursor, (dt.date, int)) if cursor else None
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
        paging = [*conditions, after(columns, last, descending=newest)] if last else conditions
        ordering = [c.desc() for c in columns] if newest else list(columns)
        found: list[Case] = []
        counts: list[tuple[int, bool]] = []
        for branch in branches:
            found.extend(self.session.scalars(
                select(Case).where(*paging, branch).order_by(*ordering)
                .limit(per_page + 1).options(*self._list_loads())))
            counts.append(capped_count(self.session,
                                       select(Case.id).where(*conditions, branch)))
        if with_suspended:
            colours = self.colours()
            # the page's suspended cases: read in the list's order until the page is full
            with closing(suspended_in_order(self.session, paging, wanted, colours, columns,
                                            newest)) as reading:
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
        found.sort(key=key, reverse=newest)
        total = sum(c for c, _ in counts)
        exact = all(e for _, e in counts) and total <= COUNT_CAP
        return page_of_rows(found[:per_page + 1], per_page, key,
                            (total, True) if exact else (COUNT_CAP, False))

    @staticmethod
    def _list_loads() -> list[Any]:
        """What a list row shows, loaded with the page (not one query per row)."""
        return [joinedload(Case.matter), joinedload(Case.department), joinedload(Case.window),
                joinedload(Case.owner), selectinload(Case.suspensions)]

    # -- submission ------------------------------------------------------------------------

    def submit(self, data: Mapping[str, Any], actor: Actor) -> Submission:
        """Register an application (收件) at a window, online, by a village agent or at a
        department office outside the center."""
        matter = self._active_matter(data["matter_code"])
        problems: dict[str, list[str]] = {}
        if matter is None:
            problems["matter_code"] = [f"no matter {data['matter_code']!r} in the catalog"]
        channel = Channel(data["channel"])
        data = {**data, **_normalised_personal_fields(data)}
        for field, check in (
            ("applicant_id_number", resident_id_problems),
            ("agent_id_number", resident_id_problems),
            ("applicant_phone", phone_problems),
        ):
            if data.get(field):
                found = check(data[field])
                if found:
                    problems[field] = found
        if channel is Channel.VILLAGE_AGENT:
            if not data.get("agent_name"):
                problems.setdefault("agent_name", []).append("a village agent must be named")
            if not data.get("applicant_consent"):
                problems.setdefault("applicant_consent", []).append(
                    "the applicant's consent to the agent must be recorded"
                )
        joint_codes = list(dict.fromkeys(data.get("joint_department_codes") or []))
        joint = [
            self.session.scalar(select(Department).where(Department.code == c)) for c in joint_codes
        ]
        unknown = [c for c, d in zip(joint_codes, joint, strict=True) if d is None or d.retired_at]
        if unknown:
            problems["joint_department_codes"] = [f"no active department {c!r}" for c in unknown]
        if (
            matter is not None
            and joint_codes
            and matter.promised_limit_days > JOINT_LEGAL_LIMIT_DAYS
        ):
            problems.setdefault("joint_department_codes", []).append(
                f"joint handling must finish within {JOINT_LEGAL_LIMIT_DAYS} working days "
                f"(Art. 42); this matter promises {matter.promised_limit_days}"
            )
        if problems:
            raise ValidationFailed(problems)
        assert matter is not None  # noqa: S101 - checked above

        now = self.clock()
        year = to_shanghai_date(now).year
        number = f"{self.node_code}-{year}-{next_number(self.session, f'case-{year}'):07d}"
        code = "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(8))
        case = Case(
            number=number,
            query_code_hash=hash_query_code(number, code),
            matter=matter,
            department_id=matter.department_id,
            window_id=matter.window_id,
            channel=channel,
            state=CaseState.SUBMITTED,
            applicant_name=data["applicant_name"],
            applicant_id_number=(data.get("applicant_id_number") or "").upper() or None,
            applicant_phone=data.get("applicant_phone") or None,
            agent_name=data.get("agent_name"),
            agent_id_number=(data.get("agent_id_number") or "").upper() or None,
            applicant_consent=bool(data.get("applicant_consent")),
            owner_id=actor.user_id if actor.role == Role.CLERK.value else None,
            received_at=now,
            received_on=to_shanghai_date(now),
            promised_days=matter.promised_limit_days,
            fee_due_fen=matter.fee_amount_fen,
            fee_paid_fen=0,
            notes=data.get("notes", ""),
            # a new case has none of these yet: saying so spares a query for each
            events=[], notices=[], suspensions=[], payments=[], attachments=[],
        )
        self.session.add(case)
        departments = [matter.department, *(d for d in joint if d and d.id != matter.department_id)]
        case.tasks = [ReviewTask(department=d, state=TaskState.PENDING) for d in departments]
        self._record(
            case,
            None,
            actor,
            None,
            CaseState.SUBMITTED,
            None,
            data={"channel": channel.value, "matter": matter.code},
        )
        return Submission(case, code)

    def _active_matter(self, code: str) -> Matter | None:
        """The active matter of ``code`` with its department and window, from this process's
        cache while the ``catalog`` counter has not moved (node/caches.py), attached to the
        session without a query."""
        rows = MATTERS.get(self.session, code, functools.partial(self._matter_rows, code))
        if rows is None:
            return None
        matter_columns, department_columns, window_columns = rows
        matter = self.session.merge(_detached(Matter, matter_columns), load=False)
        set_committed_value(matter, "department", self.session.merge(
            _detached(Department, department_columns), load=False))
        set_committed_value(matter, "window", None if window_columns is None else
                            self.session.merge(_detached(Window, window_columns), load=False))
        return matter

    def _matter_rows(self, code: str) -> _MatterRows | None:
        matter = self.session.scalar(
            select(Matter)
            .where(Matter.code == code, Matter.retired_at.is_(None))
            .options(joinedload(Matter.department), joinedload(Matter.window))
        )
        if matter is None:
            return None
        return (_columns(matter), _columns(matter.department),
                None if matter.window is None else _columns(matter.window))

    # -- transitions -----------------------------------------------------------------------

    def _check_version(self, case: Case, version: int | None) -> None:
        if version is not None and version != case.version:
            raise StaleCaseError(
                f"Case {case.number} has changed (version {case.version}, you sent {version}); "
                "reload it and try again.",
                {"current_version": case.version},
            )

    def _authorize_clerk(self, case: Case, actor: Actor) -> None:
        """First-inquiry responsibility: the owning clerk acts on the case until handed over
        (node/cases/authorization.py); the first clerk to take an online case owns it."""
        if takes_ownership(case, actor):
            case.owner = self.session.get(User, actor.user_id)

    def authorize_file(self, case: Case, actor: Actor, role: AttachmentRole) -> None:
        """May ``actor`` add a file of ``role`` now (node/cases/authorization.py); a clerk
        adding one to an unowned case takes it, as with any other step."""
        if authorization.authorize_file(case, actor, role):
            case.owner = self.session.get(User, actor.user_id)

    def _move(
        self,
        case: Case,
        action: Action,
        actor: Actor,
        *,
        reason: str | None = None,
        version: int | None = None,
        data: Mapping[str, Any] | None = None,
        effects: Callable[[], None] | None = None,
    ) -> CaseState:
        """Take one step: check it, change the state, apply the step's ``effects`` on the case
        (so the step is one UPDATE of the row), record it and tell the hooks."""
        self._check_version(case, version)
        try:
            transition = plan(case.state, action, actor.role, reason)
        except TransitionRefused as exc:
            raise CaseStateError(exc.message, exc.state, exc.allowed) from exc
        except PermissionError as exc:
            raise Forbidden(str(exc), {"role": actor.role, "action": action.value}) from exc
        except ValueError as exc:
            raise ValidationFailed({"reason": [str(exc)]}) from exc
        self._authorize_clerk(case, actor)
        before = case.state
        case.state = transition.target
        if before is CaseState.SUSPENDED and transition.target is not CaseState.SUSPENDED:
            self._end_suspension(case, actor)
        if transition.target in CLOSING_STATES and case.closed_on is None:
            case.closed_on = self.today()
        if effects is not None:
            effects()
        self._record(
            case, action, actor, before, transition.target, reason, data, public=transition.public
        )
        for hook in self.after_step:
            hook(case, action, before, transition.target, reason)
        return before

    move = _move  # for the forwarding side, which adds its own actions

    def record_arrival(self, case: Case, reason: str, data: Mapping[str, Any]) -> None:
        """Record a case that arrived from another node (its first step here)."""
        self._record(case, None, SYSTEM_ACTOR, None, case.state, reason, data,
                     name="receive_forward")
        for hook in self.after_step:
            hook(case, None, None, case.state, None)

    def _record(
        self,
        case: Case,
        action: Action | None,
        actor: Actor,
        before: CaseState | None,
        after: CaseState,
        reason: str | None,
        data: Mapping[str, Any] | None = None,
        *,
        public: bool = True,
        name: str | None = None,
    ) -> None:
        name = name or (action.value if action else "submit")
        now = self.clock()
        touch(case, now)
        self._add_event(case, CaseEvent(
            at=now,
            actor=actor.username,
            role=actor.role,
            action=name,
            from_state=before.value if before else None,
            to_state=after.value,
            reason=reason,
            public=public,
        ))
        self.audit.append(
            actor=actor.username,
            role=actor.role,
            action=f"case.{name}",
            subject_type="case",
            subject_id=case.number,
            data={
                "from": before.value if before else None,
                "to": after.value,
                "reason": reason,
                **(data or {}),
            },
        )

    def _add_event(self, case: Case, event: CaseEvent) -> None:
        """Add a step to the case's history.  A case whose history is not loaded (every case
        read for one step) gets the row by one INSERT by id, so that the history is never read
        to be appended to; a new case, or one whose history is loaded, through the ORM."""
        if case.id is None or "events" in case.__dict__:
            case.events.append(event)
            return
        # (the statement flushes the session first: the case row's UPDATE, version checked)
        self.session.execute(insert(CaseEvent).values(
            case_id=case.id, at=event.at, actor=event.actor, role=event.role,
            action=event.action, from_state=event.from_state, to_state=event.to_state,
            reason=event.reason, public=event.public))

    def request_supplement(
        self,
        case: Case,
        actor: Actor,
        *,
        material_positions: Sequence[int],
        other_items: Sequence[str],
        repeat_reason: str | None,
        version: int | None = None,
    ) -> SupplementNotice:
        """Issue a one-time notice listing every missing item at once (一次性告知, Art. 32).

        A second notice for the same case needs a reason and is counted.
        """
        materials = {m.position: m.name for m in case.matter.materials}
        unknown = [p for p in material_positions if p not in materials]
        problems: dict[str, list[str]] = {}
        if unknown:
            problems["material_positions"] = [f"the matter has no material #{p}" for p in unknown]
        if not material_positions and not other_items:
            problems["items"] = ["a notice lists at least one missing item"]
        if case.notices and not (repeat_reason and repeat_reason.strip()):
            problems["repeat_reason"] = [
                "a second notice for the same case needs a reason (一次性告知 means once)"
            ]
        if problems:
            raise ValidationFailed(problems)
        if (
            case.state is CaseState.SUBMITTED
            and not case.notices
            and self._notice_window_passed(case)
        ):
            raise Conflict(
                f"Five working days have passed since case {case.number} was received without a "
                "notice: it counts as accepted from the day it was received (Art. 32).",
                {"received_on": case.received_on.isoformat()},
            )
        items = [{"material": materials[p], "position": p} for p in material_positions]
        items += [{"material": text} for text in other_items]
        self._move(
            case,
            Action.REQUEST_SUPPLEMENT,
            actor,
            version=version,
            reason=repeat_reason,
            data={"items": len(items)},
        )
        year = self.today().year
        notice = SupplementNotice(
            number=self._document_number("BZ", "notice", year),
            sequence=len(case.notices) + 1,
            items=json.dumps(items, ensure_ascii=False),
            repeat_reason=repeat_reason if case.notices else None,
            issued_at=self.clock(),
            issued_by=actor.username,
        )
        case.notices.append(notice)
        self.session.flush()
        return notice

    def _notice_window_provisional(self, case: Case) -> bool:
        limit = self.calendar.add_working_days(case.received_on, NOTICE_WINDOW_DAYS)
        return bool(self.calendar.years_without_data(case.received_on, limit))

    def _notice_window_passed(self, case: Case) -> bool:
        limit = self.calendar.add_working_days(case.received_on, NOTICE_WINDOW_DAYS)
        return self.today() > limit

    def supplement(self, case: Case, actor: Actor, *, version: int | None = None) -> Case:
        """The applicant brought the missing materials (补正)."""
        self._move(case, Action.SUPPLEMENT, actor, version=version)
        return case

    def accept(self, case: Case, actor: Actor, *, version: int | None = None) -> Case:
        """受理: the clock starts today — or on the day of receipt when no notice was given
        within five working days (Art. 32)."""
        # the window is a calendar sum; the notices are read only when it has passed
        deemed = self._notice_window_passed(case) and not case.notices
        accepted_on = case.received_on if deemed else self.today()
        self._move(case, Action.ACCEPT, actor, version=version, effects=functools.partial(
            self._start_clock, case, accepted_on, deemed=deemed))
        return case

    def _start_clock(self, case: Case, accepted_on: dt.date, *, deemed: bool) -> None:
        """Set the accepted day and the deadline; the step that starts the clock writes them."""
        case.accepted_on = accepted_on
        case.deemed_accepted = deemed
        case.deadline_on = self.calendar.add_working_days(accepted_on, case.promised_days)
        case.deadline_provisional = bool(
            self.calendar.years_without_data(accepted_on, case.deadline_on))
        if accepted_on < self.today():
            invalidate(self.session, [accepted_on])  # a past day's figures changed

    def reject(self, case: Case, actor: Actor, *, reason: str, version: int | None = None) -> Case:
        """不予受理, with the written reason."""
        self._move(case, Action.REJECT, actor, reason=reason, version=version)
        return case

    def commit(
        self, case: Case, actor: Actor, *, commitment: str, version: int | None = None
    ) -> Case:
        """告知承诺制: approved at once on the applicant's written commitment."""
        if not case.matter.notify_and_commit:
            raise Conflict(f"Matter {case.matter.code} does not allow notify-and-commit.")
        if not commitment.strip():
            raise ValidationFailed({"commitment": ["the applicant's commitment must be recorded"]})
        def approve() -> None:
            case.commitment = commitment
            today = self.today()
            self._start_clock(case, today, deemed=False)
            case.decided_on = today
            for task in case.tasks:
                task.state, task.decided_by, task.decided_at = (
                    TaskState.APPROVED,
                    actor.username,
                    self.clock(),
                )

        self._move(case, Action.COMMIT, actor, version=version, effects=approve)
        return case

    def start_review(self, case: Case, actor: Actor, *, version: int | None = None) -> Case:
        self._require_task(case, actor)
        self._move(case, Action.START_REVIEW, actor, version=version)
        return case

    def _require_task(self, case: Case, actor: Actor) -> ReviewTask:
        """The actor's department's task on this case (node/cases/authorization.py)."""
        return deciding_task(case, actor)

    def suspend(
        self,
        case: Case,
        actor: Actor,
        *,
        kind: SuspensionKind,
        reason: str,
        version: int | None = None,
    ) -> Suspension:
        """Stop the clock for a special procedure (Art. 45) and issue its written notice."""
        self._require_task(case, actor)
        self._move(
            case, Action.SUSPEND, actor, reason=reason, version=version, data={"kind": kind.value}
        )
        year = self.today().year
        suspension = Suspension(
            kind=kind,
            start_on=self.today(),
            reason=reason,
            notice_number=self._document_number("TB", "suspension", year),
            started_by=actor.username,
        )
        case.suspensions.append(suspension)
        self.session.flush()
        return suspension

    def extend(
        self, case: Case, actor: Actor, *, days: int, reason: str, version: int | None = None
    ) -> Case:
        """延期 (Art. 42): with the head's approval the limit is extended once, by at most ten
        working days, fifteen for joint handling; the deadline moves later accordingly."""
        self._check_version(case, version)
        if case.state not in CLOCK_STATES:
            raise CaseStateError(
                "Only a case whose clock runs can be extended.", case.state,
                ["approve", "deny", "suspend"],
            )
        self._require_task(case, actor)
        limit = JOINT_EXTENSION_DAYS if len(case.tasks) > 1 else EXTENSION_DAYS
        problems: dict[str, list[str]] = {}
        if case.extension_days:
            raise Conflict(f"Case {case.number} was already extended once (Art. 42).")
        if not 1 <= days <= limit:
            problems["days"] = [f"between 1 and {limit} working days (Art. 42)"]
        if not reason.strip():
            problems["reason"] = ["an extension needs the written approval's reason"]
        if problems:
            raise ValidationFailed(problems)
        case.extension_days = days
        case.extension_reason = reason
        self._recompute_deadline(case)
        self._note(
            case, "extend", actor, reason, {"days": days, "deadline_on": str(case.deadline_on)}
        )
        return case

    def _document_number(self, mark: str, counter: str, year: int) -> str:
        """``450981-TB-2026-000012``: node, document kind, year, gap-free counter."""
        value = next_number(self.session, f"{counter}-{year}")
        return f"{self.node_code}-{mark}-{year}-{value:06d}"

    def resume(self, case: Case, actor: Actor, *, version: int | None = None) -> Case:
        """Restart the clock; the deadline moves later by the suspended working days."""
        self._require_task(case, actor)
        self._move(case, Action.RESUME, actor, version=version)
        self._recompute_deadline(case)
        return case

    def _end_suspension(self, case: Case, actor: Actor) -> None:
        """Leaving the suspended state (resumed or withdrawn) ends the open suspension."""
        for stop in case.suspensions:
            if stop.end_on is None:
                stop.end_on = self.today()
                stop.ended_by = actor.username

    def _stops(self, case: Case) -> list[ClockStop]:
        return [ClockStop(s.start_on, s.end_on, s.kind.value) for s in case.suspensions]

    def _recompute_deadline(self, case: Case) -> None:
        explained = self.explain_deadline(case)
        if explained is not None:
            case.deadline_on = explained.deadline_on
            case.deadline_provisional = explained.provisional
        self.session.flush()

    def decide(
        self,
        case: Case,
        actor: Actor,
        *,
        approve: bool,
        reason: str | None,
        version: int | None = None,
    ) -> Case:
        """One department's decision; the case is approved when every department approves and
        denied as soon as one denies (every reason is kept)."""
        task = self._require_task(case, actor)
        self._authorize_clerk(case, actor)
        if task.state is not TaskState.PENDING:
            raise Conflict(f"Your department already decided case {case.number}.")
        if not approve and not (reason and reason.strip()):
            raise ValidationFailed({"reason": ["deny needs a written reason"]})
        if case.state not in (CaseState.ACCEPTED, CaseState.IN_REVIEW):
            self._move(
                case,
                Action.APPROVE if approve else Action.DENY,
                actor,
                reason=reason,
                version=version,
            )  # raises the state error with what is allowed
        self._check_version(case, version)
        task.state = TaskState.APPROVED if approve else TaskState.DENIED
        task.decided_by, task.decided_at, task.reason = actor.username, self.clock(), reason
        pending = [t for t in case.tasks if t.state is TaskState.PENDING]
        if not approve:
            self._move(
                case, Action.DENY, actor, reason=reason, data={"department": task.department.code}
            )
        elif not pending:
            self._move(
                case,
                Action.APPROVE,
                actor,
                reason=reason,
                data={"department": task.department.code},
            )
        else:
            self._record(
                case,
                Action.APPROVE,
                actor,
                case.state,
                case.state,
                reason,
                {"department": task.department.code, "pending": len(pending)},
                public=False,
            )
            self.session.flush()
            return case
        case.decided_on = self.today()
        self.session.flush()
        return case

    def complete(self, case: Case, actor: Actor, *, version: int | None = None) -> Case:
        """办结: the result is ready; an approved case with a fee needs it paid or waived."""
        if (
            case.state is CaseState.APPROVED
            and not case.from_below  # the origin collects the fee when it delivers
            and case.fee_due_fen > case.fee_paid_fen
            and case.fee_waived_reason is None
        ):
            raise Conflict(
                f"Case {case.number} owes {case.fee_due_fen - case.fee_paid_fen} fen; "
                "record the payment or a waiver first.",
                {"fee_due_fen": case.fee_due_fen, "fee_paid_fen": case.fee_paid_fen},
            )
        self._move(case, Action.COMPLETE, actor, version=version)
        case.completed_at = self.clock()
        case.completed_on = self.today()
        self.session.flush()
        return case

    def deliver(self, case: Case, actor: Actor, *, version: int | None = None) -> Case:
        """送达: the result reached the applicant."""
        self._move(case, Action.DELIVER, actor, version=version)
        case.delivered_at = self.clock()
        self.session.flush()
        return case

    def withdraw(
        self, case: Case, actor: Actor, *, reason: str, version: int | None = None
    ) -> Case:
        """The applicant withdrew the application (撤回)."""
        self._move(case, Action.WITHDRAW, actor, reason=reason, version=version)
        return case

    # -- fees and ownership ----------------------------------------------------------------

    def record_payment(
        self,
        case: Case,
        actor: Actor,
        *,
        amount_fen: int,
        where: PaymentPlace,
        version: int | None = None,
    ) -> Case:
        """A fee paid — at the center's bank window, or elsewhere (counted as 前厂后店)."""
        self._check_version(case, version)
        if case.state not in (CaseState.APPROVED, CaseState.ACCEPTED, CaseState.IN_REVIEW):
            raise CaseStateError(
                "Fees are recorded for accepted or approved cases.",
                case.state,
                ["accept", "approve"],
            )
        if amount_fen <= 0 or amount_fen > case.fee_due_fen - case.fee_paid_fen:
            raise ValidationFailed(
                {"amount_fen": [f"between 1 and {case.fee_due_fen - case.fee_paid_fen} fen"]}
            )
        self._authorize_clerk(case, actor)
        now = self.clock()
        case.fee_paid_fen += amount_fen
        case.fee_paid_at = now
        case.fee_paid_where = where
        case.payments.append(
            FeePayment(amount_fen=amount_fen, place=where, paid_at=now, recorded_by=actor.username)
        )
        self._note(case, "fee_paid", actor, None, {"paid_fen": amount_fen, "where": where.value})
        return case

    def waive_fee(
        self, case: Case, actor: Actor, *, reason: str, version: int | None = None
    ) -> Case:
        self._check_version(case, version)
        if not reason.strip():
            raise ValidationFailed({"reason": ["a fee waiver needs a reason"]})
        self._authorize_clerk(case, actor)
        case.fee_waived_reason = reason
        self._note(case, "fee_waived", actor, reason, {"fee_due_fen": case.fee_due_fen})
        return case

    def hand_over(
        self, case: Case, actor: Actor, *, to_user: User, reason: str, version: int | None = None
    ) -> Case:
        """Pass first-inquiry responsibility to another clerk, on the record."""
        self._check_version(case, version)
        if not to_user.active or not allows(to_user.role, Permission.CASES_HANDLE):
            raise ValidationFailed(
                {"to": ["cases are handed over to an active account that does window work"]})
        if actor.role == Role.CLERK.value and case.owner_id not in (None, actor.user_id):
            raise Forbidden("Only the owning clerk, an admin or a supervisor hands a case over.")
        if not reason.strip():
            raise ValidationFailed({"reason": ["a hand-over needs a reason"]})
        previous = case.owner.username if case.owner else None
        case.owner = to_user
        self._note(case, "hand_over", actor, reason, {"from": previous, "to": to_user.username})
        return case

    def note(self, case: Case, actor: Actor, name: str, data: Mapping[str, Any], *,
             reason: str | None = None, public: bool = False) -> None:
        """Record a step that does not change the state (files, news from another node)."""
        self._note(case, name, actor, reason, data, public=public)

    def _note(
        self, case: Case, name: str, actor: Actor, reason: str | None, data: Mapping[str, Any],
        *, public: bool = False,
    ) -> None:
        """A recorded step that does not change the state (fees, hand-over)."""
        now = self.clock()
        touch(case, now)
        self._add_event(case, CaseEvent(
            at=now,
            actor=actor.username,
            role=actor.role,
            action=name,
            from_state=case.state.value,
            to_state=case.state.value,
            reason=reason,
            public=public,
        ))
        self.audit.append(
            actor=actor.username,
            role=actor.role,
            action=f"case.{name}",
            subject_type="case",
            subject_id=case.number,
            data={"reason": reason, **data},
        )

    # -- jobs (called by the worker) -------------------------------------------------------

    def deem_accept_overdue(self) -> list[str]:
        """Art. 32: submitted cases with no notice within five working days count as accepted
        from the day they were received."""
        done = []
        for case in self.session.scalars(
            select(Case).where(Case.state == CaseState.SUBMITTED).order_by(Case.id)
        ):
            # nothing is deemed on a window counted over a year without holiday data
            if not case.notices and self._notice_window_passed(case) \
                    and not self._notice_window_provisional(case):
                self._move(case, Action.DEEM_ACCEPT, SYSTEM_ACTOR, effects=functools.partial(
                    self._start_clock, case, case.received_on, deemed=True))
                done.append(case.number)
        return done

    def deem_approve_overdue(self) -> list[str]:
        """超时默认许可: undecided cases of matters that allow it, past their deadline."""
        today = self.today()
        done = []
        query = (
            select(Case)
            .join(Matter, Case.matter_id == Matter.id)
            .where(
                Case.state.in_([CaseState.ACCEPTED, CaseState.IN_REVIEW]),
                Matter.deemed_approval.is_(True),
                Case.deadline_on < today,
                # 暂定: never deemed until the year's schedule is loaded or confirmed
                Case.deadline_provisional.is_(False),
            )
            .order_by(Case.id)
        )
        for case in self.session.scalars(query):
            self._move(
                case,
                Action.DEEM_APPROVE,
                SYSTEM_ACTOR,
                data={"deadline_on": case.deadline_on.isoformat() if case.deadline_on else None},
            )
            case.deemed_approved = True
            case.decided_on = today
            for task in case.tasks:
                if task.state is TaskState.PENDING:
                    task.state, task.decided_by = TaskState.APPROVED, SYSTEM_ACTOR.username
                    task.decided_at = self.clock()
            done.append(case.number)
        self.session.flush()
        return done


__all__ = [
    "SYSTEM_ACTOR",
    "Actor",
    "CaseService",
    "Submission",
]
