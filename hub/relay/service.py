"""Ingest, mailboxes, summaries and blobs: plain Python over a session (no Flask here).

A batch of envelopes is verified and stored in the caller's one transaction.  Each envelope
gets its own answer — ``accepted``, ``duplicate`` (its id is already in the log: nothing is
stored twice) or ``rejected`` with a reason — and a rejected envelope stores nothing.

Rejection reasons (``reason`` in the answer):

parse_envelope's codes   ``malformed``, ``too_large``, ``too_deep``, ``unknown_version``,
                         ``unknown_kind``, ``float_in_body``, ``bad_body``
``not_sender``           ``from`` is not the node that signed the request
``not_enrolled``         the sender has no certificate chaining to the root
``unknown_key``          no certificate of the sender holds ``key_id``
``revoked_key``          the sender's key is revoked at the hub's time
``expired_key``          the certificate of the key (or of its chain) has expired
``key_not_yet_valid``    the certificate of the key (or of its chain) is not valid yet
``bad_signature``        the envelope's signature does not verify
``not_parent`` / ``not_ancestor`` / ``unknown_issuer`` / ``identity_mismatch`` / ``no_chain``
                         a ``cert`` or ``revoke`` whose document the trust store refuses
``bad_certificate_signature``  the certificate's or revocation's own signature fails
``unknown_addressee``    ``to`` names a node that is not registered
``outside_subtree``      ``"<code>/*"`` from a node that is neither the code nor its ancestor
``not_trust_root``       ``calendar.publish`` (the trust root's only) from another node
``commitment_mismatch``  a summary whose figures are not what its committed leaves add up to,
                         or whose leaves by state do not add up to its tree's size (kept in
                         ``commitment_refusals`` for the completeness page; hub/audits)
``unknown_audit`` / ``audit_closed`` / ``wrong_summary``
                         an ``audit.response`` to no open audit of its sender's summary

A newly registered node gets the holiday schedules in force (hub/relay/schedules.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy import Select, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hub.models import RegisteredNode
from hub.ports import AuditAnswers, AuditRefused, RecordAnswer, RegistryRecords
from hub.relay import anchors
from hub.relay.mailboxes import put_in_mailboxes
from hub.relay.models import (
    EnvelopeBlob,
    EnvelopeRecord,
    RequestNonce,
    SummaryRecord,
)
from hub.relay.schedules import current_schedules
from hub.relay.wakeup import notify_statements
from schemas.certificates import Certificate, Revocation, TrustError
from schemas.commitment import commitment_problems
from schemas.divisions import is_within
from schemas.envelope import (
    ADDRESSING,
    Addressing,
    Envelope,
    EnvelopeError,
    Kind,
    parse_envelope,
    verify_envelope,
)
from schemas.messages import check_publisher, check_sender
from schemas.request_signing import MAX_SKEW
from schemas.trust import TrustStore

NONCE_PRUNE_LOCK = 7_252_002
PRUNE_LOCK = text("SELECT pg_try_advisory_xact_lock(CAST(:lock AS integer),"
                  " hashtext(current_schema()))").bindparams(lock=NONCE_PRUNE_LOCK)

PERIOD_LABEL_MAX = 32  # summaries.period_label

KEY_REASONS = {
    "no_chain": "not_enrolled",
    "unknown_key": "unknown_key",
    "revoked": "revoked_key",
    "expired": "expired_key",
    "not_yet_valid": "key_not_yet_valid",
}


class Status(enum.StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclasses.dataclass(frozen=True)
class EnvelopeResult:
    """The hub's answer about one envelope of a batch."""

    id: str | None
    status: Status
    reason: str | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"id": self.id, "status": self.status.value}
        if self.reason is not None:
            answer["reason"] = self.reason
            answer["message"] = self.message
        return answer


class Rejection(Exception):
    """Why one envelope of a batch is refused (internal to a batch: never leaves it)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def key_reason(error: TrustError) -> str:
    """The rejection reason for a sender key the trust store does not trust."""
    return KEY_REASONS.get(error.code, "untrusted_key")


def descendants_of(session: Session, code: str) -> list[str]:
    """Every registered node below ``code`` in the administrative tree."""
    found: list[str] = []
    frontier = [code]
    while frontier:
        children = list(session.scalars(
            select(RegisteredNode.code).where(RegisteredNode.parent_code.in_(frontier))
            .order_by(RegisteredNode.code)
        ))
        found.extend(children)
        frontier = children
    return found


def _insert_new(session: Session, model: Any, values: dict[str, Any], key: list[str]) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING``; whether a row was inserted."""
    dialect = session.get_bind().dialect.name
    statement: Any = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(model)
    # RETURNING, not rowcount: an ORM-executed INSERT does not report a reliable rowcount
    inserted = session.execute(
        statement.values(values).on_conflict_do_nothing(index_elements=key)
        .returning(*(getattr(model, column) for column in key))
    ).first()
    return inserted is not None


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# -- signed requests ------------------------------------------------------------------------


def remember_nonce(session: Session, node: str, nonce: str, now: dt.datetime,
                   reading: Any) -> Any | None:
    """Record a request nonce and read ``reading`` (a scalar subquery: hub.api.auth passes
    the registry's version) in the same statement, ``INSERT … ON CONFLICT DO NOTHING
    RETURNING``: one round trip where there were two.  None when the node used the nonce
    before (a replay: nothing is inserted, nothing returned), else what was read."""
    statement: Any = (postgresql_insert if _is_postgresql(session) else sqlite_insert)(
        RequestNonce)
    row = session.execute(
        statement.values(node=node, nonce=nonce, seen_at=now)
        .on_conflict_do_nothing(index_elements=["node", "nonce"])
        .returning(reading)
    ).first()
    return None if row is None else row[0]


def prune_nonces(session: Session, now: dt.datetime) -> None:
    """Forget nonces too old to be accepted anyway (one pruner at a time per hub schema)."""
    if _is_postgresql(session) and not session.scalar(PRUNE_LOCK):
        return
    session.execute(delete(RequestNonce).where(RequestNonce.seen_at < now - 2 * MAX_SKEW))


PRUNE_EVERY = dt.timedelta(minutes=1)


class NoncePruner:
    """One process's :func:`prune_nonces`, at most once a :data:`PRUNE_EVERY` of the hub's
    clock: pruning on every push cost it two round trips (the lock and the delete) of the ten
    a push of summaries makes (docs/scale.md, "Hub ingest").  A nonce lives a minute longer
    at most; a replay is refused by its row whatever its age, and one older than the allowed
    skew by its time."""

    def __init__(self) -> None:
        self._last: dt.datetime | None = None

    def __call__(self, session: Session, now: dt.datetime) -> None:
        if self._last is not None and abs(now - self._last) < PRUNE_EVERY:
            return
        self._last = now
        prune_nonces(session, now)


# -- ingest ---------------------------------------------------------------------------------


class Ingest:
    """Verify, log and route one batch of envelopes pushed by ``caller``.

    ``load_store`` rebuilds the trust store from the database (this session, so it sees what
    the batch has stored so far) when ``store`` is not given or had to be dropped.
    Certificates and revocations accepted in the batch apply to the envelopes after them.
    What an envelope adds to the registry or the audits goes through ``registry`` and
    ``audits`` (hub/ports.py), which the composition root hands in: the relay imports
    neither.
    """

    def __init__(
        self,
        session: Session,
        *,
        caller: str,
        now: dt.datetime,
        load_store: Callable[[], TrustStore],
        registry: RegistryRecords,
        audits: AuditAnswers,
        store: TrustStore | None = None,
    ) -> None:
        self.session = session
        self.registry = registry
        self.audits = audits
        self.caller = caller
        self.now = now
        self._load_store = load_store
        self._store: TrustStore | None = store
        # deliveries (envelope, addressees) made once the batch's last envelope is judged,
        # under the locks of all their mailboxes taken at once (MAILBOX_LOCK)
        self._deliveries: list[tuple[Envelope, list[str]]] = []
        # summaries whose log and summary rows are written together, one statement each,
        # at the end of the batch (or before any other envelope is logged): a round trip to
        # the database per envelope was most of a batch's time on PostgreSQL
        self._deferred: list[tuple[int, Envelope]] = []
        self._results: list[EnvelopeResult] | None = None
        # whose mailboxes got rows: their waiting long polls are rung once this commits
        self.delivered: set[str] = set()
        # seconds spent parsing (shape, body schema) and verifying (key, signature), and in
        # all of run(): the rest is the database's (the hub's Server-Timing header)
        self.parse_seconds = 0.0
        self.verify_seconds = 0.0
        self.run_seconds = 0.0

    @property
    def store(self) -> TrustStore:
        if self._store is None:
            self._store = self._load_store()
        return self._store

    def run(self, items: Iterable[Any]) -> list[EnvelopeResult]:
        results: list[EnvelopeResult] = []
        self._results = results
        started = time.perf_counter()
        try:
            for item in items:
                results.append(self.one(item))
            self._flush()
            self._deliver_all()
            if self.delivered and _is_postgresql(self.session):
                # delivered by PostgreSQL to every listening hub process at commit
                for statement, parameters in notify_statements(self.delivered):
                    self.session.execute(statement, parameters)
        finally:
            self._results = None
            self.run_seconds += time.perf_counter() - started
        return results

    def one(self, item: Any) -> EnvelopeResult:
        claimed_id = item.get("id") if isinstance(item, Mapping) else None
        envelope_id = claimed_id if isinstance(claimed_id, str) and len(claimed_id) <= 64 else None
        started = time.perf_counter()
        try:
            envelope = parse_envelope(item, owned=True)  # orjson decoded the request
        except EnvelopeError as exc:
            return EnvelopeResult(envelope_id, Status.REJECTED, exc.code, exc.message)
        finally:
            self.parse_seconds += time.perf_counter() - started
        try:
            return self._accept(envelope)
        except Rejection as rejection:
            return EnvelopeResult(envelope.id, Status.REJECTED, rejection.reason,
                                  rejection.message)

    def _accept(self, envelope: Envelope) -> EnvelopeResult:
        if envelope.sender != self.caller:
            raise Rejection("not_sender", f"the envelope is from {envelope.sender}, but the "
                            f"request is signed by {self.caller}")
        started = time.perf_counter()
        certificate: Certificate | None = None
        try:
            certificate, public_key = self._sender_key(envelope)
            verify_envelope(envelope, public_key)
        except EnvelopeError as exc:
            if certificate is not None:
                self._store = None  # forget the certificate tried on trust
            raise Rejection(exc.code, exc.message) from exc
        finally:
            self.verify_seconds += time.perf_counter() - started
        try:
            check_sender(envelope.kind, envelope.sender, envelope.body)
            check_publisher(envelope.kind, envelope.sender, self.store.root_code)
        except EnvelopeError as exc:
            raise Rejection(exc.code, exc.message) from exc
        revocation: Revocation | None = None
        if envelope.kind is Kind.CERT and certificate is None:
            certificate = self._trust(self.store.add_certificate,
                                      envelope.body["certificate"])
        elif envelope.kind is Kind.REVOKE:
            revocation = self._trust(self.store.add_revocation, envelope.body["revocation"])
        if envelope.kind is Kind.SUMMARY:
            self._check_period(envelope)
            self._check_commitment(envelope)
        answer = (self._audit_answered(envelope) if envelope.kind is Kind.AUDIT_RESPONSE
                  else None)
        recipients = self._recipients(envelope)
        if (envelope.kind is Kind.SUMMARY and self._results is not None and not recipients
                and certificate is None and revocation is None):
            return self._defer(envelope)
        self._flush()
        if not self._log(envelope):
            if certificate is not None or revocation is not None:
                self._store = None  # the logged envelope of this id may have carried another
            return EnvelopeResult(envelope.id, Status.DUPLICATE)
        enrolled = certificate is not None and \
            self.session.get(RegisteredNode, certificate.subject) is None
        if certificate is not None:
            self.registry.certificate(self.session, certificate)
        if revocation is not None:
            self.registry.revocation(self.session, revocation)
        if envelope.kind in (Kind.CERT, Kind.REVOKE):
            self.registry.envelope(self.session, envelope.id, envelope.kind.value)
        if envelope.kind is Kind.SUMMARY:
            self._store_summary(envelope)
        if answer is not None:
            answer(self.now)
        self._deliver(envelope, recipients)
        if enrolled and certificate is not None:
            self._deliver_current_schedules(certificate.subject)
        self._remember_blobs(envelope)
        return EnvelopeResult(envelope.id, Status.ACCEPTED)

    def _deliver_current_schedules(self, code: str) -> None:
        """A newly registered node gets the schedules in force (hub/relay/schedules.py)."""
        for current in current_schedules(self.session, self.store.root_code):
            root = current.fanout_root or ""
            if code != root and is_within(root, code):
                self._deliver(current, [code])

    def _sender_key(self, envelope: Envelope) -> tuple[Certificate | None, Any]:
        """The key that must have signed ``envelope``, and the certificate tried on trust
        (an enrolment whose envelope the enrolled key itself signed)."""
        store = self.store
        try:
            return None, store.key_for(envelope.sender, envelope.key_id, self.now)
        except TrustError as exc:
            refusal = exc
        if envelope.kind is Kind.CERT:
            inner = envelope.body["certificate"]["certificate"]
            if inner["subject"] == envelope.sender and inner["key_id"] == envelope.key_id:
                certificate = self._trust(store.add_certificate, envelope.body["certificate"])
                try:
                    return certificate, store.key_for(envelope.sender, envelope.key_id,
                                                      self.now)
                except TrustError as exc:
                    self._store = None
                    raise Rejection(key_reason(exc), exc.message) from exc
        if (envelope.kind in (Kind.CERT, Kind.REVOKE) and envelope.sender == store.root_code
                and envelope.key_id == store.root_key_id):
            return None, store.root_key
        raise Rejection(key_reason(refusal), refusal.message)

    @staticmethod
    def _trust(add: Callable[[Any], Any], document: Any) -> Any:
        try:
            return add(document)
        except TrustError as exc:
            reason = {"bad_signature": "bad_certificate_signature",
                      "malformed": "bad_body"}.get(exc.code, exc.code)
            raise Rejection(reason, exc.message) from exc

    def _recipients(self, envelope: Envelope) -> list[str]:
        addressing = ADDRESSING[envelope.kind]
        if addressing is Addressing.HUB:
            return []
        if addressing is Addressing.NODE:
            if self.session.get(RegisteredNode, envelope.to) is None:
                raise Rejection("unknown_addressee", f"{envelope.to} is not a registered node")
            return [envelope.to]
        root = envelope.fanout_root or ""
        if not is_within(envelope.sender, root):
            raise Rejection("outside_subtree", f"{envelope.sender} may not send to every "
                            f"node below {root}: it is neither {root} nor its ancestor")
        return descendants_of(self.session, root)

    def _defer(self, envelope: Envelope) -> EnvelopeResult:
        """Answer a summary ``accepted`` now and write it with the others in :meth:`_flush`,
        which turns the answer into ``duplicate`` if its id is logged already."""
        if any(queued.id == envelope.id for _, queued in self._deferred):
            return EnvelopeResult(envelope.id, Status.DUPLICATE)
        assert self._results is not None  # noqa: S101 - only called within run()
        self._deferred.append((len(self._results), envelope))
        return EnvelopeResult(envelope.id, Status.ACCEPTED)

    def _flush(self) -> None:
        if not self._deferred:
            return
        deferred, self._deferred = self._deferred, []
        # every deferred summary is the caller's: its newest audit anchor (the batch's are
        # judged against it) and registered name ride in the log INSERT's RETURNING, a read
        # each saved; the rows are parameters of one cached statement sent as one multi-row
        # INSERT (a .values([...]) was compiled anew per batch; docs/scale.md, "Hub ingest")
        statement: Any = (postgresql_insert if _is_postgresql(self.session)
                          else sqlite_insert)(EnvelopeRecord)
        returned = self.session.execute(
            statement.on_conflict_do_nothing(index_elements=["id"])
            .returning(EnvelopeRecord.id, *anchors.previous_head_columns(self.caller),
                       _registered_name(self.caller)),
            [self._log_row(envelope) for _, envelope in deferred],
        ).all()
        logged = {row[0] for row in returned}
        summaries = [self._summary_row(envelope) for _, envelope in deferred
                     if envelope.id in logged]
        if summaries:
            _, entries, head, restore, registered = returned[0]
            previous: dict[str, anchors.Head | None] | None = {
                self.caller: anchors.head_of(entries, head, restore)}
            if len(logged) < len(deferred):
                # an id already logged: on PostgreSQL the INSERT may have waited for the
                # transaction that logged it, and its RETURNING saw the database as it was
                # before that one committed — the anchor and the name are read afresh
                previous, registered = None, None
            anchor_rows = anchors.judged(
                self.session, [arrival for _, envelope in deferred if envelope.id in logged
                               and (arrival := _arrival(envelope)) is not None],
                self.now, previous=previous)
            # two statements, not one: a data-modifying CTE with both tables' multi-row
            # VALUES (compiled again for every batch) or with one array per column (unnest)
            # was slower than the round trip it saved (docs/scale.md, "Hub ingest")
            self.session.execute(insert(SummaryRecord), summaries)
            if anchor_rows:
                anchors.insert_rows(self.session, anchor_rows)
            names = {envelope.sender: (envelope.body.get("node") or {}).get("name")
                     for _, envelope in deferred if envelope.id in logged}
            # the UPDATE only when a name moved (it would change no row otherwise)
            self.registry.names(self.session, {code: name for code, name in names.items()
                                               if code != self.caller or name != registered})
        assert self._results is not None  # noqa: S101 - deferred only within run()
        for position, envelope in deferred:
            if envelope.id not in logged:
                self._results[position] = EnvelopeResult(envelope.id, Status.DUPLICATE)

    def _log_row(self, envelope: Envelope) -> dict[str, Any]:
        return {
            "id": envelope.id,
            "sender": envelope.sender,
            "seq": envelope.seq,
            "kind": envelope.kind.value,
            "to": envelope.to,
            "ts": envelope.ts,
            "received_at": self.now,
            "wire": envelope.wire_bytes().decode("utf-8"),
        }

    def _summary_row(self, envelope: Envelope) -> dict[str, Any]:
        period = envelope.body["period"]
        return {
            "node": envelope.sender,
            "period_label": period["label"],
            "period_kind": period["kind"],
            "seq": envelope.seq,
            "envelope_id": envelope.id,
            "body": orjson.dumps(envelope.body).decode("utf-8"),
            "received_at": self.now,
        }

    def _log(self, envelope: Envelope) -> bool:
        return _insert_new(self.session, EnvelopeRecord, self._log_row(envelope), ["id"])

    @staticmethod
    def _check_period(envelope: Envelope) -> None:
        label = envelope.body["period"]["label"]
        if not 1 <= len(label) <= PERIOD_LABEL_MAX:
            raise Rejection("bad_body", f"a period label has 1 to {PERIOD_LABEL_MAX} "
                            f"characters, not {len(label)}")

    def _check_commitment(self, envelope: Envelope) -> None:
        """Refuse a summary whose figures disagree with its commitment, keeping why."""
        problems = commitment_problems(envelope.body)
        if problems:
            self.audits.refused(self.session, envelope, problems, self.now)
            first = problems[0]
            raise Rejection("commitment_mismatch", f"{first['field']} is {first['summary']} "
                            f"in the summary but {first['commitment']} by its commitment")

    def _audit_answered(self, envelope: Envelope) -> RecordAnswer:
        try:
            return self.audits.answered(self.session, envelope)
        except AuditRefused as exc:
            raise Rejection(exc.reason, exc.message) from exc

    def _store_summary(self, envelope: Envelope) -> None:
        self.session.add(SummaryRecord(**self._summary_row(envelope)))
        arrival = _arrival(envelope)
        if arrival is not None:
            self.session.flush()  # anchors are judged in seq order: earlier ones first
            anchors.record(self.session, [arrival], self.now)
        self.registry.names(self.session,
                            {envelope.sender: (envelope.body.get("node") or {}).get("name")})

    def _deliver(self, envelope: Envelope, recipients: list[str]) -> None:
        """Put ``envelope`` in the mailboxes of ``recipients`` at the end of the batch
        (:meth:`_deliver_all`), in the order the batch delivered them."""
        if recipients:
            self._deliveries.append((envelope, recipients))

    def _deliver_all(self) -> None:
        deliveries, self._deliveries = self._deliveries, []
        self.delivered.update(put_in_mailboxes(self.session, deliveries, self.now))

    def _remember_blobs(self, envelope: Envelope) -> None:
        hashes = {
            entry["sha256"]
            for name in ("attachments", "documents")
            for entry in envelope.body.get(name) or ()
            if isinstance(entry, Mapping) and isinstance(entry.get("sha256"), str)
        }
        if hashes:
            self.session.execute(insert(EnvelopeBlob), [
                {"envelope_id": envelope.id, "sha256": sha} for sha in sorted(hashes)
            ])


def _registered_name(code: str) -> Any:
    """The name the registry holds for ``code``, as a scalar subquery (NULL: none yet)."""
    return select(RegisteredNode.name).where(RegisteredNode.code == code).scalar_subquery()


def _arrival(envelope: Envelope) -> anchors.Arrival | None:
    """The audit anchor a summary carries (None from a node older than anchors)."""
    head = anchors.Head.of_body(envelope.body)
    if head is None:
        return None
    return anchors.Arrival(envelope.sender, envelope.seq, envelope.id, head)


def last_seq_query(sender: str) -> Select[int]:
    """The highest seq of ``sender`` in the log: one probe of ``ix_envelope_log_sender_seq``."""
    return select(func.max(EnvelopeRecord.seq)).where(EnvelopeRecord.sender == sender)


def last_seq(session: Session, sender: str) -> int:
    """The highest seq the log holds from ``sender`` (0 for none): where a node restored from
    a backup must continue, so that it never signs a seq the hub has already relayed."""
    return session.scalar(last_seq_query(sender)) or 0


# -- summaries ------------------------------------------------------------------------------


def newest_summary(
    session: Session, node: str, period_label: str
) -> tuple[SummaryRecord, dict[str, Any]] | None:
    """The newest version (highest seq) of ``node``'s summary of a period, with its envelope."""
    row = session.execute(
        select(SummaryRecord, EnvelopeRecord.wire)
        .join(EnvelopeRecord, EnvelopeRecord.id == SummaryRecord.envelope_id)
        .where(SummaryRecord.node == node, SummaryRecord.period_label == period_label)
        .order_by(SummaryRecord.seq.desc(), SummaryRecord.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return row[0], orjson.loads(row[1])
