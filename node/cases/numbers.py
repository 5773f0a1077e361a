"""Document numbers (cases, notices) from per-node counters, gap-free per prefix."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from node.cases.models import NumberSequence
from schemas.runtime.database import insert_if_missing


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
