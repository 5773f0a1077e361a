"""The state of a center's cases at the end of a day: open, and open past the deadline."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from node.cases.models import Case, Suspension


def open_cases(session: Session, day: dt.date) -> dict[str, int]:
    """Accepted cases still open at the end of ``day``, and those of them past their deadline.

    A case suspended before its deadline passed is not counted overdue: its clock is stopped.
    Both read the case as it stood at the end of ``day``: a case forwarded, or a special
    procedure started or ended, on a later day does not change the figure (nor the leaves of
    node/verification/leaves.py, which follow the same rule).
    """
    still_open = and_(
        Case.accepted_on <= day,
        or_(Case.forwarded_on.is_(None), Case.forwarded_on > day),
        or_(Case.closed_on.is_(None), Case.closed_on > day),
    )
    # a case suspended before its deadline has its clock stopped; one suspended after it
    # passed stays overdue (a special procedure cannot hide an overdue case)
    stopped_in_time = (
        select(Suspension.id)
        .where(
            Suspension.case_id == Case.id,
            Suspension.start_on <= day,
            or_(Suspension.end_on.is_(None), Suspension.end_on > day),
            Suspension.start_on <= Case.deadline_on,
        )
        .exists()
    )
    overdue = and_(Case.deadline_on < day, ~stopped_in_time)
    row = session.execute(
        select(func.count(Case.id), func.count(Case.id).filter(overdue)).where(still_open)
    ).one()
    return {"open_at_end": int(row[0]), "overdue_open": int(row[1])}
