"""The audit trail's tables: the entries of the hash chain and the head that serialises appends.

Rows are written only by :class:`node.audit.chain.AuditLog`; the ORM refuses to update or delete
an entry, so no code path of tongban rewrites history by accident.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from node.models import Base
from schemas.runtime.database import Timestamp

HASH_LENGTH = 64  # SHA-256 in hex


class AuditEntryImmutableError(RuntimeError):
    """Raised when code tries to update or delete an audit entry through the ORM."""


class AuditEntry(Base):
    """One link of the chain: who did what to which subject, hashed with the previous link."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_audit_entries_subject", "subject_type", "subject_id"),
    )

    # Assigned by the chain under the head lock (1, 2, 3 …), never by the database, so that a
    # gap always means a deleted entry rather than a rolled-back sequence value.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[Timestamp]
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)  # canonical JSON (schemas.canonical) of the details
    prev_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)

    def __repr__(self) -> str:
        return (
            f"<AuditEntry #{self.seq} {self.action} {self.subject_type}:{self.subject_id}"
            f" by {self.actor}>"
        )


class AuditHead(Base):
    """The single row (id = 1) naming the chain's last entry.

    Every append locks this row (``SELECT … FOR UPDATE``) before choosing its seq, so concurrent
    transactions on PostgreSQL queue up instead of both extending the same entry.
    """

    __tablename__ = "audit_head"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("last_seq >= 0", name="last_seq_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    # the id of the last restore from a backup this database went through (None: never);
    # set by ``tongban node restore`` and carried in every signed summary, so that the hub
    # tells a restored older chain from a truncated one (docs/sync.md, "Audit anchors")
    restore_id: Mapped[str | None] = mapped_column(String(36))


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    raise AuditEntryImmutableError(f"audit entry #{target.seq} cannot be changed")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    raise AuditEntryImmutableError(f"audit entry #{target.seq} cannot be deleted")
