"""The monthly assessment of windows and clerks (窗口考核 / 人员考核) with the month's model
windows (红旗窗口), as JSON and as an XLSX workbook."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from node.api.metrics import PeriodArgs, parse_period
from node.api.security import staff_required
from node.auth.permissions import Permission
from node.composition import current_settings
from node.metrics.assessment import Assessment, Designation, ModelWindowRule, Threshold, assess
from node.metrics.assessment_workbook import write_assessment_workbook
from schemas.runtime.spreadsheet import XLSX_MEDIA_TYPE
from schemas.runtime.webapp import Blueprint, current_session

blp = Blueprint(
    "assessment",
    __name__,
    url_prefix="/api/v1/metrics/assessment",
    description="Monthly assessment of windows and clerks (窗口考核 / 人员考核, 红旗窗口)",
)

_BINARY = {"type": "string", "format": "binary"}
_RATE = "basis points (10000 = 100 %); value absent when the denominator is 0"


class AssessmentArgs(PeriodArgs):
    period = fields.String(
        required=True,
        validate=validate.Length(max=10),
        metadata={"description": "a month, e.g. 2026-11 (Asia/Shanghai)"},
    )


class RateSchema(Schema):
    numerator = fields.Integer()
    denominator = fields.Integer()
    value = fields.Integer(metadata={"description": _RATE})


class FiguresSchema(Schema):
    handled = fields.Integer(
        metadata={"description": "办件数: completed in the month and decided here"}
    )
    on_time = fields.Integer(metadata={"description": "按时办结: completed by the deadline"})
    same_day = fields.Integer(metadata={"description": "当日办结: completed on the accepted day"})
    on_time_rate = fields.Nested(RateSchema, metadata={"description": "按时办结率"})
    same_day_rate = fields.Nested(RateSchema, metadata={"description": "日结率"})
    ratings = fields.Integer(metadata={"description": "评价数: valid ratings given in the month"})
    ratings_good = fields.Integer(metadata={"description": "好评"})
    ratings_bad = fields.Integer(metadata={"description": "差评"})
    satisfaction_rate = fields.Nested(RateSchema, metadata={"description": "满意率"})
    complaints = fields.Integer(metadata={"description": "投诉 received in the month"})
    rectifications_closed = fields.Integer(metadata={"description": "差评整改办结"})
    rectified_in_time = fields.Integer(metadata={"description": "按时整改"})
    rectified_in_time_rate = fields.Nested(RateSchema)
    score = fields.Integer(
        allow_none=True, metadata={"description": "得分, basis points; null without cases"}
    )


class WindowAssessmentSchema(FiguresSchema):
    code = fields.String()
    name = fields.String()
    retired = fields.Boolean()
    assessed = fields.Boolean(metadata={"description": "enough cases to be ranked (参评)"})
    eligible = fields.Boolean(metadata={"description": "meets every threshold of the rule"})
    unmet = fields.List(
        fields.String(),
        metadata={"description": "thresholds missed: "
                  + ", ".join(threshold.value for threshold in Threshold)},
    )
    rank = fields.Integer(
        allow_none=True, metadata={"description": "competition rank by score among the assessed"}
    )
    designation = fields.String(
        allow_none=True,
        metadata={"description": f"{Designation.MODEL.value} (红旗窗口), "
                  f"{Designation.FLAGGED.value} (末位) or null"},
    )


class ClerkAssessmentSchema(FiguresSchema):
    username = fields.String()
    name = fields.String()
    active = fields.Boolean()
    staff_code = fields.String(allow_none=True)
    window_code = fields.String(allow_none=True)
    department_code = fields.String(allow_none=True)


class RuleSchema(Schema):
    min_cases = fields.Integer(metadata={"description": "cases handled to be assessed"})
    min_on_time_bp = fields.Integer(metadata={"description": "on-time rate for 红旗窗口"})
    max_complaints = fields.Integer(metadata={"description": "complaints allowed for 红旗窗口"})
    top = fields.Integer(metadata={"description": "how many 红旗窗口"})
    flag_bottom = fields.Integer(metadata={"description": "how many windows flagged 末位"})
    weight_on_time = fields.Integer()
    weight_same_day = fields.Integer()
    weight_satisfaction = fields.Integer()


class PeriodSchema(Schema):
    label = fields.String()
    start = fields.String()
    end = fields.String()


class AssessmentSchema(Schema):
    period = fields.Nested(PeriodSchema)
    rule = fields.Nested(RuleSchema, metadata={"description": "the rule applied (settings)"})
    windows = fields.List(
        fields.Nested(WindowAssessmentSchema),
        metadata={"description": "assessed windows in rank order, then the others by code"},
    )
    clerks = fields.List(fields.Nested(ClerkAssessmentSchema))


def monthly_assessment(label: str) -> Assessment:
    settings = current_settings()
    return assess(current_session(), parse_period(label), ModelWindowRule.from_settings(settings))


@blp.route("")
class AssessmentView(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.arguments(AssessmentArgs, location="query")
    @blp.response(200, AssessmentSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """A month's assessment: each window's and each clerk's cases handled, on-time and
        same-day completions, ratings, complaints and bad ratings rectified in time, with the
        score, the month's 红旗窗口 and the windows flagged 末位 under the configured rule."""
        return monthly_assessment(args["period"]).as_dict()


@blp.route("/export")
class AssessmentExport(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.arguments(AssessmentArgs, location="query")
    @blp.alt_response(
        200, schema=_BINARY, content_type=XLSX_MEDIA_TYPE, success=True,
        description="The workbook: sheets 窗口考核, 人员考核 and 考核规则",
    )
    def get(self, args: dict[str, Any]) -> Any:
        """The month's assessment as an XLSX workbook with Chinese headings (窗口考核,
        人员考核 and the rule applied, 考核规则), to download."""
        assessment = monthly_assessment(args["period"])
        node_code, node_name = current_settings().code, current_settings().name
        filename = f"assessment-{node_code}-{assessment.period.label}.xlsx"
        return Response(
            write_assessment_workbook(assessment, node_code, node_name),
            mimetype=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
