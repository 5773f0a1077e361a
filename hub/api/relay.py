"""Node-facing endpoints: every request is signed by the calling node (hub.api.auth)."""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Any

import orjson
from flask import Response, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, missing, validate
from sqlalchemy import event
from sqlalchemy.orm import Session
from webargs.flaskparser import FlaskParser, is_json_request

from hub.api.auth import Caller, authenticate, services
from hub.composition import current_settings
from hub.errors import BatchTooLarge, BeyondMailbox, BlobTooLarge, HashMismatch, OutsideSubtree
from hub.relay import anchors
from hub.relay.blobs import readable_blob, sha256_hex, store_blob
from hub.relay.mailboxes import acked_cursor, acknowledge, read_mailbox
from hub.relay.service import last_seq, newest_summary
from hub.relay.wakeup import MailboxBell
from schemas.divisions import is_within
from schemas.envelope import CODE_PATTERN
from schemas.errors import NotFound, ValidationFailed
from schemas.runtime.database import BIGINT_MAX
from schemas.runtime.webapp import accepts_bodies, current_session


class OrjsonParser(FlaskParser):
    """Request bodies decoded by orjson: a push of ten summaries is ~46 KB of JSON, which
    the standard library decodes several times slower.  orjson is stricter (no NaN, integers
    within 64 bits): such a body is refused as malformed JSON."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return missing
        return orjson.loads(req.get_data(cache=True))


class RelayBlueprint(Blueprint):
    ARGUMENTS_PARSER = OrjsonParser()


blp = RelayBlueprint("relay", __name__, url_prefix="/api/v1",
                     description="Push envelopes, pull the mailbox, read summaries, move "
                                 "blobs. Every request is signed by the calling node.")

SHA256 = re.compile("[0-9a-f]{64}")
MAILBOX_PAGE_MAX = 1000
MAILBOX_WAIT_MAX = 60.0


@blp.before_request
def _authenticate() -> None:
    if request.endpoint == f"{blp.name}.Blobs":
        request.max_content_length = current_settings().max_blob_bytes
    g.hub_caller = authenticate(root_bootstrap=request.endpoint == f"{blp.name}.Envelopes")


def caller() -> Caller:
    found: Caller = g.hub_caller
    return found


# -- envelopes ------------------------------------------------------------------------------


class EnvelopeBatchSchema(Schema):
    envelopes = fields.List(fields.Raw(), required=True, metadata={
        "description": "Wire envelopes (JSON objects), at most max_batch of them."})


class EnvelopeResultSchema(Schema):
    id = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={
        "description": "accepted | duplicate | rejected"})
    reason = fields.String(metadata={"description": "Why it was rejected (a stable code)."})
    message = fields.String()


class EnvelopeResultsSchema(Schema):
    results = fields.List(fields.Nested(EnvelopeResultSchema), required=True)


@blp.route("/envelopes")
class Envelopes(MethodView):
    @blp.arguments(EnvelopeBatchSchema)
    @blp.response(200, EnvelopeResultsSchema)
    def post(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Push a batch of signed envelopes; one answer per envelope, in order.

        The batch is verified and stored in one transaction.  An envelope is ``accepted``,
        a ``duplicate`` of one already logged (stored once), or ``rejected`` with a
        ``reason``; a rejected envelope stores nothing and does not stop the others.
        """
        envelopes = batch["envelopes"]
        limit = current_settings().max_batch
        if len(envelopes) > limit:
            raise BatchTooLarge(
                f"A batch holds at most {limit} envelopes, not {len(envelopes)}.",
                {"max_batch": limit, "count": len(envelopes)},
            )
        who = caller()
        session = current_session()
        services().nonce_pruner(session, who.now)
        ingest = services().ingest(session, caller=who.node, now=who.now, store=who.store)
        results = [result.to_json() for result in ingest.run(envelopes)]
        if ingest.delivered:
            _ring_after_commit(session, ingest.delivered)
        g.hub_timing = ServerTiming(ingest.parse_seconds, ingest.verify_seconds,
                                    ingest.run_seconds, time.perf_counter())
        return {"results": results}


@dataclasses.dataclass(frozen=True)
class ServerTiming:
    """Where a push's time went, for the ``Server-Timing`` header (hub.app adds it once the
    request's transaction has committed): parse, verify, and the database's share."""

    parse_seconds: float
    verify_seconds: float
    ingest_seconds: float
    ingested_at: float  # perf_counter() when the view was done; the commit follows

    def header(self, committed_at: float) -> str:
        database = (self.ingest_seconds - self.parse_seconds - self.verify_seconds
                    + committed_at - self.ingested_at)
        return (f"parse;dur={self.parse_seconds * 1000:.3f}, "
                f"verify;dur={self.verify_seconds * 1000:.3f}, db;dur={database * 1000:.3f}")


def mailbox_bell() -> MailboxBell:
    bell = services().bell
    if bell is None:  # pragma: no cover - create_app gives the web process its bell
        raise RuntimeError("the hub's web process has no mailbox bell")
    return bell


def _ring_after_commit(session: Session, codes: set[str]) -> None:
    """Ring this process's waiters of ``codes`` once the request's transaction commits (on
    PostgreSQL the NOTIFY sent in it rings every process's too; on SQLite this is the only
    immediate ring, other processes' waiters find the rows at their next look)."""
    bell = mailbox_bell()
    event.listen(session, "after_commit", lambda _session: bell.ring(codes), once=True)


class LastSeqSchema(Schema):
    node = fields.String(required=True)
    last_seq = fields.Integer(required=True, metadata={
        "description": "The highest seq logged from the caller; 0 when none."})


@blp.route("/envelopes/last-seq")
class LastSeq(MethodView):
    @blp.response(200, LastSeqSchema)
    def get(self) -> dict[str, Any]:
        """The highest seq the hub has logged from the caller.

        A node restored from a backup asks this before it signs anything new, so that it
        never reuses a seq the hub has already relayed (deploy/README.md, "Restoring").
        """
        node = caller().node
        return {"node": node, "last_seq": last_seq(current_session(), node)}


# -- mailbox --------------------------------------------------------------------------------


class MailboxQuerySchema(Schema):
    after = fields.Integer(load_default=None, validate=validate.Range(min=0, max=BIGINT_MAX),
                           metadata={"description": (
                               "Rows after this cursor (default: the acknowledged cursor).")})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAILBOX_PAGE_MAX))
    wait = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=MAILBOX_WAIT_MAX),
                        metadata={"description": (
                            "Long poll: when nothing is after the cursor, hold the request up "
                            f"to this many seconds (at most {MAILBOX_WAIT_MAX}) and answer as "
                            "soon as something arrives.")})


class MailboxRowSchema(Schema):
    cursor = fields.Integer(required=True)
    envelope = fields.Raw(required=True, metadata={"description": "The wire envelope."})
    prev_seq = fields.Integer(allow_none=True, metadata={"description": (
        "The seq of the same sender's previous envelope in this mailbox (0: none). The "
        "sender's seq counts every envelope it signs; this tells the addressee whether a "
        "gap before this seq holds anything for it.")})


class MailboxPageSchema(Schema):
    items = fields.List(fields.Nested(MailboxRowSchema), required=True)
    acked_cursor = fields.Integer(required=True)


@blp.route("/mailbox")
class Mailbox(MethodView):
    @blp.arguments(MailboxQuerySchema, location="query")
    @blp.response(200, MailboxPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The caller's own mailbox after a cursor, in cursor order.

        With ``wait``, an empty page is not answered at once: the request waits, holding its
        socket but no database connection (and, under the hub's gevent workers, no thread),
        until a delivery to the caller's mailbox rings it or ``wait`` seconds have passed.
        On PostgreSQL the ring is a NOTIFY, from whichever hub process accepted the envelope;
        on SQLite the hub looks again every ``mailbox_poll_seconds`` as well (docs/scale.md).
        """
        node = caller().node
        session = current_session()
        acked = acked_cursor(session, node)
        after = acked if query["after"] is None else query["after"]
        if query["wait"] <= 0:
            rows = read_mailbox(session, node, after, query["limit"])
        else:
            rows = _wait_for_mail(node, after, query["limit"], query["wait"])
        return {"items": [{"cursor": c, "envelope": wire, "prev_seq": prev}
                          for c, wire, prev in rows],
                "acked_cursor": acked}


def _wait_for_mail(
    node: str, after: int, limit: int, wait: float
) -> list[tuple[int, dict[str, Any], int | None]]:
    """Rows after ``after`` at once, or as soon as they arrive within ``wait`` seconds.

    The waiter is registered before the first look, so a delivery committed between that
    look and the wait still rings it.  After an empty look the request's transaction
    (holding the nonce, and on SQLite the write lock) is committed, which also gives its
    connection back to the pool; each later look is its own short read transaction.
    """
    session = current_session()
    bell = mailbox_bell()
    deadline = time.monotonic() + wait
    with bell.waiter(node) as waiter:
        while True:
            rows = read_mailbox(session, node, after, limit)
            session.commit()
            if rows:
                return rows
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            waiter.wait(bell.next_look(remaining))


class AckSchema(Schema):
    cursor = fields.Integer(required=True, validate=validate.Range(min=0, max=BIGINT_MAX))


class AckedSchema(Schema):
    acked_cursor = fields.Integer(required=True)


@blp.route("/mailbox/ack")
class MailboxAck(MethodView):
    @blp.arguments(AckSchema)
    @blp.response(200, AckedSchema)
    def post(self, ack: dict[str, Any]) -> dict[str, Any]:
        """Acknowledge the caller's mailbox up to a cursor (it never moves backwards)."""
        who = caller()
        acked = acknowledge(current_session(), who.node, ack["cursor"], who.now)
        if acked is None:
            raise BeyondMailbox({"cursor": ["beyond the last row of your mailbox"]},
                                f"Cursor {ack['cursor']} is beyond your mailbox.")
        return {"acked_cursor": acked}


# -- summaries ------------------------------------------------------------------------------


class SummaryQuerySchema(Schema):
    node = fields.String(required=True, validate=validate.Regexp(f"^({CODE_PATTERN})$"))
    period = fields.String(required=True, validate=validate.Length(min=1, max=32))


class SummaryResponseSchema(Schema):
    node = fields.String(required=True)
    period = fields.String(required=True)
    period_kind = fields.String(required=True)
    seq = fields.Integer(required=True)
    envelope_id = fields.String(required=True)
    received_at = fields.DateTime(required=True)
    summary = fields.Raw(required=True, metadata={"description": "The summary body."})
    envelope = fields.Raw(required=True, metadata={
        "description": "The signed envelope it came in, to verify with the registry."})


@blp.route("/summaries")
class Summaries(MethodView):
    @blp.arguments(SummaryQuerySchema, location="query")
    @blp.response(200, SummaryResponseSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The newest summary (highest seq) of a node for a period.

        Only the node itself and its ancestors may read it (403 ``outside_subtree``).
        """
        who = caller()
        if not is_within(who.node, query["node"]):
            raise OutsideSubtree(f"{query['node']} is outside the subtree of {who.node}.",
                                 {"node": query["node"]})
        found = newest_summary(current_session(), query["node"], query["period"])
        if found is None:
            raise NotFound(f"No summary of {query['node']} for {query['period']}.")
        record, wire = found
        return {
            "node": record.node, "period": record.period_label,
            "period_kind": record.period_kind, "seq": record.seq,
            "envelope_id": record.envelope_id, "received_at": record.received_at,
            "summary": wire["body"], "envelope": wire,
        }


# -- audit anchors --------------------------------------------------------------------------


class AnchorQuerySchema(Schema):
    node = fields.String(load_default=None, validate=validate.Regexp(f"^({CODE_PATTERN})$"),
                         metadata={"description": "The caller's own code (the default)."})


class AnchorResponseSchema(Schema):
    node = fields.String(required=True)
    seq = fields.Integer(required=True, metadata={
        "description": "The seq of the summary envelope that carried it."})
    envelope_id = fields.String(required=True)
    entries = fields.Integer(required=True, metadata={
        "description": "Entries in the node's audit chain when it signed the summary."})
    head = fields.String(required=True, metadata={"description": "The last entry's hash."})
    restore = fields.String(allow_none=True, metadata={
        "description": "The id of the last restore from a backup the node had announced."})
    received_at = fields.DateTime(required=True)
    verdict = fields.String(required=True, metadata={
        "description": "first | ok | restored | anomaly, against the anchor before it"})
    previous_entries = fields.Integer(allow_none=True)


@blp.route("/audit/anchor")
class AuditAnchorView(MethodView):
    @blp.arguments(AnchorQuerySchema, location="query")
    @blp.response(200, AnchorResponseSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The caller's newest audit anchor: the head its newest summary carried.

        ``tongban node verify-audit --against-hub`` compares the local chain with it.  A node
        reads only its own anchors (403 ``outside_subtree`` for any other code); 404 before
        its first summary carrying one.
        """
        who = caller()
        node = query["node"] or who.node
        if node != who.node:
            raise OutsideSubtree(f"A node reads only its own audit anchors, not {node}'s.",
                                 {"node": node})
        found = anchors.newest(current_session(), node)
        if found is None:
            raise NotFound(f"No audit anchor of {node} yet: no summary carrying one has "
                           "arrived.")
        return anchors.as_json(found)


# -- blobs ----------------------------------------------------------------------------------


def _check_name(sha256: str) -> None:
    if not SHA256.fullmatch(sha256):
        raise ValidationFailed({"sha256": ["64 lowercase hex digits"]},
                               "A blob is named by its SHA-256 in lowercase hex.")


class BlobStoredSchema(Schema):
    sha256 = fields.String(required=True)
    size = fields.Integer(required=True)


@blp.route("/blobs/<string(length=64):sha256>")
@accepts_bodies("application/octet-stream")
class Blobs(MethodView):
    @blp.response(201, BlobStoredSchema)
    def put(self, sha256: str) -> dict[str, Any]:
        """Upload an attachment's bytes (``application/octet-stream``) under their SHA-256.

        At most ``max_blob_bytes`` (413 ``blob_too_large``); bytes hashing to another name
        are refused (422 ``hash_mismatch``).  Uploading the same blob again changes nothing.
        """
        who = caller()
        _check_name(sha256)
        limit = current_settings().max_blob_bytes
        data = request.get_data(cache=True)
        if len(data) > limit:
            raise BlobTooLarge(f"A blob has at most {limit} bytes.", {"max_bytes": limit})
        actual = sha256_hex(data)
        if actual != sha256:
            raise HashMismatch(sha256, actual)
        store_blob(current_session(), sha256, data, who.node, who.now)
        return {"sha256": sha256, "size": len(data)}

    @blp.response(200)
    def get(self, sha256: str) -> Response:
        """Download a blob: only for its uploader and for the sender and addressees of an
        envelope listing it (404 otherwise)."""
        _check_name(sha256)
        blob = readable_blob(current_session(), sha256, caller().node)
        if blob is None:
            raise NotFound(f"No blob {sha256} that you may read.")
        return Response(blob.data, mimetype="application/octet-stream")
