"""The life of a case: submission, fees, ownership, notes and the worker's jobs, over the
steps of :mod:`node.cases.transitions` and the queries of :mod:`node.cases.reading`.
Plain Python (no Flask).

Every state change goes through :meth:`CaseService._move`, which checks the state machine,
records the step in the case's history and appends it to the node's audit chain.
"""

from __future__ import annotations

import dataclasses
import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from node.auth.models import User
from node.auth.permissions import Permission, Role, allows
from node.caches import CATALOG, VersionedCache
from node.calendar.workdays import to_shanghai_date
from node.cases.actors import SYSTEM_ACTOR, Actor
from node.cases.errors import CaseStateError
from node.cases.materials import PaperReceipt, check_receipts, rules
from node.cases.models import (
    Case,
    Channel,
    FeePayment,
    PaymentPlace,
    ReceivedMaterial,
    ReviewTask,
    TaskState,
)
from node.cases.query_codes import hash_query_code
from node.cases.states import (
    FINAL_STATES,
    Action,
    CaseState,
    yuan_text,
)
from node.cases.transitions import JOINT_LEGAL_LIMIT_DAYS, CaseTransitions
from node.catalog.models import Department, Matter, MatterMaterial, Window
from node.numbers import next_number
from node.rollups import invalidate
from schemas.errors import Forbidden, ValidationFailed
from schemas.i18n import _
from schemas.personal import phone_problems, resident_id_problems

QUERY_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Application:
    """An application (申请) as a window, the public site or a village agent hands it in: what
    :meth:`CaseService.submit` registers (the API's SubmitSchema loads one)."""

    matter_code: str
    applicant_name: str
    channel: Channel = Channel.WINDOW
    applicant_id_number: str | None = None
    applicant_phone: str | None = None
    agent_name: str | None = None
    agent_id_number: str | None = None
    applicant_consent: bool = False
    joint_department_codes: Sequence[str] = ()
    notes: str = ""
    # the materials a window received on paper (node/cases/materials.py); None: not recorded
    # (an API client that leaves received_materials out; online: its files are what it sent)
    received: Sequence[PaperReceipt] | None = None

    def normalised(self) -> Application:
        """ID numbers and phones as stored: without surrounding spaces, ID check letter upper."""
        return dataclasses.replace(
            self,
            channel=Channel(self.channel),
            applicant_id_number=_id_number(self.applicant_id_number),
            agent_id_number=_id_number(self.agent_id_number),
            applicant_phone=None if self.applicant_phone is None else self.applicant_phone.strip(),
        )


def _id_number(value: str | None) -> str | None:
    return None if value is None else value.strip().upper()


@dataclass(frozen=True)
class Submission:
    case: Case
    query_code: str  # shown once to the applicant; only its hash is stored (query_codes.py)




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


class CaseService(CaseTransitions):
    """A node's cases: reading (:class:`CaseReader`), steps (:class:`CaseTransitions`),
    submission, fees, ownership and the worker's jobs."""

    # -- submission ------------------------------------------------------------------------

    def submit(self, application: Application, actor: Actor) -> Submission:
        """Register an application (收件) at a window, online, by a village agent or at a
        department office outside the center."""
        matter = self._active_matter(application.matter_code)
        problems: dict[str, list[str]] = {}
        if matter is None:
            problems["matter_code"] = [
                _("no matter %(code)s in the catalog", code=repr(application.matter_code))]
        application = application.normalised()
        channel = application.channel
        if matter is not None and channel is Channel.ONLINE and not matter.online:
            problems["channel"] = [_("matter %(code)s is not offered online; apply at the "
                                     "window", code=repr(matter.code))]
        for field, value, check in (
            ("applicant_id_number", application.applicant_id_number, resident_id_problems),
            ("agent_id_number", application.agent_id_number, resident_id_problems),
            ("applicant_phone", application.applicant_phone, phone_problems),
        ):
            if value:
                found = check(value)
                if found:
                    problems[field] = found
        if channel is Channel.VILLAGE_AGENT:
            if not application.agent_name:
                problems.setdefault("agent_name", []).append(_("a village agent must be named"))
            if not application.applicant_consent:
                problems.setdefault("applicant_consent", []).append(
                    _("the applicant's consent to the agent must be recorded")
                )
        joint_codes = list(dict.fromkeys(application.joint_department_codes))
        joint = [
            self.session.scalar(select(Department).where(Department.code == c)) for c in joint_codes
        ]
        unknown = [c for c, d in zip(joint_codes, joint, strict=True) if d is None or d.retired_at]
        if unknown:
            problems["joint_department_codes"] = [
                _("no active department %(code)s", code=repr(c)) for c in unknown]
        if (
            matter is not None
            and joint_codes
            and matter.promised_limit_days > JOINT_LEGAL_LIMIT_DAYS
        ):
            problems.setdefault("joint_department_codes", []).append(
                _("joint handling must finish within %(limit)s working days (Art. 42); "
                  "this matter promises %(promised)s",
                  limit=JOINT_LEGAL_LIMIT_DAYS, promised=matter.promised_limit_days)
            )
        names: dict[int, str] = {}
        if matter is not None and application.received:
            materials = self.session.scalars(
                select(MatterMaterial).where(MatterMaterial.matter_id == matter.id)).all()
            names = {m.position: m.name for m in materials}
            problems.update(check_receipts(rules(materials, 1), application.received))
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
            applicant_name=application.applicant_name,
            applicant_id_number=application.applicant_id_number or None,
            applicant_phone=application.applicant_phone or None,
            agent_name=application.agent_name,
            agent_id_number=application.agent_id_number or None,
            applicant_consent=application.applicant_consent,
            owner_id=actor.user_id if actor.role == Role.CLERK.value else None,
            received_at=now,
            received_on=to_shanghai_date(now),
            promised_days=matter.promised_limit_days,
            fee_due_fen=matter.fee_amount_fen,
            fee_paid_fen=0,
            notes=application.notes,
            # a new case has none of these yet: saying so spares a query for each
            events=[], notices=[], suspensions=[], payments=[], attachments=[],
            received_materials=[
                ReceivedMaterial(position=r.position, name=names[r.position], form=r.form,
                                 copies=r.copies) for r in application.received or ()],
            materials_recorded=application.received is not None,
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
                _("Fees are recorded for accepted or approved cases."),
                case.state,
                ["accept", "approve"],
            )
        if amount_fen <= 0 or amount_fen > case.fee_due_fen - case.fee_paid_fen:
            raise ValidationFailed(
                {"amount_fen": [_("between 0.01 and %(owed)s yuan",
                                  owed=yuan_text(case.fee_due_fen - case.fee_paid_fen))]}
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

    def record_visit(
        self, case: Case, actor: Actor, *, reason: str | None = None,
        version: int | None = None,
    ) -> Case:
        """登记到厅: the applicant came to the hall once more for this case (to bring a
        material, to collect the result…), one click of the window, one ``visit`` event of
        the history.  The receipt at a window or a department office is the first visit and
        is not recorded again (docs/metrics.md, 跑动次数)."""
        self._check_version(case, version)
        if case.state in FINAL_STATES:
            raise CaseStateError(
                _("A visit is recorded before the case is closed (delivered, rejected, "
                  "withdrawn or returned): record it, then deliver."),
                case.state, [],
            )
        self._authorize_clerk(case, actor)
        if case.completed_on is not None:
            invalidate(self.session, [case.completed_on])  # counted on the completion day
        self._note(case, "visit", actor, (reason or "").strip() or None, {}, public=True)
        return case

    def waive_fee(
        self, case: Case, actor: Actor, *, reason: str, version: int | None = None
    ) -> Case:
        self._check_version(case, version)
        if not reason.strip():
            raise ValidationFailed({"reason": [_("a fee waiver needs a reason")]})
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
                {"to": [
                    _("cases are handed over to an active account that does window work")]})
        if actor.role == Role.CLERK.value and case.owner_id not in (None, actor.user_id):
            raise Forbidden(
                _("Only the owning clerk, an admin or a supervisor hands a case over."))
        if not reason.strip():
            raise ValidationFailed({"reason": [_("a hand-over needs a reason")]})
        previous = case.owner.username if case.owner else None
        case.owner = to_user
        self._note(case, "hand_over", actor, reason, {"from": previous, "to": to_user.username})
        return case

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
