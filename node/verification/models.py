"""What the node keeps to answer audits — the leaves each signed summary committed to, and
the key its per-case salts are derived from — and what keeps building a period's tree cheap:
each period's leaf hashes in tree order with the case versions they were computed from
(node/verification/incremental.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.models import Base
from schemas.runtime.database import Timestamp, UTCDateTime, utcnow


class SummaryCommitment(Base):
    """The tree one signed summary committed to, so that an audit of that version gets the
    very tree its root names: ``digests``, its leaf hashes in tree order (32 bytes each),
    whose leaves are kept in ``commitment_leaves``; before migration 0031, ``leaves``
    (zlib-compressed JSON lines in tree order) instead.  Neither, when the tree is that of
    the version before it (the same ``root``): the earliest version of the period with that
    root holds it (node/verification/service.py, ``keep``)."""

    __tablename__ = "summary_commitments"

    envelope_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    period_label: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[dt.date] = mapped_column(Date)
    size: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    leaves: Mapped[bytes | None] = mapped_column(LargeBinary)
    digests: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class SaltKey(Base):
    """The node's secret behind every case's salt (one row): salt = HMAC-SHA256(key, case
    number), first 16 bytes.  It lives in the database, so backups keep it."""

    __tablename__ = "commitment_salt_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))


class CommitmentLeaf(Base):
    """Every leaf a period's tree has held, by its hash (RFC 8785 bytes): what the kept trees'
    ``digests`` name, and what the running tallies subtract when a case's leaf changes."""

    __tablename__ = "commitment_leaves"

    period_label: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    leaf: Mapped[bytes] = mapped_column(LargeBinary)


class CommitmentCache(Base):
    """A period's tree as last built, for the next build to start from: the leaves' case
    numbers (joined by newlines), case versions (signed 64-bit little-endian) and hashes (32 bytes
    each), all in tree order; the tallies and runs they add up to; the day (``as_of``) they
    describe; and ``marker``, the newest ``cases.updated_at`` seen then."""

    __tablename__ = "commitment_caches"

    period_label: Mapped[str] = mapped_column(String(32), primary_key=True)
    leaf_version: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[dt.date] = mapped_column(Date)
    marker: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    size: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    counts: Mapped[str] = mapped_column(Text)  # JSON: {"tallies": …, "by_state": …}
    numbers: Mapped[bytes] = mapped_column(LargeBinary)
    versions: Mapped[bytes] = mapped_column(LargeBinary)
    digests: Mapped[bytes] = mapped_column(LargeBinary)
