"""Who may change a case: one rule for every change, the state steps and the files alike.

Plain Python (no Flask, no database queries).  A change to a case passes three checks:

- **the state machine** (:mod:`node.cases.states`): the step is possible from the case's
  state, for the actor's role;
- **ownership** (首问负责制): a window clerk acts only on a case they own; the first clerk to
  take an unowned case (an online application) becomes its owner;
- **the department**: an approver acts only on a case in which their department has a part
  (a review task, the lead or a joint one); a window clerk decides only where the window
  holds the approve power for the matter, and then for the lead department.

Files follow the rule of the work they belong to (:func:`authorize_file`):

- a **material** (申请材料) belongs to handling the application: it is added while the case
  is open (submitted … suspended) by the owning clerk or by an approver of a department with
  a part in it, or by the applicant with their online application before a clerk takes it;
- a **result document** (结果文书) belongs to the decision: only the deciding department adds
  it — an approver of a department with a part in the case, or the owning clerk where the
  window holds the approve power — while the case is before it or just decided (accepted,
  in review, approved, denied) and was not decided at another center.

Administrators, supervisors and viewers change no case here (they hold neither
``cases.handle`` nor ``cases.decide``); hand-over has its own rule in the service.
"""

from __future__ import annotations

from node.auth.permissions import Role
from node.cases.actors import Actor
from node.cases.errors import CaseStateError
from node.cases.models import AttachmentRole, Case, Channel, ReviewTask
from node.cases.states import OPEN_STATES, CaseState, allowed_actions
from schemas.errors import Forbidden
from schemas.i18n import _
from schemas.names import CASE_STATE_NAMES, FILE_NAMES, ROLE_NAMES, name_of, names_of

CLERK, APPROVER = Role.CLERK.value, Role.APPROVER.value
APPLICANT = "applicant"  # the public applicant, adding materials to their online application

# The states in which the deciding department works on its decision or has just made it: a
# result document (结果文书) is added then, before the case is completed (办结).  A case from
# a lower center is completed the moment it is decided, so its documents are added before.
DECISION_STATES = frozenset(
    {CaseState.ACCEPTED, CaseState.IN_REVIEW, CaseState.APPROVED, CaseState.DENIED}
)
FILE_STATES = {AttachmentRole.MATERIAL: OPEN_STATES, AttachmentRole.RESULT: DECISION_STATES}


def takes_ownership(case: Case, actor: Actor) -> bool:
    """First-inquiry responsibility (首问负责): whether ``actor`` may act as the case's clerk.

    True when the actor is a clerk and the case has no owner yet: the caller makes them its
    owner.  A clerk acting on another clerk's case is refused; other roles pass (their own
    checks follow).
    """
    if actor.role != CLERK:
        return False
    if case.owner_id is None:
        return True
    if case.owner_id != actor.user_id:
        owner = case.owner.username if case.owner else "another clerk"
        raise Forbidden(
            _("Case %(number)s is owned by %(owner)s (首问负责); ask for a hand-over.",
              number=case.number, owner=owner),
            {"owner": owner},
        )
    return False


def deciding_task(case: Case, actor: Actor) -> ReviewTask:
    """The review task ``actor`` decides on this case: their department's task for an
    approver, the lead task for a clerk whose window holds the approve power."""
    if actor.role == CLERK:
        if not case.matter.power_approve:
            raise Forbidden(
                _("The window holds no approve power for matter %(code)s; an approver of the "
                  "department decides.",
                  code=case.matter.code),
            )
        department_id = case.department_id
    elif actor.role == APPROVER:
        department_id = actor.department_id or -1
    else:
        raise Forbidden(_("The %(role)s role decides no case.",
                          role=name_of(ROLE_NAMES, actor.role)), {"role": actor.role})
    task = next((t for t in case.tasks if t.department_id == department_id), None)
    if task is None:
        raise Forbidden(
            _("Your department has no part in case %(number)s.", number=case.number),
            {"departments": [t.department.code for t in case.tasks]},
        )
    return task


def _has_part(case: Case, actor: Actor) -> None:
    """An approver's department must have a task on the case."""
    if not any(t.department_id == actor.department_id for t in case.tasks):
        raise Forbidden(
            _("Your department has no part in case %(number)s.", number=case.number),
            {"departments": [t.department.code for t in case.tasks]},
        )


def authorize_file(case: Case, actor: Actor, role: AttachmentRole) -> bool:
    """May ``actor`` add a file of ``role`` to ``case`` now?  Raises :class:`Forbidden` for
    the wrong person and :class:`CaseStateError` for the wrong moment; returns whether the
    actor (a clerk) takes ownership of an unowned case by doing so."""
    wanted = name_of(FILE_NAMES, role)
    if actor.role not in (CLERK, APPROVER, APPLICANT):
        raise Forbidden(_("The %(role)s role adds no files to cases.",
                          role=name_of(ROLE_NAMES, actor.role)),
                        {"role": actor.role, "file_role": role.value})
    if case.state not in FILE_STATES[role]:
        states = names_of(CASE_STATE_NAMES, (s for s in CaseState if s in FILE_STATES[role]))
        raise CaseStateError(
            _("A %(wanted)s is added to a case in one of the states %(states)s; "
              "case %(number)s is %(state)s.",
              wanted=wanted, states=states, number=case.number,
              state=name_of(CASE_STATE_NAMES, case.state)),
            case.state, allowed_actions(case.state),
        )
    if actor.role == APPLICANT:
        # only with the online application itself, before any clerk has taken it
        if (role is not AttachmentRole.MATERIAL or case.channel is not Channel.ONLINE
                or case.state is not CaseState.SUBMITTED or case.owner_id is not None):
            raise Forbidden(_("An applicant adds materials only with the online application."),
                            {"role": actor.role, "file_role": role.value})
        return False
    if role is AttachmentRole.MATERIAL:
        if actor.role == APPROVER:
            _has_part(case, actor)
            return False
        return takes_ownership(case, actor)
    if case.forwarded_to is not None:
        raise Forbidden(
            _("Case %(number)s was decided at %(forwarded_to)s: its result documents come from "
              "there.",
              number=case.number, forwarded_to=case.forwarded_to),
            {"decided_by_node": case.forwarded_to},
        )
    deciding_task(case, actor)
    return takes_ownership(case, actor)


def addable_file_roles(case: Case, actor: Actor) -> list[AttachmentRole]:
    """The kinds of file ``actor`` may add to ``case`` now (for the case page's form)."""
    found = []
    for role in AttachmentRole:
        try:
            authorize_file(case, actor, role)
        except (Forbidden, CaseStateError):
            continue
        found.append(role)
    return found


__all__ = [
    "DECISION_STATES",
    "addable_file_roles",
    "authorize_file",
    "deciding_task",
    "takes_ownership",
]
