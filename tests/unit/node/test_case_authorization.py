"""Who may add files to a case (node/cases/authorization.py), through the API and the page.

A matrix of role × department × state: a case of department SC (its matter's window holds
the approve power), owned by clerk1, is brought into every state; then clerks and approvers
of SC and of ZJ, the administrator, a supervisor and a viewer each try to add a material and
a result document.  The expected answer of every cell is written out here, not computed by
the rule under test.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from node.auth.permissions import Role
from node.cases.models import Case, CaseAttachment, Channel
from node.cases.states import CaseState
from schemas.envelope import Kind
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api
from tests.unit.node.test_forwarding import (
    TOWNSHIP,
    _apply,
    _cases,
    _forward_body,
    _from,
    _outbox,
)
from tests.unit.node.test_web import csrf_of, log_in

MATTER = "11450981MB0001"

# who tries, and what they are: (username, role, department)
ACTORS = {
    "owner": ("clerk1", Role.CLERK, "SC"),  # took the case at the window (首问负责)
    "clerk_same_department": ("clerk2", Role.CLERK, "SC"),
    "clerk_other_department": ("clerk_zj", Role.CLERK, "ZJ"),
    "approver_same_department": ("approver1", Role.APPROVER, "SC"),
    "approver_other_department": ("approver2", Role.APPROVER, "ZJ"),
    "admin": ("boss", Role.ADMIN, None),
    "supervisor": ("super1", Role.SUPERVISOR, None),
    "viewer": ("viewer1", Role.VIEWER, None),
}
NO_PERMISSION = {"admin", "supervisor", "viewer"}  # hold no cases.decide: 403 before the rule

OPEN = {"submitted", "supplement_requested", "accepted", "in_review", "suspended"}
DECIDING = {"accepted", "in_review", "approved", "denied"}
STATES = ["submitted", "supplement_requested", "accepted", "in_review", "suspended",
          "approved", "denied", "completed", "delivered", "rejected", "withdrawn",
          "forwarded"]
# the people the rule lets in, when the state allows the kind of file at all
MATERIAL_BY = {"owner", "approver_same_department"}
RESULT_BY = {"owner", "approver_same_department"}  # the window holds the approve power


def expected(actor: str, state: str, file_role: str) -> int:
    if actor in NO_PERMISSION:
        return 403
    states, people = (OPEN, MATERIAL_BY) if file_role == "material" else (DECIDING, RESULT_BY)
    if state not in states:
        return 409
    return 201 if actor in people else 403


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def case_in(state: str, users: dict[str, Api]) -> dict[str, Any]:
    """A case of SC owned by clerk1, brought to ``state`` through the API."""
    clerk, approver = users["owner"], users["approver_same_department"]
    case = _ok(clerk.post("/api/v1/cases", {"matter_code": MATTER, "applicant_name": "张三"}),
               201)
    path = f"/api/v1/cases/{case['id']}"

    def step(api: Api, action: str, **body: Any) -> dict[str, Any]:
        current = _ok(api.get(path))
        return _ok(api.post(f"{path}/{action}", {"version": current["version"], **body}))

    if state == "submitted":
        return case
    if state == "supplement_requested":
        _ok(clerk.post(f"{path}/notices", {"material_positions": [1]}), 201)
        return _ok(clerk.get(path))
    if state in ("rejected", "withdrawn"):
        return step(clerk, "reject" if state == "rejected" else "withdraw", reason="申请人要求")
    step(clerk, "accept")
    if state == "accepted":
        return _ok(clerk.get(path))
    if state == "forwarded":
        return step(clerk, "forward")
    if state in ("in_review", "suspended"):
        step(approver, "start-review")
        if state == "suspended":
            step(approver, "suspend", kind="site_inspection", reason="现场勘查")
        return _ok(clerk.get(path))
    if state == "denied":
        return step(approver, "deny", reason="条件不符")
    step(approver, "approve")
    if state == "approved":
        return _ok(clerk.get(path))
    step(clerk, "complete")
    if state == "completed":
        return _ok(clerk.get(path))
    return step(clerk, "deliver")


@pytest.fixture
def users(desk: dict[str, Api], make_user: Callable[..., Api]) -> dict[str, Api]:
    found = {"owner": desk["clerk"], "clerk_same_department": desk["clerk2"],
             "approver_same_department": desk["approver"],
             "approver_other_department": desk["approver_zj"],
             "supervisor": desk["supervisor"]}
    found["clerk_other_department"] = make_user(Role.CLERK, username="clerk_zj",
                                                department="ZJ")
    found["admin"] = make_user(Role.ADMIN, username="boss")
    found["viewer"] = make_user(Role.VIEWER, username="viewer1")
    return found


def _stored(db: Database, case_id: int) -> list[tuple[str, str, str]]:
    with db.unit_of_work(write=False) as session:
        return [(a.name, a.role.value, a.added_by) for a in session.scalars(
            select(CaseAttachment).where(CaseAttachment.case_id == case_id)
            .order_by(CaseAttachment.id))]


@pytest.mark.parametrize("state", STATES)
def test_the_api_lets_only_the_owner_and_the_department_add_files(
        users: dict[str, Api], db: Database, state: str) -> None:
    case = case_in(state, users)
    assert case["state"] == state
    answers, wanted = {}, {}
    for actor, api in users.items():
        for file_role in ("material", "result"):
            name = f"{actor}-{file_role}.pdf"
            response = api.post(
                f"/api/v1/cases/{case['id']}/attachments",
                data={"file": (io.BytesIO(f"%PDF {name}".encode()), name, "application/pdf"),
                      "role": file_role},
                content_type="multipart/form-data")
            answers[(actor, file_role)] = response.status_code
            wanted[(actor, file_role)] = expected(actor, state, file_role)
            if response.status_code == 409:
                assert response.get_json()["error"]["code"] == "invalid_transition"
                assert response.get_json()["error"]["details"]["state"] == state
    assert answers == wanted
    added = {(name, role) for name, role, _by in _stored(db, case["id"])}
    assert added == {(f"{a}-{r}.pdf", r) for (a, r), status in wanted.items() if status == 201}
    after = _ok(users["owner"].get(f"/api/v1/cases/{case['id']}"))
    assert after["state"] == state  # adding a file never moves the case


@pytest.mark.parametrize("state", STATES)
def test_the_case_page_route_follows_the_same_rule(
        app: Flask, users: dict[str, Api], db: Database, state: str) -> None:
    case = case_in(state, users)
    answers, wanted = {}, {}
    for actor, (username, _role, _department) in ACTORS.items():
        browser: FlaskClient = app.test_client()
        assert log_in(browser, username).status_code == 302
        page = browser.get(f"/staff/cases/{case['id']}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        offered = set(re.findall(r'<option value="(material|result)">', text))
        token = csrf_of(browser, f"/staff/cases/{case['id']}")
        for file_role in ("material", "result"):
            name = f"web-{actor}-{file_role}.pdf"
            response = browser.post(
                f"/staff/cases/{case['id']}/files",
                data={"csrf_token": token, "role": file_role,
                      "file": (io.BytesIO(f"%PDF {name}".encode()), name)},
                content_type="multipart/form-data")
            status = expected(actor, state, file_role)
            answers[(actor, file_role)] = response.status_code
            wanted[(actor, file_role)] = 302 if status == 201 else status
            # the page offers exactly the kinds of file the rule allows
            assert (file_role in offered) == (status == 201), (actor, file_role, offered)
    assert answers == wanted
    added = {(name, role) for name, role, _by in _stored(db, case["id"])}
    assert added == {(f"web-{a}-{r}.pdf", r) for (a, r), status in wanted.items()
                     if status == 302}


def test_a_clerk_adding_a_material_to_an_unowned_online_case_takes_it(
        users: dict[str, Api], db: Database, client: FlaskClient) -> None:
    # an online application: no owner until a clerk takes it
    submitted = _ok(client.post("/api/v1/cases", json={"matter_code": MATTER,
                                                        "applicant_name": "李四"},
                                headers={"Authorization": f"Bearer {users['owner'].token}"}),
                    201)
    with db.unit_of_work() as session:
        row = session.get(Case, submitted["id"])
        assert row is not None
        row.owner_id, row.channel = None, Channel.ONLINE
    path = f"/api/v1/cases/{submitted['id']}/attachments"

    def add(api: Api, name: str) -> int:
        return int(api.post(path, data={"file": (io.BytesIO(f"%PDF {name}".encode()), name,
                                                  "application/pdf")},
                            content_type="multipart/form-data").status_code)

    assert add(users["clerk_other_department"], "补充.pdf") == 201
    assert _ok(users["owner"].get(f"/api/v1/cases/{submitted['id']}"))["owner"] == "clerk_zj"
    assert add(users["owner"], "另一份.pdf") == 403  # now someone else's case


def test_result_documents_of_a_case_decided_above_come_only_from_above(
        users: dict[str, Api], db: Database) -> None:
    """An origin case approved by the center it was forwarded to: nobody here adds its result
    documents (they came with the result) — nor materials, the case being decided."""
    case = case_in("forwarded", users)
    with db.unit_of_work() as session:  # as receive_result leaves it (forwarded_to kept)
        row = session.get(Case, case["id"])
        assert row is not None
        assert row.forwarded_to == "450900"
        row.state = CaseState.APPROVED
    for actor in ("owner", "approver_same_department"):
        for file_role, status in (("result", 403), ("material", 409)):
            response = users[actor].post(
                f"/api/v1/cases/{case['id']}/attachments",
                data={"file": (io.BytesIO(b"%PDF x"), "x.pdf", "application/pdf"),
                      "role": file_role},
                content_type="multipart/form-data")
            assert response.status_code == status, (actor, file_role, response.get_json())
            if status == 403:
                assert "450900" in response.get_json()["error"]["message"]


def test_a_case_from_below_carries_back_the_result_documents_its_deciding_department_added(
        app: Flask, desk: dict[str, Api], users: dict[str, Api], db: Database) -> None:
    """The township's case decided here: SC's approver adds the licence while deciding, it
    travels back with the result; ZJ's approver cannot add one, and after the decision (the
    case completed here at once) nobody can."""

    _apply(app, db, _from(TOWNSHIP, Kind.CASE_FORWARD, _forward_body()))
    [case] = _cases(db)
    path = f"/api/v1/cases/{case.id}/attachments"

    def add(actor: str, name: str) -> Any:
        return users[actor].post(path, data={
            "file": (io.BytesIO(f"%PDF {name}".encode()), name, "application/pdf"),
            "role": "result"}, content_type="multipart/form-data")

    assert add("approver_other_department", "住建意见.pdf").status_code == 403
    assert add("approver_same_department", "食品经营许可证.pdf").status_code == 201
    current = _ok(users["approver_same_department"].get(f"/api/v1/cases/{case.id}"))
    decided = _ok(users["approver_same_department"].post(
        f"/api/v1/cases/{case.id}/approve", {"version": current["version"]}))
    assert decided["state"] == "completed"
    result = next(e for e in _outbox(db) if e.kind is Kind.CASE_RESULT)
    assert [d["name"] for d in result.body["documents"]] == ["食品经营许可证.pdf"]
    late = add("approver_same_department", "补发.pdf")
    assert late.status_code == 409
    assert late.get_json()["error"]["details"]["state"] == "completed"
