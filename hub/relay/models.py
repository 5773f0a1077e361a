"""What the relay stores: every piece of state lives here, none in a process's memory."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base
from schemas.runtime.database import Timestamp, utcnow

# SQLite gives AUTOINCREMENT semantics only to INTEGER PRIMARY KEY; PostgreSQL gets 64 bits.
Cursor = BigInteger().with_variant(Integer(), "sqlite")


class EnvelopeRecord(Base):
    """The append-only envelope log: every accepted envelope once, as signed."""

    __tablename__ = "envelope_log"
    # a sender's highest seq (GET /api/v1/envelopes/last-seq after a node's restore) and a
    # scope's "last seen" in the rankings read this instead of scanning the log
    __table_args__ = (Index("ix_envelope_log_sender_seq", "sender", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sender: Mapped[str] = mapped_column(String(9))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    to: Mapped[str] = mapped_column(String(16))
    ts: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    wire: Mapped[str] = mapped_column(Text)


class MailboxItem(Base):
    """One envelope waiting for one addressee; ``cursor`` orders a mailbox."""

    __tablename__ = "mailbox"
    __table_args__ = (UniqueConstraint("addressee", "envelope_id"),)

    cursor: Mapped[int] = mapped_column(Cursor, primary_key=True, autoincrement=True)
    addressee: Mapped[str] = mapped_column(String(9), index=True)
    envelope_id: Mapped[str] = mapped_column(String(36))
    # the seq of the sender's previous envelope in this mailbox (0: none): a sender's seq
    # counts all its envelopes, so the addressee needs this to tell a gap from envelopes
    # that went to others
    prev_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class MailboxSender(Base):
    """The last seq each sender put in each mailbox: where the next item's ``prev_seq`` comes
    from (a primary-key lookup instead of a scan of the mailbox)."""

    __tablename__ = "mailbox_senders"

    addressee: Mapped[str] = mapped_column(String(9), primary_key=True)
    sender: Mapped[str] = mapped_column(String(9), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class MailboxCursor(Base):
    """How far a node has acknowledged its mailbox (never moves backwards)."""

    __tablename__ = "mailbox_cursors"

    node: Mapped[str] = mapped_column(String(9), primary_key=True)
    acked_cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class RequestNonce(Base):
    """A nonce of a signed request, kept while its time is within the accepted window."""

    __tablename__ = "request_nonces"

    node: Mapped[str] = mapped_column(String(9), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[Timestamp] = mapped_column(index=True)


class SummaryRecord(Base):
    """One version of one node's summary for one period (every version is kept)."""

    __tablename__ = "summaries"
    __table_args__ = (
        UniqueConstraint("envelope_id"),
        Index("ix_summaries_node_period_seq", "node", "period_label", "seq"),
    )

    id: Mapped[int] = mapped_column(Cursor, primary_key=True, autoincrement=True)
    node: Mapped[str] = mapped_column(String(9))
    period_label: Mapped[str] = mapped_column(String(32))
    period_kind: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(BigInteger)
    envelope_id: Mapped[str] = mapped_column(String(36))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class AuditAnchor(Base):
    """A node's audit head as one of its signed summaries carried it (hub/relay/anchors.py):
    every one is kept, with the envelope's seq, the time it arrived and the verdict on it
    against the node's anchor before it."""

    __tablename__ = "audit_anchors"
    __table_args__ = (
        UniqueConstraint("envelope_id"),
        Index("ix_audit_anchors_node_seq", "node", "seq"),
        # the completeness page asks for a subtree's flagged anchors only
        Index("ix_audit_anchors_verdict_node", "verdict", "node"),
    )

    id: Mapped[int] = mapped_column(Cursor, primary_key=True, autoincrement=True)
    node: Mapped[str] = mapped_column(String(9))
    seq: Mapped[int] = mapped_column(BigInteger)
    envelope_id: Mapped[str] = mapped_column(String(36))
    entries: Mapped[int] = mapped_column(BigInteger)
    head: Mapped[str] = mapped_column(String(64))
    restore: Mapped[str | None] = mapped_column(String(36))
    received_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    # first | ok | restored | anomaly (hub.relay.anchors.judge)
    verdict: Mapped[str] = mapped_column(String(16))
    previous_entries: Mapped[int | None] = mapped_column(BigInteger)


class Blob(Base):
    """An attachment's bytes, named by their SHA-256."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(9))
    uploaded_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class EnvelopeBlob(Base):
    """A blob an accepted envelope lists (body.attachments / body.documents): who may read it."""

    __tablename__ = "envelope_blobs"

    envelope_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
