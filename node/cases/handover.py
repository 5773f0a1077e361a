"""Who can take over a case's first-inquiry responsibility (首问负责制) on a hand-over.

The owner of a case is the window clerk who answers for it until it is handed over
(``CaseService.hand_over``): so the case can go to any *active* account whose role does the
window work (``cases.handle``), whatever its department — a comprehensive window (综合窗口)
takes any department's matters. Those of the case's own department come first. Plain Python
over a SQLAlchemy session (no Flask).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from node.auth.models import User
from node.auth.permissions import ROLE_PERMISSIONS, Permission
from node.cases.models import Case


@dataclass(frozen=True)
class HandOverCandidates:
    """The accounts a case may be handed to: its department's, then the rest."""

    same_department: list[User]
    other_departments: list[User]


def hand_over_candidates(session: Session, case: Case) -> HandOverCandidates:
    """Active accounts that can own ``case`` (window work), its current owner left out."""
    roles = [role for role, granted in ROLE_PERMISSIONS.items()
             if Permission.CASES_HANDLE in granted]
    users = session.scalars(
        select(User)
        .options(selectinload(User.department))
        .where(User.active.is_(True), User.role.in_(roles))
        .order_by(User.display_name, User.username)
    ).all()
    users = [u for u in users if u.id != case.owner_id]
    return HandOverCandidates(
        same_department=[u for u in users if u.department_id == case.department_id],
        other_departments=[u for u in users if u.department_id != case.department_id],
    )
