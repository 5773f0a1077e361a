"""Sampled audits of summaries at the hub (plain Python over a session; docs/verification.md).

An ancestor's node (signed request) or hub staff whose scope holds the node opens an audit of
one version of a node's summary (:meth:`AuditService.open`).  The sample's seed is SHA-256 of
the request's digest and the hub's log head at that moment, its indexes drawn from the seed
(schemas.commitment.sample_indexes); the node's worker lists its open audits
(:func:`pending_for`) and answers each with a signed ``audit.response``, which the ingest
checks (:func:`audit_answered`, through :class:`IngestAudits`, the relay's
:class:`hub.ports.AuditAnswers`) and this module judges (:func:`record_answer`) with
schemas.audit_check: ``passed`` with no finding, ``failed`` with any, and ``unanswered``
when no answer came by ``due_at`` (an answer after it is kept, the audit stays 未应答).

A summary whose figures disagree with its commitment is refused at ingest and the refusal
kept (:func:`record_refusal`) for the completeness page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.audits.models import Audit, CommitmentRefusal
from hub.models import RegisteredNode
from hub.ports import AuditRefused, RecordAnswer
from hub.relay.models import EnvelopeRecord, SummaryRecord
from schemas.audit_check import findings
from schemas.commitment import (
    DEFAULT_SAMPLE_SIZE,
    MAX_SAMPLE_SIZE,
    audit_seed,
    detection_probability,
    sample_indexes,
)
from schemas.divisions import is_ancestor, is_within
from schemas.envelope import Envelope
from schemas.errors import Conflict, Forbidden, NotFound, ValidationFailed
from schemas.fastcanon import canonical
from schemas.i18n import _
from schemas.names import center_text
from schemas.runtime.database import insert_if_missing

PENDING, PASSED, FAILED, UNANSWERED = "pending", "passed", "failed", "unanswered"
DEFAULT_ANSWER_SECONDS = 24 * 3600
# the shares of false leaves whose detection probability an audit states (basis points)
SHOWN_SHARES = (100, 500, 1000)


class AuditForbidden(Forbidden):
    code = "not_an_ancestor"


class NoSummary(NotFound):
    code = "no_summary"


class NoCommitment(Conflict):
    code = "no_commitment"


@dataclasses.dataclass(frozen=True)
class Requester:
    """Who opens an audit: a node (its code) or a hub staff account (its scope)."""

    kind: str  # "node" | "staff"
    scope: str
    name: str

    def label(self) -> str:
        return f"{self.kind}:{self.name}"


def may_audit(requester: Requester, node: str) -> bool:
    """An ancestor's node, or hub staff whose scope is the node or above it."""
    if requester.kind == "node":
        return is_ancestor(requester.scope, node)
    return is_within(requester.scope, node)


def log_head(session: Session) -> str:
    """SHA-256 of the newest envelope in the hub's log (of nothing when it is empty)."""
    wire = session.scalar(select(EnvelopeRecord.wire).order_by(
        EnvelopeRecord.received_at.desc(), EnvelopeRecord.id.desc()).limit(1))
    return hashlib.sha256((wire or "").encode("utf-8")).hexdigest()


def _summary(session: Session, node: str, period: str, seq: int | None) -> SummaryRecord | None:
    query = select(SummaryRecord).where(SummaryRecord.node == node,
                                        SummaryRecord.period_label == period)
    if seq is not None:
        query = query.where(SummaryRecord.seq == seq)
    return session.scalar(query.order_by(SummaryRecord.seq.desc()).limit(1))


def effective_state(audit: Audit, now: dt.datetime) -> str:
    if audit.state == PENDING and now > audit.due_at:
        return UNANSWERED
    return audit.state


def as_json(audit: Audit, now: dt.datetime) -> dict[str, Any]:
    indexes = orjson.loads(audit.indexes)
    size = len(indexes)
    return {
        "id": audit.id, "node": audit.node, "period": audit.period_label,
        "summary": audit.summary_envelope_id, "summary_seq": audit.summary_seq,
        "requested_by": audit.requested_by, "request": orjson.loads(audit.request),
        "request_digest": audit.request_digest, "log_head": audit.log_head,
        "seed": audit.seed, "sample_size": audit.sample_size, "indexes": indexes,
        "opened_at": audit.opened_at, "due_at": audit.due_at,
        "state": effective_state(audit, now), "answered_at": audit.answered_at,
        "response": audit.response_envelope_id,
        "findings": orjson.loads(audit.findings) if audit.findings else [],
        "sampled": size,
    }


class AuditService:
    def __init__(self, session: Session, now: dt.datetime,
                 answer_seconds: int = DEFAULT_ANSWER_SECONDS) -> None:
        self.session = session
        self.now = now
        self.answer_seconds = answer_seconds

    def _center(self, code: str) -> str:
        row = self.session.get(RegisteredNode, code)
        return center_text(code, row.name if row is not None else None)

    def _who(self, requester: Requester) -> str:
        if requester.kind == "node":
            return self._center(requester.name)
        return _("枢纽工作人员账号 %(name)s", name=requester.name)

    def open(self, requester: Requester, *, node: str, period: str, seq: int | None = None,
             sample_size: int = DEFAULT_SAMPLE_SIZE) -> dict[str, Any]:
        """Open an audit of ``node``'s summary of ``period`` (version ``seq``, else the
        newest) drawing ``sample_size`` leaves."""
        if not may_audit(requester, node):
            raise AuditForbidden(_("%(requester)s is not above %(node)s: only an ancestor "
                                   "audits a node", requester=self._who(requester),
                                   node=self._center(node)),
                                 {"node": node})
        if not 1 <= sample_size <= MAX_SAMPLE_SIZE:
            raise ValidationFailed({"sample_size": [_("from 1 to %(most)s",
                                                       most=MAX_SAMPLE_SIZE)]})
        summary = _summary(self.session, node, period, seq)
        if summary is None:
            raise NoSummary(_("No summary of %(node)s for %(period)s is held.",
                              node=self._center(node), period=period),
                            {"node": node, "period": period, "seq": seq})
        commitment = orjson.loads(summary.body).get("commitment")
        if not isinstance(commitment, Mapping):
            raise NoCommitment(_("That summary carries no commitment to audit."),
                               {"summary": summary.envelope_id})
        audit_id = str(uuid.uuid4())
        request = {"audit": audit_id, "node": node, "period": period,
                   "summary": summary.envelope_id, "sample_size": sample_size,
                   "requested_by": requester.label(),
                   "requested_at": self.now.astimezone(dt.UTC).isoformat()}
        request_bytes = canonical(request)
        digest = hashlib.sha256(request_bytes).hexdigest()
        head = log_head(self.session)
        seed = audit_seed(digest, head)
        indexes = sample_indexes(seed, int(commitment["size"]), sample_size)
        audit = Audit(
            id=audit_id, node=node, period_label=period,
            summary_envelope_id=summary.envelope_id, summary_seq=summary.seq,
            requested_by=requester.label(), request=request_bytes.decode("utf-8"),
            request_digest=digest, log_head=head, seed=seed, sample_size=sample_size,
            indexes=orjson.dumps(indexes).decode(), opened_at=self.now,
            due_at=self.now + dt.timedelta(seconds=self.answer_seconds), state=PENDING)
        self.session.add(audit)
        self.session.flush()
        answer = as_json(audit, self.now)
        answer["detection"] = [
            {"false_share_bp": share,
             "probability_bp": detection_probability(int(commitment["size"]), len(indexes),
                                                     share)}
            for share in SHOWN_SHARES]
        return answer

    def get(self, requester: Requester, audit_id: str) -> dict[str, Any]:
        """An audit with both envelopes (the summary and the answer), for anyone above the
        node to check again."""
        audit = self.session.get(Audit, audit_id)
        if audit is None or (not may_audit(requester, audit.node) and not (
                requester.kind == "node" and requester.scope == audit.node)):
            raise NotFound(_("No such audit."), {"id": audit_id})
        answer = as_json(audit, self.now)
        wires = {row.id: row.wire for row in self.session.execute(
            select(EnvelopeRecord.id, EnvelopeRecord.wire).where(EnvelopeRecord.id.in_(
                [audit.summary_envelope_id, audit.response_envelope_id or ""])))}
        answer["envelopes"] = {
            "summary": orjson.loads(wires[audit.summary_envelope_id])
            if audit.summary_envelope_id in wires else None,
            "response": orjson.loads(wires[audit.response_envelope_id])
            if audit.response_envelope_id in wires else None,
        }
        return answer


def pending_for(session: Session, node: str, now: dt.datetime) -> list[dict[str, Any]]:
    """The node's audits waiting for its answer (also those past due: a late answer is kept)."""
    rows = session.scalars(select(Audit).where(Audit.node == node, Audit.state == PENDING)
                           .order_by(Audit.opened_at))
    return [{"id": a.id, "summary": a.summary_envelope_id, "seed": a.seed,
             "indexes": orjson.loads(a.indexes), "due_at": a.due_at} for a in rows]


def audit_answered(session: Session, envelope: Envelope) -> Audit:
    """The open audit an ``audit.response`` answers, or :class:`AuditRefused`."""
    audit = session.get(Audit, str(envelope.body["audit"]))
    if audit is None or audit.node != envelope.sender:
        raise AuditRefused("unknown_audit", f"{envelope.sender} has no audit "
                           f"{envelope.body['audit']}")
    if audit.state != PENDING:
        raise AuditRefused("audit_closed", f"the audit {audit.id} was answered before")
    if envelope.body["summary"] != audit.summary_envelope_id:
        raise AuditRefused("wrong_summary", f"the audit {audit.id} is of the summary "
                           f"{audit.summary_envelope_id}")
    return audit


# a node's verdicts that count as failures (the completeness page's 数据核验未通过或未应答)
REFUSED, UNCOMMITTED = "refused", "uncommitted"
FAILINGS = frozenset({FAILED, UNANSWERED, REFUSED, UNCOMMITTED})


def verdict(entry: Mapping[str, Any]) -> str | None:
    """One word for a node's :func:`standing`: ``refused`` first, then ``uncommitted``
    (its current figures cannot be checked at all), then its newest audit's state."""
    if "refused" in entry:
        return REFUSED
    if "uncommitted" in entry:
        return UNCOMMITTED
    status: str | None = entry["status"]
    return status


def record_answer(session: Session, audit: Audit, envelope: Envelope,
                  now: dt.datetime) -> None:
    """Judge the answer ``envelope`` (already logged) to ``audit``."""
    body = session.scalar(select(SummaryRecord.body).where(
        SummaryRecord.envelope_id == audit.summary_envelope_id))
    commitment = orjson.loads(body or "{}").get("commitment") or {}
    found = findings(commitment, envelope.body, orjson.loads(audit.indexes), audit.seed)
    late = now > audit.due_at
    audit.state = UNANSWERED if late else (FAILED if found else PASSED)
    audit.answered_at = now
    audit.response_envelope_id = envelope.id
    audit.findings = orjson.dumps(found).decode()


def record_refusal(session: Session, envelope: Envelope, problems: list[dict[str, Any]],
                   now: dt.datetime) -> None:
    """Keep why a summary was refused for its commitment (once per envelope)."""
    insert_if_missing(session, CommitmentRefusal, {
        "envelope_id": envelope.id, "node": envelope.sender,
        "period_label": str(envelope.body["period"]["label"])[:32], "seq": envelope.seq,
        "reason": problems[0]["reason"], "details": orjson.dumps(problems).decode(),
        "at": now}, ["envelope_id"])


class IngestAudits:
    """The audits' part of the relay's ingest (:class:`hub.ports.AuditAnswers`), which the
    composition root hands to each :class:`hub.relay.service.Ingest`."""

    def answered(self, session: Session, envelope: Envelope) -> RecordAnswer:
        audit = audit_answered(session, envelope)
        return lambda now: record_answer(session, audit, envelope, now)

    def refused(self, session: Session, envelope: Envelope, problems: list[dict[str, Any]],
                now: dt.datetime) -> None:
        record_refusal(session, envelope, problems, now)


def standing(session: Session, low: str, high: str, period: str,
             now: dt.datetime) -> dict[str, dict[str, Any]]:
    """Per node with a code in ``[low, high)``: its newest audit of ``period``'s summaries
    (``status`` passed | failed | unanswered | pending, with its findings) and, when the hub
    refused one of its summaries of the period for its commitment, ``refused`` (the newest
    refusal's reason and problems); when its newest accepted summary of the period carries
    no commitment, ``uncommitted`` (that version's seq): its figures cannot be checked
    (数据核验：未提交承诺, docs/verification.md)."""
    found: dict[str, dict[str, Any]] = {}
    newest = (select(Audit.node, func.max(Audit.opened_at).label("opened"))
              .where(Audit.node >= low, Audit.node < high, Audit.period_label == period)
              .group_by(Audit.node).subquery())
    rows = session.scalars(select(Audit).join(
        newest, (Audit.node == newest.c.node) & (Audit.opened_at == newest.c.opened)))
    for audit in rows:
        state = effective_state(audit, now)
        found[audit.node] = {
            "status": state, "audit": audit.id, "opened_at": audit.opened_at,
            "sampled": len(orjson.loads(audit.indexes)),
            "findings": orjson.loads(audit.findings) if audit.findings else [],
        }
    refusals = session.scalars(select(CommitmentRefusal).where(
        CommitmentRefusal.node >= low, CommitmentRefusal.node < high,
        CommitmentRefusal.period_label == period).order_by(CommitmentRefusal.at))
    for refusal in refusals:
        since = session.scalar(select(func.max(SummaryRecord.seq)).where(
            SummaryRecord.node == refusal.node, SummaryRecord.period_label == period))
        if since is not None and since > refusal.seq:
            continue  # a later version of the summary was accepted
        entry = found.setdefault(refusal.node, {"status": None})
        entry["refused"] = {"reason": refusal.reason, "seq": refusal.seq, "at": refusal.at,
                            "problems": orjson.loads(refusal.details)}
    for node, seq in uncommitted(session, low, high, period).items():
        found.setdefault(node, {"status": None})["uncommitted"] = {"seq": seq}
    return found


# the body is stored as JSON text; a quote inside a JSON string is escaped, so this text
# occurs in a body only as its top-level key (no nested object of a summary has one)
COMMITMENT_KEY = '"commitment":'


def uncommitted(session: Session, low: str, high: str, period: str) -> dict[str, int]:
    """Per node with a code in ``[low, high)`` whose newest summary of ``period`` carries no
    commitment: that summary's seq.  Decided in the database, so no body is read."""
    newest = (select(SummaryRecord.node, func.max(SummaryRecord.seq).label("seq"))
              .where(SummaryRecord.node >= low, SummaryRecord.node < high,
                     SummaryRecord.period_label == period)
              .group_by(SummaryRecord.node).subquery())
    rows = session.execute(select(SummaryRecord.node, SummaryRecord.seq).join(
        newest, (SummaryRecord.node == newest.c.node) & (SummaryRecord.seq == newest.c.seq))
        .where(SummaryRecord.period_label == period,
               ~SummaryRecord.body.contains(COMMITMENT_KEY, autoescape=True)))
    return {row.node: row.seq for row in rows}
