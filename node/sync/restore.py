"""What a node restored from a backup must do before it signs or sends anything new.

A backup is a moment in the past.  Everything the node signed after it may already be at the
hub and at its addressees, while the restored database has forgotten it — and its envelope
seq counter with it.  Left alone, the node would sign new envelopes with seqs the hub has
already relayed under other ids: receivers apply a sender's envelopes in seq order and refuse
a seq they have passed (the new envelope would be lost there), and a summary would tie with
the older version of the same seq.

The rule (deploy/README.md, "Restoring a node"):

1. ``tongban node restore`` copies the backup in and **marks the node restored**: a counter
   row ``sync-restore-base-seq`` holding the highest seq the backup knew (``B``).
2. While the mark is there, the node pushes nothing.  (Cases can still be taken: what they
   emit waits in the outbox.)
3. Before its first push the node asks the hub for the highest seq it logged from this node
   (``N``, ``GET /api/v1/envelopes/last-seq``).  When ``N > B``, the envelopes signed since the
   restore (seqs above ``B``, all still pending) are re-signed — same ids, bodies and times —
   with seqs ``N+1, N+2, …`` and the counter continues after them.  Then the mark is removed
   and pushing resumes.  The restore command does this at once when the hub answers; with the
   hub unreachable the worker (or ``sync-now``) does it before its first push.
4. Envelopes still pending in the backup are pushed again with their own ids: the hub answers
   ``duplicate`` for those it already has.  Envelopes the node signed after the backup are not
   re-sent (the node no longer has them); the hub keeps them and their addressees have them.
5. The mailbox cursor of the backup is older than the hub's: the node re-reads its mailbox
   from there, and what its inbox still holds (keyed by envelope id) is skipped, while what
   the backup lost is applied again — the restored database lacks its effects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from node.numbers import NumberSequence
from node.ports import SyncError
from node.sync.models import OutboxEnvelope, OutboxState
from node.sync.outbox import SEQ_COUNTER
from schemas.envelope import parse_envelope, sign_envelope
from schemas.runtime.database import Database, insert_if_missing

RESTORE_MARK = "sync-restore-base-seq"


@dataclasses.dataclass(frozen=True)
class Resequenced:
    """The outcome of :func:`resume_after_restore`."""

    backup_seq: int  # B: the highest seq the restored backup knew
    hub_seq: int  # N: the highest seq the hub had logged from this node
    resigned: int  # envelopes signed after the restore, given seqs after N
    next_seq: int  # the seq the next envelope will get

    @property
    def lost_to_backup(self) -> int:
        """Envelopes the hub relayed after the backup was taken (the node no longer has them)."""
        return max(0, self.hub_seq - self.backup_seq)


def _counter(session: Session, prefix: str) -> NumberSequence | None:
    return session.scalar(
        select(NumberSequence).where(NumberSequence.prefix == prefix)
        .with_for_update().execution_options(populate_existing=True)
    )


def _ensure_counter(session: Session, prefix: str) -> NumberSequence:
    insert_if_missing(session, NumberSequence, {"prefix": prefix, "last_value": 0}, ["prefix"])
    return session.scalars(
        select(NumberSequence).where(NumberSequence.prefix == prefix)
        .with_for_update().execution_options(populate_existing=True)
    ).one()


def highest_seq(session: Session) -> int:
    """The highest envelope seq this database has handed out."""
    counter = _counter(session, SEQ_COUNTER)
    counted = counter.last_value if counter else 0
    logged = session.scalar(select(func.max(OutboxEnvelope.seq))) or 0
    return max(counted, logged)


def mark_restored(session: Session) -> int:
    """Mark the database as restored from a backup; returns the backup's highest seq."""
    base = highest_seq(session)
    _ensure_counter(session, RESTORE_MARK).last_value = base
    session.flush()
    return base


def restore_pending(session: Session) -> int | None:
    """The backup's highest seq while the node is marked restored, None otherwise."""
    mark = session.scalar(select(NumberSequence.last_value)
                          .where(NumberSequence.prefix == RESTORE_MARK))
    return None if mark is None else int(mark)


def resume_after_restore(
    session: Session, *, hub_seq: int, sender: str, private_key: Ed25519PrivateKey
) -> Resequenced | None:
    """Step 3 of the rule, in the caller's transaction; None when the node is not marked.

    The seq counter's row lock is held throughout, so no envelope can be emitted in between.
    """
    counter = _counter(session, SEQ_COUNTER)
    mark = _counter(session, RESTORE_MARK)
    if mark is None:
        return None
    backup_seq = mark.last_value
    current = highest_seq(session)
    since_restore = list(session.scalars(
        select(OutboxEnvelope).where(OutboxEnvelope.seq > backup_seq)
        .order_by(OutboxEnvelope.seq.desc())
    ))
    resigned = 0
    if hub_seq > backup_seq:
        shift = hub_seq - backup_seq
        # highest first: the seq column is unique and every envelope moves up
        for row in since_restore:
            if row.state is not OutboxState.PENDING:
                raise RuntimeError(f"envelope {row.id} left while the node was marked restored")
            old = parse_envelope(row.wire)
            new = sign_envelope(kind=old.kind, sender=sender, to=old.to, seq=old.seq + shift,
                                body=old.body, private_key=private_key, ts=old.ts, id=old.id)
            row.seq = new.seq
            row.wire = orjson.dumps(new.to_wire()).decode("utf-8")
            session.flush()
            resigned += 1
        current += shift
    (counter or _ensure_counter(session, SEQ_COUNTER)).last_value = current
    session.execute(delete(NumberSequence).where(NumberSequence.prefix == RESTORE_MARK))
    session.flush()
    return Resequenced(backup_seq, hub_seq, resigned, current + 1)


def resume_if_restored(
    db: Database, fetch_hub_seq: Callable[[], int], *, sender: str,
    private_key: Ed25519PrivateKey | None,
) -> Resequenced | None:
    """Run step 3 when the node is marked restored (asking the hub only then).

    Raises :class:`SyncError` (e.g. :class:`node.sync.errors.HubUnavailable` from
    ``fetch_hub_seq``): the mark stays and nothing may be pushed yet.
    """
    with db.unit_of_work(write=False) as session:
        if restore_pending(session) is None:
            return None
    if private_key is None:
        raise SyncError("this node was restored from a backup: it needs its key to continue "
                        "after the hub's last seq")
    hub_seq = fetch_hub_seq()
    with db.unit_of_work() as session:
        return resume_after_restore(session, hub_seq=hub_seq, sender=sender,
                                    private_key=private_key)


def resend_since(session: Session, since: dt.datetime) -> int:
    """Make envelopes sent at or after ``since`` pending again (after the *hub* was restored
    from a backup older than them); the hub answers duplicate for those it still has."""
    rows = list(session.scalars(
        select(OutboxEnvelope).where(OutboxEnvelope.state == OutboxState.SENT,
                                     OutboxEnvelope.sent_at >= since)))
    for row in rows:
        row.state = OutboxState.PENDING
        row.sent_at = None
    session.flush()
    return len(rows)
