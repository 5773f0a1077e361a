"""Evaluation (好差评, 国办发〔2019〕51号, GB/T 39734/39735-2020): a completed or delivered
case is rated once on five levels; every bad rating opens a rectification.
"""

from __future__ import annotations

from node.cases.models import Case
from node.cases.states import CaseState
from node.feedback.errors import AlreadyEvaluated, NotEvaluable
from node.feedback.lookup import APPLICANT, PublicLookup
from node.feedback.models import (
    BAD_LEVELS,
    Evaluation,
    EvaluationLevel,
    Rectification,
    RectificationState,
)
from node.feedback.states import RECTIFICATION_WORKING_DAYS
from node.rollups import invalidate
from schemas.i18n import _
from schemas.names import CASE_STATE_NAMES, name_of

EVALUABLE_STATES = frozenset({CaseState.COMPLETED, CaseState.DELIVERED})


class Evaluations(PublicLookup):
    """Ratings of closed cases, each bad one opening a rectification."""


    def evaluate(
        self, number: str, code: str, *, level: EvaluationLevel, comment: str | None
    ) -> Evaluation:
        """The applicant rates a completed or delivered case, once; a bad rating opens a
        rectification due in :data:`RECTIFICATION_WORKING_DAYS` working days."""
        case = self.case_for_applicant(number, code)
        if self._evaluation_of(case) is not None:
            raise AlreadyEvaluated(_("Case %(number)s has already been rated.",
                                     number=case.number))
        if case.state not in EVALUABLE_STATES:
            raise NotEvaluable(
                _("Case %(number)s is %(state)s; it can be rated once completed.",
                  number=case.number, state=name_of(CASE_STATE_NAMES, case.state)),
                {"state": case.state.value},
            )
        evaluation = Evaluation(
            case_id=case.id, level=level, comment=(comment or "").strip() or None,
            at=self.clock(), void=False,
        )
        self.session.add(evaluation)
        self.session.flush()
        if case.completed_on is not None:  # 主动评价率 counts it on the completion day
            invalidate(self.session, [case.completed_on])
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
