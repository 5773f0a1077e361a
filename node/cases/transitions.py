"""A case's steps through the state machine: notice, acceptance, review, suspension,
extension, decision, completion, delivery and withdrawal.

Every state change goes through :meth:`CaseTransitions._move`, which checks the state machine,
records the step in the case's history and appends it to the node's audit chain.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm.attributes import flag_modified

from node.auth.models import User
from node.cases import authorization, documents
from node.cases.actors import SYSTEM_ACTOR, Actor
from node.cases.authorization import deciding_task, takes_ownership
from node.cases.errors import CaseStateError, StaleCaseError
from node.cases.models import (
    AttachmentRole,
    Case,
    CaseEvent,
    DeliveryMethod,
    ReviewTask,
    SupplementNotice,
    Suspension,
    SuspensionKind,
    TaskState,
)
from node.cases.reading import CaseReader
from node.cases.states import (
    CLOCK_STATES,
    Action,
    CaseState,
    TransitionRefused,
    plan,
    yuan_text,
)
from node.numbers import next_number
from node.rollups import invalidate
from schemas.errors import Conflict, Forbidden, ValidationFailed
from schemas.i18n import _

# reaching one of these closes the case for the deadline clock and the metrics
CLOSING_STATES = frozenset(
    {CaseState.COMPLETED, CaseState.REJECTED, CaseState.WITHDRAWN, CaseState.FORWARDED,
     CaseState.RETURNED}
)
NOTICE_WINDOW_DAYS = 5  # Art. 32: notice on the spot or within five (working) days
JOINT_LEGAL_LIMIT_DAYS = 45  # Art. 42: joint or concentrated handling
EXTENSION_DAYS = 10  # Art. 42: a decision may be extended by ten days…
JOINT_EXTENSION_DAYS = 15  # …and joint handling by fifteen


def touch(case: Case, now: dt.datetime) -> None:
    """Every recorded step rewrites the case row, so its version moves and a client acting on
    what it read before gets a 409 — even when no column changed in the same clock tick."""
    case.updated_at = now
    flag_modified(case, "updated_at")


class CaseTransitions(CaseReader):
    """The steps of a case through the state machine (:mod:`node.cases.states`)."""

    def _check_version(self, case: Case, version: int | None) -> None:
        if version is not None and version != case.version:
            raise StaleCaseError(
                _("Case %(number)s has changed (version %(current)s, you sent %(sent)s); "
                  "reload it and try again.",
                  number=case.number, current=case.version, sent=version),
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
            hook(self, case, action, before, transition.target, reason)
        return before

    move = _move  # for the forwarding side, which adds its own actions

    def record_arrival(self, case: Case, reason: str, data: Mapping[str, Any]) -> None:
        """Record a case that arrived from another node (its first step here)."""
        self._record(case, None, SYSTEM_ACTOR, None, case.state, reason, data,
                     name="receive_forward")
        for hook in self.after_step:
            hook(self, case, None, None, case.state, None)

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
            problems["material_positions"] = [
                _("the matter has no material #%(position)s", position=p) for p in unknown]
        if not material_positions and not other_items:
            problems["items"] = [_("a notice lists at least one missing item")]
        if case.notices and not (repeat_reason and repeat_reason.strip()):
            problems["repeat_reason"] = [
                _("a second notice for the same case needs a reason (一次性告知 means once)")
            ]
        if problems:
            raise ValidationFailed(problems)
        if (
            case.state is CaseState.SUBMITTED
            and not case.notices
            and self._notice_window_passed(case)
        ):
            raise Conflict(
                _("Five working days have passed since case %(number)s was received without a "
                  "notice: it counts as accepted from the day it was received (Art. 32).",
                  number=case.number),
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
        documents.record_notice(case, notice)
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
            raise Conflict(_("Matter %(code)s does not allow notify-and-commit.",
                             code=case.matter.code))
        if not commitment.strip():
            raise ValidationFailed({"commitment": [
                _("the applicant's commitment must be recorded")]})
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
                _("Only a case whose clock runs can be extended."), case.state,
                ["approve", "deny", "suspend"],
            )
        self._require_task(case, actor)
        limit = JOINT_EXTENSION_DAYS if len(case.tasks) > 1 else EXTENSION_DAYS
        problems: dict[str, list[str]] = {}
        if case.extension_days:
            raise Conflict(_("Case %(number)s was already extended once (Art. 42).",
                             number=case.number))
        if not 1 <= days <= limit:
            problems["days"] = [_("between 1 and %(limit)s working days (Art. 42)", limit=limit)]
        if not reason.strip():
            problems["reason"] = [
                _("an extension needs the written approval's reason")]
        if problems:
            raise ValidationFailed(problems)
        case.extension_days = days
        case.extension_reason = reason
        self._recompute_deadline(case)
        self._note(
            case, "extend", actor, reason, {"days": days, "deadline_on": str(case.deadline_on)}
        )
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
            raise Conflict(_("Your department already decided case %(number)s.",
                             number=case.number))
        if not approve and not (reason and reason.strip()):
            raise ValidationFailed({"reason": [_("deny needs a written reason")]})
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
                _("Case %(number)s owes %(owed)s yuan; record the payment or a waiver first.",
                  number=case.number, owed=yuan_text(case.fee_due_fen - case.fee_paid_fen)),
                {"fee_due_fen": case.fee_due_fen, "fee_paid_fen": case.fee_paid_fen},
            )
        self._move(case, Action.COMPLETE, actor, version=version)
        case.completed_at = self.clock()
        case.completed_on = self.today()
        self.session.flush()
        return case

    def deliver(self, case: Case, actor: Actor, *, method: DeliveryMethod = DeliveryMethod.HALL,
                tracking: str | None = None, version: int | None = None) -> Case:
        """送达: the result reached the applicant, at the hall or by post (邮寄, tracked)."""
        reason = _("邮寄送达，邮件单号 %(tracking)s", tracking=tracking) \
            if method is DeliveryMethod.POST else None
        self._move(case, Action.DELIVER, actor, reason=reason, version=version)
        case.delivered_at = self.clock()
        case.delivery_method = method
        case.delivery_tracking = tracking if method is DeliveryMethod.POST else None
        self.session.flush()
        return case

    def withdraw(
        self, case: Case, actor: Actor, *, reason: str, version: int | None = None
    ) -> Case:
        """The applicant withdrew the application (撤回)."""
        self._move(case, Action.WITHDRAW, actor, reason=reason, version=version)
        return case
