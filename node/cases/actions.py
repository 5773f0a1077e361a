"""Every action a member of staff takes on a case, declared once: its name, permission,
arguments and state rule, and the service method that carries it out.

The API (``POST /api/v1/cases/<id>/<path>``, node/api/cases.py) and the case file's forms
(``POST /staff/cases/<id>/<name>``, node/web/clerk.py) both read :data:`CASE_ACTIONS`, so an
action is allowed, parsed and run the same way on both.  The state rule is the state machine's
(node/cases/states.py: which states and roles may take ``step``); an action without a ``step``
changes no state (a payment, a fee waiver, an extension, a hand-over) and is offered by the
page while it applies (node/web/clerk.py ``_side_forms``).

Adding an action: its service method, and one row here (beside its step's row in the state
machine and its Chinese name: docs/architecture.md, "A new case action"); the case file makes
its form from the row's schema (node/web/clerk.py, ``generic_form``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from marshmallow import Schema
from sqlalchemy import select

import schemas.field_messages  # noqa: F401 - marshmallow's messages from the catalog, before any field
from node.auth.models import User
from node.auth.permissions import Permission
from node.cases.actors import Actor
from node.cases.arguments import (
    CommitArgs,
    Commitment,
    DeliverArgs,
    Delivery,
    ExtendArgs,
    Extension,
    ForwardArgs,
    ForwardRequest,
    HandOver,
    HandOverArgs,
    MaybeReasoned,
    NoticeArgs,
    NoticeRequest,
    OptionalReasonArgs,
    Payment,
    PaymentArgs,
    PaymentForm,
    ReasonArgs,
    Reasoned,
    Step,
    SuspendArgs,
    SuspensionRequest,
    Versioned,
)
from node.cases.forwarding import Forwarding
from node.cases.models import Case
from node.cases.service import CaseService
from node.cases.states import Action
from schemas.errors import ValidationFailed
from schemas.i18n import _

I = TypeVar("I", bound=Step)  # noqa: E741 - the action's typed input

# an action runs on the case service and its forwarding side (the composition root builds both)
Run = Callable[[CaseService, Forwarding, Case, Actor, I], Any]


@dataclass(frozen=True)
class CaseAction(Generic[I]):
    """One action on a case.

    ``name`` is the page's (and the state machine's) name, ``path`` the API's; ``takes`` its
    typed input (node/cases/arguments.py), which ``arguments`` loads from the body (``form``:
    from the page's form, when it differs: money typed in 元);
    ``step`` the state machine's action whose sources and roles decide when it applies (None:
    no state change); ``api`` False where the API answers it at an endpoint of its own (the
    notice and the suspension are documents with numbers); ``summary`` the API's description.
    """

    name: str
    permission: Permission
    takes: type[I]
    arguments: type[Versioned]
    run: Run[I]
    summary: str
    step: Action | None = None
    api: bool = True
    form: type[Schema] | None = None

    def __post_init__(self) -> None:
        for schema in (self.arguments, self.form or self.arguments):
            loads = schema.INPUT if issubclass(schema, Versioned) else None
            if schema is PaymentForm:
                loads = Payment
            if loads is not self.takes:
                raise TypeError(f"{self.name}: {schema.__name__} loads {loads}, not "
                                f"{self.takes.__name__}")

    @property
    def path(self) -> str:
        """The action's segment of the API's path (``start-review``)."""
        return self.name.replace("_", "-")

    @property
    def form_schema(self) -> type[Schema]:
        """What the page's form is loaded with."""
        return self.form or self.arguments


def _hand_over(service: CaseService, _forwarding: Forwarding, case: Case, who: Actor,
               data: HandOver) -> Any:
    to_user = service.session.scalar(select(User).where(User.username == data.to))
    if to_user is None:
        raise ValidationFailed({"to": [_("no user %(repr)s", repr=repr(data.to))]})
    return service.hand_over(case, who, to_user=to_user, reason=data.reason,
                             version=data.version)


H, D = Permission.CASES_HANDLE, Permission.CASES_DECIDE

# each row typed on its own (no annotation here: the lambdas are checked against its input)
_ROWS = (
    CaseAction(
        "request_supplement", H, NoticeRequest, NoticeArgs,
        lambda s, f, c, a, d: s.request_supplement(
            c, a, material_positions=d.material_positions, other_items=d.other_items,
            repeat_reason=d.repeat_reason, version=d.version),
        "Issue the one-time notice (一次性告知): every missing item at once. A second notice "
        "needs ``repeat_reason`` and is counted.",
        step=Action.REQUEST_SUPPLEMENT, api=False,
    ),
    CaseAction(
        "supplement", H, Step, Versioned,
        lambda s, f, c, a, d: s.supplement(c, a, version=d.version),
        "The applicant brought the missing materials (补正).",
        step=Action.SUPPLEMENT,
    ),
    CaseAction(
        "accept", H, Step, Versioned,
        lambda s, f, c, a, d: s.accept(c, a, version=d.version),
        "Accept (受理): the clock starts; without a notice within five working days the case "
        "counts as accepted on the day it was received (Art. 32).",
        step=Action.ACCEPT,
    ),
    CaseAction(
        "reject", H, Reasoned, ReasonArgs,
        lambda s, f, c, a, d: s.reject(c, a, reason=d.reason, version=d.version),
        "Refuse to accept (不予受理), with the written reason.",
        step=Action.REJECT,
    ),
    CaseAction(
        "commit", H, Commitment, CommitArgs,
        lambda s, f, c, a, d: s.commit(c, a, commitment=d.commitment, version=d.version),
        "Approve at once on the applicant's written commitment (告知承诺制).",
        step=Action.COMMIT,
    ),
    CaseAction(
        "start_review", D, Step, Versioned,
        lambda s, f, c, a, d: s.start_review(c, a, version=d.version),
        "The department starts its review (审核).",
        step=Action.START_REVIEW,
    ),
    CaseAction(
        "suspend", D, SuspensionRequest, SuspendArgs,
        lambda s, f, c, a, d: s.suspend(c, a, kind=d.kind, reason=d.reason,
                                     version=d.version),
        "Stop the clock for a special procedure (Art. 45: inspection, expert review, testing, "
        "hearing); returns the suspension with its notice number.",
        step=Action.SUSPEND, api=False,
    ),
    CaseAction(
        "resume", D, Step, Versioned,
        lambda s, f, c, a, d: s.resume(c, a, version=d.version),
        "End the special procedure; the deadline moves later by the suspended working days.",
        step=Action.RESUME,
    ),
    CaseAction(
        "approve", D, MaybeReasoned, OptionalReasonArgs,
        lambda s, f, c, a, d: s.decide(c, a, approve=True, reason=d.reason,
                                    version=d.version),
        "The caller's department approves; the case is approved when every department has.",
        step=Action.APPROVE,
    ),
    CaseAction(
        "deny", D, Reasoned, ReasonArgs,
        lambda s, f, c, a, d: s.decide(c, a, approve=False, reason=d.reason,
                                    version=d.version),
        "The caller's department denies, with the reason; the case is denied.",
        step=Action.DENY,
    ),
    CaseAction(
        "complete", H, Step, Versioned,
        lambda s, f, c, a, d: s.complete(c, a, version=d.version),
        "办结: the result is ready (fees paid or waived).",
        step=Action.COMPLETE,
    ),
    CaseAction(
        "deliver", H, Delivery, DeliverArgs,
        lambda s, f, c, a, d: s.deliver(c, a, method=d.method, tracking=d.tracking_number,
                                     version=d.version),
        "送达: the result reached the applicant, at the hall or by post (``method`` ``post`` "
        "with the ``tracking_number``).",
        step=Action.DELIVER,
    ),
    CaseAction(
        "withdraw", H, Reasoned, ReasonArgs,
        lambda s, f, c, a, d: s.withdraw(c, a, reason=d.reason, version=d.version),
        "The applicant withdraws the application.",
        step=Action.WITHDRAW,
    ),
    CaseAction(
        "forward", H, ForwardRequest, ForwardArgs,
        lambda s, f, c, a, d: f.forward(c, a, to=d.to, note=d.note, version=d.version,
                                        division=d.division),
        "上报: send an accepted case, with its files, to a center above (``to``, default the "
        "parent). The case waits there as ``forwarded``; progress comes back as history "
        "steps, the decision as ``approved``/``denied`` (then complete and deliver here), and "
        "a case the center above cannot take comes back ``accepted`` with the reason, to be "
        "handled here or forwarded elsewhere. The deadline stays this case's. 通办 (代收转办): "
        "for a matter the catalog marks 通办, ``to`` may be the competent center elsewhere in "
        "the province (with ``division`` where the rule needs one); a center that is not "
        "competent, or a matter that is not 通办, is a 422 ``not_competent`` / "
        "``not_tongban``.",
        step=Action.FORWARD,
    ),
    CaseAction(
        "return", D, Reasoned, ReasonArgs,
        lambda s, f, c, a, d: f.return_to_sender(c, a, reason=d.reason,
                                                          version=d.version),
        "退回: send a case received from a lower center back to it undecided, with the "
        "reason.",
        step=Action.RETURN,
    ),
    CaseAction(
        "payment", H, Payment, PaymentArgs,
        lambda s, f, c, a, d: s.record_payment(c, a, amount_fen=d.amount_fen, where=d.where,
                                            version=d.version),
        "Record a fee payment, at the center's bank window or elsewhere (前厂后店).",
        form=PaymentForm,
    ),
    CaseAction(
        "visit", H, MaybeReasoned, OptionalReasonArgs,
        lambda s, f, c, a, d: f.record_visit(c, a, reason=d.reason, version=d.version),
        "登记到厅: the applicant came to the hall for this case once more (a material, the "
        "result…); one click, one ``visit`` step of the history, counted in 跑动次数 "
        "(the receipt at a window is the first visit already). On a 通办 case sent to the "
        "competent center the visit is told to it and counted there, with the case.",
    ),
    CaseAction(
        "fee_waiver", H, Reasoned, ReasonArgs,
        lambda s, f, c, a, d: s.waive_fee(c, a, reason=d.reason, version=d.version),
        "Waive the fee, with the reason.",
    ),
    CaseAction(
        "extend", D, Extension, ExtendArgs,
        lambda s, f, c, a, d: s.extend(c, a, days=d.days, reason=d.reason,
                                    version=d.version),
        "延期 (Art. 42): extend the limit once, by up to 10 working days (15 for joint "
        "handling).",
    ),
    CaseAction(
        "hand_over", Permission.CASES_HAND_OVER, HandOver, HandOverArgs, _hand_over,
        "Pass first-inquiry responsibility (首问负责) to another clerk, on the record.",
    ),
)

CASE_ACTIONS: tuple[CaseAction[Any], ...] = _ROWS
ACTIONS_BY_NAME: dict[str, CaseAction[Any]] = {action.name: action for action in CASE_ACTIONS}
