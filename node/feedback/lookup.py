"""Public lookup: a case found by its number and the query code its applicant received;
only public facts leave, the name masked. A wrong code and an unknown number fail alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from node.cases.actors import Actor
from node.cases.models import Case
from node.cases.query_codes import hash_query_code, needs_rehash, verify_query_code
from node.cases.recompute import EVENT_ACTION, NOTICE_EVENT_ACTION
from node.cases.states import CaseState
from node.feedback.base import FeedbackBase
from node.feedback.models import (
    ComplaintState,
    Evaluation,
    EvaluationLevel,
)
from schemas.errors import NotFound
from schemas.personal import mask_name

APPLICANT = Actor("applicant", "applicant")


_LOOKUP_FAILED = "No case matches this number and query code."
# Compared against when the number is unknown, so that both failures take the same work.


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
    handled_by: str | None = None  # the center it was sent to (its case was decided there)


class PublicLookup(FeedbackBase):
    """A case and its public facts, for the applicant holding its query code."""


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
