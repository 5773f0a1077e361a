"""Gap-free per-node counters, one per prefix: case and notice numbers, envelope seqs,
catalog versions.  Below every feature (cases, catalog, feedback) and the sync layer, which
all take numbers from it."""

from __future__ import annotations

from sqlalchemy import Integer, String, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from node.models import Base
from schemas.runtime.database import insert_if_missing


class NumberSequence(Base):
    """Per-node counters for document numbers (cases, notices), one row per prefix."""

    __tablename__ = "number_sequences"

    prefix: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


def next_number(session: Session, prefix: str) -> int:
    """The next value of ``prefix``'s counter.

    One ``UPDATE … RETURNING``: the row lock it takes serialises concurrent callers until
    their transactions end, so numbers are never handed out twice and, since a rolled-back
    transaction takes its increment with it, never skipped.
    """
    bump = (
        update(NumberSequence)
        .where(NumberSequence.prefix == prefix)
        .values(last_value=NumberSequence.last_value + 1)
        .returning(NumberSequence.last_value)
    )
    value = session.scalar(bump)
    if value is None:  # the first number of this prefix: create the counter, racing safely
        insert_if_missing(session, NumberSequence, {"prefix": prefix, "last_value": 0}, ["prefix"])
        value = session.scalar(bump)
    assert value is not None  # noqa: S101 - the row exists now
    return int(value)


__all__ = ["NumberSequence", "next_number"]
