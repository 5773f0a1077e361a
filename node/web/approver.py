"""The department approver's queue: cases waiting for the department's decision, joint
(parallel) tasks included; the case file and its actions are the shared pages of clerk.py."""

from __future__ import annotations

from typing import Any

from flask import render_template
from sqlalchemy import select

from node.auth.permissions import Permission
from node.cases.models import Case, ReviewTask, TaskState
from node.cases.states import CLOCK_STATES
from node.web.clerk import case_service, with_colours
from node.web.core import current_staff, staff_page, web_blueprint

bp = web_blueprint("web_approver", "/staff")


@bp.get("/department")
@staff_page(Permission.CASES_DECIDE)
def queue() -> Any:
    """Cases whose clock runs with a task of the user's department still pending (the lead
    department's and joint tasks alike), the earliest deadline first."""
    user = current_staff()
    service = case_service()
    cases: list[Case] = []
    if user.department_id is not None:
        cases = list(service.session.scalars(
            select(Case).join(ReviewTask, ReviewTask.case_id == Case.id)
            .where(ReviewTask.department_id == user.department_id,
                   ReviewTask.state == TaskState.PENDING, Case.state.in_(CLOCK_STATES))
            .order_by(Case.deadline_on, Case.id)
        ))
    return render_template("web/staff/department.html", cases=with_colours(service, cases),
                           department=user.department)
