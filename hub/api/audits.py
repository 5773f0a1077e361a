"""Sampled audits of summaries (thin views over hub.audits.service; docs/verification.md).

``POST /api/v1/audits`` opens an audit: signed by an ancestor's node (hub.api.auth) or with a
hub staff bearer token whose scope holds the node.  ``GET /api/v1/audits/pending`` is the
audited node's list of audits to answer (signed by it); ``GET /api/v1/audits/<id>`` returns an
audit with its result and both envelopes, so anyone above the node can check it again.
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from hub.api.auth import authenticate, hub_clock, services
from hub.audits.service import AuditService, Requester, pending_for
from schemas.commitment import DEFAULT_SAMPLE_SIZE, MAX_SAMPLE_SIZE
from schemas.envelope import CODE_PATTERN
from schemas.errors import Forbidden
from schemas.i18n import _
from schemas.runtime.webapp import current_session

blp = Blueprint("audits", __name__, url_prefix="/api/v1/audits",
                description="Sampled audits of a node's summary against its commitment. "
                            "Signed node requests or hub staff bearer tokens.")

CODE = validate.Regexp(f"^({CODE_PATTERN})$", error=_("a 6- or 9-digit division code"))
UUID = validate.Regexp(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _requester() -> Requester:
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        account, _row = services().staff(current_session(), clock=hub_clock).authenticate(
            token.strip())
        return Requester("staff", account.scope_code, account.username)
    caller = authenticate()
    return Requester("node", caller.node, caller.node)


@blp.before_request
def _authenticate() -> None:
    g.audit_requester = _requester()


def service() -> AuditService:
    return services().audits(current_session(), hub_clock())


class OpenAuditSchema(Schema):
    node = fields.String(required=True, validate=CODE, metadata={
        "description": "The audited node (a descendant of the caller's)."})
    period = fields.String(required=True, validate=validate.Length(min=1, max=32), metadata={
        "description": "The summary's period label: 2026-11, 2026-Q4, 2026 or 2026-11-29."})
    seq = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**53 - 1),
                         metadata={"description": "The summary's version (the envelope's "
                                                  "seq); default the newest."})
    sample_size = fields.Integer(
        load_default=DEFAULT_SAMPLE_SIZE, validate=validate.Range(min=1, max=MAX_SAMPLE_SIZE),
        metadata={"description": f"Leaves to sample (default {DEFAULT_SAMPLE_SIZE})."})


class AuditSchema(Schema):
    id = fields.String(required=True)
    node = fields.String(required=True)
    period = fields.String(required=True)
    summary = fields.String(required=True, metadata={"description": "The summary envelope."})
    summary_seq = fields.Integer(required=True)
    requested_by = fields.String(required=True)
    request = fields.Raw(required=True, metadata={
        "description": "The request whose RFC 8785 JSON request_digest is SHA-256 of."})
    request_digest = fields.String(required=True)
    log_head = fields.String(required=True, metadata={
        "description": "SHA-256 of the newest envelope in the hub's log at opening."})
    seed = fields.String(required=True, metadata={
        "description": "SHA-256(request_digest || log_head): the sample's seed."})
    sample_size = fields.Integer(required=True)
    sampled = fields.Integer(required=True)
    indexes = fields.List(fields.Integer(), required=True)
    opened_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True)
    state = fields.String(required=True, metadata={
        "description": "pending | passed | failed | unanswered"})
    answered_at = fields.DateTime(allow_none=True)
    response = fields.String(allow_none=True, metadata={
        "description": "The audit.response envelope's id."})
    findings = fields.List(fields.Dict(), required=True)
    detection = fields.List(fields.Dict(), metadata={
        "description": "For a share of false leaves (basis points), the chance (basis "
                       "points) that this sample draws at least one."})
    envelopes = fields.Dict(metadata={
        "description": "The signed summary and audit.response envelopes, as logged."})


class PendingSchema(Schema):
    audits = fields.List(fields.Dict(), required=True)


@blp.route("")
class Audits(MethodView):
    @blp.arguments(OpenAuditSchema)
    @blp.response(201, AuditSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Open an audit of a node's summary: the seed, the sampled leaf indexes and the
        chance of catching a given share of false leaves.  The node's worker answers."""
        return service().open(g.audit_requester, node=body["node"], period=body["period"],
                              seq=body["seq"], sample_size=body["sample_size"])


@blp.route("/pending")
class Pending(MethodView):
    @blp.response(200, PendingSchema)
    def get(self) -> dict[str, Any]:
        """The calling node's audits waiting for its ``audit.response`` (signed by it)."""
        requester: Requester = g.audit_requester
        if requester.kind != "node":
            raise Forbidden(_("Only a node lists the audits it has to answer."))
        return {"audits": pending_for(current_session(), requester.scope, hub_clock())}


@blp.route("/<string:audit_id>")
class OneAudit(MethodView):
    @blp.response(200, AuditSchema)
    def get(self, audit_id: str) -> dict[str, Any]:
        """An audit, its result and findings, and both signed envelopes."""
        return service().get(g.audit_requester, audit_id)
