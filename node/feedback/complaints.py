"""Complaints (投诉, GB/T 36113-2018) against a case, a window or a clerk, each with a
deadline, resolved by supervision with a written resolution.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, not_, select, true
from sqlalchemy.orm import selectinload

from node.auth.models import User
from node.auth.permissions import Role
from node.calendar.workdays import to_shanghai_date
from node.cases.actors import Actor
from node.cases.query_codes import hash_query_code, verify_query_code
from node.cases.service import QUERY_CODE_ALPHABET
from node.catalog.models import StaffMember, Window
from node.feedback.errors import ComplaintStateError
from node.feedback.inputs import NewComplaint
from node.feedback.lookup import PublicComplaint, PublicLookup
from node.feedback.models import (
    Complaint,
    ComplaintState,
)
from node.listing import Page
from node.numbers import next_number
from schemas.errors import NotFound, ValidationFailed
from schemas.i18n import _
from schemas.names import COMPLAINT_STATE_NAMES, center_text, name_of
from schemas.personal import phone_problems

# Working days to resolve a complaint (GB/T 36113-2018 leaves the limit to each center; five
# working days for a complaint not settled on the spot is the common local rule).
COMPLAINT_WORKING_DAYS = 5


# Staff a member of the public meets at a window and may complain about.
SERVING_ROLES = frozenset({Role.CLERK, Role.APPROVER})


COMPLAINANT = Actor("public", "public")
_COMPLAINT_LOOKUP_FAILED = "No complaint matches this number and query code."


@dataclass(frozen=True)
class FiledComplaint:
    """A complaint just filed, with the query code its complainant is shown this once (only
    its hash is stored, :mod:`node.cases.query_codes`)."""

    complaint: Complaint
    query_code: str

    @property
    def number(self) -> str:
        return self.complaint.number

    @property
    def state(self) -> ComplaintState:
        return self.complaint.state

    @property
    def due_on(self) -> dt.date:
        return self.complaint.due_on


class Complaints(PublicLookup):
    """Complaints: filed by the public, looked up by their number and code, resolved."""


    def file_complaint(self, filed: NewComplaint) -> FiledComplaint:
        """Register a complaint against a case (its query code proves the complainant is the
        applicant), a window or a staff member named by the public 工号 of their staff record;
        it is due in :data:`COMPLAINT_WORKING_DAYS` working days.

        A 工号 no staff record has is accepted as given, for the supervisors to resolve:
        refusing it would tell the public which numbers exist.  Login names are never asked.
        """
        problems: dict[str, list[str]] = {}
        content = filed.content.strip()
        case_number, code, window_code = filed.case_number, filed.code, filed.window_code
        contact_phone = filed.contact_phone
        staff_code = (filed.staff_code or "").strip() or None
        if not content:
            problems["content"] = [_("say what the complaint is about")]
        if not (case_number or window_code or staff_code):
            problems["target"] = [
                _("name what the complaint is against: case_number, window_code or "
                  "staff_code")
            ]
        if case_number and not (code and code.strip()):
            problems["code"] = [
                _("a complaint about a case needs the case's query code")]
        if contact_phone:
            found = phone_problems(contact_phone)
            if found:
                problems["contact_phone"] = found
        window = None
        if window_code:
            window = self.session.scalar(select(Window).where(Window.code == window_code))
            if window is None:
                problems["window_code"] = [
                    _("no window %(code)s at this center", code=repr(window_code))]
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
        if self.travel is not None:
            self.travel.send_up(complaint)  # a case decided at another center: sent there
        return FiledComplaint(complaint, query_code)

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
            # sent up: the center that resolved it (a code, from the reply), else the next
            handled_by=(complaint.resolved_by if resolved else complaint.sent_to)
            if complaint.sent_to is not None else None,
        )

    def complaint(self, number: str, *, for_update: bool = False) -> Complaint:
        """One complaint by its number; ``for_update`` locks it until the transaction ends."""
        query = select(Complaint).where(Complaint.number == number)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        complaint = self.session.scalar(query)
        if complaint is None:
            raise NotFound(_("No complaint %(number)s.", number=repr(number)), {"number": number})
        return complaint

    def complaint_overdue(self, complaint: Complaint) -> bool:
        """Past its deadline and not resolved (here: one sent to the center that handled its
        case is overdue there, not here)."""
        return (complaint.state is ComplaintState.RECEIVED and complaint.sent_to is None
                and self.today() > complaint.due_on)

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
        before: str | None = None,
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
                        Complaint.due_on < self.today(), Complaint.sent_to.is_(None))
            conditions.append(late if overdue else not_(late))
        return self._page(
            select(Complaint)
            .options(selectinload(Complaint.case), selectinload(Complaint.window),
                     selectinload(Complaint.staff_member), selectinload(Complaint.clerk)),
            (Complaint.due_on, Complaint.id), conditions,
            [Complaint.state == s for s in states] or [true()], cursor, per_page, before,
        )

    def resolve_complaint(
        self, complaint: Complaint, actor: Actor, *, resolution: str
    ) -> Complaint:
        """Close a complaint with the written resolution given to the complainant."""
        if complaint.state is not ComplaintState.RECEIVED:
            raise ComplaintStateError(
                _("Complaint %(number)s is already %(state)s.",
                  number=complaint.number, state=name_of(COMPLAINT_STATE_NAMES, complaint.state)),
                complaint.state, [],
            )
        if complaint.sent_to is not None:
            center = (self.travel.center(complaint.sent_to) if self.travel is not None
                      else center_text(complaint.sent_to, None))
            raise ComplaintStateError(
                _("Complaint %(number)s was sent to %(center)s, which handled its case: it is "
                  "resolved there.", number=complaint.number, center=center),
                complaint.state, [])
        resolution = resolution.strip()
        if not resolution:
            raise ValidationFailed({"resolution": [_("a complaint is resolved in writing")]})
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
        if self.travel is not None:
            self.travel.send_back(complaint)  # it came from below: the answer goes back
        return complaint
