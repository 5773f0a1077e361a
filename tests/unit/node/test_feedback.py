"""Evaluations (好差评), rectifications (整改) and complaints (投诉) through the API (both
databases)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from node.audit.chain import AuditLog
from node.auth.permissions import Role
from node.calendar.workdays import WorkingCalendar, shanghai_today
from node.feedback.complaints import COMPLAINT_WORKING_DAYS
from node.feedback.models import Complaint, Rectification
from node.feedback.states import RECTIFICATION_MAX_EXTENSION_DAYS, RECTIFICATION_WORKING_DAYS
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api
from tests.unit.node.test_public_lookup import complete_case, open_desk, set_public_limit, submit

RECTIFICATIONS = "/api/v1/supervision/rectifications"
COMPLAINTS = "/api/v1/supervision/complaints"


@pytest.fixture
def desk(catalog_base: Api, make_user: Callable[..., Api], app: Flask) -> dict[str, Api]:
    set_public_limit(app, 1000)  # the limit is tested in test_public_lookup.py
    return open_desk(catalog_base, make_user)


def completed(desk: dict[str, Api]) -> dict[str, Any]:
    case = submit(desk["clerk"])
    complete_case(desk, case["id"])
    return case


def rate(anonymous: Api, case: dict[str, Any], level: str, **extra: Any) -> Any:
    return anonymous.post(f"/api/v1/public/cases/{case['number']}/evaluation",
                          {"code": case["query_code"], "level": level, **extra})


def due_in(days: int) -> str:
    return WorkingCalendar().add_working_days(shanghai_today(), days).isoformat()


def move_due_on(db: Database, model: type[Complaint] | type[Rectification], days: int) -> None:
    """Put every row's deadline ``days`` calendar days from today (negative: overdue)."""
    with db.unit_of_work() as session:
        session.execute(update(model).values(due_on=shanghai_today() + dt.timedelta(days=days)))


# -- evaluation -----------------------------------------------------------------------------


def test_a_completed_case_is_rated_once(desk, anonymous: Api) -> None:
    case = submit(desk["clerk"])
    early = rate(anonymous, case, "satisfied")
    assert early.status_code == 409
    assert early.json["error"]["code"] == "not_completed"
    assert early.json["error"]["message"] == (
        f"办件 {case['number']} 当前为「已收件」；办结后才能评价。")
    complete_case(desk, case["id"])
    good = rate(anonymous, case, "very_satisfied", comment="  办事很快  ")
    assert good.status_code == 201, good.json
    assert good.json["level"] == "very_satisfied"
    assert good.json["comment"] == "办事很快"
    assert good.json["rectification"] is None
    again = rate(anonymous, case, "very_dissatisfied")
    assert again.status_code == 409
    assert again.json["error"]["code"] == "already_evaluated"
    looked_up = anonymous.get(f"/api/v1/public/cases/{case['number']}?code={case['query_code']}")
    assert looked_up.json["evaluation"] == "very_satisfied"
    assert desk["supervisor"].get(RECTIFICATIONS).json["total"] == 0


def test_a_delivered_case_can_be_rated(desk, anonymous: Api) -> None:
    case = completed(desk)
    assert desk["clerk"].post(f"/api/v1/cases/{case['id']}/deliver", {}).status_code == 200
    assert rate(anonymous, case, "basic").status_code == 201


def test_rating_with_a_wrong_code_is_the_lookups_404(desk, anonymous: Api) -> None:
    case = completed(desk)
    wrong = anonymous.post(f"/api/v1/public/cases/{case['number']}/evaluation",
                           {"code": "AAAAAAAA", "level": "dissatisfied"})
    lookup = anonymous.get(f"/api/v1/public/cases/{case['number']}?code=AAAAAAAA")
    assert wrong.status_code == 404
    assert wrong.json == lookup.json
    assert rate(anonymous, case, "excellent").status_code == 422
    assert rate(anonymous, case, "satisfied", comment="长" * 2001).status_code == 422


@pytest.mark.parametrize("level", ["dissatisfied", "very_dissatisfied"])
def test_a_bad_rating_opens_a_rectification(desk, anonymous: Api, db: Database, level) -> None:
    case = completed(desk)
    bad = rate(anonymous, case, level, comment="窗口人员态度冷淡")
    assert bad.status_code == 201
    assert bad.json["rectification"] == {"state": "pending",
                                         "due_on": due_in(RECTIFICATION_WORKING_DAYS)}
    listed = desk["supervisor"].get(RECTIFICATIONS).json
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["case_number"] == case["number"]
    assert item["department"] == {"code": "SC", "name": "市场监督管理局"}
    assert (item["level"], item["comment"]) == (level, "窗口人员态度冷淡")
    assert item["overdue"] is False
    assert item["rectified_in_time"] is None
    assert item["allowed_actions"] == ["start", "dispute", "extend"]
    with db.unit_of_work() as session:
        actions = [e.action for e in AuditLog(session).entries()]
    assert actions[-2:] == ["evaluation.submit", "rectification.open"]


# -- the rectification state machine --------------------------------------------------------


@pytest.fixture
def rectification(desk, anonymous: Api) -> dict[str, Any]:
    case = completed(desk)
    assert rate(anonymous, case, "dissatisfied").status_code == 201
    return desk["supervisor"].get(RECTIFICATIONS).json["items"][0]  # type: ignore[no-any-return]


def act(supervisor: Api, rectification: dict[str, Any], action: str, **body: Any) -> Any:
    return supervisor.post(f"{RECTIFICATIONS}/{rectification['id']}/{action}", body)


def test_rectify_extend_once_and_complete(desk, rectification, db: Database) -> None:
    supervisor = desk["supervisor"]
    started = act(supervisor, rectification, "start")
    assert started.status_code == 200, started.json
    assert started.json["state"] == "in_rectification"
    refused = act(supervisor, rectification, "dispute", reason="恶意差评")
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "invalid_transition"
    assert refused.json["error"]["details"] == {
        "state": "in_rectification", "allowed": ["complete", "cannot_rectify", "extend"]}
    assert refused.json["error"]["message"] == (
        "整改处于「整改中」状态，不能执行「申诉（无效评价）」（可执行：整改完成、无法整改、延期）。")
    no_reason = act(supervisor, rectification, "extend", days=2)
    assert no_reason.status_code == 422
    too_long = act(supervisor, rectification, "extend", reason="需协调",
                   days=RECTIFICATION_MAX_EXTENSION_DAYS + 1)
    assert too_long.status_code == 422
    assert "days" in too_long.json["error"]["details"]["fields"]
    extended = act(supervisor, rectification, "extend", reason="需协调其他部门", days=3)
    assert extended.status_code == 200, extended.json
    expected = WorkingCalendar().add_working_days(
        dt.date.fromisoformat(rectification["due_on"]), 3).isoformat()
    assert extended.json["due_on"] == expected
    assert (extended.json["extended"], extended.json["extension_days"]) == (True, 3)
    assert extended.json["state"] == "in_rectification"
    twice = act(supervisor, rectification, "extend", reason="再延", days=1)
    assert twice.status_code == 409
    assert twice.json["error"]["details"]["allowed"] == ["complete", "cannot_rectify"]
    blank = act(supervisor, rectification, "complete", note="  ")
    assert blank.status_code == 422
    assert blank.json["error"]["details"]["fields"]["note"] == [
        "「整改完成」须填写书面的整改情况说明"]
    done = act(supervisor, rectification, "complete", note="已约谈窗口人员并整改服务态度")
    assert done.status_code == 200
    assert done.json["state"] == "done"
    assert done.json["rectified_in_time"] is True
    assert done.json["closed_at"] is not None
    assert done.json["allowed_actions"] == []
    with db.unit_of_work() as session:
        trail = AuditLog(session).entries(subject_type="rectification",
                                          subject_id=str(rectification["id"]))
    assert [e.action for e in trail] == ["rectification.open", "rectification.start",
                                         "rectification.extend", "rectification.complete"]


def test_dispute_upheld_then_invalidated(desk, rectification) -> None:
    supervisor = desk["supervisor"]
    assert act(supervisor, rectification, "dispute").status_code == 422
    disputed = act(supervisor, rectification, "dispute", reason="评价人未实际办理业务")
    assert disputed.json["state"] == "disputed"
    assert disputed.json["allowed_actions"] == ["uphold", "invalidate"]
    assert act(supervisor, rectification, "start").status_code == 409
    upheld = act(supervisor, rectification, "uphold")
    assert upheld.json["state"] == "pending"
    assert upheld.json["rating_void"] is False
    act(supervisor, rectification, "dispute", reason="有新的证据")
    void = act(supervisor, rectification, "invalidate", reason="经核实为无效评价")
    assert void.status_code == 200
    assert void.json["state"] == "rating_void"
    assert void.json["rating_void"] is True
    assert void.json["void_reason"] == "经核实为无效评价"
    assert void.json["rectified_in_time"] is None


def test_cannot_rectify_needs_a_reason(desk, rectification) -> None:
    supervisor = desk["supervisor"]
    act(supervisor, rectification, "start")
    assert act(supervisor, rectification, "cannot-rectify", reason="").status_code == 422
    closed = act(supervisor, rectification, "cannot-rectify", reason="涉及法律规定，无法调整")
    assert closed.json["state"] == "cannot_rectify"
    assert closed.json["rectified_in_time"] is False
    missing = supervisor.post(f"{RECTIFICATIONS}/999999/start", {})
    assert missing.status_code == 404


def test_overdue_rectifications_are_computed(desk, rectification, db: Database) -> None:
    supervisor = desk["supervisor"]
    assert supervisor.get(f"{RECTIFICATIONS}?overdue=true").json["total"] == 0
    move_due_on(db, Rectification, -1)
    late = supervisor.get(f"{RECTIFICATIONS}?overdue=true").json
    assert late["total"] == 1
    assert late["items"][0]["overdue"] is True
    assert supervisor.get(f"{RECTIFICATIONS}?overdue=false").json["total"] == 0
    assert supervisor.get(f"{RECTIFICATIONS}?state=pending").json["total"] == 1
    assert supervisor.get(f"{RECTIFICATIONS}?state=done").json["total"] == 0
    act(supervisor, rectification, "start")
    done = act(supervisor, rectification, "complete", note="已整改")
    assert done.json["overdue"] is False
    assert done.json["rectified_in_time"] is False
    assert supervisor.get(f"{RECTIFICATIONS}?overdue=true").json["total"] == 0


# -- complaints -----------------------------------------------------------------------------


def complain(anonymous: Api, **body: Any) -> Any:
    return anonymous.post("/api/v1/public/complaints", {"content": "办事来回跑了三趟", **body})


def test_complaints_against_a_case_a_window_and_a_clerk(desk, anonymous: Api, db: Database,
                                                        make_user: Callable[..., Api]) -> None:
    case = submit(desk["clerk"])
    on_case = complain(anonymous, case_number=case["number"], code=case["query_code"],
                       contact_phone="13912345678")
    assert on_case.status_code == 201, on_case.json
    assert re.fullmatch(r"450981-TS-\d{4}-000001", on_case.json["number"])
    assert on_case.json["state"] == "received"
    assert on_case.json["due_on"] == due_in(COMPLAINT_WORKING_DAYS)
    on_window = complain(anonymous, window_code="W01", contact_phone="0775-1234567")
    assert on_window.status_code == 201, on_window.json
    staff = desk["admin"].post("/api/v1/staff", {"code": "G0017", "name": "李明",
                                                 "staff_type": "civil_servant",
                                                 "department_code": "SC", "window_code": "W01"})
    assert staff.status_code == 201, staff.json
    assert desk["admin"].patch("/api/v1/users/clerk1", {"staff_code": "G0017"}).status_code == 200
    on_clerk = complain(anonymous, staff_code="G0017")
    assert on_clerk.status_code == 201
    listed = desk["supervisor"].get(COMPLAINTS).json
    assert listed["total"] == 3
    by_number = {c["number"]: c for c in listed["items"]}
    first = by_number[on_case.json["number"]]
    assert first["case_number"] == case["number"]
    assert first["contact_phone"] == "139****5678"
    assert first["overdue"] is False
    assert by_number[on_window.json["number"]]["window"] == {"code": "W01", "name": "市场监管窗口"}
    on_staff = by_number[on_clerk.json["number"]]
    assert (on_staff["staff_code"], on_staff["staff_name"], on_staff["staff_known"],
            on_staff["clerk"]) == ("G0017", "李明", True, "clerk1")
    detail = desk["supervisor"].get(f"{COMPLAINTS}/{on_case.json['number']}").json
    assert detail["contact_phone"] == "13912345678"  # to call the complainant back
    viewer = make_user(Role.VIEWER)
    seen = viewer.get(f"{COMPLAINTS}/{on_case.json['number']}").json
    assert seen["contact_phone"] == "139****5678"  # read-only roles see it masked
    with db.unit_of_work() as session:
        trail = AuditLog(session).entries(subject_type="complaint")
    assert [e.action for e in trail] == ["complaint.receive"] * 3


def test_complaint_about_a_case_needs_its_code(desk, anonymous: Api) -> None:
    case = submit(desk["clerk"])
    no_code = complain(anonymous, case_number=case["number"])
    assert no_code.status_code == 422
    assert "code" in no_code.json["error"]["details"]["fields"]
    wrong = complain(anonymous, case_number=case["number"], code="AAAAAAAA")
    lookup = anonymous.get(f"/api/v1/public/cases/{case['number']}?code=AAAAAAAA")
    assert wrong.status_code == 404
    assert wrong.json == lookup.json


def test_complaint_bad_input(desk, anonymous: Api) -> None:
    nothing = complain(anonymous)
    assert nothing.status_code == 422
    assert "target" in nothing.json["error"]["details"]["fields"]
    phone = complain(anonymous, window_code="W01", contact_phone="12345")
    assert phone.status_code == 422
    assert "contact_phone" in phone.json["error"]["details"]["fields"]
    unknown = complain(anonymous, window_code="W99", staff_code="G9999")
    assert unknown.status_code == 422
    assert set(unknown.json["error"]["details"]["fields"]) == {"window_code"}
    login_name = complain(anonymous, clerk_username="clerk1")  # no longer a field at all
    assert login_name.status_code == 422
    assert "clerk_username" in login_name.json["error"]["details"]["fields"]
    blank = complain(anonymous, window_code="W01", content="   ")
    assert blank.status_code == 422
    assert "content" in blank.json["error"]["details"]["fields"]
    assert anonymous.post("/api/v1/public/complaints", {"window_code": "W01"}).status_code == 422
    assert desk["supervisor"].get(COMPLAINTS).json["total"] == 0


def test_a_staff_member_is_named_by_their_public_number_and_an_unknown_one_is_kept(
        desk, anonymous: Api, db: Database) -> None:
    """No login names in public: a complaint names the 工号 on the staff member's badge; a
    number no record has is accepted alike (refusing it would tell which exist) and shown to
    the supervisors as unregistered."""
    desk["admin"].post("/api/v1/staff", {"code": "G0017", "name": "李明",
                                         "staff_type": "civil_servant",
                                         "department_code": "SC", "window_code": "W01"})
    known = complain(anonymous, staff_code="G0017")
    unknown = complain(anonymous, staff_code="G9999")
    username = complain(anonymous, staff_code="clerk1")  # a login name is just a wrong number
    assert known.status_code == unknown.status_code == username.status_code == 201
    assert set(known.json) == set(unknown.json) == {"number", "query_code", "state", "due_on"}
    listed = {c["number"]: c for c in desk["supervisor"].get(COMPLAINTS).json["items"]}
    assert (listed[known.json["number"]]["staff_name"],
            listed[known.json["number"]]["staff_known"]) == ("李明", True)
    assert (listed[unknown.json["number"]]["staff_code"],
            listed[unknown.json["number"]]["staff_known"],
            listed[unknown.json["number"]]["clerk"]) == ("G9999", False, None)
    assert listed[username.json["number"]]["clerk"] is None
    with db.unit_of_work() as session:
        trail = AuditLog(session).entries(subject_type="complaint")
    assert [(json.loads(e.data)["staff_code"], json.loads(e.data)["staff_known"])
            for e in trail] == [
        ("G0017", True), ("G9999", False), ("clerk1", False)]


def test_resolve_in_time_and_only_once(desk, anonymous: Api) -> None:
    number = complain(anonymous, window_code="W01").json["number"]
    supervisor = desk["supervisor"]
    assert supervisor.post(f"{COMPLAINTS}/{number}/resolve", {}).status_code == 422
    resolved = supervisor.post(f"{COMPLAINTS}/{number}/resolve",
                               {"resolution": "已向投诉人道歉并对窗口人员批评教育"})
    assert resolved.status_code == 200, resolved.json
    assert resolved.json["state"] == "resolved"
    assert resolved.json["resolved_in_time"] is True
    assert resolved.json["resolved_by"] == "super1"
    assert resolved.json["resolved_at"] is not None
    again = supervisor.post(f"{COMPLAINTS}/{number}/resolve", {"resolution": "再次处理"})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "invalid_transition"
    assert again.json["error"]["details"] == {"state": "resolved", "allowed": []}
    assert again.json["error"]["message"] == f"投诉 {number} 已是「已办结」状态。"
    assert supervisor.get(f"{COMPLAINTS}?state=resolved").json["total"] == 1
    assert supervisor.get(f"{COMPLAINTS}?state=received").json["total"] == 0
    assert supervisor.post(f"{COMPLAINTS}/nope/resolve", {"resolution": "x"}).status_code == 404


def test_overdue_complaints_and_late_resolution(desk, anonymous: Api, db: Database) -> None:
    number = complain(anonymous, window_code="W01").json["number"]
    supervisor = desk["supervisor"]
    assert supervisor.get(f"{COMPLAINTS}?overdue=true").json["total"] == 0
    move_due_on(db, Complaint, -2)
    late = supervisor.get(f"{COMPLAINTS}?overdue=true").json
    assert [c["number"] for c in late["items"]] == [number]
    assert late["items"][0]["overdue"] is True
    assert supervisor.get(f"{COMPLAINTS}?overdue=false").json["total"] == 0
    resolved = supervisor.post(f"{COMPLAINTS}/{number}/resolve", {"resolution": "已处理"})
    assert resolved.json["resolved_in_time"] is False
    assert resolved.json["overdue"] is False


def test_viewer_reads_but_does_not_manage(desk, make_user, anonymous: Api) -> None:
    viewer = make_user(Role.VIEWER)
    number = complain(anonymous, window_code="W01").json["number"]
    assert viewer.get(COMPLAINTS).status_code == 200
    assert viewer.post(f"{COMPLAINTS}/{number}/resolve", {"resolution": "x"}).status_code == 403


def test_the_complaint_page_asks_for_the_staff_number_not_a_login_name(
        desk, client: Any) -> None:
    from tests.unit.node.test_web import csrf_of

    form = client.get("/complaint").get_data(as_text=True)
    assert 'name="staff_code"' in form
    assert "clerk_username" not in form
    filed = client.post("/complaint", data={"csrf_token": csrf_of(client, "/complaint"),
                                            "staff_code": "G9999", "content": "态度不好"})
    assert filed.status_code == 201
    assert "投诉已受理" in filed.get_data(as_text=True)
    listed = desk["supervisor"].get(COMPLAINTS).json["items"]
    assert [(c["staff_code"], c["staff_known"]) for c in listed] == [("G9999", False)]


def test_a_complaint_gets_a_query_code_and_its_outcome_is_looked_up(
        desk: dict[str, Api], anonymous: Api, client: Any) -> None:
    filed = anonymous.post("/api/v1/public/complaints",
                           {"content": "窗口人员态度差", "window_code": "W01"})
    assert filed.status_code == 201, filed.json
    number, code = filed.json["number"], filed.json["query_code"]
    assert re.fullmatch(r"[A-Z2-9]{8}", code)
    wrong = "ABCDEFGH" if code != "ABCDEFGH" else "HGFEDCBA"
    assert anonymous.get(f"/api/v1/public/complaints/{number}",
                         query_string={"code": wrong}).status_code == 404
    assert anonymous.get("/api/v1/public/complaints/450981-TS-2026-999999",
                         query_string={"code": code}).status_code == 404
    found = anonymous.get(f"/api/v1/public/complaints/{number}", query_string={"code": code})
    assert found.status_code == 200, found.json
    assert (found.json["state"], found.json["resolution"], found.json["case_number"]) == (
        "received", None, None)
    assert found.json["window_name"]  # the window's name, never its code
    resolved = desk["supervisor"].post(f"/api/v1/supervision/complaints/{number}/resolve",
                                       {"resolution": "已约谈窗口人员并致歉"})
    assert resolved.status_code == 200, resolved.json
    found = anonymous.get(f"/api/v1/public/complaints/{number}", query_string={"code": code})
    assert (found.json["state"], found.json["resolution"]) == ("resolved", "已约谈窗口人员并致歉")
    assert found.json["resolved_at"] is not None

    # the page: the code shown once at filing, the outcome by number and code
    page = client.get(f"/complaint/lookup?number={number}").get_data(as_text=True)
    assert f'value="{number}"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    shown = client.post("/complaint/lookup", data={"csrf_token": token, "number": number,
                                                   "code": code})
    assert shown.status_code == 200
    assert "已约谈窗口人员并致歉" in shown.get_data(as_text=True)
    missed = client.post("/complaint/lookup", data={"csrf_token": token, "number": number,
                                                    "code": wrong})
    assert missed.status_code == 404
    assert "未找到该投诉" in missed.get_data(as_text=True)


def test_complaints_and_rectifications_link_to_their_case_and_show_on_it(
        desk: dict[str, Api], anonymous: Api, client: Any) -> None:
    from tests.unit.node.test_web import log_in

    case = completed(desk)
    assert rate(anonymous, case, "very_dissatisfied", comment="等太久").status_code == 201
    filed = anonymous.post("/api/v1/public/complaints", {
        "content": "办理拖延", "case_number": case["number"], "code": case["query_code"]})
    assert filed.status_code == 201, filed.json
    case_link = f'href="/staff/cases/{case["id"]}"'

    log_in(client, "super1")
    for path in ("/staff/supervision/complaints", "/staff/supervision/rectifications"):
        page = client.get(path).get_data(as_text=True)
        assert case_link in page, path
    file_page = client.get(f"/staff/cases/{case['id']}").get_data(as_text=True)
    assert "评价、投诉与整改" in file_page
    assert filed.json["number"] in file_page
    assert "办理拖延" in file_page
    assert "非常不满意" in file_page
    assert "等太久" in file_page
    assert 'href="/staff/supervision/complaints"' in file_page
