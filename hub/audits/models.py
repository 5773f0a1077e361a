"""The hub's record of audits and of summaries refused for their commitment."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base
from hub.relay.models import Cursor
from schemas.runtime.database import Timestamp, UTCDateTime, utcnow


class Audit(Base):
    """One sampled audit of one version of a node's summary.

    ``request_digest`` is SHA-256 of the request's canonical JSON, ``log_head`` SHA-256 of
    the newest envelope in the hub's log when it was opened; the sample's ``seed`` is
    SHA-256 of the two (schemas.commitment.audit_seed), so the audited node chooses neither.
    ``state``: pending | passed | failed; a pending audit past ``due_at`` reads 未应答.
    """

    __tablename__ = "audits"
    __table_args__ = (Index("ix_audits_node_opened", "node", "opened_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    node: Mapped[str] = mapped_column(String(9))
    period_label: Mapped[str] = mapped_column(String(32))
    summary_envelope_id: Mapped[str] = mapped_column(String(36))
    summary_seq: Mapped[int] = mapped_column(BigInteger)
    requested_by: Mapped[str] = mapped_column(String(80))
    request: Mapped[str] = mapped_column(Text)  # the canonical JSON the digest is of
    request_digest: Mapped[str] = mapped_column(String(64))
    log_head: Mapped[str] = mapped_column(String(64))
    seed: Mapped[str] = mapped_column(String(64))
    sample_size: Mapped[int] = mapped_column(Integer)
    indexes: Mapped[str] = mapped_column(Text)  # JSON list
    opened_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), index=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    response_envelope_id: Mapped[str | None] = mapped_column(String(36))
    findings: Mapped[str | None] = mapped_column(Text)  # JSON list, one item per problem


class CommitmentRefusal(Base):
    """A summary the hub refused because its figures disagree with its commitment (the
    envelope itself is not stored: a refused envelope stores nothing else)."""

    __tablename__ = "commitment_refusals"
    __table_args__ = (Index("ix_commitment_refusals_node", "node", "at"),)

    id: Mapped[int] = mapped_column(Cursor, primary_key=True, autoincrement=True)
    envelope_id: Mapped[str] = mapped_column(String(36), unique=True)
    node: Mapped[str] = mapped_column(String(9))
    period_label: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(16))  # counts | size
    details: Mapped[str] = mapped_column(Text)  # JSON list of the problems
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
