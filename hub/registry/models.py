"""Stored certificates and revocations, each verified before it was stored."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base
from schemas.runtime.database import Timestamp, utcnow


class StoredCertificate(Base):
    """A certificate document as received; the ``id`` order is an order it verifies in."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # SHA-256 of the canonical document: the same document is stored once
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(9), index=True)
    key_id: Mapped[str] = mapped_column(String(16))
    serial: Mapped[int]
    issuer: Mapped[str] = mapped_column(String(9))
    document: Mapped[str] = mapped_column(Text)
    not_before: Mapped[Timestamp]
    not_after: Mapped[Timestamp]
    received_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class StoredRevocation(Base):
    """A revocation document as received."""

    __tablename__ = "revocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(9), index=True)
    key_id: Mapped[str] = mapped_column(String(16))
    issuer: Mapped[str] = mapped_column(String(9))
    document: Mapped[str] = mapped_column(Text)
    effective_at: Mapped[Timestamp]
    received_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class RegistryState(Base):
    """One row: the registry's version, raised by one in the transaction that stores a
    certificate or revocation, before it stores it.  Each hub process compares it with the
    version of its trust store (one primary-key read a request) and, when it moved, adds
    only the documents stored since (hub.registry.service.TrustCache)."""

    __tablename__ = "registry_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


# SQLite gives AUTOINCREMENT semantics only to INTEGER PRIMARY KEY; PostgreSQL gets 64 bits.
Position = BigInteger().with_variant(Integer(), "sqlite")


class RegistryEnvelope(Base):
    """Each accepted ``cert`` and ``revoke`` envelope, in the order the hub stored them:
    ``GET /api/v1/registry/envelopes`` pages through the log by ``position``.  The row is
    written after the registry's version row is raised, in the same transaction, so positions
    follow commit order and a reader paging by position never misses one."""

    __tablename__ = "registry_envelopes"

    position: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=True)
    envelope_id: Mapped[str] = mapped_column(String(36), unique=True)  # envelope_log.id
    kind: Mapped[str] = mapped_column(String(32))
