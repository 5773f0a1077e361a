"""Document numbers (cases, notices) from per-node counters, gap-free per prefix."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.cases.models import NumberSequence


def next_number(session: Session, prefix: str) -> int:
    """The next value of ``prefix``'s counter; the row lock serialises concurrent callers."""
    row = session.scalar(
        select(NumberSequence).where(NumberSequence.prefix == prefix).with_for_update()
    )
    if row is None:
        row = NumberSequence(prefix=prefix, last_value=0)
        session.add(row)
    row.last_value += 1
    session.flush()
    return row.last_value
