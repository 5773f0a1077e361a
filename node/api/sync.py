"""Sync with the hub as an administrator sees it: backlog, last successes, dead letters."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from node.api.security import staff_required
from node.auth.permissions import Permission
from node.sync.status import dead_letters, status_report
from schemas.runtime.database import utcnow
from schemas.runtime.webapp import Blueprint, current_session

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="Sync with the hub")


class DeadLetterSchema(Schema):
    id = fields.String()
    seq = fields.Integer()
    kind = fields.String()
    to = fields.String()
    reason = fields.String(allow_none=True, metadata={"description": "The hub's reason code"})
    message = fields.String(allow_none=True)
    at = fields.AwareDateTime()
    attempts = fields.Integer()


class IncomingDeadLetterSchema(Schema):
    id = fields.String(allow_none=True, metadata={"description": "The envelope id, if any"})
    sender = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    stage = fields.String(metadata={
        "description": "receive (refused from the mailbox) | apply (not applied)"})
    reason = fields.String(metadata={"description": "A stable code, e.g. too_large"})
    message = fields.String(allow_none=True)
    at = fields.AwareDateTime()


class SyncStatusSchema(Schema):
    last_push_at = fields.AwareDateTime(allow_none=True)
    last_pull_at = fields.AwareDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    last_error_at = fields.AwareDateTime(allow_none=True)
    mailbox_cursor = fields.Integer()
    pending_count = fields.Integer()
    oldest_pending_age_seconds = fields.Integer(allow_none=True)
    inbox_held = fields.Integer()
    inbox_failed = fields.Integer()
    refused = fields.Integer()
    dead_letter_count = fields.Integer(metadata={
        "description": "Every envelope set aside: rejected by the hub, refused on receipt, "
                       "or not applied"})
    dead_letters = fields.List(fields.Nested(DeadLetterSchema))
    incoming_dead_letters = fields.List(fields.Nested(IncomingDeadLetterSchema))


@blp.route("/status")
class Status(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.response(200, SyncStatusSchema)
    def get(self) -> Any:
        """Last successful push and pull, the last error, envelopes waiting to be sent and
        the age of the oldest, inbox envelopes held or failed, and the dead letters: those the
        hub rejected and the incoming mail set aside (refused or not applied)."""
        return status_report(current_session(), utcnow())


@blp.route("/dead-letters")
class DeadLetters(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.response(200, DeadLetterSchema(many=True))
    def get(self) -> Any:
        """Envelopes the hub rejected (newest first), with the hub's reason."""
        return dead_letters(current_session())
