"""The supervision pages page by cursor and say 超过 N 件 when the count stops at the cap."""

from __future__ import annotations

import datetime as dt
import re

from flask.testing import FlaskClient
from sqlalchemy import insert, select

from node.calendar.workdays import WorkingCalendar, shanghai_today
from node.cases.models import Case
from node.catalog.models import Matter
from node.listing import COUNT_CAP
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api
from tests.unit.node.test_web import log_in

NUMBER = re.compile(r"450981-L-\d{5}")


def test_the_warning_page_counts_to_the_cap_and_pages_by_cursor(
        client: FlaskClient, desk: dict[str, Api], db: Database) -> None:
    today = shanghai_today()
    accepted = today - dt.timedelta(days=40)
    deadline = WorkingCalendar().add_working_days(accepted, 5)  # long past: red
    now = dt.datetime.now(dt.UTC)
    with db.unit_of_work() as session:
        matter = session.scalars(select(Matter)).first()
        assert matter is not None
        session.execute(insert(Case), [{
            "number": f"450981-L-{i:05d}", "query_code_hash": "0" * 64,
            "matter_id": matter.id, "department_id": matter.department_id,
            "window_id": matter.window_id, "channel": "window", "state": "accepted",
            "applicant_name": "测试", "applicant_consent": False, "received_at": now,
            "received_on": accepted, "accepted_on": accepted, "promised_days": 5,
            "deadline_on": deadline, "fee_due_fen": 0, "fee_paid_fen": 0, "notes": "",
        } for i in range(COUNT_CAP + 30)])

    log_in(client, "super1")
    first = client.get("/staff/supervision").get_data(as_text=True)
    assert f"超过 {COUNT_CAP} 件" in first
    assert f"共 {COUNT_CAP + 30} 件" not in first  # not counted to the end
    shown = set(NUMBER.findall(first))
    assert len(shown) == 100
    link = re.search(r'href="\?([^"]*cursor=[^"]+)">下一页', first)
    assert link, "no next-page link"
    second = client.get(f"/staff/supervision?{link.group(1).replace('&amp;', '&')}")
    assert second.status_code == 200
    more = set(NUMBER.findall(second.get_data(as_text=True)))
    assert len(more) == 100
    assert not shown & more  # the next hundred, none again
    # a cursor that is not ours starts the list again rather than failing
    again = client.get("/staff/supervision?cursor=not-ours").get_data(as_text=True)
    assert set(NUMBER.findall(again)) == shown
