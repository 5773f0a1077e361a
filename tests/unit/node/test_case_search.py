"""The case search filters of GET /api/v1/cases (issue 20): each one narrows, bad input is
refused by name (both databases)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from node.cases.models import Case
from tests.unit.node.conftest import Api
from tests.unit.node.test_cases_api import ID_NUMBER, submit

OTHER_ID = "110105195001010039"


def numbers(api: Api, query: str) -> list[str]:
    response = api.get(f"/api/v1/cases?{query}")
    assert response.status_code == 200, response.json
    return sorted(c["number"] for c in response.json["items"])


def test_each_search_filter_narrows(desk, db) -> None:
    clerk, clerk2, sup = desk["clerk"], desk["clerk2"], desk["supervisor"]
    first = submit(clerk)
    second = submit(clerk2, applicant_name="李四", applicant_id_number=OTHER_ID,
                     applicant_phone="0775-1234567")
    third = submit(clerk, applicant_name="李四")
    clerk.post(f"/api/v1/cases/{third['id']}/accept", {})
    every = sorted(c["number"] for c in (first, second, third))
    assert numbers(sup, "") == every
    # number: exact, and prefix with a trailing *
    assert numbers(sup, f"number={first['number']}") == [first["number"]]
    assert numbers(sup, f"number={first['number'][:-1]}") == []
    assert numbers(sup, f"number={first['number'][:7]}*") == every
    assert numbers(sup, "number=999999-*") == []
    # applicant name, exact
    assert numbers(sup, "applicant=李四") == sorted([second["number"], third["number"]])
    assert numbers(sup, "applicant=李") == []
    # whole ID number only, shown masked
    found = sup.get(f"/api/v1/cases?id_number={OTHER_ID}").json
    assert [c["number"] for c in found["items"]] == [second["number"]]
    assert found["items"][0]["applicant_id_number"] == "110105********0039"
    assert numbers(sup, f"id_number={ID_NUMBER.lower()}") == sorted(
        [first["number"], third["number"]])
    prefix = sup.get(f"/api/v1/cases?id_number={ID_NUMBER[:10]}")
    assert prefix.status_code == 422
    assert "id_number" in prefix.json["error"]["details"]["fields"]
    # phone, whole
    assert numbers(sup, "phone=0775-1234567") == [second["number"]]
    assert sup.get("/api/v1/cases?phone=0775").status_code == 422
    # handler: who took any step
    assert numbers(sup, "handler=clerk2") == [second["number"]]
    assert numbers(sup, "handler=clerk1") == sorted([first["number"], third["number"]])
    # accepted date range
    accepted_on = clerk.get(f"/api/v1/cases/{third['id']}").json["accepted_on"]
    assert numbers(sup, f"accepted_from={accepted_on}&accepted_to={accepted_on}") == [
        third["number"]]
    day_after = (dt.date.fromisoformat(accepted_on) + dt.timedelta(days=1)).isoformat()
    assert numbers(sup, f"accepted_from={day_after}") == []
    # closed dates and forwarded in/out, set as the closing and forwarding steps leave them
    with db.unit_of_work() as session:
        session.execute(update(Case).where(Case.id == first["id"])
                        .values(closed_on=dt.date(2026, 3, 2), forwarded_to="450900000"))
        session.execute(update(Case).where(Case.id == second["id"])
                        .values(received_from="450981101"))
    assert numbers(sup, "closed_from=2026-03-01&closed_to=2026-03-31") == [first["number"]]
    assert numbers(sup, "closed_to=2026-03-01") == []
    assert numbers(sup, "forwarded=out") == [first["number"]]
    assert numbers(sup, "forwarded=in") == [second["number"]]
    # filters combine
    assert numbers(sup, "applicant=李四&handler=clerk1") == [third["number"]]
    # sorting by deadline lists only cases with one
    by_deadline = sup.get("/api/v1/cases?sort=deadline").json
    assert [c["number"] for c in by_deadline["items"]] == [third["number"]]


def test_search_pages_by_cursor(desk) -> None:
    clerk = desk["clerk"]
    made = [submit(clerk)["number"] for _ in range(3)]
    first = clerk.get("/api/v1/cases?applicant=张三&per_page=2").json
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    rest = clerk.get(f"/api/v1/cases?applicant=张三&per_page=2&cursor={first['next_cursor']}")
    seen = [c["number"] for c in first["items"] + rest.json["items"]]
    assert sorted(seen) == sorted(made)
    assert rest.json["next_cursor"] is None


def test_bad_search_input_is_named(desk) -> None:
    sup = desk["supervisor"]
    for query, field in (("number=45*0981", "number"), ("number=**", "number"),
                         ("forwarded=sideways", "forwarded"), ("sort=colour", "sort"),
                         ("accepted_from=2026-03-02&accepted_to=2026-03-01", "accepted_from"),
                         ("closed_from=yesterday", "closed_from")):
        response = sup.get(f"/api/v1/cases?{query}")
        assert response.status_code == 422, query
        assert field in response.json["error"]["details"]["fields"], (query, response.json)


def test_who_sees_what_follows_the_role(desk, make_user, db) -> None:
    """A clerk: their window's cases, those they handled, their department's untaken ones;
    an approver: their department's; supervisors, admins and viewers: all."""
    from node.auth.models import User
    from node.auth.permissions import Role
    from node.catalog.models import StaffMember, StaffType, Window

    clerk, clerk2 = desk["clerk"], desk["clerk2"]
    clerk_zj = make_user(Role.CLERK, username="clerk_zj", department="ZJ")
    viewer = make_user(Role.VIEWER)
    case = submit(clerk)
    number = case["number"]
    assert numbers(clerk, "") == [number]  # owned
    assert numbers(desk["approver"], "") == [number]  # its department's
    for everyone in (desk["supervisor"], desk["admin"], viewer):
        assert numbers(everyone, "") == [number]
    # another department's clerk and approver see nothing of it, not even by number
    assert numbers(clerk_zj, "") == []
    assert numbers(clerk_zj, f"number={number}") == []
    assert numbers(desk["approver_zj"], "") == []
    # a clerk of the same department with no window and no part in it: not theirs
    assert numbers(clerk2, "") == []
    with db.unit_of_work() as session:  # staffing window W01 makes its cases theirs
        window = session.query(Window).filter_by(code="W01").one()
        staff = StaffMember(code="S-clerk2", name="窗口二", staff_type=next(iter(StaffType)),
                            window_id=window.id)
        session.add(staff)
        session.flush()
        session.query(User).filter_by(username="clerk2").one().staff_member_id = staff.id
    assert numbers(clerk2, "") == [number]
    # a case nobody has taken is seen by its department's clerks (to take it), no others
    with db.unit_of_work() as session:
        session.execute(update(Case).where(Case.id == case["id"])
                        .values(owner_id=None, window_id=None))
    assert numbers(clerk2, "") == [number]
    assert numbers(clerk_zj, "") == []
    # the clerk who took a step on it still sees it after it moved on
    with db.unit_of_work() as session:
        other = session.query(User).filter_by(username="clerk2").one()
        session.execute(update(Case).where(Case.id == case["id"]).values(owner_id=other.id))
    assert numbers(clerk, "") == [number]
    assert numbers(clerk_zj, "") == []
