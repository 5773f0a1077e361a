"""The case state machine (DOMAIN.md, "A case"): states, actions and who may take them.

Plain Python: the service asks this module whether an action is allowed from a state and
for a role, and what state it leads to.  Nothing here touches the database.

    submitted ──request_supplement──▶ supplement_requested ──supplement──▶ submitted
    submitted / supplement_requested ──accept──▶ accepted ──start_review──▶ in_review
    submitted / supplement_requested ──reject──▶ rejected            (reason required)
    submitted ──commit──▶ approved                                   (告知承诺制)
    accepted / in_review ──suspend──▶ suspended ──resume──▶ in_review (reason required)
    accepted / in_review ──approve──▶ approved / ──deny──▶ denied     (deny: reason)
    accepted / in_review ──deem_approve──▶ approved                  (超时默认许可, system)
    approved / denied ──complete──▶ completed ──deliver──▶ delivered
    submitted … suspended ──withdraw──▶ withdrawn                    (reason required)
    accepted / in_review ──forward──▶ forwarded                      (上报 to an ancestor)
    forwarded ──receive_approval / receive_denial──▶ approved / denied (case.result, system)
    forwarded ──receive_return──▶ accepted           (case.result "returned", system; re-route)
    a case from below: accepted / in_review ──return──▶ returned      (退回, reason required)
    approved / denied ──complete──▶ completed  (also system: a case from below is completed
                                                when decided, and its result goes back)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from node.auth.permissions import Role
from schemas.i18n import _
from schemas.names import CASE_ACTION_NAMES, CASE_STATE_NAMES, ROLE_NAMES, name_of, names_of


class CaseState(enum.StrEnum):
    SUBMITTED = "submitted"  # 收件
    SUPPLEMENT_REQUESTED = "supplement_requested"  # 补齐补正
    ACCEPTED = "accepted"  # 受理
    REJECTED = "rejected"  # 不予受理
    IN_REVIEW = "in_review"  # 审核
    SUSPENDED = "suspended"  # 挂起（特别程序）
    APPROVED = "approved"  # 准予许可
    DENIED = "denied"  # 不予许可
    COMPLETED = "completed"  # 办结
    DELIVERED = "delivered"  # 送达
    WITHDRAWN = "withdrawn"  # 撤回
    FORWARDED = "forwarded"  # 转报上级: waiting for the result from above
    RETURNED = "returned"  # 退回: a case from below sent back to its sender undecided


class Action(enum.StrEnum):
    REQUEST_SUPPLEMENT = "request_supplement"
    SUPPLEMENT = "supplement"
    ACCEPT = "accept"
    REJECT = "reject"
    COMMIT = "commit"
    START_REVIEW = "start_review"
    SUSPEND = "suspend"
    RESUME = "resume"
    APPROVE = "approve"
    DENY = "deny"
    DEEM_APPROVE = "deem_approve"
    DEEM_ACCEPT = "deem_accept"
    COMPLETE = "complete"
    DELIVER = "deliver"
    WITHDRAW = "withdraw"
    FORWARD = "forward"
    RECEIVE_APPROVAL = "receive_approval"
    RECEIVE_DENIAL = "receive_denial"
    RECEIVE_RETURN = "receive_return"
    RETURN = "return"


class SystemRole(enum.StrEnum):
    """The worker's scheduled jobs act as this role (deemed acceptance and approval)."""

    SYSTEM = "system"


S = CaseState
OPEN_STATES = frozenset({S.SUBMITTED, S.SUPPLEMENT_REQUESTED, S.ACCEPTED, S.IN_REVIEW, S.SUSPENDED})
# Accepted and not yet decided: the deadline clock is running (or suspended).
CLOCK_STATES = frozenset({S.ACCEPTED, S.IN_REVIEW, S.SUSPENDED})
DECIDED_STATES = frozenset({S.APPROVED, S.DENIED, S.COMPLETED, S.DELIVERED})
FINAL_STATES = frozenset({S.REJECTED, S.DELIVERED, S.WITHDRAWN, S.RETURNED})


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[CaseState]
    target: CaseState
    roles: frozenset[str]
    needs_reason: bool = False
    public: bool = True  # shown to the applicant in the public lookup


def _t(
    action: Action,
    sources: set[CaseState],
    target: CaseState,
    roles: set[str],
    *,
    needs_reason: bool = False,
    public: bool = True,
) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(roles), needs_reason, public)


CLERK, APPROVER, SYSTEM = Role.CLERK.value, Role.APPROVER.value, SystemRole.SYSTEM.value

TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        _t(
            Action.REQUEST_SUPPLEMENT,
            {S.SUBMITTED, S.SUPPLEMENT_REQUESTED},
            S.SUPPLEMENT_REQUESTED,
            {CLERK},
        ),
        _t(Action.SUPPLEMENT, {S.SUPPLEMENT_REQUESTED}, S.SUBMITTED, {CLERK}),
        _t(Action.ACCEPT, {S.SUBMITTED, S.SUPPLEMENT_REQUESTED}, S.ACCEPTED, {CLERK}),
        _t(Action.DEEM_ACCEPT, {S.SUBMITTED}, S.ACCEPTED, {SYSTEM}),
        _t(
            Action.REJECT,
            {S.SUBMITTED, S.SUPPLEMENT_REQUESTED},
            S.REJECTED,
            {CLERK},
            needs_reason=True,
        ),
        _t(Action.COMMIT, {S.SUBMITTED}, S.APPROVED, {CLERK}),
        _t(Action.START_REVIEW, {S.ACCEPTED}, S.IN_REVIEW, {APPROVER}, public=False),
        _t(Action.SUSPEND, {S.ACCEPTED, S.IN_REVIEW}, S.SUSPENDED, {APPROVER}, needs_reason=True),
        _t(Action.RESUME, {S.SUSPENDED}, S.IN_REVIEW, {APPROVER}),
        # a window clerk decides only where the window holds the approve power (service checks)
        _t(Action.APPROVE, {S.ACCEPTED, S.IN_REVIEW}, S.APPROVED, {APPROVER, CLERK}),
        _t(Action.DENY, {S.ACCEPTED, S.IN_REVIEW}, S.DENIED, {APPROVER, CLERK}, needs_reason=True),
        _t(Action.DEEM_APPROVE, {S.ACCEPTED, S.IN_REVIEW}, S.APPROVED, {SYSTEM}),
        _t(Action.COMPLETE, {S.APPROVED, S.DENIED}, S.COMPLETED, {CLERK, SYSTEM}),
        _t(Action.DELIVER, {S.COMPLETED}, S.DELIVERED, {CLERK}),
        _t(Action.WITHDRAW, set(OPEN_STATES), S.WITHDRAWN, {CLERK}, needs_reason=True),
        # 上报: the origin accepted it (its clock runs across the chain); a center that
        # received it from below may pass it further up (三级联动)
        _t(Action.FORWARD, {S.ACCEPTED, S.IN_REVIEW}, S.FORWARDED, {CLERK}),
        _t(Action.RECEIVE_APPROVAL, {S.FORWARDED}, S.APPROVED, {SYSTEM}),
        _t(Action.RECEIVE_DENIAL, {S.FORWARDED}, S.DENIED, {SYSTEM}),
        _t(Action.RECEIVE_RETURN, {S.FORWARDED}, S.ACCEPTED, {SYSTEM}),
        # only a case received from below can be returned (the service checks)
        _t(Action.RETURN, {S.ACCEPTED, S.IN_REVIEW}, S.RETURNED, {APPROVER, CLERK, SYSTEM},
           needs_reason=True),
    )
}


class TransitionRefused(Exception):
    """An action not allowed from a state (or without a reason); carries what is allowed."""

    def __init__(self, message: str, state: CaseState, allowed: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.state = state
        self.allowed = allowed


def allowed_actions(state: CaseState, role: str | None = None) -> list[str]:
    """Actions possible from ``state`` (for ``role`` when given), in a stable order."""
    return [
        t.action.value
        for t in TRANSITIONS.values()
        if state in t.sources and (role is None or role in t.roles)
    ]


def plan(state: CaseState, action: Action, role: str, reason: str | None) -> Transition:
    """The transition ``action`` takes from ``state``; refused when invalid."""
    transition = TRANSITIONS[action]
    if state not in transition.sources:
        raise TransitionRefused(
            _("Action %(action)s is not possible for a case in state %(state)s "
              "(allowed: %(allowed)s).",
              action=name_of(CASE_ACTION_NAMES, action), state=name_of(CASE_STATE_NAMES, state),
              allowed=names_of(CASE_ACTION_NAMES, allowed_actions(state))),
            state,
            allowed_actions(state),
        )
    if role not in transition.roles:
        raise PermissionError(_("the %(role)s role cannot %(action)s a case",
                                role=name_of(ROLE_NAMES, role),
                                action=name_of(CASE_ACTION_NAMES, action)))
    if transition.needs_reason and not (reason and reason.strip()):
        raise ValueError(_("%(action)s needs a written reason",
                           action=name_of(CASE_ACTION_NAMES, action)))
    return transition


def yuan_text(fen: int) -> str:
    """An amount in 分 as a message says it in 元, with two decimals (164000 → 1640.00)."""
    return f"{fen / 100:.2f}"
