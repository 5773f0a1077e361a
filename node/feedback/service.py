"""What applicants say about the service and what supervision does about it (plain Python).

* **Public lookup**: a case found by its number and the query code its applicant received;
  only public facts leave, the name masked. A wrong code and an unknown number fail alike.
* **Evaluation** (好差评, 国办发〔2019〕51号, GB/T 39734/39735-2020): a completed or delivered
  case is rated once on five levels; every bad rating opens a rectification.
* **Rectification** (整改), a state machine with its own deadline::

      pending ──start──▶ in_rectification ──complete──▶ done            (note required)
                         in_rectification ──cannot_rectify──▶ cannot_rectify (reason)
      pending ──dispute──▶ disputed ──uphold──▶ pending                 (申诉: invalid-rating
                           disputed ──invalidate──▶ rating_void          review; reasons)
      pending / in_rectification ──extend──▶ (same state)               (延期: once, reason,
                                                                         moves the deadline)

  *Overdue* is computed (deadline passed while still open), never stored. A dispute does not
  stop the clock: the rating stands until the review voids it.
* **Complaints** (投诉, GB/T 36113-2018) against a case, a window or a clerk, each with a
  deadline, resolved by supervision with a written resolution.

Every change is appended to the node's audit chain. Services flush, never commit.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, not_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from node.audit.chain import AuditLog
from node.auth.models import User
from node.auth.permissions import Role
from node.calendar.workdays import WorkingCalendar, to_shanghai_date
from node.cases.actors import Actor
from node.cases.models import Case
from node.cases.numbers import next_number
from node.cases.query_codes import hash_query_code, needs_rehash, verify_query_code
from node.cases.recompute import EVENT_ACTION, NOTICE_EVENT_ACTION
from node.cases.service import QUERY_CODE_ALPHABET
from node.cases.states import CaseState
from node.catalog.models import StaffMember, Window
from node.feedback.models import (
    BAD_LEVELS,
    OPEN_RECTIFICATION_STATES,
    Complaint,
    ComplaintState,
    Evaluation,
    EvaluationLevel,
    Rectification,
    RectificationState,
)
from node.listing import COUNT_CAP, Page, after, capped_count, decode_cursor, page_of_rows
from node.metrics.rollup import invalidate
from schemas.errors import Conflict, NotFound, ValidationFailed
from schemas.personal import mask_name, phone_problems
from schemas.runtime.database import utcnow

# Working days a department has to rectify a bad rating (评价–反馈–整改), counted from the
# rating on the node's working calendar.
RECTIFICATION_WORKING_DAYS = 5
# One extension (延期) may add at most as much time again as the original period.
RECTIFICATION_MAX_EXTENSION_DAYS = RECTIFICATION_WORKING_DAYS
# Working days to resolve a complaint (GB/T 36113-2018 leaves the limit to each center; five
# working days for a complaint not settled on the spot is the common local rule).
COMPLAINT_WORKING_DAYS = 5

EVALUABLE_STATES = frozenset({CaseState.COMPLETED, CaseState.DELIVERED})
# Staff a member of the public meets at a window and may complain about.
SERVING_ROLES = frozenset({Role.CLERK, Role.APPROVER})

# Unauthenticated callers, as recorded in the audit chain: the applicant proves who they are
# with the case's query code; a complainant need not be an applicant.
APPLICANT = Actor("applicant", "applicant")
COMPLAINANT = Actor("public", "public")

T = TypeVar("T")

_LOOKUP_FAILED = "No case matches this number and query code."
_COMPLAINT_LOOKUP_FAILED = "No complaint matches this number and query code."
# Compared against when the number is unknown, so that both failures take the same work.


# -- the rectification state machine ------------------------------------------------------


class RectificationAction(enum.StrEnum):
    START = "start"
    COMPLETE = "complete"
    DISPUTE = "dispute"
    UPHOLD = "uphold"
    INVALIDATE = "invalidate"
    CANNOT_RECTIFY = "cannot_rectify"
    EXTEND = "extend"


R = RectificationState


@dataclass(frozen=True)
class RectificationTransition:
    action: RectificationAction
    sources: frozenset[RectificationState]
    target: RectificationState | None  # None: the state stays (an extension)
    text_field: str | None = None  # the written text the action requires, by its input name


RECTIFICATION_TRANSITIONS: dict[RectificationAction, RectificationTransition] = {
    t.action: t
    for t in (
        RectificationTransition(RectificationAction.START, frozenset({R.PENDING}),
                                R.IN_RECTIFICATION),
        RectificationTransition(RectificationAction.COMPLETE, frozenset({R.IN_RECTIFICATION}),
                                R.DONE, "note"),
        RectificationTransition(RectificationAction.DISPUTE, frozenset({R.PENDING}),
                                R.DISPUTED, "reason"),
        RectificationTransition(RectificationAction.UPHOLD, frozenset({R.DISPUTED}), R.PENDING),
        RectificationTransition(RectificationAction.INVALIDATE, frozenset({R.DISPUTED}),
                                R.RATING_VOID, "reason"),
        RectificationTransition(RectificationAction.CANNOT_RECTIFY,
                                frozenset({R.IN_RECTIFICATION}), R.CANNOT_RECTIFY, "reason"),
        RectificationTransition(RectificationAction.EXTEND,
                                frozenset({R.PENDING, R.IN_RECTIFICATION}), None, "reason"),
    )
}
CLOSED_BY = frozenset(
    {RectificationAction.COMPLETE, RectificationAction.INVALIDATE,
     RectificationAction.CANNOT_RECTIFY}
)


def allowed_rectification_actions(state: RectificationState, *, extended: bool) -> list[str]:
    """Actions possible from ``state``, in a stable order; an extension is granted once."""
    return [
        t.action.value
        for t in RECTIFICATION_TRANSITIONS.values()
        if state in t.sources and not (t.action is RectificationAction.EXTEND and extended)
    ]


# -- errors ---------------------------------------------------------------------------------


class RectificationStateError(Conflict):
    """An action the rectification's state does not allow; lists what is allowed."""

    code = "invalid_transition"

    def __init__(self, message: str, state: RectificationState, allowed: list[str]) -> None:
        super().__init__(message, {"state": state.value, "allowed": allowed})


class ComplaintStateError(Conflict):
    """A complaint that is no longer open (already resolved)."""

    code = "invalid_transition"

    def __init__(self, message: str, state: ComplaintState, allowed: list[str]) -> None:
        super().__init__(message, {"state": state.value, "allowed": allowed})


class NotEvaluable(Conflict):
    """The case is not completed yet: there is nothing to rate."""

    code = "not_completed"


class AlreadyEvaluated(Conflict):
    """The case has been rated; a rating is given once."""

    code = "already_evaluated"


# -- what the public sees -----------------------------------------------------------------


@dataclass(frozen=True)
class PublicMatter:
    code: str
    name: str


# steps whose reason the applicant reads: what a calendar change did to the deadline
CALENDAR_ACTIONS = frozenset({EVENT_ACTION, NOTICE_EVENT_ACTION})


@dataclass(frozen=True)
class PublicStep:
    """One public step of a case's history: when, what, and the state it led to."""

    at: dt.datetime
    action: str
    to_state: str
    note: str | None = None  # what a calendar change did to the deadline (in Chinese)


@dataclass(frozen=True)
class PublicCase:
    """A case as its applicant may see it without logging in: nothing personal but the
    masked name, no staff names."""

    number: str
    state: CaseState
    matter: PublicMatter
    received_on: dt.date
    accepted_on: dt.date | None
    deadline_on: dt.date | None
    completed_on: dt.date | None
    applicant_name: str  # masked
    history: tuple[PublicStep, ...]
    evaluation: EvaluationLevel | None
    deadline_provisional: bool = False  # 暂定: a year without national holiday data


@dataclass(frozen=True)
class PublicComplaint:
    """A complaint as its complainant may see it: what it is against, its dates, its state
    and the answer (nothing personal, no staff names)."""

    number: str
    state: ComplaintState
    received_at: dt.datetime
    due_on: dt.date
    resolved_at: dt.datetime | None
    resolution: str | None
    case_number: str | None
    window_name: str | None


class FeedbackService:
    """Public lookup, evaluations, rectifications and complaints of one node."""

    def __init__(
        self,
        session: Session,
        *,
        node_code: str,
        calendar: WorkingCalendar,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.session = session
        self.node_code = node_code
        self.calendar = calendar
        self.clock = clock
        self.audit = AuditLog(session, clock=clock)

    def today(self) -> dt.date:
        return to_shanghai_date(self.clock())

    # -- public lookup ---------------------------------------------------------------------

    def case_for_applicant(self, number: str, code: str) -> Case:
        """The case with ``number`` if ``code`` is its query code.

        An unknown number and a wrong code raise the same error after the same work, so that
        guessing codes does not reveal which case numbers exist.
        """
        case = self.session.scalar(select(Case).where(Case.number == number))
        matches = verify_query_code(case.query_code_hash if case is not None else None,
                                    number, code)
        if case is None or not matches:
            raise NotFound(_LOOKUP_FAILED)
        if needs_rehash(case.query_code_hash):  # an old SHA-256 digest: replace it now
            case.query_code_hash = hash_query_code(number, code)
            self.session.flush()
        return case

    def lookup(self, number: str, code: str) -> PublicCase:
        """What the applicant may see of the case: state, matter, dates, public steps."""
        case = self.case_for_applicant(number, code)
        evaluation = self._evaluation_of(case)
        return PublicCase(
            number=case.number,
            state=case.state,
            matter=PublicMatter(case.matter.code, case.matter.name),
            received_on=case.received_on,
            accepted_on=case.accepted_on,
            deadline_on=case.deadline_on,
            completed_on=case.completed_on,
            applicant_name=mask_name(case.applicant_name),
            history=tuple(
                PublicStep(e.at, e.action, e.to_state,
                           e.reason if e.action in CALENDAR_ACTIONS else None)
                for e in case.events if e.public
            ),
            evaluation=evaluation.level if evaluation is not None else None,
            deadline_provisional=bool(case.deadline_provisional),
        )

    def _evaluation_of(self, case: Case) -> Evaluation | None:
        return self.session.scalar(select(Evaluation).where(Evaluation.case_id == case.id))

    # -- evaluation ------------------------------------------------------------------------

    def evaluate(
        self, number: str, code: str, *, level: EvaluationLevel, comment: str | None
    ) -> Evaluation:
        """The applicant rates a completed or delivered case, once; a bad rating opens a
        rectification due in :data:`RECTIFICATION_WORKING_DAYS` working days."""
        case = self.case_for_applicant(number, code)
        if self._evaluation_of(case) is not None:
            raise AlreadyEvaluated(f"Case {case.number} has already been rated.")
        if case.state not in EVALUABLE_STATES:
            raise NotEvaluable(
                f"Case {case.number} is {case.state.value}; it can be rated once completed.",
                {"state": case.state.value},
            )
        evaluation = Evaluation(
            case_id=case.id, level=level, comment=(comment or "").strip() or None,
            at=self.clock(), void=False,
        )
        self.session.add(evaluation)
        self.session.flush()
        self.audit.append(
            actor=APPLICANT.username, role=APPLICANT.role, action="evaluation.submit",
            subject_type="case", subject_id=case.number, data={"level": level.value},
        )
        if level in BAD_LEVELS:
            self._open_rectification(evaluation, case)
        return evaluation

    def _open_rectification(self, evaluation: Evaluation, case: Case) -> Rectification:
        rectification = Rectification(
            state=RectificationState.PENDING,
            opened_at=self.clock(),
            due_on=self.calendar.add_working_days(self.today(), RECTIFICATION_WORKING_DAYS),
            extended=False,
        )
        evaluation.rectification = rectification
        self.session.flush()
        self.audit.append(
            actor=APPLICANT.username, role=APPLICANT.role, action="rectification.open",
            subject_type="rectification", subject_id=str(rectification.id),
            data={"case": case.number, "level": evaluation.level.value,
                  "due_on": rectification.due_on.isoformat()},
        )
        return rectification

    # -- rectification ---------------------------------------------------------------------

    def rectification(self, rectification_id: int, *, for_update: bool = False) -> Rectification:
        """One rectification; ``for_update`` locks it until the transaction ends."""
        query = select(Rectification).where(Rectification.id == rectification_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        rectification = self.session.scalar(query)
        if rectification is None:
            raise NotFound(f"No rectification {rectification_id}.",
                           {"rectification_id": rectification_id})
        return rectification

    def rectification_overdue(self, rectification: Rectification) -> bool:
        """Past its deadline and still open."""
        return (
            rectification.state in OPEN_RECTIFICATION_STATES
            and self.today() > rectification.due_on
        )

    @staticmethod
    def rectified_in_time(rectification: Rectification) -> bool | None:
        """Done by the deadline (True), done late or not rectifiable (False); None while
        open or when the rating was found invalid."""
        if rectification.state is RectificationState.DONE and rectification.closed_at:
            return to_shanghai_date(rectification.closed_at) <= rectification.due_on
        if rectification.state is RectificationState.CANNOT_RECTIFY:
            return False
        return None

    def search_rectifications(
        self,
        *,
        states: Iterable[RectificationState] = (),
        overdue: bool | None = None,
        cursor: str | None = None,
        per_page: int = 20,
    ) -> Page[Rectification]:
        """A keyset page of rectifications by state and overdue flag, the earliest deadline
        first (node/listing.py)."""
        conditions: list[ColumnElement[bool]] = []
        states = list(states)
        if states:
            conditions.append(Rectification.state.in_(states))
        if overdue is not None:
            late = and_(
                Rectification.state.in_(OPEN_RECTIFICATION_STATES),
                Rectification.due_on < self.today(),
            )
            conditions.append(late if overdue else not_(late))
        return self._page(
            select(Rectification)
            .options(selectinload(Rectification.evaluation).selectinload(Evaluation.case)),
            (Rectification.due_on, Rectification.id), conditions,
            [Rectification.state == s for s in states] or [true()], cursor, per_page,
        )

    def act_on_rectification(
        self,
        rectification: Rectification,
        action: RectificationAction,
        actor: Actor,
        *,
        text: str | None = None,
        days: int | None = None,
    ) -> Rectification:
        """Take ``action`` on a rectification; ``text`` is the note (complete) or the reason
        (dispute, invalidate, cannot_rectify, extend), ``days`` the extension in working days.
        """
        transition = RECTIFICATION_TRANSITIONS[action]
        allowed = allowed_rectification_actions(rectification.state,
                                                extended=rectification.extended)
        if action.value not in allowed:
            again = action is RectificationAction.EXTEND and rectification.extended
            raise RectificationStateError(
                f"Rectification {rectification.id} has already been extended once."
                if again and rectification.state in transition.sources
                else f"Action {action.value!r} is not possible for a rectification in state "
                f"{rectification.state.value!r} (allowed: {', '.join(allowed) or 'none'}).",
                rectification.state,
                allowed,
            )
        written = (text or "").strip()
        problems: dict[str, list[str]] = {}
        if transition.text_field and not written:
            problems[transition.text_field] = [
                f"{action.value} needs a written {transition.text_field}"
            ]
        if action is RectificationAction.EXTEND and (
            days is None or not 1 <= days <= RECTIFICATION_MAX_EXTENSION_DAYS
        ):
            problems["days"] = [
                f"an extension is 1 to {RECTIFICATION_MAX_EXTENSION_DAYS} working days"
            ]
        if problems:
            raise ValidationFailed(problems)

        before = rectification.state
        data: dict[str, object] = {"from": before.value}
        if transition.text_field:
            data[transition.text_field] = written
        match action:
            case RectificationAction.COMPLETE:
                rectification.note = written
            case RectificationAction.DISPUTE:
                # a second dispute (after an upheld one) replaces the reason shown; the audit
                # chain keeps both
                rectification.dispute_reason = written
            case RectificationAction.INVALIDATE:
                rectification.void_reason = written
                rectification.evaluation.void = True
                # the rating leaves that day's figures
                invalidate(self.session, [to_shanghai_date(rectification.evaluation.at)])
            case RectificationAction.CANNOT_RECTIFY:
                rectification.cannot_rectify_reason = written
            case RectificationAction.EXTEND:
                assert days is not None  # noqa: S101 - checked above
                data["due_on_before"] = rectification.due_on.isoformat()
                rectification.due_on = self.calendar.add_working_days(rectification.due_on, days)
                rectification.extended = True
                rectification.extension_days = days
                rectification.extension_reason = written
                data["days"] = days
            case _:
                pass  # start and uphold change the state only
        rectification.state = transition.target or before
        if action in CLOSED_BY:
            rectification.closed_at = self.clock()
        data["to"] = rectification.state.value
        data["due_on"] = rectification.due_on.isoformat()
        self.session.flush()
        self.audit.append(
            actor=actor.username, role=actor.role, action=f"rectification.{action.value}",
            subject_type="rectification", subject_id=str(rectification.id), data=data,
        )
        return rectification

    # -- complaints ------------------------------------------------------------------------

    def file_complaint(
        self,
        *,
        content: str,
        case_number: str | None = None,
        code: str | None = None,
        window_code: str | None = None,
        staff_code: str | None = None,
        contact_phone: str | None = None,
    ) -> Complaint:
        """Register a complaint against a case (its query code proves the complainant is the
        applicant), a window or a staff member named by the public 工号 of their staff record;
        it is due in :data:`COMPLAINT_WORKING_DAYS` working days.

        A 工号 no staff record has is accepted as given, for the supervisors to resolve:
        refusing it would tell the public which numbers exist.  Login names are never asked.
        """
        problems: dict[str, list[str]] = {}
        content = content.strip()
        staff_code = (staff_code or "").strip() or None
        if not content:
            problems["content"] = ["say what the complaint is about"]
        if not (case_number or window_code or staff_code):
            problems["target"] = [
                "name what the complaint is against: case_number, window_code or staff_code"
            ]
        if case_number and not (code and code.strip()):
            problems["code"] = ["a complaint about a case needs the case's query code"]
        if contact_phone:
            found = phone_problems(contact_phone)
            if found:
                problems["contact_phone"] = found
        window = None
        if window_code:
            window = self.session.scalar(select(Window).where(Window.code == window_code))
            if window is None:
                problems["window_code"] = [f"no window {window_code!r} at this center"]
        if problems:
            raise ValidationFailed(problems)
        case = self.case_for_applicant(case_number, code or "") if case_number else None
        member = self.session.scalar(select(StaffMember).where(StaffMember.code == staff_code)) \
            if staff_code else None
        accounts = self.session.scalars(select(User).where(
            User.staff_member_id == member.id, User.role.in_(SERVING_ROLES))).all() \
            if member is not None else []

        now = self.clock()
        year = to_shanghai_date(now).year
        number = f"{self.node_code}-TS-{year}-{next_number(self.session, f'complaint-{year}'):06d}"
        query_code = "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(8))
        complaint = Complaint(
            number=number,
            query_code_hash=hash_query_code(number, query_code),
            case=case,
            window=window,
            staff_code=staff_code,
            staff_member=member,
            clerk=accounts[0] if len(accounts) == 1 else None,
            content=content,
            contact_phone=contact_phone or None,
            received_at=now,
            due_on=self.calendar.add_working_days(self.today(), COMPLAINT_WORKING_DAYS),
            state=ComplaintState.RECEIVED,
        )
        self.session.add(complaint)
        self.session.flush()
        self.audit.append(
            actor=COMPLAINANT.username, role=COMPLAINANT.role, action="complaint.receive",
            subject_type="complaint", subject_id=number,
            data={"case": case.number if case else None,
                  "window": window.code if window else None,
                  "staff_code": staff_code, "staff_known": member is not None,
                  "due_on": complaint.due_on.isoformat()},
        )
        complaint.query_code = query_code  # type: ignore[attr-defined]  # shown this once
        return complaint

    def complaint_for_complainant(self, number: str, code: str) -> PublicComplaint:
        """The complaint ``number`` if ``code`` is its query code: an unknown number, a wrong
        code and a complaint without a code get the same error after the same work."""
        complaint = self.session.scalar(select(Complaint).where(Complaint.number == number))
        matches = verify_query_code(complaint.query_code_hash if complaint is not None
                                    else None, number, code)
        if complaint is None or not matches:
            raise NotFound(_COMPLAINT_LOOKUP_FAILED)
        resolved = complaint.state is ComplaintState.RESOLVED
        return PublicComplaint(
            number=complaint.number, state=complaint.state, received_at=complaint.received_at,
            due_on=complaint.due_on, resolved_at=complaint.resolved_at if resolved else None,
            resolution=complaint.resolution if resolved else None,
            case_number=complaint.case.number if complaint.case is not None else None,
            window_name=complaint.window.name if complaint.window is not None else None,
        )

    def complaint(self, number: str, *, for_update: bool = False) -> Complaint:
        """One complaint by its number; ``for_update`` locks it until the transaction ends."""
        query = select(Complaint).where(Complaint.number == number)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        complaint = self.session.scalar(query)
        if complaint is None:
            raise NotFound(f"No complaint {number!r}.", {"number": number})
        return complaint

    def complaint_overdue(self, complaint: Complaint) -> bool:
        """Past its deadline and not resolved."""
        return complaint.state is ComplaintState.RECEIVED and self.today() > complaint.due_on

    @staticmethod
    def resolved_in_time(complaint: Complaint) -> bool | None:
        """Resolved on or before its deadline; None while open."""
        if complaint.resolved_at is None:
            return None
        return to_shanghai_date(complaint.resolved_at) <= complaint.due_on

    def search_complaints(
        self,
        *,
        states: Iterable[ComplaintState] = (),
        overdue: bool | None = None,
        cursor: str | None = None,
        per_page: int = 20,
    ) -> Page[Complaint]:
        """A keyset page of complaints by state and overdue flag, the earliest deadline first
        (node/listing.py)."""
        conditions: list[ColumnElement[bool]] = []
        states = list(states)
        if states:
            conditions.append(Complaint.state.in_(states))
        if overdue is not None:
            late = and_(Complaint.state == ComplaintState.RECEIVED,
                        Complaint.due_on < self.today())
            conditions.append(late if overdue else not_(late))
        return self._page(
            select(Complaint)
            .options(selectinload(Complaint.case), selectinload(Complaint.window),
                     selectinload(Complaint.staff_member), selectinload(Complaint.clerk)),
            (Complaint.due_on, Complaint.id), conditions,
            [Complaint.state == s for s in states] or [true()], cursor, per_page,
        )

    def resolve_complaint(
        self, complaint: Complaint, actor: Actor, *, resolution: str
    ) -> Complaint:
        """Close a complaint with the written resolution given to the complainant."""
        if complaint.state is not ComplaintState.RECEIVED:
            raise ComplaintStateError(
                f"Complaint {complaint.number} is already {complaint.state.value}.",
                complaint.state, [],
            )
        resolution = resolution.strip()
        if not resolution:
            raise ValidationFailed({"resolution": ["a complaint is resolved in writing"]})
        complaint.state = ComplaintState.RESOLVED
        complaint.resolution = resolution
        complaint.resolved_at = self.clock()
        complaint.resolved_by = actor.username
        self.session.flush()
        self.audit.append(
            actor=actor.username, role=actor.role, action="complaint.resolve",
            subject_type="complaint", subject_id=complaint.number,
            data={"from": ComplaintState.RECEIVED.value, "to": complaint.state.value,
                  "in_time": self.resolved_in_time(complaint)},
        )
        return complaint

    # -- helpers ---------------------------------------------------------------------------

    def _page(
        self,
        query: Select[T],
        columns: tuple[InstrumentedAttribute[Any], InstrumentedAttribute[Any]],
        conditions: list[ColumnElement[bool]],
        branches: list[ColumnElement[bool]],
        cursor: str | None,
        per_page: int,
    ) -> Page[T]:
        """One keyset page in the order of ``columns`` (due date, id): each branch (one state
        each) is a range of the (state, due_on) index, and the ranges are merged."""
        last = decode_cursor(cursor, (dt.date, int)) if cursor else None
        paging = [*conditions, after(columns, last)] if last else conditions
        found: list[Any] = []
        counts = []
        entity = query.column_descriptions[0]["entity"]
        for branch in branches:
            found.extend(self.session.scalars(
                query.where(*paging, branch).order_by(*columns).limit(per_page + 1)))
            counts.append(capped_count(self.session,
                                       select(entity.id).where(*conditions, branch)))

        def key(row: Any) -> tuple[Any, ...]:
            return (row.due_on, row.id)

        found.sort(key=key)
        total = sum(c for c, _ in counts)
        exact = all(e for _, e in counts) and total <= COUNT_CAP
        return page_of_rows(found[:per_page + 1], per_page, key,
                            (total, True) if exact else (COUNT_CAP, False))


__all__ = [
    "APPLICANT",
    "COMPLAINANT",
    "COMPLAINT_WORKING_DAYS",
    "RECTIFICATION_MAX_EXTENSION_DAYS",
    "RECTIFICATION_TRANSITIONS",
    "RECTIFICATION_WORKING_DAYS",
    "AlreadyEvaluated",
    "ComplaintStateError",
    "FeedbackService",
    "NotEvaluable",
    "PublicCase",
    "PublicMatter",
    "PublicStep",
    "RectificationAction",
    "RectificationStateError",
    "allowed_rectification_actions",
]
