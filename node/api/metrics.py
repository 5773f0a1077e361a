"""A center's figures: summaries for any period, the previous period beside them, the
failure-pattern lists behind the counts, and the metric definitions."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from node.api.security import staff_required
from node.auth.permissions import Permission
from node.cases.schemas import CaseSummarySchema
from node.composition import NodeServices, current_settings
from node.forms import CursorArgs, cursor_page, cursor_page_of
from node.metrics.patterns import Pattern, PatternPolicy, pattern_cases
from node.metrics.service import MetricsService, definitions
from schemas.errors import ValidationFailed
from schemas.i18n import _
from schemas.periods import Period, PeriodError
from schemas.runtime.webapp import Blueprint, current_session

blp = Blueprint("metrics", __name__, url_prefix="/api/v1/metrics", description="Figures (统计)")


class PeriodArgs(Schema):
    period = fields.String(
        required=True,
        validate=validate.Length(max=10),
        metadata={"description": "2026-11-29, 2026-11, 2026-Q4 or 2026 (Asia/Shanghai)"},
    )


class PatternArgs(PeriodArgs, CursorArgs):
    pass


class MetricDefinitionSchema(Schema):
    key = fields.String()
    unit = fields.String()
    name = fields.String()
    definition = fields.String()
    numerator = fields.String(allow_none=True)
    denominator = fields.String(allow_none=True)
    summed_daily = fields.Boolean()
    direction = fields.String(metadata={"description": "higher_better or lower_better: "
                                                       "which way a league table ranks it"})


class FiguresSchema(Schema):
    summary = fields.Dict(metadata={"description": "The summary body (tongban.summary)"})
    as_of = fields.Date(allow_none=True, metadata={
        "description": "The period is still running: its figures go up to this day "
                       "(Asia/Shanghai), and ``previous`` covers the same days of the "
                       "previous period (``previous.same_days``).  Null for an ended period."})
    previous = fields.Dict()
    changes = fields.Dict(keys=fields.String(), values=fields.Integer())


def parse_period(label: str) -> Period:
    try:
        return Period.parse(label)
    except PeriodError as exc:
        raise ValidationFailed({"period": [str(exc)]}) from exc


def metrics_service() -> MetricsService:
    return NodeServices.of_app(current_app.extensions).metrics(current_session())


@blp.route("/figures")
class Figures(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.arguments(PeriodArgs, location="query")
    @blp.response(200, FiguresSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The center's figures for a period (the summary sent upward), the previous
        period's beside them and the change of every value."""
        return metrics_service().figures(parse_period(args["period"]))


@blp.route("/summary")
class Summary(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.arguments(PeriodArgs, location="query")
    @blp.response(200)
    def get(self, args: dict[str, Any]) -> Any:
        """Exactly the summary document a higher center receives for this period."""
        return metrics_service().summary(parse_period(args["period"]))


@blp.route("/definitions")
class Definitions(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.response(200, MetricDefinitionSchema(many=True))
    def get(self) -> Any:
        """Every metric: unit, name, definition and, for rates, the formula."""
        return definitions()


@blp.route("/patterns/<pattern>")
class PatternList(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.arguments(PatternArgs, location="query")
    @blp.response(200, cursor_page_of(CaseSummarySchema))
    def get(self, args: dict[str, Any], pattern: str) -> Any:
        """The cases behind a failure pattern in a period: ``outside_center`` (体外循环),
        ``two_headed`` (两头受理), ``completed_late`` (超时办结), ``fees_elsewhere`` (前厂后店)."""
        try:
            which = Pattern(pattern)
        except ValueError as exc:
            raise ValidationFailed(
                {"pattern": [_("one of %(join)s", join=', '.join(p.value for p in Pattern))]}
            ) from exc
        period = parse_period(args["period"])
        settings = current_settings()
        page = pattern_cases(
            current_session(), which, period.start, period.end,
            PatternPolicy(two_headed_window_days=settings.two_headed_window_days),
            cursor=args.get("cursor"), before=args.get("before"), per_page=args["per_page"],
        )
        return cursor_page(page, list(page.items), args["per_page"])
