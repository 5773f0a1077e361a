"""The department approver's queue: cases waiting for the department's decision, joint
(parallel) tasks included; the case file and its actions are the shared pages of clerk.py."""

from __future__ import annotations

from typing import Any

from flask import render_template

from node.auth.permissions import Permission
from node.cases.models import Case
from node.cases.reading import ListOrder
from node.cases.states import CLOCK_STATES
from node.listing import Page
from node.web.clerk import case_service, with_colours
from node.web.core import current_staff, page_turn, staff_page, web_blueprint

bp = web_blueprint("web_approver", "/staff")

QUEUE_PAGE = 100  # cases per page of the department's queue


@bp.get("/department")
@staff_page(Permission.CASES_DECIDE)
def queue() -> Any:
    """Cases whose clock runs with a task of the user's department still pending (the lead
    department's and joint tasks alike), the earliest deadline first; keyset-paged
    (node/listing.py) like the other staff lists."""
    user = current_staff()
    service = case_service()
    page: Page[Case] = Page([], 0, True, None)
    if user.department_id is not None:
        page = service.search(states=sorted(CLOCK_STATES), pending_task_of=user.department_id,
                              order=ListOrder.DEADLINE, **page_turn(), per_page=QUEUE_PAGE)
    return render_template("web/staff/department.html",
                           cases=with_colours(service, page.items), page=page,
                           department=user.department)
