"""The case API end to end through the Flask test client (both databases)."""

from __future__ import annotations

from node.auth.permissions import Role
from tests.unit.node.conftest import Api

ID_NUMBER = "11010519491231002X"




def submit(clerk: Api, **extra) -> dict:
    payload = {
        "matter_code": "11450981MB0001",
        "applicant_name": "张三",
        "applicant_id_number": ID_NUMBER,
        "applicant_phone": "13812345678",
        **extra,
    }
    response = clerk.post("/api/v1/cases", payload)
    assert response.status_code == 201, response.json
    return response.json


def test_full_life_of_a_case(desk) -> None:
    clerk, approver = desk["clerk"], desk["approver"]
    case = submit(clerk)
    assert case["state"] == "submitted"
    assert case["owner"] == "clerk1"
    assert len(case["query_code"]) == 8
    assert case["number"].startswith("450981-")
    cid = case["id"]
    notice = clerk.post(
        f"/api/v1/cases/{cid}/notices", {"material_positions": [1, 2], "other_items": ["加盖公章"]}
    )
    assert notice.status_code == 201, notice.json
    assert [i["material"] for i in notice.json["items"]] == [
        "食品经营许可申请书",
        "营业执照复印件",
        "加盖公章",
    ]
    html = clerk.get(f"/api/v1/cases/{cid}/notices/{notice.json['number']}")
    assert html.status_code == 200
    assert html.content_type.startswith("text/html")
    page = html.get_data(as_text=True)
    assert "一次性告知" in page
    assert "营业执照复印件" in page
    assert notice.json["number"] in page
    assert clerk.post(f"/api/v1/cases/{cid}/supplement", {}).json["state"] == "submitted"
    accepted = clerk.post(f"/api/v1/cases/{cid}/accept", {})
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["deadline_on"] is not None
    assert accepted.json["warning"] in {"green", "yellow"}
    deadline = clerk.get(f"/api/v1/cases/{cid}/deadline")
    assert deadline.status_code == 200
    assert deadline.json["deadline_on"] == accepted.json["deadline_on"]
    assert approver.post(f"/api/v1/cases/{cid}/start-review", {}).json["state"] == "in_review"
    approved = approver.post(f"/api/v1/cases/{cid}/approve", {})
    assert approved.json["state"] == "approved"
    assert clerk.post(f"/api/v1/cases/{cid}/complete", {}).json["state"] == "completed"
    delivered = clerk.post(f"/api/v1/cases/{cid}/deliver", {})
    assert delivered.json["state"] == "delivered"
    # a transition answers with the case's state, not its file: the file is a GET
    assert set(delivered.json) == {"id", "number", "state", "version", "deadline_on",
                                   "deadline_provisional", "warning", "allowed_actions"}
    assert delivered.json["allowed_actions"] == []
    file = clerk.get(f"/api/v1/cases/{cid}").json
    assert file["version"] == delivered.json["version"]
    actions = [e["action"] for e in file["events"]]
    assert actions == [
        "submit",
        "request_supplement",
        "supplement",
        "accept",
        "start_review",
        "approve",
        "complete",
        "deliver",
    ]
    assert all(e["actor"] and e["role"] and e["at"] for e in file["events"])


def test_invalid_transition_is_409_listing_allowed(desk) -> None:
    case = submit(desk["clerk"])
    response = desk["clerk"].post(f"/api/v1/cases/{case['id']}/deliver", {})
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "invalid_transition"
    assert error["details"]["state"] == "submitted"
    assert "accept" in error["details"]["allowed"]
    assert "deliver" not in error["details"]["allowed"]


def test_reasons_required(desk) -> None:
    case = submit(desk["clerk"])
    response = desk["clerk"].post(f"/api/v1/cases/{case['id']}/reject", {})
    assert response.status_code == 422
    assert "reason" in response.json["error"]["details"]["fields"]
    blank = desk["clerk"].post(f"/api/v1/cases/{case['id']}/withdraw", {"reason": "   "})
    assert blank.status_code == 422
    ok = desk["clerk"].post(
        f"/api/v1/cases/{case['id']}/reject", {"reason": "不属于本中心受理范围"}
    )
    assert ok.json["state"] == "rejected"
    file = desk["clerk"].get(f"/api/v1/cases/{case['id']}").json
    assert file["events"][-1]["reason"] == "不属于本中心受理范围"


def test_second_notice_needs_a_reason_and_is_counted(desk) -> None:
    clerk = desk["clerk"]
    cid = submit(clerk)["id"]
    clerk.post(f"/api/v1/cases/{cid}/notices", {"material_positions": [1]})
    again = clerk.post(f"/api/v1/cases/{cid}/notices", {"material_positions": [2]})
    assert again.status_code == 422
    assert "repeat_reason" in again.json["error"]["details"]["fields"]
    second = clerk.post(
        f"/api/v1/cases/{cid}/notices",
        {"material_positions": [2], "repeat_reason": "申请人提交的材料有误"},
    )
    assert second.status_code == 201
    assert second.json["sequence"] == 2
    bad = clerk.post(
        f"/api/v1/cases/{cid}/notices", {"material_positions": [9], "repeat_reason": "x"}
    )
    assert bad.status_code == 422


def test_first_inquiry_owner_and_hand_over(desk) -> None:
    cid = submit(desk["clerk"])["id"]
    other = desk["clerk2"].post(f"/api/v1/cases/{cid}/accept", {})
    assert other.status_code == 403
    assert other.json["error"]["details"]["owner"] == "clerk1"
    handed = desk["clerk"].post(
        f"/api/v1/cases/{cid}/hand-over", {"to": "clerk2", "reason": "调岗"}
    )
    assert handed.status_code == 200, handed.json
    handed_file = desk["clerk"].get(f"/api/v1/cases/{cid}").json
    assert handed_file["owner"] == "clerk2"
    assert desk["clerk2"].post(f"/api/v1/cases/{cid}/accept", {}).status_code == 200
    assert handed_file["events"][-1]["action"] == "hand_over"


def test_suspension_stops_the_clock(desk) -> None:
    clerk, approver = desk["clerk"], desk["approver"]
    cid = submit(clerk)["id"]
    clerk.post(f"/api/v1/cases/{cid}/accept", {})
    suspended = approver.post(
        f"/api/v1/cases/{cid}/suspend", {"kind": "site_inspection", "reason": "需现场勘查经营场所"}
    )
    assert suspended.status_code == 200, suspended.json
    notice_number = suspended.json["notice_number"]
    assert notice_number
    document = approver.get(f"/api/v1/cases/{cid}/suspensions/{notice_number}")
    assert document.status_code == 200
    assert "现场勘查" in document.get_data(as_text=True)
    assert "第四十五条" in document.get_data(as_text=True)
    assert (
        approver.post(
            f"/api/v1/cases/{cid}/suspend", {"kind": "testing", "reason": "x"}
        ).status_code
        == 409
    )
    bad_kind = approver.post(f"/api/v1/cases/{cid}/resume", {"version": "x"})
    assert bad_kind.status_code == 422
    resumed = approver.post(f"/api/v1/cases/{cid}/resume", {})
    assert resumed.json["state"] == "in_review"
    assert approver.get(f"/api/v1/cases/{cid}").json["suspensions"][0]["end_on"] is not None


def test_joint_approval_with_one_denial(desk) -> None:
    clerk = desk["clerk"]
    cid = submit(clerk, joint_department_codes=["ZJ"])["id"]
    clerk.post(f"/api/v1/cases/{cid}/accept", {})
    first = desk["approver"].post(f"/api/v1/cases/{cid}/approve", {})
    assert first.json["state"] == "accepted"  # ZJ has not decided
    first_file = clerk.get(f"/api/v1/cases/{cid}").json
    assert first_file["version"] == first.json["version"]
    assert {t["department"]["code"]: t["state"] for t in first_file["tasks"]} == {
        "SC": "approved",
        "ZJ": "pending",
    }
    denied = desk["approver_zj"].post(f"/api/v1/cases/{cid}/deny", {"reason": "不符合规划"})
    assert denied.json["state"] == "denied"
    reasons = {t["department"]["code"]: t["reason"]
               for t in clerk.get(f"/api/v1/cases/{cid}").json["tasks"]}
    assert reasons["ZJ"] == "不符合规划"


def test_approver_of_an_uninvolved_department_is_refused(desk) -> None:
    cid = submit(desk["clerk"])["id"]
    desk["clerk"].post(f"/api/v1/cases/{cid}/accept", {})
    response = desk["approver_zj"].post(f"/api/v1/cases/{cid}/approve", {})
    assert response.status_code == 403


def test_notify_and_commit_with_fee(desk) -> None:
    clerk = desk["clerk"]
    cid = submit(clerk, matter_code="NC1")["id"]
    no_text = clerk.post(f"/api/v1/cases/{cid}/commit", {"commitment": ""})
    assert no_text.status_code == 422
    committed = clerk.post(f"/api/v1/cases/{cid}/commit", {"commitment": "本人承诺所填信息真实"})
    assert committed.json["state"] == "approved"
    assert clerk.get(f"/api/v1/cases/{cid}").json["fee_due_fen"] == 5000
    unpaid = clerk.post(f"/api/v1/cases/{cid}/complete", {})
    assert unpaid.status_code == 409
    too_much = clerk.post(
        f"/api/v1/cases/{cid}/payment", {"amount_fen": 9000, "where": "center_bank"}
    )
    assert too_much.status_code == 422
    paid = clerk.post(f"/api/v1/cases/{cid}/payment", {"amount_fen": 5000, "where": "elsewhere"})
    assert paid.status_code == 200, paid.json
    assert clerk.get(f"/api/v1/cases/{cid}").json["fee_paid_where"] == "elsewhere"
    assert clerk.post(f"/api/v1/cases/{cid}/complete", {}).json["state"] == "completed"
    plain = submit(clerk)["id"]
    refused = clerk.post(f"/api/v1/cases/{plain}/commit", {"commitment": "承诺"})
    assert refused.status_code == 409


def test_stale_version_is_409(desk) -> None:
    case = submit(desk["clerk"])
    cid, version = case["id"], case["version"]
    assert (
        desk["clerk"].post(f"/api/v1/cases/{cid}/accept", {"version": version}).status_code == 200
    )
    stale = desk["clerk"].post(
        f"/api/v1/cases/{cid}/withdraw", {"reason": "申请人撤回", "version": version}
    )
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "stale_version"


def test_submission_validates_personal_data_and_agents(desk) -> None:
    clerk = desk["clerk"]
    bad = clerk.post(
        "/api/v1/cases",
        {
            "matter_code": "11450981MB0001",
            "applicant_name": "李四",
            "applicant_id_number": "110105194912310021",
            "applicant_phone": "12345",
        },
    )
    assert bad.status_code == 422
    assert {"applicant_id_number", "applicant_phone"} <= set(bad.json["error"]["details"]["fields"])
    agent = clerk.post(
        "/api/v1/cases",
        {"matter_code": "11450981MB0001", "applicant_name": "李四", "channel": "village_agent"},
    )
    assert agent.status_code == 422
    assert {"agent_name", "applicant_consent"} <= set(agent.json["error"]["details"]["fields"])
    ok = submit(clerk, channel="village_agent", agent_name="王代办", applicant_consent=True)
    assert ok["channel"] == "village_agent"
    unknown = clerk.post("/api/v1/cases", {"matter_code": "NOPE", "applicant_name": "x"})
    assert unknown.status_code == 422


def test_lists_mask_personal_data_and_filter(desk) -> None:
    clerk = desk["clerk"]
    submit(clerk)
    second = submit(clerk)
    clerk.post(f"/api/v1/cases/{second['id']}/accept", {})
    listed = clerk.get("/api/v1/cases").json
    assert listed["total"] == 2
    item = listed["items"][0]
    assert item["applicant_id_number"] == "110105********002X"
    assert item["applicant_phone"] == "138****5678"
    accepted = clerk.get("/api/v1/cases?state=accepted").json
    assert [c["id"] for c in accepted["items"]] == [second["id"]]
    by_clerk = desk["supervisor"].get("/api/v1/cases?clerk=clerk2").json
    assert by_clerk["total"] == 0
    by_colour = desk["supervisor"].get("/api/v1/cases?warning=green&warning=yellow").json
    assert by_colour["total"] == 1
    detail = clerk.get(f"/api/v1/cases/{second['id']}").json
    assert detail["applicant_id_number"] == ID_NUMBER


def test_case_rbac(desk, make_user) -> None:
    viewer = make_user(Role.VIEWER)
    cid = submit(desk["clerk"])["id"]
    assert viewer.get(f"/api/v1/cases/{cid}").status_code == 200
    assert viewer.post(f"/api/v1/cases/{cid}/accept", {}).status_code == 403
    assert desk["approver"].post("/api/v1/cases", {}).status_code == 403
    assert desk["admin"].post(f"/api/v1/cases/{cid}/accept", {}).status_code == 403
    assert desk["approver"].post(f"/api/v1/cases/{cid}/accept", {}).status_code == 403


def test_extension_once_within_the_legal_days(desk) -> None:
    clerk, approver = desk["clerk"], desk["approver"]
    cid = submit(clerk)["id"]
    accepted = clerk.post(f"/api/v1/cases/{cid}/accept", {}).json
    too_long = approver.post(f"/api/v1/cases/{cid}/extend", {"days": 11, "reason": "需要"})
    assert too_long.status_code == 422
    assert "days" in too_long.json["error"]["details"]["fields"]
    extended = approver.post(f"/api/v1/cases/{cid}/extend",
                             {"days": 10, "reason": "经负责人批准延长十日"})
    assert extended.status_code == 200, extended.json
    assert clerk.get(f"/api/v1/cases/{cid}").json["extension_days"] == 10
    assert extended.json["deadline_on"] > accepted["deadline_on"]
    explained = clerk.get(f"/api/v1/cases/{cid}/deadline").json
    assert explained["deadline_on"] == extended.json["deadline_on"]
    again = approver.post(f"/api/v1/cases/{cid}/extend", {"days": 1, "reason": "再延"})
    assert again.status_code == 409
    outsider = desk["approver_zj"].post(f"/api/v1/cases/{cid}/extend", {"days": 1, "reason": "x"})
    assert outsider.status_code == 403


def test_joint_cases_extend_up_to_fifteen_days(desk) -> None:
    clerk = desk["clerk"]
    cid = submit(clerk, joint_department_codes=["ZJ"])["id"]
    clerk.post(f"/api/v1/cases/{cid}/accept", {})
    extended = desk["approver"].post(f"/api/v1/cases/{cid}/extend",
                                     {"days": 15, "reason": "联合办理延长"})
    assert extended.status_code == 200, extended.json
    assert clerk.get(f"/api/v1/cases/{cid}").json["extension_days"] == 15


def _statements(db, call) -> int:
    """How many SQL statements ``call()`` sends."""
    from sqlalchemy import event

    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(sent)


def test_the_whole_file_is_read_in_a_fixed_number_of_queries(desk, db) -> None:
    """Issue 17: the file is a GET, eager-loaded: a longer history and more departments cost
    no more queries (each task's department comes with the tasks, not one query each)."""
    clerk = desk["clerk"]
    short = submit(clerk)["id"]
    long = submit(clerk, joint_department_codes=["ZJ"])["id"]
    for _ in range(3):
        clerk.post(f"/api/v1/cases/{long}/notices", {"other_items": ["身份证复印件"],
                                                     "repeat_reason": "又缺材料"})
        clerk.post(f"/api/v1/cases/{long}/supplement", {})
    clerk.post(f"/api/v1/cases/{long}/accept", {})
    files = {cid: clerk.get(f"/api/v1/cases/{cid}").json for cid in (short, long)}
    assert len(files[long]["events"]) == 8
    assert len(files[long]["notices"]) == 3
    assert len(files[long]["tasks"]) == 2
    assert len(files[short]["events"]) == 1
    counts = {cid: _statements(db, lambda cid=cid: clerk.get(f"/api/v1/cases/{cid}"))
              for cid in (short, long)}
    assert counts[short] == counts[long], counts


def test_a_step_answers_its_state_and_the_file_agrees(desk) -> None:
    """Issue 17: a transition answers with a small document, committed: a GET right after
    reads the same state and version, and the version sent next must be that one."""
    clerk = desk["clerk"]
    case = submit(clerk)
    step = clerk.post(f"/api/v1/cases/{case['id']}/accept", {"version": case["version"]})
    assert step.status_code == 200, step.json
    assert set(step.json) == {"id", "number", "state", "version", "deadline_on",
                              "deadline_provisional", "warning", "allowed_actions"}
    assert (step.json["id"], step.json["number"]) == (case["id"], case["number"])
    assert step.json["state"] == "accepted"
    assert step.json["deadline_on"] is not None
    assert step.json["warning"] in {"green", "yellow"}
    assert "withdraw" in step.json["allowed_actions"]
    file = clerk.get(f"/api/v1/cases/{case['id']}").json
    assert {k: file[k] for k in step.json} == step.json
    stale = clerk.post(f"/api/v1/cases/{case['id']}/withdraw",
                       {"version": case["version"], "reason": "撤回"})
    assert stale.status_code == 409
    ok = clerk.post(f"/api/v1/cases/{case['id']}/withdraw",
                    {"version": step.json["version"], "reason": "撤回"})
    assert ok.status_code == 200, ok.json
    assert ok.json["state"] == "withdrawn"
    assert ok.json["version"] > step.json["version"]


def test_a_step_is_written_by_id_in_one_flush(desk, db) -> None:
    """Issue 17: a step adds its history row by id (the history is never read to be appended
    to) and the request flushes the session once, before the audit chain's head is locked."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    clerk = desk["clerk"]
    case = submit(clerk)
    sent: list[str] = []
    flushes: list[int] = []

    def statement(_conn, _cursor, text, *_args) -> None:
        sent.append(" ".join(text.split()))

    def flushed(session, _context, _instances) -> None:
        if session.new or session.dirty or session.deleted:
            flushes.append(1)

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(Session, "before_flush", flushed)
    try:
        step = clerk.post(f"/api/v1/cases/{case['id']}/accept", {"version": case["version"]})
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(Session, "before_flush", flushed)
    assert step.status_code == 200, step.json
    assert not [s for s in sent if s.startswith("SELECT") and "FROM case_events" in s], sent
    assert [s for s in sent if s.startswith("INSERT INTO case_events")]
    assert len(flushes) == 1
    head = next(i for i, s in enumerate(sent) if "FROM audit_head" in s)
    assert not [s for s in sent[head:] if s.startswith("UPDATE cases")], "the head was locked first"
    assert [s for s in sent[head:] if s.startswith("SELECT")] == [sent[head]], \
        "nothing is read while the head is locked"
    assert clerk.get(f"/api/v1/cases/{case['id']}").json["events"][-1]["action"] == "accept"
