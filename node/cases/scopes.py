"""Which cases a staff user sees in the lists and the search: one rule per role.

- a **window clerk** (窗口工作人员): the cases of the window they staff (their staff record's
  window), the cases they own or took any step on, and the applications of their department
  no clerk has taken yet (online applications waiting for 首问 — someone must see them to take
  them);
- an **approver** (部门审批人员): the cases of their department — led by it, or with a review
  task of it (联合办理);
- **supervisors, administrators and viewers**: every case of the center.

Plain Python building SQL conditions (no Flask); the caller adds the condition to the list's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, select

from node.auth.models import User
from node.auth.permissions import Role
from node.cases.models import Case, CaseEvent, ReviewTask


@dataclass(frozen=True)
class Viewer:
    """Who looks: the facts the rule needs about them."""

    username: str
    role: Role
    user_id: int
    department_id: int | None = None
    window_id: int | None = None  # the window a clerk staffs (their staff record's)


def viewer_of(user: User) -> Viewer:
    staff = user.staff_member
    return Viewer(user.username, user.role, user.id, user.department_id,
                  staff.window_id if staff is not None else None)


def visible_cases(viewer: Viewer) -> ColumnElement[bool] | None:
    """The condition on ``cases`` selecting what ``viewer`` sees; None: every case."""
    if viewer.role is Role.CLERK:
        seen: list[ColumnElement[bool]] = [
            Case.owner_id == viewer.user_id,
            Case.id.in_(select(CaseEvent.case_id).where(CaseEvent.actor == viewer.username)),
        ]
        if viewer.window_id is not None:
            seen.append(Case.window_id == viewer.window_id)
        if viewer.department_id is not None:
            seen.append(and_(Case.owner_id.is_(None),
                             Case.department_id == viewer.department_id))
        return or_(*seen)
    if viewer.role is Role.APPROVER:
        if viewer.department_id is None:
            return false()
        return or_(Case.department_id == viewer.department_id,
                   Case.id.in_(select(ReviewTask.case_id)
                               .where(ReviewTask.department_id == viewer.department_id)))
    return None


__all__ = ["Viewer", "viewer_of", "visible_cases"]
