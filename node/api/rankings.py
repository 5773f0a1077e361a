"""Rankings and consolidated figures from the hub, asked for by this node's staff.

Each view makes one signed request to the hub as this node and returns the hub's answer as
it came (JSON, CSV or XLSX; errors in the hub's own words, e.g. 403 ``outside_scope`` for a
scope outside this node's subtree).  ``scope`` defaults to this node.  See docs/rankings.md.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from flask import Response, current_app, request
from flask.views import MethodView

from node.api.security import staff_required
from node.auth.permissions import Permission
from node.composition import NodeServices, current_settings
from node.ports import HubUnavailable
from node.rankings.hub import RankingsHub
from schemas.runtime.spreadsheet import inert_download
from schemas.runtime.webapp import Blueprint, error_response

blp = Blueprint("rankings", __name__, url_prefix="/api/v1/rankings",
                description="League tables, completeness, roll-ups and trends from the hub")

def rankings_hub() -> RankingsHub:
    return NodeServices.of_app(current_app.extensions).rankings()


def _relay(method: str, what: str, *, default_scope: bool, body: bytes = b"") -> Response:
    if (not current_settings().hub_url
            and NodeServices.of_app(current_app.extensions).rankings_hub is None):
        return error_response(503, "hub_not_configured",
                              "This node has no hub_url; it cannot ask the hub.", {})
    query = list(request.args.items(multi=True))
    if default_scope and "scope" not in request.args:
        query.insert(0, ("scope", current_settings().code))
    try:
        found = rankings_hub().ask(method, what, query, body)
    except HubUnavailable as exc:
        return error_response(502, exc.code, exc.message, exc.details)
    body = found.body
    if found.status == 200:  # a spreadsheet passed on is made inert here too
        body = inert_download(body, found.content_type)
    response = Response(body, status=found.status)
    response.headers["Content-Type"] = found.content_type
    if found.content_disposition:
        response.headers["Content-Disposition"] = found.content_disposition
    return response


def _json_body() -> bytes:
    document: Any = request.get_json(silent=True)
    if not isinstance(document, dict):
        return b""
    document.setdefault("scope", current_settings().code)
    return orjson.dumps(document)


@blp.route("/league")
class League(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.response(200)
    def get(self) -> Response:
        """A league table from the hub (query as the hub's GET /api/v1/rankings/league;
        scope defaults to this node)."""
        return _relay("GET", "league", default_scope=True)


@blp.route("/composite")
class Composite(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.response(200)
    def post(self) -> Response:
        """A composite index table from the hub (body as the hub's POST
        /api/v1/rankings/composite; scope defaults to this node)."""
        body = _json_body()
        if not body:
            return error_response(422, "validation_failed", "The body must be a JSON object.",
                                  {"fields": {"body": ["a JSON object"]}})
        return _relay("POST", "composite", default_scope=False, body=body)


@blp.route("/completeness")
class Completeness(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.response(200)
    def get(self) -> Response:
        """Reporting completeness and timeliness of this node's subtree, from the hub."""
        return _relay("GET", "completeness", default_scope=True)


@blp.route("/rollup")
class Rollup(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.response(200)
    def get(self) -> Response:
        """Totals of a scope (default: this node's subtree), from the hub."""
        return _relay("GET", "rollup", default_scope=True)


@blp.route("/trend")
class Trend(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.response(200)
    def get(self) -> Response:
        """One metric over a range of periods for a node or a scope, from the hub."""
        return _relay("GET", "trend", default_scope=False)


@blp.route("/methodologies")
class Methodologies(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.response(200)
    def get(self) -> Response:
        """The composite-index methodologies saved at the hub."""
        return _relay("GET", "methodologies", default_scope=False)


@blp.route("/methodologies/<string:name>")
class MethodologyByName(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.response(200)
    def get(self, name: str) -> Response:
        """One saved composite-index methodology, from the hub."""
        return _relay("GET", f"methodologies/{quote(name, safe='')}", default_scope=False)

    @staff_required(Permission.SUPERVISION_MANAGE)
    @blp.response(200)
    def put(self, name: str) -> Response:
        """Save a composite-index methodology at the hub (body as the hub's PUT
        /api/v1/rankings/methodologies/<name>: ``normalisation``, ``components`` with
        ``metric``, ``weight`` and ``direction``, ``description``).  The hub lets a node save
        only under its own code (``450900.bulletin``); each save is a new version."""
        document: Any = request.get_json(silent=True)
        if not isinstance(document, dict):
            return error_response(422, "validation_failed", "The body must be a JSON object.",
                                  {"fields": {"body": ["a JSON object"]}})
        return _relay("PUT", f"methodologies/{quote(name, safe='')}", default_scope=False,
                      body=orjson.dumps(document))
