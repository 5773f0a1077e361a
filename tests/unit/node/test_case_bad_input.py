"""Every case endpoint's bad input through the Flask test client (both databases).

Each refusal must have the shape ``{"error": {"code", "message", "details"}}`` and change
nothing: the case's version, state, history, notices, suspensions, tasks and fees, and the audit
chain's head, are compared before and after.  Text that looks like SQL or a template is stored
as sent and printed escaped.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from node.audit.chain import AuditLog
from node.listing import encode_cursor
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api

ID_NUMBER = "11010519491231002X"
MAX_BODY = 64 * 1024  # the test app's max_content_length (tests/unit/node/conftest.py)





def submit(clerk: Api, **extra: Any) -> dict[str, Any]:
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


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is ``status`` with the JSON error document; returns its ``error``."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.content_type
    body = response.json
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], dict)
    if code is not None:
        assert error["code"] == code, error
    return error  # type: ignore[no-any-return]


def audit_head(db: Database) -> tuple[int, str]:
    with db.sessions() as session:
        head = AuditLog(session).head()
        return head.seq, head.hash


def snapshot(api: Api, db: Database, case_id: int) -> dict[str, Any]:
    """Everything a refused call must leave as it was."""
    case = api.get(f"/api/v1/cases/{case_id}").json
    keys = (
        "version",
        "state",
        "owner",
        "events",
        "notices",
        "suspensions",
        "tasks",
        "fee_paid_fen",
        "fee_waived_reason",
        "deadline_on",
        "accepted_on",
        "commitment",
    )
    return {"case": {k: case[k] for k in keys}, "audit": audit_head(db)}


def case_count(api: Api) -> int:
    return api.get("/api/v1/cases").json["total"]  # type: ignore[no-any-return]


# -- every transition endpoint ------------------------------------------------------------------

# name -> (a valid body, its required fields, {field: a value of the wrong type})
ENDPOINTS: dict[str, tuple[dict[str, Any], list[str], dict[str, Any]]] = {
    "supplement": ({}, [], {}),
    "accept": ({}, [], {}),
    "reject": ({"reason": "不属于本中心受理范围"}, ["reason"], {"reason": 5}),
    "commit": ({"commitment": "本人承诺所填信息真实"}, ["commitment"], {"commitment": ["x"]}),
    "start-review": ({}, [], {}),
    "suspend": (
        {"kind": "site_inspection", "reason": "需现场勘查"},
        ["kind", "reason"],
        {"kind": "party", "reason": {"text": "x"}},
    ),
    "resume": ({}, [], {}),
    "approve": ({}, [], {"reason": 5}),
    "deny": ({"reason": "不符合规划"}, ["reason"], {"reason": True}),
    "complete": ({}, [], {}),
    "deliver": ({}, [], {}),
    "withdraw": ({"reason": "申请人撤回"}, ["reason"], {"reason": None}),
    "payment": (
        {"amount_fen": 100, "where": "center_bank"},
        ["amount_fen", "where"],
        {"amount_fen": 1.5, "where": "bank"},
    ),
    "fee-waiver": ({"reason": "困难群众减免"}, ["reason"], {"reason": 3.14}),
    "hand-over": ({"to": "clerk2", "reason": "调岗"}, ["to", "reason"], {"to": 5}),
    "notices": (
        {"material_positions": [1], "other_items": ["加盖公章"]},
        [],
        {"material_positions": "1", "other_items": [5], "repeat_reason": 7},
    ),
}
VERSION_TYPES = ["x", 1.5, True, "1", [1]]


@pytest.fixture
def case_id(desk: dict[str, Api]) -> int:
    return submit(desk["clerk"])["id"]  # type: ignore[no-any-return]


def post_raw(api: Api, path: str, raw: bytes | str, content_type: str = "application/json") -> Any:
    return api.request("POST", path, data=raw, headers={"Content-Type": content_type})


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bad_input_is_refused_and_changes_nothing(
    desk: dict[str, Api], db: Database, case_id: int, endpoint: str
) -> None:
    clerk = desk["clerk"]
    valid, required, wrong = ENDPOINTS[endpoint]
    path = f"/api/v1/cases/{case_id}/{endpoint}"
    before = snapshot(clerk, db, case_id)

    # malformed JSON: 400
    for raw in ('{"version": ', "{'reason': 'x'}", '{"reason": "x",}', b"\xff\xfe{"):
        assert_error(post_raw(clerk, path, raw), 400, "malformed_json")
    assert snapshot(clerk, db, case_id) == before, "malformed JSON"

    # JSON that is not an object: 422
    for raw in ("[]", json.dumps([valid]), '"accept"', "42", "null"):
        error = assert_error(post_raw(clerk, path, raw), 422, "validation_failed")
        assert error["details"]["fields"] == {"_schema": ["输入的类型无效。"]}
    assert snapshot(clerk, db, case_id) == before, "JSON that is not an object"

    # wrong types: 422 naming the field
    for field, value in [("version", v) for v in VERSION_TYPES] + list(wrong.items()):
        error = assert_error(clerk.post(path, {**valid, field: value}), 422, "validation_failed")
        assert error["details"]["location"] == "json"
        assert field in error["details"]["fields"], (field, value, error)
    assert snapshot(clerk, db, case_id) == before, "wrong types"

    # unknown fields: 422 naming them (a client cannot set the state or the id)
    error = assert_error(clerk.post(path, {**valid, "state": "approved", "id": 1}), 422)
    assert {"state", "id"} <= set(error["details"]["fields"])
    assert snapshot(clerk, db, case_id) == before, "unknown fields"

    # missing required fields: 422 naming each
    for field in required:
        body = {k: v for k, v in valid.items() if k != field}
        error = assert_error(clerk.post(path, body), 422, "validation_failed")
        assert error["details"]["fields"][field] == ["缺少必填项。"]
    if required:
        error = assert_error(clerk.post(path, {}), 422, "validation_failed")
        assert set(required) <= set(error["details"]["fields"])
    assert snapshot(clerk, db, case_id) == before, "missing fields"

    # a body over the cap: 413, before anything is parsed
    body = {**valid, "padding": "政" * (MAX_BODY // 3 + 1)}  # 3 bytes each in UTF-8
    error = assert_error(clerk.post(path, body), 413, "payload_too_large")
    assert error["details"] == {"max_bytes": MAX_BODY}
    assert snapshot(clerk, db, case_id) == before, "oversize body"

    # an unknown case: 404
    error = assert_error(clerk.post(f"/api/v1/cases/987654/{endpoint}", valid), 404, "not_found")
    assert error["details"] == {"case_id": 987654}
    for bad_id in ("abc", "-1", "1.5", "%20"):
        assert_error(clerk.post(f"/api/v1/cases/{bad_id}/{endpoint}", valid), 404, "not_found")
    assert snapshot(clerk, db, case_id) == before, "unknown case"


# Input that passes the schema but breaks a rule of the service: still 4xx, still no change.
DOMAIN_REFUSALS = [
    ("reject", {"reason": "   "}, 422, "validation_failed"),
    ("withdraw", {"reason": "\t\n"}, 422, "validation_failed"),
    ("fee-waiver", {"reason": " "}, 422, "validation_failed"),
    ("reject", {"reason": "x" * 2001}, 422, "validation_failed"),
    ("notices", {}, 422, "validation_failed"),
    ("notices", {"material_positions": [99]}, 422, "validation_failed"),
    ("notices", {"other_items": [""]}, 422, "validation_failed"),
    ("notices", {"other_items": ["x" * 501]}, 422, "validation_failed"),
    ("hand-over", {"to": "nobody", "reason": "调岗"}, 422, "validation_failed"),
    ("hand-over", {"to": "approver1", "reason": "调岗"}, 422, "validation_failed"),
    ("hand-over", {"to": "clerk2", "reason": " "}, 422, "validation_failed"),
    ("payment", {"amount_fen": -5, "where": "center_bank"}, 409, "invalid_transition"),
    ("commit", {"commitment": "承诺"}, 409, "conflict"),
    ("commit", {"commitment": ""}, 422, "validation_failed"),
    ("suspend", {"kind": "hearing", "reason": "听证"}, 409, "invalid_transition"),
    ("deliver", {}, 409, "invalid_transition"),
    ("accept", {"version": 99}, 409, "stale_version"),
    ("accept", {"version": 0}, 409, "stale_version"),
    ("accept", {"version": -(2**70)}, 409, "stale_version"),
]


def test_domain_refusals_change_nothing(desk: dict[str, Api], db: Database, case_id: int) -> None:
    clerk = desk["clerk"]
    before = snapshot(clerk, db, case_id)
    for endpoint, body, status, code in DOMAIN_REFUSALS:
        response = clerk.post(f"/api/v1/cases/{case_id}/{endpoint}", body)
        assert_error(response, status, code)
        assert snapshot(clerk, db, case_id) == before, (endpoint, body)


def test_refusals_on_an_accepted_case_with_a_fee_change_nothing(
    desk: dict[str, Api], db: Database
) -> None:
    clerk, approver = desk["clerk"], desk["approver"]
    cid = submit(clerk, matter_code="NC1")["id"]
    assert clerk.post(f"/api/v1/cases/{cid}/commit", {"commitment": "本人承诺"}).status_code == 200
    before = snapshot(clerk, db, cid)
    for endpoint, body, status, code in [
        ("payment", {"amount_fen": 0, "where": "center_bank"}, 422, "validation_failed"),
        ("payment", {"amount_fen": 5001, "where": "elsewhere"}, 422, "validation_failed"),
        ("payment", {"amount_fen": 2**70, "where": "elsewhere"}, 422, "validation_failed"),
        ("complete", {}, 409, "conflict"),  # the fee is unpaid
        ("approve", {}, 409, "conflict"),  # every task was approved by the commitment
        ("withdraw", {"reason": "撤回"}, 409, "invalid_transition"),
    ]:
        assert_error(clerk.post(f"/api/v1/cases/{cid}/{endpoint}", body), status, code)
    assert_error(approver.post(f"/api/v1/cases/{cid}/deny", {"reason": "x"}), 409)
    assert_error(desk["approver_zj"].post(f"/api/v1/cases/{cid}/resume", {}), 403, "forbidden")
    assert_error(desk["clerk2"].post(f"/api/v1/cases/{cid}/fee-waiver", {"reason": "x"}), 403)
    assert_error(desk["supervisor"].post(f"/api/v1/cases/{cid}/complete", {}), 403)
    assert snapshot(clerk, db, cid) == before


# -- submission -----------------------------------------------------------------------------------

SUBMIT_VALID = {"matter_code": "11450981MB0001", "applicant_name": "张三"}
SUBMIT_WRONG_TYPES = [
    ("matter_code", 11450981),
    ("applicant_name", ["张三"]),
    ("channel", "party"),
    ("channel", "WINDOW"),
    ("applicant_consent", "maybe"),
    ("joint_department_codes", "ZJ"),
    ("joint_department_codes", [5]),
    ("joint_department_codes", ["ZJ"] * 21),
    ("notes", "x" * 2001),
    ("applicant_name", ""),
    ("applicant_name", "张" * 101),
    ("agent_name", ""),
    ("applicant_id_number", 110105194912310021),
]
SUBMIT_RULES = [  # well-typed but against the rules
    ("matter_code", "NOPE"),
    ("applicant_id_number", "110105194912310021"),  # wrong check digit
    ("applicant_id_number", "11010519491331002X"),  # month 13
    ("applicant_id_number", "1101051949123100"),
    ("applicant_phone", "12345"),
    ("agent_id_number", "123"),
    ("joint_department_codes", ["NOPE"]),
]


def test_submission_bad_input_changes_nothing(desk: dict[str, Api], db: Database) -> None:
    clerk = desk["clerk"]
    submit(clerk)
    count, head = case_count(clerk), audit_head(db)
    response = clerk.request(
        "POST", "/api/v1/cases", data="{", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "malformed_json")
    for field, value in SUBMIT_WRONG_TYPES:
        error = assert_error(
            clerk.post("/api/v1/cases", {**SUBMIT_VALID, field: value}), 422, "validation_failed"
        )
        assert field in error["details"]["fields"], (field, error)
    for field, value in SUBMIT_RULES:
        error = assert_error(
            clerk.post("/api/v1/cases", {**SUBMIT_VALID, field: value}), 422, "validation_failed"
        )
        assert field in error["details"]["fields"], (field, error)
    for field in ("matter_code", "applicant_name"):
        body = {k: v for k, v in SUBMIT_VALID.items() if k != field}
        error = assert_error(clerk.post("/api/v1/cases", body), 422)
        assert field in error["details"]["fields"]
    error = assert_error(clerk.post("/api/v1/cases", {**SUBMIT_VALID, "state": "approved"}), 422)
    assert "state" in error["details"]["fields"]
    error = assert_error(
        clerk.post("/api/v1/cases", {**SUBMIT_VALID, "notes": "政" * MAX_BODY}), 413
    )
    assert error["details"]["max_bytes"] == MAX_BODY
    agent = assert_error(
        clerk.post("/api/v1/cases", {**SUBMIT_VALID, "channel": "village_agent"}), 422
    )
    assert {"agent_name", "applicant_consent"} <= set(agent["details"]["fields"])
    assert case_count(clerk) == count
    assert audit_head(db) == head


def test_list_bad_query_is_422(desk: dict[str, Api]) -> None:
    clerk = desk["clerk"]
    submit(clerk)
    for query, field in [
        ("state=bogus", "state"),
        ("warning=purple", "warning"),
        ("channel=fax", "channel"),
        ("received_from=2026-13-01", "received_from"),
        ("received_to=yesterday", "received_to"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("per_page=101", "per_page"),
        ("per_page=-1", "per_page"),
    ]:
        error = assert_error(clerk.get(f"/api/v1/cases?{query}"), 422, "validation_failed")
        assert error["details"]["location"] == "query"
        assert field in error["details"]["fields"], (query, error)


def test_reading_unknown_things_is_404(desk: dict[str, Api], case_id: int) -> None:
    clerk = desk["clerk"]
    assert_error(clerk.get("/api/v1/cases/987654"), 404, "not_found")
    assert_error(clerk.get("/api/v1/cases/987654/deadline"), 404, "not_found")
    not_accepted = assert_error(clerk.get(f"/api/v1/cases/{case_id}/deadline"), 404, "not_found")
    assert "尚未受理，还没有办结期限" in not_accepted["message"]
    assert_error(clerk.get(f"/api/v1/cases/{case_id}/notices/450981-BZ-2026-000001"), 404)
    assert_error(clerk.get(f"/api/v1/cases/{case_id}/suspensions/NOPE"), 404, "not_found")
    assert_error(clerk.get("/api/v1/cases/987654/notices/x"), 404, "not_found")
    assert_error(clerk.get("/api/v1/cases/987654/suspensions/x"), 404, "not_found")
    assert_error(clerk.get("/api/v1/cases/abc"), 404, "not_found")
    assert_error(clerk.request("DELETE", f"/api/v1/cases/{case_id}"), 405, "method_not_allowed")
    assert_error(clerk.patch(f"/api/v1/cases/{case_id}", {"state": "approved"}), 405)
    assert_error(desk["clerk"].get(f"/api/v1/cases/{case_id}", headers={"Authorization": ""}), 401)


# -- text is data ---------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
SQL = "'; DROP TABLE cases; --"
TEMPLATE = "{{ 7*7 }}{% if true %}jinja{% endif %}"


def test_injection_strings_are_stored_verbatim_and_printed_escaped(
    desk: dict[str, Api], db: Database
) -> None:
    clerk, approver = desk["clerk"], desk["approver"]
    case = submit(clerk, applicant_name=SCRIPT, notes=f"{SQL} {TEMPLATE}")
    cid = case["id"]
    assert case["applicant_name"] == SCRIPT
    assert case["notes"] == f"{SQL} {TEMPLATE}"
    items = [SCRIPT, SQL, TEMPLATE, "' OR '1'='1", '"><img src=x onerror=alert(1)>']
    notice = clerk.post(f"/api/v1/cases/{cid}/notices", {"other_items": items})
    assert notice.status_code == 201, notice.json
    assert [i["material"] for i in notice.json["items"]] == items
    second = clerk.post(
        f"/api/v1/cases/{cid}/notices", {"other_items": ["x"], "repeat_reason": f"<b>{SQL}</b>"}
    )
    assert second.status_code == 201, second.json
    for number in (notice.json["number"], second.json["number"]):
        page = clerk.get(f"/api/v1/cases/{cid}/notices/{number}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the applicant's name
        assert "<img" not in html
        assert "<b>" not in html
        if number == notice.json["number"]:
            assert "{{ 7*7 }}{% if true %}jinja{% endif %}" in html  # not evaluated
            assert "&#39;; DROP TABLE cases; --" in html
            assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
        else:
            assert "&lt;b&gt;&#39;; DROP TABLE cases; --&lt;/b&gt;" in html
    assert clerk.post(f"/api/v1/cases/{cid}/supplement", {}).status_code == 200
    assert clerk.post(f"/api/v1/cases/{cid}/accept", {}).status_code == 200
    suspended = approver.post(f"/api/v1/cases/{cid}/suspend", {"kind": "testing", "reason": SCRIPT})
    assert suspended.status_code == 200, suspended.json
    assert suspended.json["reason"] == SCRIPT
    page = approver.get(f"/api/v1/cases/{cid}/suspensions/{suspended.json['notice_number']}")
    html = page.get_data(as_text=True)
    assert "<script>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2  # name and reason
    detail = clerk.get(f"/api/v1/cases/{cid}").json
    assert detail["applicant_name"] == SCRIPT
    assert detail["suspensions"][0]["reason"] == SCRIPT
    assert json.loads(json.dumps(detail["notices"][0]["items"]))[1]["material"] == SQL
    # the filters are bound parameters, not SQL
    for query in ("clerk=' OR 1=1 --", "matter=' OR '1'='1", "department=%25", "window=*"):
        listed = clerk.get(f"/api/v1/cases?{query}")
        assert listed.status_code == 200, listed.json
        assert listed.json["total"] == 0
    assert clerk.get("/api/v1/cases").json["total"] == 1  # the table is still there
    with db.sessions() as session:
        assert AuditLog(session).verify().ok


# -- regressions: each of these was a bug when these tests were written ---------------------------


@pytest.mark.parametrize("path", ["", "/deadline", "/accept", "/notices/x"])
def test_case_ids_beyond_the_integer_range_are_404(desk: dict[str, Api], path: str) -> None:
    """Was a 500: PostgreSQL refused the id as INTEGER (>= 2**31), SQLite (>= 2**63)."""
    clerk = desk["clerk"]
    for huge in (2**31, 2**63, 10**30):
        method = "POST" if path == "/accept" else "GET"
        response = clerk.request(method, f"/api/v1/cases/{huge}{path}", json={})
        assert_error(response, 404, "not_found")
    assert_error(clerk.get(f"/api/v1/cases/{2**31 - 1}"), 404, "not_found")


def test_a_page_far_beyond_the_end_is_not_a_500(desk: dict[str, Api]) -> None:
    """Was a 500: an OFFSET beyond BIGINT."""
    clerk = desk["clerk"]
    submit(clerk)
    for page in (10**6, 10**18):
        error = assert_error(clerk.get(f"/api/v1/cases?page={page}"), 422, "validation_failed")
        assert "page" in error["details"]["fields"]
    assert "游标" in clerk.get("/api/v1/cases?page=2").json["error"]["details"]["fields"][
        "page"][0]  # paged by cursor now: the refusal says so
    beyond = encode_cursor([dt.date(1900, 1, 1), 1])  # a place after every case
    assert clerk.get(f"/api/v1/cases?cursor={beyond}").json == {
        "items": [], "next_cursor": None, "prev_cursor": None, "total": 1,
        "total_exact": True, "per_page": 20}
    for name in ("cursor", "before"):
        for key in ([dt.date(2026, 1, 1), 2**63], ["2026-13-01", 1], [1]):
            error = assert_error(clerk.get(f"/api/v1/cases?{name}={encode_cursor(key)}"),
                                 422, "validation_failed")
            assert error["details"]["fields"] == {
                name: ["不是本列表给出的游标：请去掉游标重新开始"]}


def test_a_body_that_is_not_json_is_refused(
    desk: dict[str, Api], db: Database, case_id: int
) -> None:
    """Was a 200: the body was read as {} and its stale version ignored."""
    clerk = desk["clerk"]
    before = snapshot(clerk, db, case_id)
    for content_type in ("text/plain", "application/xml", "text/json"):
        response = post_raw(
            clerk, f"/api/v1/cases/{case_id}/accept", '{"version": 99}', content_type
        )
        assert_error(response, 415, "unsupported_media_type")
    assert snapshot(clerk, db, case_id) == before
    accepted = post_raw(clerk, f"/api/v1/cases/{case_id}/accept", '{"version": 99}')
    assert_error(accepted, 409, "stale_version")  # the same body as JSON is read
    assert snapshot(clerk, db, case_id) == before


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("application/x-www-form-urlencoded", "version=99"),
        (
            "multipart/form-data; boundary=x",
            '--x\r\nContent-Disposition: form-data; name="version"\r\n\r\n99\r\n--x--\r\n',
        ),
        ("application/octet-stream", '{"version": 99}'),
    ],
    ids=["form", "multipart", "octet-stream"],
)
def test_a_body_the_endpoint_does_not_read_is_refused(
    desk: dict[str, Api], db: Database, case_id: int, content_type: str, raw: str
) -> None:
    clerk = desk["clerk"]
    before = snapshot(clerk, db, case_id)
    response = post_raw(clerk, f"/api/v1/cases/{case_id}/accept", raw, content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert snapshot(clerk, db, case_id) == before


def test_nul_characters_in_text_are_422(desk: dict[str, Api], db: Database) -> None:
    """Was a 500 on PostgreSQL, whose text cannot hold U+0000."""
    clerk = desk["clerk"]
    count, head = case_count(clerk), audit_head(db)
    created = clerk.post("/api/v1/cases", {**SUBMIT_VALID, "applicant_name": "张\x00三"})
    assert_error(created, 422, "validation_failed")
    assert (case_count(clerk), audit_head(db)) == (count, head)
    cid = submit(clerk)["id"]
    before = snapshot(clerk, db, cid)
    for endpoint, body in [
        ("withdraw", {"reason": "撤回\x00"}),
        ("notices", {"other_items": ["\x00"]}),
        ("reject", {"reason": "\x00"}),
    ]:
        response = clerk.post(f"/api/v1/cases/{cid}/{endpoint}", body)
        assert_error(response, 422, "validation_failed")
    assert_error(clerk.get("/api/v1/cases?clerk=a%00b"), 422, "validation_failed")
    assert snapshot(clerk, db, cid) == before


def test_an_id_number_with_spaces_is_stored_normalised(desk: dict[str, Api]) -> None:
    """Was stored with its spaces (a 500 on PostgreSQL: 20 characters in a String(18))."""
    clerk = desk["clerk"]
    applicant = clerk.post(
        "/api/v1/cases", {**SUBMIT_VALID, "applicant_id_number": f" {ID_NUMBER.lower()} "}
    )
    assert applicant.status_code == 201, applicant.json
    assert applicant.json["applicant_id_number"] == ID_NUMBER
    phone = clerk.post("/api/v1/cases", {**SUBMIT_VALID, "applicant_phone": " 13812345678\t"})
    assert phone.status_code == 201, phone.json
    assert phone.json["applicant_phone"] == "13812345678"
    agent = clerk.post(
        "/api/v1/cases",
        {
            **SUBMIT_VALID,
            "channel": "village_agent",
            "agent_name": "王代办",
            "applicant_consent": True,
            "agent_id_number": f"  {ID_NUMBER}",
        },
    )
    assert agent.status_code == 201, agent.json


@pytest.mark.parametrize("change", ["partial-joint-approval", "second-notice"])
def test_every_change_bumps_the_version(desk: dict[str, Api], change: str) -> None:
    """Was not so: a step that changed no column of the case row left its version alone."""
    clerk = desk["clerk"]
    if change == "partial-joint-approval":
        cid = submit(clerk, joint_department_codes=["ZJ"])["id"]
        accepted = clerk.post(f"/api/v1/cases/{cid}/accept", {}).json
        read = clerk.get(f"/api/v1/cases/{cid}").json
        assert read["version"] == accepted["version"]
        changed = desk["approver"].post(
            f"/api/v1/cases/{cid}/approve", {"version": read["version"]}
        )
        assert changed.status_code == 200, changed.json
        assert changed.json["state"] == "accepted"  # ZJ has not decided yet
    else:
        cid = submit(clerk)["id"]
        first = clerk.post(f"/api/v1/cases/{cid}/notices", {"material_positions": [1]})
        assert first.status_code == 201
        read = clerk.get(f"/api/v1/cases/{cid}").json
        changed = clerk.post(
            f"/api/v1/cases/{cid}/notices",
            {"material_positions": [2], "repeat_reason": "材料有误", "version": read["version"]},
        )
        assert changed.status_code == 201, changed.json
    now = clerk.get(f"/api/v1/cases/{cid}").json
    assert len(now["events"]) == len(read["events"]) + 1
    assert now["version"] > read["version"], "the case changed but its version did not"
    stale = clerk.post(
        f"/api/v1/cases/{cid}/withdraw", {"reason": "申请人撤回", "version": read["version"]}
    )
    assert_error(stale, 409, "stale_version")
    assert clerk.get(f"/api/v1/cases/{cid}").json == now


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("applicant_id_number", ID_NUMBER.translate(FULL_WIDTH)),
        ("applicant_phone", "1381234567８"),
        ("applicant_phone", "138١٢٣٤٥٦٧٨"),  # Arabic-Indic digits
        ("agent_id_number", ID_NUMBER.translate(FULL_WIDTH)),
    ],
)
def test_personal_data_takes_ascii_digits_only(
    desk: dict[str, Api], db: Database, field: str, value: str
) -> None:
    """Was accepted: ``\\d`` matches any Unicode digit and int() reads them."""
    clerk = desk["clerk"]
    count, head = case_count(clerk), audit_head(db)
    extra = {"agent_name": "王代办", "applicant_consent": True} if field.startswith("agent") else {}
    response = clerk.post("/api/v1/cases", {**SUBMIT_VALID, **extra, field: value})
    assert field in assert_error(response, 422, "validation_failed")["details"]["fields"]
    assert (case_count(clerk), audit_head(db)) == (count, head)


def test_a_clerk_who_does_not_own_a_joint_case_cannot_decide_it(
    desk: dict[str, Api], db: Database
) -> None:
    """Was allowed: ownership was checked only when the state changed, and a partial joint
    approval changes no state."""
    cid = submit(desk["clerk"], joint_department_codes=["ZJ"])["id"]
    assert desk["clerk"].post(f"/api/v1/cases/{cid}/accept", {}).status_code == 200
    before = snapshot(desk["clerk"], db, cid)
    for endpoint, body in [("approve", {}), ("deny", {"reason": "不符合条件"})]:
        response = desk["clerk2"].post(f"/api/v1/cases/{cid}/{endpoint}", body)
        error = assert_error(response, 403, "forbidden")
        assert error["details"]["owner"] == "clerk1"
    assert snapshot(desk["clerk"], db, cid) == before
