"""Writing envelopes to the outbox, in the caller's transaction.

An envelope exists if and only if the change that caused it commits: :func:`emit` only adds
a row to the caller's session (and takes the next seq from the same transaction's counter),
so a rollback takes the envelope and its seq with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.cases.numbers import next_number
from node.sync.models import OutboxEnvelope, OutboxState
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


def pending_count(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(OutboxEnvelope)
        .where(OutboxEnvelope.state == OutboxState.PENDING)
    ) or 0
