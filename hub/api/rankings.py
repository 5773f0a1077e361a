"""Consolidated figures and rankings: league tables, composite indices, reporting
completeness, roll-ups and trends (thin views over hub.rankings.service).

Every request is either signed by a node (hub.api.auth) or carries a hub staff bearer token
(``Authorization: Bearer …`` from ``POST /api/v1/staff/login``).  Either way the caller may ask
only about its own scope and the scopes below it (403 ``outside_scope``).  Any table answers
as JSON, or as a spreadsheet with ``format=csv`` / ``format=xlsx``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from hub.api.auth import authenticate, hub_clock, services
from hub.rankings import export
from hub.rankings.documents import table_document
from hub.rankings.service import (
    DEFAULT_LATE_AFTER_DAYS,
    Principal,
    RankingService,
    methodology_from_request,
)
from hub.rankings.tables import Methodology, Order, Peers
from hub.staff.models import StaffRole
from schemas.divisions import CountyKind, Level
from schemas.envelope import CODE_PATTERN
from schemas.errors import ValidationFailed
from schemas.i18n import _
from schemas.metrics import ALL_METRICS
from schemas.runtime.spreadsheet import Sheet
from schemas.runtime.webapp import current_session

blp = Blueprint("rankings", __name__, url_prefix="/api/v1/rankings",
                description="League tables, composite indices, reporting completeness, "
                            "roll-ups and trends for a scope.  Signed node requests or hub "
                            "staff bearer tokens.")

CODE = validate.Regexp(f"^({CODE_PATTERN})$", error=_("a 6- or 9-digit division code"))
FORMATS = ("json", "csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _principal() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        account, _row = services().staff(current_session(), clock=hub_clock).authenticate(
            token.strip())
        return Principal("staff", account.scope_code, account.username,
                         may_manage=account.role is StaffRole.ADMIN)
    caller = authenticate()
    return Principal("node", caller.node, caller.node)


@blp.before_request
def _authenticate() -> None:
    g.rankings_principal = _principal()


def service() -> RankingService:
    principal: Principal = g.rankings_principal
    return services().rankings(current_session(), principal, hub_clock())


def answer(document: dict[str, Any], output: str,
           sheets: Callable[[dict[str, Any]], list[Sheet]], filename: str) -> Any:
    """The document as JSON, or its sheets as CSV or XLSX."""
    if output == "json":
        return document
    data = export.to_csv(sheets(document)) if output == "csv" else export.to_xlsx(
        sheets(document))
    response = Response(data, mimetype=MEDIA_TYPES[output].split(";")[0])
    response.headers["Content-Type"] = MEDIA_TYPES[output]
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{output}"'
    return response


# -- schemas --------------------------------------------------------------------------------


class TableQuerySchema(Schema):
    scope = fields.String(required=True, validate=CODE, metadata={
        "description": "Division code: the table covers this node's subtree."})
    period = fields.String(required=True, validate=validate.Length(min=1, max=32), metadata={
        "description": "2026-11, 2026-Q4, 2026 or 2026-11-29."})
    level = fields.Enum(Level, by_value=True, load_default=None, metadata={
        "description": "Level of the ranked nodes (default: the level below the scope)."})
    peers = fields.Enum(Peers, by_value=True, load_default=Peers.BULLETIN, metadata={
        "description": "bulletin (default): county level in the bulletins' two groups, "
                       "counties and county-level cities together (县（市）) and districts "
                       "(城区); kind: districts, counties and county-level cities apart; "
                       "all: every node of the level together."})
    kind = fields.Enum(CountyKind, by_value=True, load_default=None, metadata={
        "description": "Only county-level nodes of this kind."})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class LeagueQuerySchema(TableQuerySchema):
    metric = fields.String(required=True, validate=validate.OneOf(sorted(ALL_METRICS)), metadata={
        "description": "Any summary metric (GET /api/v1/rankings/metrics)."})
    order = fields.Enum(Order, by_value=True, load_default=None, metadata={
        "description": "desc: the largest value ranks first; asc: the smallest.  Default: "
                       "the metric's direction (asc for a lower_better metric such as "
                       "average_visits, else desc)."})


class CompositeBodySchema(TableQuerySchema):
    methodology = fields.Raw(required=True, metadata={
        "description": "The name of a saved methodology, or one given here: "
                       "{title, normalisation, components: [{metric, weight, direction}], "
                       "description}."})


class RowSchema(Schema):
    node = fields.String()
    name = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    parent = fields.String(allow_none=True)
    status = fields.String(metadata={
        "description": "ranked | not_reported | no_value | sole_peer (composite: the only "
                       "one of its group with every value, not ranked)"})
    rank = fields.Integer(allow_none=True)
    value = fields.Raw(allow_none=True)
    numerator = fields.Integer(allow_none=True)
    denominator = fields.Integer(allow_none=True)
    previous_rank = fields.Integer(allow_none=True)
    previous_value = fields.Raw(allow_none=True)
    rank_change = fields.Integer(allow_none=True, metadata={
        "description": "Places gained since the previous period (negative: lost)."})
    value_change = fields.Raw(allow_none=True)
    components = fields.List(fields.Dict(), metadata={
        "description": "Composite only: each component's value and normalised value."})
    verification = fields.String(allow_none=True, metadata={
        "description": "League and composite tables: the check of the node's figures "
                       "against its case records (docs/verification.md): passed | failed | "
                       "unanswered | pending | refused | uncommitted (its newest summary "
                       "carries no commitment: 数据核验：未提交承诺); null when none"})


class GroupSchema(Schema):
    level = fields.String()
    group = fields.String(allow_none=True, metadata={
        "description": "The peer group: district, county, county_city (peers=kind), "
                       "counties_and_cities or district (peers=bulletin); null: the whole "
                       "level."})
    kind = fields.String(allow_none=True, metadata={
        "description": "The members' one kind, when the group holds one kind only."})
    of = fields.Integer(metadata={"description": "How many peers are ranked (\"of N\")."})
    rows = fields.List(fields.Nested(RowSchema))


class TableSchema(Schema):
    scope = fields.String()
    period = fields.String()
    previous_period = fields.String()
    as_of = fields.Date(allow_none=True, metadata={
        "description": "The period is still running: its figures go up to this day "
                       "(Asia/Shanghai), and compare with a whole previous period only as a "
                       "part of it.  Null for a period that has ended."})
    level = fields.String()
    peers = fields.String()
    order = fields.String()
    metric = fields.String(allow_none=True)
    metric_name = fields.String()
    unit = fields.String()
    methodology = fields.Dict(allow_none=True, metadata={
        "description": "Composite tables: the methodology as GET "
                       "/api/v1/rankings/methodologies/<name> gives it (name, version, title, "
                       "description, normalisation, components, formula, rules)."})
    groups = fields.List(fields.Nested(GroupSchema))


# -- views ----------------------------------------------------------------------------------


@blp.route("/league")
class League(MethodView):
    @blp.arguments(LeagueQuerySchema, location="query")
    @blp.response(200, TableSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """A league table: the scope's nodes of one level ranked on one metric among their
        peers, ties sharing a rank (1, 2, 2, 4), with the change since the previous period;
        nodes that sent no summary are listed as not ranked."""
        rankings = service()
        table = rankings.league_table(
            scope=query["scope"], period=query["period"], metric=query["metric"],
            level=query["level"], order=query["order"], peers=query["peers"],
            kind=query["kind"])
        document = with_verification(rankings, table_document(table), query["scope"],
                                     query["period"])
        return answer(document, query["format"], export.table_sheets,
                      f"league-{query['scope']}-{query['period']}-{query['metric']}")


@blp.route("/composite")
class Composite(MethodView):
    @blp.arguments(CompositeBodySchema)
    @blp.response(200, TableSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """A composite index table: a weighted score of normalised metrics (min-max or
        z-score within each peer group); the methodology comes back with the table."""
        ranking = service()
        methodology = _methodology(ranking, body["methodology"])
        table = ranking.composite_table(
            scope=body["scope"], period=body["period"], methodology=methodology,
            level=body["level"], peers=body["peers"], kind=body["kind"])
        document = with_verification(ranking, table_document(table), body["scope"],
                                     body["period"])
        return answer(document, body["format"], export.table_sheets,
                      f"composite-{body['scope']}-{body['period']}")


def with_verification(ranking: RankingService, document: dict[str, Any], scope: str,
                      period: str) -> dict[str, Any]:
    """Each row of a table ``document`` with its node's 数据核验 (docs/verification.md)."""
    checked = ranking.verification(scope=scope, period=period)
    for group in document["groups"]:
        for row in group["rows"]:
            row["verification"] = checked.get(row["node"])
    return document


def _methodology(ranking: RankingService, given: Any) -> Methodology:
    if isinstance(given, str):
        return ranking.methodology(given)
    if isinstance(given, dict):
        try:
            return methodology_from_request(given)
        except ValidationFailed as exc:
            fields_ = {f"methodology.{k}": v for k, v in exc.details["fields"].items()}
            raise ValidationFailed(fields_) from exc
    raise ValidationFailed({"methodology": [_("a saved methodology's name or an object")]})


class CompletenessQuerySchema(Schema):
    scope = fields.String(required=True, validate=CODE)
    period = fields.String(required=True, validate=validate.Length(min=1, max=32))
    level = fields.Enum(Level, by_value=True, load_default=None, metadata={
        "description": "Only reporters of this level (default: every level below the scope)."})
    late_after_days = fields.Integer(
        load_default=DEFAULT_LATE_AFTER_DAYS, validate=validate.Range(min=0, max=366),
        metadata={"description": "Days after the period's last day a final summary may "
                                 "arrive and still be on time."})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class AuditStandingSchema(Schema):
    status = fields.String(metadata={"description": (
        "anomaly (审计链异常: the anchored count went back, or the head changed under the "
        "same count, with no restore announced) | restored (已从备份恢复)")})
    at = fields.AwareDateTime(metadata={"description": "When the flagged anchor arrived"})
    seq = fields.Integer(metadata={"description": "The seq of the summary that carried it"})
    entries = fields.Integer(metadata={"description": "The anchored entry count"})
    previous_entries = fields.Integer(allow_none=True, metadata={
        "description": "The count anchored before it"})


class RefusalSchema(Schema):
    reason = fields.String(metadata={"description": (
        "counts (a figure is not what the committed leaves add up to) | size (the leaves "
        "by state do not add up to the tree's size)")})
    seq = fields.Integer()
    at = fields.AwareDateTime()
    problems = fields.List(fields.Dict())


class UncommittedSchema(Schema):
    seq = fields.Integer(metadata={"description": "The summary version without a commitment"})


class VerificationSchema(Schema):
    status = fields.String(allow_none=True, metadata={"description": (
        "The newest sampled audit of the period's summary: passed (数据核验：通过) | failed "
        "(未通过) | unanswered (未应答) | pending; null when none was opened")})
    audit = fields.String(metadata={"description": "GET /api/v1/audits/<id>"})
    opened_at = fields.AwareDateTime()
    sampled = fields.Integer()
    findings = fields.List(fields.Dict())
    refused = fields.Nested(RefusalSchema, metadata={"description": (
        "The hub refused the node's newest summary of the period: its figures disagree "
        "with its commitment")})
    uncommitted = fields.Nested(UncommittedSchema, metadata={"description": (
        "The node's newest summary of the period carries no commitment, so its figures "
        "cannot be checked (数据核验：未提交承诺)")})


class CompletenessNodeSchema(Schema):
    node = fields.String()
    name = fields.String(allow_none=True, metadata={
        "description": "The center's name as its own summaries give it (null until one does)"})
    level = fields.String()
    kind = fields.String(allow_none=True)
    parent = fields.String(allow_none=True)
    status = fields.String(metadata={
        "description": "on_time | late | provisional | pending | missing"})
    first_final_at = fields.AwareDateTime(allow_none=True)
    first_received_at = fields.AwareDateTime(allow_none=True)
    summary_seq = fields.Integer(allow_none=True)
    summary_versions = fields.Integer()
    last_seen_at = fields.AwareDateTime(allow_none=True)
    latest_seq = fields.Integer(allow_none=True)
    audit = fields.Nested(AuditStandingSchema, allow_none=True, metadata={
        "description": "The node's audit chain as its signed summaries anchored it: null "
                       "when nothing was flagged"})
    verification = fields.Nested(VerificationSchema, allow_none=True, metadata={
        "description": "Checks of the node's figures against its case records "
                       "(docs/verification.md): null when none"})


class CompletenessSchema(Schema):
    scope = fields.String()
    period = fields.String()
    level = fields.String(allow_none=True)
    late_after_days = fields.Integer()
    deadline = fields.AwareDateTime()
    expected = fields.Integer()
    on_time = fields.Integer()
    late = fields.Integer()
    provisional = fields.Integer()
    pending = fields.Integer()
    missing = fields.Integer()
    completeness_rate = fields.Integer(allow_none=True, metadata={
        "description": "(on time + late) ÷ expected, basis points"})
    timeliness_rate = fields.Integer(allow_none=True, metadata={
        "description": "on time ÷ expected, basis points"})
    audit_anomalies = fields.Integer(metadata={
        "description": "Nodes whose audit chain is flagged as an anomaly (审计链异常)"})
    audit_restores = fields.Integer(metadata={
        "description": "Nodes that announced a restore from a backup (已从备份恢复)"})
    verification_failures = fields.Integer(metadata={
        "description": "Nodes whose newest audit failed or went unanswered, or whose "
                       "summary was refused for its commitment or carries none"})
    nodes = fields.List(fields.Nested(CompletenessNodeSchema))


@blp.route("/completeness")
class Completeness(MethodView):
    @blp.arguments(CompletenessQuerySchema, location="query")
    @blp.response(200, CompletenessSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Reporting completeness and timeliness: the scope's expected reporters, who sent
        the period's final summary on time, late, or not at all, with each node's last-seen
        time and latest seq."""
        document = service().completeness(
            scope=query["scope"], period=query["period"], level=query["level"],
            late_after_days=query["late_after_days"])
        if query["format"] != "json":
            document = CompletenessSchema().dump(document)
        return answer(document, query["format"], export.completeness_sheets,
                      f"completeness-{query['scope']}-{query['period']}")


class RollupQuerySchema(Schema):
    scope = fields.String(required=True, validate=CODE)
    period = fields.String(required=True, validate=validate.Length(min=1, max=32))
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class TotalSchema(Schema):
    name = fields.String()
    unit = fields.String()
    value = fields.Integer(allow_none=True)
    numerator = fields.Integer(allow_none=True)
    denominator = fields.Integer(allow_none=True)


class RollupSchema(Schema):
    scope = fields.String()
    period = fields.String()
    expected = fields.Integer()
    reporting = fields.Integer()
    nodes = fields.List(fields.String())
    missing = fields.List(fields.String())
    metrics = fields.Dict(keys=fields.String(), values=fields.Nested(TotalSchema))


@blp.route("/rollup")
class Rollup(MethodView):
    @blp.arguments(RollupQuerySchema, location="query")
    @blp.response(200, RollupSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Totals of a scope (its own center and every center below): counts summed, rates
        recomputed from summed numerators and denominators, every case counted once."""
        document = service().rollup(scope=query["scope"], period=query["period"])
        return answer(document, query["format"], export.rollup_sheets,
                      f"rollup-{query['scope']}-{query['period']}")


class TrendQuerySchema(Schema):
    metric = fields.String(required=True, validate=validate.OneOf(sorted(ALL_METRICS)))
    start = fields.String(required=True, data_key="from", validate=validate.Length(max=32))
    end = fields.String(required=True, data_key="to", validate=validate.Length(max=32))
    node = fields.String(load_default=None, validate=CODE, metadata={
        "description": "One node's own figures …"})
    scope = fields.String(load_default=None, validate=CODE, metadata={
        "description": "… or the totals of a scope."})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class TrendPointSchema(Schema):
    period = fields.String()
    as_of = fields.Date(allow_none=True, metadata={
        "description": "The period is still running: its figures go up to this day only "
                       "(a partial period, not comparable with whole ones)."})
    reporting = fields.Integer()
    unit = fields.String()
    value = fields.Integer(allow_none=True)
    numerator = fields.Integer(allow_none=True)
    denominator = fields.Integer(allow_none=True)


class TrendSchema(Schema):
    metric = fields.String()
    name = fields.String()
    node = fields.String(allow_none=True)
    scope = fields.String(allow_none=True)
    level = fields.String()
    points = fields.List(fields.Nested(TrendPointSchema))


@blp.route("/trend")
class Trend(MethodView):
    @blp.arguments(TrendQuerySchema, location="query")
    @blp.response(200, TrendSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """One metric over a range of periods (``from`` … ``to``, the same kind), for one
        node or added up over a scope."""
        document = service().trend(metric=query["metric"], start=query["start"],
                                   end=query["end"], node=query["node"], scope=query["scope"])
        return answer(document, query["format"], export.trend_sheets,
                      f"trend-{query['node'] or query['scope']}-{query['metric']}")


# -- metrics and methodologies -------------------------------------------------------------


class MetricSchema(Schema):
    key = fields.String()
    unit = fields.String()
    name = fields.String()


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.response(200, MetricSchema(many=True))
    def get(self) -> Any:
        """Every metric a table may rank on, with its unit and Chinese name."""
        return [{"key": m.key, "unit": m.unit.value, "name": m.name,
                 "direction": m.direction.value} for m in ALL_METRICS.values()]


TITLE_DESCRIPTION = ("The name people read in place of the code name, in Chinese: 1 to 40 "
                     "characters (stripped), at least one Chinese character; pages and "
                     "exports show it with the version (「季度综合评价」第 3 版).  Optional: "
                     "one saved without it reads 未命名方法（第 N 版）.")


class MethodologyBodySchema(Schema):
    title = fields.String(load_default=None, allow_none=True,
                          metadata={"description": TITLE_DESCRIPTION})
    normalisation = fields.String(required=True, validate=validate.OneOf(["min_max", "z_score"]))
    components = fields.List(fields.Dict(), required=True)
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class MethodologySchema(Schema):
    name = fields.String(allow_none=True, metadata={
        "description": "The code name tables ask for (450900.bulletin); null: not saved."})
    version = fields.Integer(allow_none=True)
    title = fields.String(allow_none=True, metadata={
        "description": TITLE_DESCRIPTION + "  Null when it has none."})
    description = fields.String()
    normalisation = fields.String()
    components = fields.List(fields.Dict())
    formula = fields.String(metadata={"description": "The formula, in Chinese."})
    rules = fields.List(fields.String(), metadata={
        "description": "The rules every composite table follows (peer groups, missing "
                       "values, a group of one, ties), in Chinese."})


@blp.route("/methodologies")
class Methodologies(MethodView):
    @blp.response(200, MethodologySchema(many=True))
    def get(self) -> Any:
        """The saved composite-index methodologies."""
        return [m.to_json() for m in service().methodologies()]


@blp.route("/methodologies/<string:name>")
class MethodologyByName(MethodView):
    @blp.response(200, MethodologySchema)
    def get(self, name: str) -> Any:
        """One saved methodology."""
        return service().methodology(name).to_json()

    @blp.arguments(MethodologyBodySchema)
    @blp.response(200, MethodologySchema)
    def put(self, body: dict[str, Any], name: str) -> Any:
        """Save a methodology under a name: hub staff admins any name, a node (signed
        request) only names under its own code (``450900.bulletin``); each save is a new
        version, and every table made with it names the version."""
        ranking = service()
        methodology = methodology_from_request(body)
        return ranking.save_methodology(name, methodology).to_json()


