"""Writing envelopes to the outbox, in the caller's transaction.

An envelope exists if and only if the change that caused it commits: :func:`emit` only adds
a row to the caller's session (and takes the next seq from the same transaction's counter),
so a rollback takes the envelope and its seq with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.numbers import next_number
from node.sync.models import InboxEnvelope, InboxState, OutboxEnvelope, OutboxState
from schemas.envelope import Envelope, Kind, sign_envelope
from schemas.runtime.database import utcnow

SEQ_COUNTER = "envelope-seq"


def emit(
    session: Session,
    *,
    kind: Kind | str,
    to: str,
    body: Mapping[str, Any],
    sender: str,
    private_key: Ed25519PrivateKey,
    now: dt.datetime | None = None,
) -> Envelope:
    """Sign an envelope with the node's next seq and queue it; the caller commits.

    Raises :class:`schemas.envelope.EnvelopeError` for a bad body; the caller's rollback then
    returns the seq too, so seqs stay gap-free.
    """
    moment = now or utcnow()
    seq = next_number(session, SEQ_COUNTER)
    envelope = sign_envelope(kind=kind, sender=sender, to=to, seq=seq, body=body,
                             private_key=private_key, ts=moment)
    session.add(
        OutboxEnvelope(
            id=envelope.id,
            seq=envelope.seq,
            kind=envelope.kind.value,
            to=envelope.to,
            wire=orjson.dumps(envelope.to_wire()).decode("utf-8"),
            state=OutboxState.PENDING,
            attempts=0,
            created_at=moment,
        )
    )
    session.flush()
    return envelope


class SigningOutbox:
    """The node's :class:`node.ports.Outbox`: :func:`emit` with the node's code and key."""

    def __init__(self, node_code: str, private_key: Ed25519PrivateKey) -> None:
        self._node_code = node_code
        self._private_key = private_key

    @property
    def node_code(self) -> str:
        return self._node_code

    def send(self, session: Session, *, kind: Kind, to: str, body: Mapping[str, Any],
             now: dt.datetime | None = None) -> Envelope:
        return emit(session, kind=kind, to=to, body=body, sender=self._node_code,
                    private_key=self._private_key, now=now)

    def sent_body(self, session: Session, envelope_id: str) -> Mapping[str, Any] | None:
        row = session.get(OutboxEnvelope, envelope_id)
        if row is None or row.state == OutboxState.DEAD:
            return None
        body: Mapping[str, Any] = orjson.loads(row.wire)["body"]
        return body


class AppliedInbox:
    """The node's :class:`node.ports.Inbox`: the inbox rows the sync service marked applied."""

    def applied_bodies(self, session: Session, *, sender: str, kind: Kind,
                       excluding: str | None = None) -> Iterator[Mapping[str, Any]]:
        query = select(InboxEnvelope.id, InboxEnvelope.wire).where(
            InboxEnvelope.sender == sender,
            InboxEnvelope.kind == kind.value,
            InboxEnvelope.state == InboxState.APPLIED,
        )
        for envelope_id, wire in session.execute(query):
            if envelope_id == excluding:
                continue
            try:
                body = orjson.loads(wire)["body"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue
            if isinstance(body, dict):
                yield body


def pending_count(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(OutboxEnvelope)
        .where(OutboxEnvelope.state == OutboxState.PENDING)
    ) or 0
