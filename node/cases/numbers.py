"""Document numbers (cases, notices) from per-node counters, gap-free per prefix."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.cases.models import NumberSequence
from schemas.database import insert_if_missing


def next_number(session: Session, prefix: str) -> int:
    """The next value of ``prefix``'s counter; the row lock serialises concurrent callers."""
    query = (
        select(NumberSequence)
        .where(NumberSequence.prefix == prefix)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = session.scalar(query)
    if row is None:  # the first number of this prefix: create the counter, racing safely
        insert_if_missing(session, NumberSequence, {"prefix": prefix, "last_value": 0}, ["prefix"])
        row = session.scalars(query).one()
    row.last_value += 1
    session.flush()
    return row.last_value
