"""What the node keeps to answer audits: the leaves each signed summary committed to, and
the key its per-case salts are derived from."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from node.models import Base
from schemas.runtime.database import Timestamp, utcnow


class SummaryCommitment(Base):
    """The leaves one signed summary committed to, as they were (zlib-compressed JSON lines
    in tree order), so that an audit of that version gets the very tree its root names."""

    __tablename__ = "summary_commitments"

    envelope_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    period_label: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[dt.date] = mapped_column(Date)
    size: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    leaves: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class SaltKey(Base):
    """The node's secret behind every case's salt (one row): salt = HMAC-SHA256(key, case
    number), first 16 bytes.  It lives in the database, so backups keep it."""

    __tablename__ = "commitment_salt_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
