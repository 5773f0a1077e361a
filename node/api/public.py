"""The public API (no login): case lookup by number and query code, evaluation (好差评),
complaints (投诉).

Every request to this blueprint counts against its client address's limit per minute
(setting ``lookup_attempts_per_minute``), whatever the outcome, so that query codes cannot be
guessed faster than that from one address.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields

from node.bundles.schemas import (
    BundleCaseSchema,
    BundleSubmissionSchema,
    OnlineBundleApplicationSchema,
)
from node.bundles.service import BundleApplication
from node.cases.states import CaseState
from node.catalog.schemas import Ref
from node.composition import NodeServices, current_settings
from node.feedback.inputs import NewComplaint
from node.feedback.lookup import APPLICANT
from node.feedback.models import ComplaintState, EvaluationLevel, RectificationState
from node.feedback.ratelimit import public_attempt
from node.feedback.schemas import ComplaintArgs, EvaluationArgs, LookupArgs
from node.feedback.service import FeedbackService
from schemas.runtime.database import utcnow
from schemas.runtime.webapp import Blueprint, commit_early, current_session

blp = Blueprint(
    "public", __name__, url_prefix="/api/v1/public",
    description="Case lookup, evaluation and complaints for the public (no login)",
)



def feedback_service() -> FeedbackService:
    return NodeServices.of_app(current_app.extensions).feedback(current_session())


@blp.before_request
def count_attempt() -> None:
    """Count this request against its address; refuse it beyond the limit (429).

    One budget covers lookups, evaluations and complaints alike: each of them checks a query
    code, and a shared budget keeps the guessing rate at the limit whichever door is used.
    """
    session = current_session()
    decision = public_attempt(session, request.remote_addr or "unknown",
                              limit=current_settings().lookup_attempts_per_minute, now=utcnow())
    # the count stands whatever the answer: an error answer (a wrong code, this refusal)
    # rolls the request's transaction back
    commit_early(session)
    decision.check()


# -- schemas --------------------------------------------------------------------------------


class PublicStepSchema(Schema):
    at = fields.DateTime()
    action = fields.String()
    to_state = fields.String()
    note = fields.String(allow_none=True, metadata={
        "description": "For a deadline moved by the calendar: from what to what, and why"})


class PublicCaseSchema(Schema):
    """A case as its applicant sees it: the name masked, nothing else personal."""

    number = fields.String()
    state = fields.Enum(CaseState, by_value=True)
    matter = fields.Nested(Ref)
    received_on = fields.Date()
    accepted_on = fields.Date(allow_none=True)
    deadline_on = fields.Date(allow_none=True)
    deadline_provisional = fields.Boolean(metadata={
        "description": "暂定: the deadline may move once the year's holidays are published"})
    completed_on = fields.Date(allow_none=True)
    applicant_name = fields.String(metadata={"description": "Masked: 张*"})
    history = fields.List(fields.Nested(PublicStepSchema))
    evaluation = fields.Enum(EvaluationLevel, by_value=True, allow_none=True)


class PublicRectificationSchema(Schema):
    state = fields.Enum(RectificationState, by_value=True)
    due_on = fields.Date()


class EvaluationSchema(Schema):
    case_number = fields.Function(lambda e: e.case.number)
    level = fields.Enum(EvaluationLevel, by_value=True)
    comment = fields.String(allow_none=True)
    at = fields.DateTime()
    rectification = fields.Nested(
        PublicRectificationSchema, allow_none=True,
        metadata={"description": "Opened by a bad rating: the department must rectify by "
                                 "due_on"},
    )


class ComplaintReceiptSchema(Schema):
    number = fields.String()
    query_code = fields.String(metadata={
        "description": "The complainant's query code for looking the outcome up, given this "
                       "once (only its hash is kept)"})
    state = fields.Enum(ComplaintState, by_value=True)
    due_on = fields.Date()


class PublicComplaintSchema(Schema):
    """A complaint as its complainant sees it: dates, state and the answer once resolved."""

    number = fields.String()
    state = fields.Enum(ComplaintState, by_value=True)
    received_at = fields.DateTime()
    due_on = fields.Date()
    resolved_at = fields.DateTime(allow_none=True)
    resolution = fields.String(allow_none=True)
    case_number = fields.String(allow_none=True)
    window_name = fields.String(allow_none=True)
    handled_by = fields.String(allow_none=True, metadata={
        "description": "the center handling the complaint when it is not this one: the one "
                       "that decided its case"})


# -- views ----------------------------------------------------------------------------------


@blp.route("/cases/<number>")
class CaseLookup(MethodView):
    @blp.arguments(LookupArgs, location="query")
    @blp.response(200, PublicCaseSchema)
    def get(self, args: dict[str, Any], number: str) -> Any:
        """Look a case up by its number and query code.

        The answer: state, matter, dates and the public steps of its history, with the
        applicant's name masked. A wrong code and an unknown number get the same 404.
        Rate-limited per address (429 with Retry-After).
        """
        return feedback_service().lookup(number, args["code"])


@blp.route("/cases/<number>/evaluation")
class CaseEvaluation(MethodView):
    @blp.arguments(EvaluationArgs)
    @blp.response(201, EvaluationSchema)
    def post(self, data: dict[str, Any], number: str) -> Any:
        """Rate a completed or delivered case (好差评), once.

        A bad rating (不满意, 非常不满意) opens a rectification with a deadline. 409 when the
        case is not completed yet or already rated; 404 as for the lookup.
        """
        return feedback_service().evaluate(
            number, data["code"], level=data["level"], comment=data["comment"]
        )


@blp.route("/complaints")
class ComplaintFiling(MethodView):
    @blp.arguments(ComplaintArgs)
    @blp.response(201, ComplaintReceiptSchema)
    def post(self, complaint: NewComplaint) -> Any:
        """File a complaint (投诉) against a case, a window or a clerk.

        A complaint about a case needs the case's query code. The answer carries the
        complaint's number and the date it is due to be resolved.
        """
        return feedback_service().file_complaint(complaint)


@blp.route("/complaints/<number>")
class ComplaintLookup(MethodView):
    @blp.arguments(LookupArgs, location="query")
    @blp.response(200, PublicComplaintSchema)
    def get(self, args: dict[str, Any], number: str) -> Any:
        """Look a complaint's outcome up by its number and the query code given when it was
        filed. A wrong code and an unknown number get the same 404; rate-limited per address
        with the case lookup (429 with Retry-After)."""
        return feedback_service().complaint_for_complainant(number, args["code"])


@blp.route("/bundle-cases")
class BundleOnline(MethodView):
    @blp.arguments(OnlineBundleApplicationSchema)
    @blp.response(201, BundleSubmissionSchema)
    def post(self, application: BundleApplication) -> Any:
        """网上申报 of a 一件事 bundle: one bundle case and a part case per matter, in the
        clerks' queue for pre-review; the answer carries the query code, once."""
        service = NodeServices.of_app(current_app.extensions).bundle_cases(current_session())
        submission = service.apply(application, APPLICANT)
        return {**service.view(submission.bundle_case, public=True).__dict__,
                "query_code": submission.query_code}


@blp.route("/bundle-cases/<number>")
class BundleLookup(MethodView):
    @blp.arguments(LookupArgs, location="query")
    @blp.response(200, BundleCaseSchema)
    def get(self, args: dict[str, Any], number: str) -> Any:
        """Look a 一件事 bundle case up by its number and query code: its state, its result
        notice once it ended and each part's state and outcome, the name masked. A wrong
        code and an unknown number get the same 404; rate-limited like the case lookup."""
        service = NodeServices.of_app(current_app.extensions).bundle_cases(current_session())
        return service.lookup(number, args["code"])
