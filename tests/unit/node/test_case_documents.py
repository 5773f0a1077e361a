"""The printed documents of a case through the API (both databases): what applies when, the
numbers, the record, reprints (补打), the receipt's query code and QR code, who may print."""

from __future__ import annotations

import re

from node.auth.permissions import Role
from tests.unit.node.conftest import Api
from tests.unit.node.test_cases_api import submit


def documents(api: Api, cid: int) -> dict:
    response = api.get(f"/api/v1/cases/{cid}/documents")
    assert response.status_code == 200, response.json
    return response.json


def print_(api: Api, cid: int, kind: str, body: dict | None = None):
    return api.post(f"/api/v1/cases/{cid}/documents/{kind}", body or {})


def text(response) -> str:
    assert response.content_type.startswith("text/html"), response.content_type
    return response.get_data(as_text=True)


def test_receipt_first_print_carries_the_code_and_a_qr_code_reprint_is_marked(desk) -> None:
    clerk = desk["clerk"]
    case = submit(clerk)
    cid = case["id"]
    assert documents(clerk, cid) == {"available": ["receipt"], "issued": []}
    assert clerk.get(f"/api/v1/cases/{cid}/documents/receipt").status_code == 404

    first = print_(clerk, cid, "receipt", {"query_code": case["query_code"]})
    assert first.status_code == 201
    page = text(first)
    number = re.search(r"编号：(\S+)</p>", page).group(1)
    assert re.fullmatch(r"450981-SJ-\d{4}-000001", number)
    assert "收件回执" in page
    assert case["number"] in page
    assert case["query_code"] in page
    assert "食品经营许可申请书" in page
    assert "营业执照复印件" in page
    assert "<svg" in page
    assert "/lookup?number=" + case["number"] in page
    assert "补打" not in page

    again = print_(clerk, cid, "receipt")
    assert again.status_code == 200
    page = text(again)
    assert "补打（第 1 次）" in page
    assert number in page
    assert case["query_code"] not in page
    assert "查询码已于首次打印时告知" in page
    issued = documents(clerk, cid)["issued"]
    assert [(d["kind"], d["number"], d["reprints"], d["issued_by"]) for d in issued] == [
        ("receipt", number, 1, "clerk1")]
    # the stored page (GET) is the last print's and changes nothing
    shown = clerk.get(f"/api/v1/cases/{cid}/documents/receipt")
    assert shown.status_code == 200
    assert "补打" in text(shown)
    assert documents(clerk, cid)["issued"][0]["reprints"] == 1


def test_query_code_is_checked_and_printed_on_the_first_receipt_only(desk) -> None:
    clerk = desk["clerk"]
    case = submit(clerk)
    cid = case["id"]
    wrong = "ABCDEFGH" if case["query_code"] != "ABCDEFGH" else "HGFEDCBA"
    refused = print_(clerk, cid, "receipt", {"query_code": wrong})
    assert refused.status_code == 422
    assert "query_code" in refused.json["error"]["details"]["fields"]
    assert documents(clerk, cid)["issued"] == []  # nothing recorded, no number used
    assert print_(clerk, cid, "receipt").status_code == 201
    late = print_(clerk, cid, "receipt", {"query_code": case["query_code"]})
    assert late.status_code == 422
    assert documents(clerk, cid)["issued"][0]["reprints"] == 0
    other = submit(clerk)
    # the refused print took no number: the next case's receipt is the second
    second = text(print_(clerk, other["id"], "receipt"))
    assert re.search(r"450981-SJ-\d{4}-000002", second)


def test_acceptance_grant_and_service_receipt_follow_the_case(desk) -> None:
    clerk, approver = desk["clerk"], desk["approver"]
    cid = submit(clerk)["id"]
    assert print_(clerk, cid, "acceptance").status_code == 409  # not accepted yet
    assert clerk.post(f"/api/v1/cases/{cid}/accept", {}).status_code == 200
    assert documents(clerk, cid)["available"] == ["receipt", "acceptance"]
    accepted = text(print_(clerk, cid, "acceptance"))
    assert "受理通知书" in accepted
    assert "第三十二条" in accepted
    assert "办结期限" in accepted
    approver.post(f"/api/v1/cases/{cid}/start-review", {})
    assert approver.post(f"/api/v1/cases/{cid}/approve", {}).json["state"] == "approved"
    assert documents(clerk, cid)["available"] == [
        "receipt", "acceptance", "grant", "service_receipt"]
    grant = print_(approver, cid, "grant")  # an approver may print the decision
    assert grant.status_code == 201
    page = text(grant)
    assert "准予行政许可决定书" in page
    assert "第三十八条第一款" in page
    grant_number = re.search(r"450981-ZX-\d{4}-\d{6}", page).group(0)
    service = text(print_(clerk, cid, "service_receipt"))
    assert "送达回证" in service
    assert grant_number in service
    assert "受送达人签名或盖章" in service
    assert print_(clerk, cid, "denial").status_code == 409


def test_refusal_and_denial_give_reasons_and_remedies(desk) -> None:
    clerk, approver = desk["clerk"], desk["approver"]
    refused_id = submit(clerk)["id"]
    clerk.post(f"/api/v1/cases/{refused_id}/reject", {"reason": "不属于本机关职权范围"})
    page = text(print_(clerk, refused_id, "refusal"))
    assert "不予受理决定书" in page
    assert "不属于本机关职权范围" in page
    assert "行政复议" in page
    assert "60日内" in page
    assert "行政诉讼" in page
    assert "6个月内" in page
    assert documents(clerk, refused_id)["available"] == ["receipt", "refusal", "service_receipt"]

    denied_id = submit(clerk)["id"]
    clerk.post(f"/api/v1/cases/{denied_id}/accept", {})
    approver.post(f"/api/v1/cases/{denied_id}/start-review", {})
    approver.post(f"/api/v1/cases/{denied_id}/deny", {"reason": "经营场所不符合卫生要求"})
    page = text(print_(approver, denied_id, "denial"))
    assert "不予行政许可决定书" in page
    assert "经营场所不符合卫生要求" in page
    assert "第三十八条第二款" in page
    assert "行政复议" in page


def test_who_may_print(desk, make_user) -> None:
    clerk, approver = desk["clerk"], desk["approver"]
    cid = submit(clerk)["id"]
    viewer = make_user(Role.VIEWER)
    assert print_(viewer, cid, "receipt").status_code == 403
    assert print_(approver, cid, "receipt").status_code == 403  # window work
    assert print_(desk["admin"], cid, "receipt").status_code == 403
    assert documents(clerk, cid)["issued"] == []
    assert Api(clerk.client).post(f"/api/v1/cases/{cid}/documents/receipt", {}).status_code == 401
    # an unknown kind is no route
    assert print_(clerk, cid, "licence").status_code == 404
    assert viewer.get(f"/api/v1/cases/{cid}/documents").status_code == 200


def test_the_case_file_prints_the_receipt_with_the_code_then_reprints(client, desk) -> None:
    from tests.unit.node.test_web import csrf_of, log_in

    case = submit(desk["clerk"])
    cid = case["id"]
    log_in(client, "clerk1")
    token = csrf_of(client, f"/staff/cases/{cid}")
    page = client.get(f"/staff/cases/{cid}").get_data(as_text=True)
    assert "打印文书" in page
    assert 'id="print-receipt"' in page
    assert "未打印" in page

    wrong = client.post(f"/staff/cases/{cid}/documents/receipt",
                        data={"csrf_token": token, "query_code": "WRONG123"})
    assert wrong.status_code == 422
    assert "查询码不正确" in wrong.get_data(as_text=True)
    printed = client.post(f"/staff/cases/{cid}/documents/receipt",
                          data={"csrf_token": token, "query_code": case["query_code"]})
    assert printed.status_code == 200
    assert case["query_code"] in printed.get_data(as_text=True)
    again = client.post(f"/staff/cases/{cid}/documents/receipt", data={"csrf_token": token})
    assert "补打（第 1 次）" in again.get_data(as_text=True)
    assert case["query_code"] not in again.get_data(as_text=True)
    file_page = client.get(f"/staff/cases/{cid}").get_data(as_text=True)
    assert re.search(r"450981-SJ-\d{4}-\d{6}", file_page)
    assert client.get(f"/staff/cases/{cid}/documents/acceptance").status_code == 404
    assert client.post(f"/staff/cases/{cid}/documents/acceptance",
                       data={"csrf_token": token}).status_code == 409


def test_the_lookup_page_fills_in_the_number_from_the_qr_code(client, desk) -> None:
    page = client.get("/lookup?number=450981-2026-0000001").get_data(as_text=True)
    assert 'value="450981-2026-0000001"' in page


def test_a_document_names_the_clerk_not_the_login(desk, db) -> None:
    from sqlalchemy import update

    from node.auth.models import User

    with db.unit_of_work() as session:
        session.execute(update(User).where(User.username == "clerk1")
                        .values(display_name="李明"))
    clerk = desk["clerk"]
    page = text(print_(clerk, submit(clerk)["id"], "receipt"))
    assert "经办人：李明" in page
    assert "clerk1" not in page


def test_one_time_notices_are_recorded_as_issued_and_reprinted_as_bu_da(desk) -> None:
    """The 补正材料通知 is recorded with its step, numbered as the notice, one row per notice;
    printing it again is 补打 of the latest notice, counted; a bad print changes nothing."""
    clerk, supervisor = desk["clerk"], desk["supervisor"]
    cid = submit(clerk)["id"]
    assert "supplement" not in documents(clerk, cid)["available"]
    assert print_(clerk, cid, "supplement").status_code == 409  # no notice yet
    first = clerk.post(f"/api/v1/cases/{cid}/notices", {"material_positions": [1]})
    assert first.status_code == 201, first.json
    listed = documents(clerk, cid)
    assert listed["available"][0] == "supplement"
    assert [(d["kind"], d["number"], d["reprints"], d["issued_by"]) for d in listed["issued"]] \
        == [("supplement", first.json["number"], 0, "clerk1")]
    page = text(clerk.get(f"/api/v1/cases/{cid}/documents/supplement"))
    assert first.json["number"] in page
    assert "补打" not in page

    second = clerk.post(f"/api/v1/cases/{cid}/notices",
                        {"material_positions": [2], "repeat_reason": "营业执照已过期"})
    assert second.status_code == 201, second.json
    assert [d["number"] for d in documents(clerk, cid)["issued"]] == [
        first.json["number"], second.json["number"]]

    assert print_(supervisor, cid, "supplement").status_code == 403
    again = print_(clerk, cid, "supplement")
    assert again.status_code == 200
    page = text(again)
    assert "补正材料一次性告知书" in page
    assert second.json["number"] in page
    assert "营业执照已过期" in page
    assert "补打（第 1 次）" in page
    issued = documents(clerk, cid)["issued"]
    assert [(d["number"], d["reprints"]) for d in issued] == [
        (first.json["number"], 0), (second.json["number"], 1)]
    # the notice's own page shows it as last printed; the first notice was never reprinted
    assert "补打（第 1 次）" in text(clerk.get(f"/api/v1/cases/{cid}/notices/"
                                             f"{second.json['number']}"))
    assert "补打" not in text(clerk.get(f"/api/v1/cases/{cid}/notices/{first.json['number']}"))
