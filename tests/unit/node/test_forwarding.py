"""Forwarding (上报) on one node: the API, the envelopes it queues, and what it does with the
case envelopes that arrive (node/cases/forwarding.py).  The node is Beiliu 450981 (a
county-level city under Yulin 450900); the township below it is 450981101.

The round trips between real processes are in tests/integration/test_federation_flows.py.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import func, select

from node.cases.models import Case, CaseAttachment
from node.composition import NodeServices
from node.sync.blobs import fetch_missing, upload_listed
from node.sync.models import OutboxEnvelope
from schemas.envelope import Envelope, Kind, parse_envelope, sign_envelope
from schemas.errors import NotFound, TongbanError
from schemas.keys import generate_private_key
from schemas.runtime.database import Database, utcnow
from tests.unit.node.conftest import Api
from tests.unit.node.test_sync_fakes import FakeHub

HERE, CITY, TOWNSHIP, OTHER_TOWNSHIP = "450981", "450900", "450981101", "450902101"
MATTER = "11450981MB0001"
ID_NUMBER = "11010519491231002X"
PDF = b"%PDF-1.4 " + bytes(range(256)) * 8

_township_key = generate_private_key()


def _outbox(db: Database) -> list[Envelope]:
    with db.unit_of_work(write=False) as session:
        return [parse_envelope(orjson.loads(row.wire)) for row in session.scalars(
            select(OutboxEnvelope).order_by(OutboxEnvelope.seq))]


def _accepted(desk: dict[str, Api]) -> dict[str, Any]:
    clerk = desk["clerk"]
    case = clerk.post("/api/v1/cases", {"matter_code": MATTER, "applicant_name": "张三",
                                        "applicant_id_number": ID_NUMBER,
                                        "applicant_phone": "13800138000"}).json
    accepted = clerk.post(f"/api/v1/cases/{case['id']}/accept", {"version": case["version"]})
    assert accepted.status_code == 200, accepted.json
    file = clerk.get(f"/api/v1/cases/{case['id']}").json  # the answer is the state; this the file
    assert file["version"] == accepted.json["version"]
    return file  # type: ignore[no-any-return]


def _handlers(app: Flask) -> dict[Kind, Any]:
    return NodeServices.of_app(app.extensions).envelope_registry().handlers()


def _apply(app: Flask, db: Database, envelope: Envelope) -> None:
    with db.unit_of_work() as session:
        _handlers(app)[envelope.kind](session, envelope)


def _forward_body(number: str = "450981101-2026-0000007", matter: str = MATTER,
                  chain: list[str] | None = None, **overrides: Any) -> dict[str, Any]:
    origin = (chain or [TOWNSHIP])[0]
    return {
        "origin": {"node": origin, "case_number": number},
        "chain": chain or [TOWNSHIP],
        "matter": {"code": matter, "name": "食品经营许可证核发", "standard_code": None},
        "applicant": {"name": "李四", "id_number": ID_NUMBER, "phone": "13800138000",
                      "kind": "person"},
        "channel": "window",
        "received_on": "2026-11-23",
        "accepted_on": "2026-11-23",
        "promised_days": 5,
        "deadline_on": "2026-11-30",
        "notes": "",
        "attachments": [{"sha256": hashlib.sha256(PDF).hexdigest(), "size": len(PDF),
                         "media_type": "application/pdf", "name": "申请书.pdf"}],
        "forwarded_at": "2026-11-24T09:00:00+08:00",
        **overrides,
    }


def _from(sender: str, kind: Kind, body: dict[str, Any], seq: int = 1,
          key: Ed25519PrivateKey = _township_key) -> Envelope:
    return sign_envelope(kind=kind, sender=sender, to=HERE, seq=seq, body=body,
                         private_key=key, ts=utcnow())


def _cases(db: Database) -> list[Case]:
    with db.unit_of_work(write=False) as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


# -- forwarding up through the API ------------------------------------------------------------


def test_forward_queues_a_signed_envelope_with_the_case_its_clock_and_its_files(
    desk: dict[str, Api], db: Database
) -> None:
    clerk = desk["clerk"]
    case = _accepted(desk)
    stored = clerk.post(f"/api/v1/cases/{case['id']}/attachments",
                        data={"file": (io.BytesIO(PDF), "申请书.pdf",
                                       "application/pdf")},
                        content_type="multipart/form-data")
    assert stored.status_code == 201, stored.json
    fresh = clerk.get(f"/api/v1/cases/{case['id']}").json

    moved = clerk.post(f"/api/v1/cases/{case['id']}/forward",
                       {"version": fresh["version"], "note": "市级审批"})

    assert moved.status_code == 200, moved.json
    assert moved.json["state"] == "forwarded"
    assert clerk.get(f"/api/v1/cases/{case['id']}").json["forwarded_to"] == CITY
    [envelope] = _outbox(db)
    assert (envelope.kind, envelope.sender, envelope.to) == (Kind.CASE_FORWARD, HERE, CITY)
    body = envelope.body
    assert body["origin"] == {"node": HERE, "case_number": case["number"]}
    assert body["chain"] == [HERE]
    assert body["applicant"]["id_number"] == ID_NUMBER
    assert body["accepted_on"] == case["accepted_on"]
    assert body["deadline_on"] == case["deadline_on"]
    assert body["notes"].endswith("市级审批")
    assert body["attachments"] == [{"sha256": hashlib.sha256(PDF).hexdigest(),
                                    "size": len(PDF), "media_type": "application/pdf",
                                    "name": "申请书.pdf"}]


@pytest.mark.parametrize(("to", "message"), [
    ("450902", "不是 北流市政务服务中心（450981） 的上级中心"),
    ("450981", "不是 北流市政务服务中心（450981） 的上级中心"),
    ("4509", "6-digit"),
])
def test_forward_only_goes_to_a_center_above(
    desk: dict[str, Api], db: Database, to: str, message: str
) -> None:
    case = _accepted(desk)

    refused = desk["clerk"].post(f"/api/v1/cases/{case['id']}/forward",
                                 {"version": case["version"], "to": to})

    assert refused.status_code == 422
    assert message in str(refused.json["error"]["details"]["fields"]["to"])
    assert _outbox(db) == []
    assert desk["clerk"].get(f"/api/v1/cases/{case['id']}").json["state"] == "accepted"


def test_a_case_not_yet_accepted_is_not_forwarded(desk: dict[str, Api], db: Database) -> None:
    case = desk["clerk"].post("/api/v1/cases", {"matter_code": MATTER,
                                                "applicant_name": "张三"}).json

    refused = desk["clerk"].post(f"/api/v1/cases/{case['id']}/forward",
                                 {"version": case["version"]})

    assert refused.status_code == 409
    assert "accept" in refused.json["error"]["details"]["allowed"]
    assert _outbox(db) == []


def test_an_approver_cannot_forward_and_a_local_case_cannot_be_returned(
    desk: dict[str, Api], db: Database
) -> None:
    case = _accepted(desk)

    forward = desk["approver"].post(f"/api/v1/cases/{case['id']}/forward",
                                    {"version": case["version"]})
    returned = desk["approver"].post(f"/api/v1/cases/{case['id']}/return",
                                     {"version": case["version"], "reason": "非本级事项"})

    assert forward.status_code == 403
    assert returned.status_code == 409
    assert "不是下级中心上报的办件" in returned.json["error"]["message"]
    assert _outbox(db) == []


def test_attachment_upload_checks_its_input_and_keeps_one_copy(desk: dict[str, Api]) -> None:

    clerk = desk["clerk"]
    case = _accepted(desk)
    path = f"/api/v1/cases/{case['id']}/attachments"

    def upload(name: str, content: bytes, media: str, **form: str) -> Any:
        return clerk.post(path, data={"file": (io.BytesIO(content), name, media), **form},
                          content_type="multipart/form-data")

    assert upload("a.pdf", PDF, "application/pdf").status_code == 201
    assert upload("again.pdf", PDF, "application/pdf").status_code == 201
    bad_type = upload("a.bin", PDF, "not a type")
    empty = upload("empty.pdf", b"", "application/pdf")
    bad_role = upload("a.pdf", PDF, "application/pdf", role="receipt")
    no_file = clerk.post(path, data={"role": "material"}, content_type="multipart/form-data")

    assert bad_type.status_code == 422
    assert "media_type" in bad_type.json["error"]["details"]["fields"]
    assert empty.status_code == 422
    assert bad_role.status_code == 422
    assert no_file.status_code == 422
    listed = clerk.get(path).json
    assert [a["name"] for a in listed] == ["a.pdf"]
    content = clerk.get(f"{path}/{hashlib.sha256(PDF).hexdigest()}")
    assert content.status_code == 200
    assert content.data == PDF


def test_the_attachment_upload_is_one_documented_multipart_body(anonymous: Api) -> None:
    spec = anonymous.get("/api/v1/openapi.json").json
    body = spec["paths"]["/api/v1/cases/{case_id}/attachments"]["post"]["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"]
    schema = body["content"]["multipart/form-data"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert schema["properties"]["file"] == {"type": "string", "format": "binary",
                                            "description": "the file"}
    assert schema["properties"]["role"]["enum"] == ["material", "result"]
    assert schema["required"] == ["file"]


# -- forwards arriving from below --------------------------------------------------------------


def test_a_forward_from_below_opens_a_linked_case_with_the_origins_clock(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    _apply(app, db, _from(TOWNSHIP, Kind.CASE_FORWARD, _forward_body()))

    [case] = _cases(db)
    assert (case.origin_node_code, case.origin_case_number) == (
        TOWNSHIP, "450981101-2026-0000007")
    assert case.received_from == TOWNSHIP
    assert case.state.value == "accepted"
    assert (case.accepted_on.isoformat(), case.deadline_on.isoformat()) == (  # type: ignore[union-attr]
        "2026-11-23", "2026-11-30")
    assert case.number.startswith(f"{HERE}-")
    with db.unit_of_work(write=False) as session:
        [attachment] = session.scalars(select(CaseAttachment))
        assert attachment.fetched is False
    [update] = _outbox(db)
    assert (update.kind, update.to) == (Kind.CASE_UPDATE, TOWNSHIP)
    assert update.body["state"] == "accepted"
    assert update.body["note"].startswith("已接收")


def test_the_same_case_forwarded_again_while_open_here_is_one_case(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    _apply(app, db, _from(TOWNSHIP, Kind.CASE_FORWARD, _forward_body()))
    _apply(app, db, _from(TOWNSHIP, Kind.CASE_FORWARD, _forward_body(), seq=2))

    assert len(_cases(db)) == 1


def test_a_forward_of_an_unknown_matter_goes_back_with_the_reason(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    _apply(app, db, _from(TOWNSHIP, Kind.CASE_FORWARD, _forward_body(matter="NO-SUCH-1")))

    assert _cases(db) == []
    [answer] = _outbox(db)
    assert (answer.kind, answer.to) == (Kind.CASE_RESULT, TOWNSHIP)
    assert answer.body["outcome"] == "returned"
    assert "NO-SUCH-1" in answer.body["reason"]
    assert answer.body["origin"] == {"node": TOWNSHIP, "case_number": "450981101-2026-0000007"}


@pytest.mark.parametrize(("sender", "chain", "why"), [
    (OTHER_TOWNSHIP, [OTHER_TOWNSHIP], "is not below 450981"),
    (CITY, [CITY], "is not below 450981"),
    (TOWNSHIP, ["450981102", TOWNSHIP], "does not go up the tree"),
    (TOWNSHIP, [TOWNSHIP, "450981102"], "does not end with its sender"),
    (TOWNSHIP, [HERE, TOWNSHIP], "passes through 450981"),
])
def test_a_forward_that_does_not_come_up_the_tree_is_refused(
    app: Flask, desk: dict[str, Api], db: Database, sender: str, chain: list[str], why: str
) -> None:
    envelope = _from(sender, Kind.CASE_FORWARD, _forward_body(chain=chain))

    with pytest.raises(TongbanError, match=why):
        _apply(app, db, envelope)
    assert _cases(db) == []
    assert _outbox(db) == []


def test_deciding_a_case_from_below_completes_it_and_sends_the_result(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    _apply(app, db, _from(TOWNSHIP, Kind.CASE_FORWARD, _forward_body()))
    [case] = _cases(db)
    approver = desk["approver"]
    review = approver.post(f"/api/v1/cases/{case.id}/start-review", {"version": case.version})
    denied = approver.post(f"/api/v1/cases/{case.id}/deny",
                           {"version": review.json["version"], "reason": "不符合条件"})

    assert denied.status_code == 200, denied.json
    assert denied.json["state"] == "completed"
    kinds = [(e.kind, e.body.get("state") or e.body.get("outcome")) for e in _outbox(db)]
    assert kinds == [(Kind.CASE_UPDATE, "accepted"), (Kind.CASE_UPDATE, "in_review"),
                     (Kind.CASE_RESULT, "denied")]
    result = _outbox(db)[-1].body
    assert result["reason"] == "不符合条件"
    assert result["decided_by_node"] == HERE


def test_returning_a_case_from_below_sends_it_back_with_the_reason(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    _apply(app, db, _from(TOWNSHIP, Kind.CASE_FORWARD, _forward_body()))
    [case] = _cases(db)

    returned = desk["approver"].post(f"/api/v1/cases/{case.id}/return",
                                     {"version": case.version, "reason": "应由市级办理"})

    assert returned.status_code == 200, returned.json
    assert returned.json["state"] == "returned"
    result = _outbox(db)[-1]
    assert (result.kind, result.body["outcome"], result.body["reason"]) == (
        Kind.CASE_RESULT, "returned", "应由市级办理")


# -- results and updates coming back down -------------------------------------------------------


def _forwarded_up(desk: dict[str, Api]) -> dict[str, Any]:
    case = _accepted(desk)
    moved = desk["clerk"].post(f"/api/v1/cases/{case['id']}/forward",
                               {"version": case["version"]})
    assert moved.status_code == 200, moved.json
    return moved.json  # type: ignore[no-any-return]


def _result(number: str, outcome: str = "approved", **overrides: Any) -> dict[str, Any]:
    return {"origin": {"node": HERE, "case_number": number}, "outcome": outcome,
            "reason": None if outcome == "approved" else "理由",
            "decided_on": None if outcome == "returned" else "2026-11-25",
            "decided_by_node": CITY, "documents": [], "fee_due_fen": 1200, **overrides}


def test_an_approval_from_above_lets_the_origin_collect_the_fee_and_deliver(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    case = _forwarded_up(desk)
    _apply(app, db, _from(CITY, Kind.CASE_RESULT, _result(case["number"])))

    clerk = desk["clerk"]
    home = clerk.get(f"/api/v1/cases/{case['id']}").json
    assert home["state"] == "approved"
    assert home["fee_due_fen"] == 1200
    assert home["decided_on"] == "2026-11-25"
    unpaid = clerk.post(f"/api/v1/cases/{case['id']}/complete", {"version": home["version"]})
    assert unpaid.status_code == 409  # the fee the city set is collected here first


def test_a_return_from_above_reopens_the_case_for_rerouting(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    case = _forwarded_up(desk)
    _apply(app, db, _from(CITY, Kind.CASE_RESULT, _result(case["number"], "returned")))

    home = desk["clerk"].get(f"/api/v1/cases/{case['id']}").json
    assert home["state"] == "accepted"
    assert home["forwarded_to"] is None
    assert "forward" in home["allowed_actions"]
    assert home["events"][-1]["reason"] == f"{CITY} 退回：理由"


def test_a_result_from_a_node_the_case_did_not_go_to_is_refused(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    case = _forwarded_up(desk)
    stranger = sign_envelope(kind=Kind.CASE_RESULT, sender="450000", to=HERE, seq=1,
                             body=_result(case["number"]) | {"decided_by_node": "450000"},
                             private_key=_township_key, ts=utcnow())

    with pytest.raises(NotFound, match="没有等待 未登记名称的中心（450000） 回复结果的办件"):
        _apply(app, db, stranger)
    assert desk["clerk"].get(f"/api/v1/cases/{case['id']}").json["state"] == "forwarded"


def test_an_update_from_above_is_kept_in_the_history(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    case = _forwarded_up(desk)
    body = {"origin": {"node": HERE, "case_number": case["number"]}, "state": "suspended",
            "note": "现场勘查", "at": "2026-11-25T10:00:00+08:00"}
    _apply(app, db, _from(CITY, Kind.CASE_UPDATE, body))

    home = desk["clerk"].get(f"/api/v1/cases/{case['id']}").json
    assert home["state"] == "forwarded"
    assert home["events"][-1]["action"] == "upstream_update"
    assert home["events"][-1]["reason"] == f"{CITY}：suspended 现场勘查"


# -- files through the hub ------------------------------------------------------------------


def test_files_go_up_before_their_envelope_and_come_down_checked(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    hub = FakeHub()
    _apply(app, db, _from(TOWNSHIP, Kind.CASE_FORWARD, _forward_body()))
    name = hashlib.sha256(PDF).hexdigest()

    missing = fetch_missing(db, hub)
    hub.blobs[name] = PDF[:-1] + b"!"  # bytes that do not match the signed hash
    tampered = fetch_missing(db, hub)
    hub.blobs[name] = PDF
    fetched = fetch_missing(db, hub)

    assert missing[0] == 0
    assert "No blob" in missing[1][0]
    assert tampered[0] == 0
    assert "do not match" in tampered[1][0]
    assert fetched == (1, [])
    with db.unit_of_work(write=False) as session:
        [attachment] = session.scalars(select(CaseAttachment))
        assert attachment.fetched is True
        assert attachment.data == PDF


def test_a_forward_uploads_its_files_once(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:

    hub = FakeHub()
    case = _accepted(desk)
    desk["clerk"].post(f"/api/v1/cases/{case['id']}/attachments",
                       data={"file": (io.BytesIO(PDF), "a.pdf", "application/pdf")},
                       content_type="multipart/form-data")
    _forwarded = desk["clerk"].post(
        f"/api/v1/cases/{case['id']}/forward",
        {"version": desk["clerk"].get(f"/api/v1/cases/{case['id']}").json["version"]})
    wires = [envelope.to_wire() for envelope in _outbox(db)]

    first = upload_listed(db, hub, wires, utcnow)
    second = upload_listed(db, hub, wires, utcnow)

    assert (first, second) == (1, 0)
    assert hub.blobs == {hashlib.sha256(PDF).hexdigest(): PDF}
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(CaseAttachment).where(
            CaseAttachment.uploaded_at.is_(None))) == 0
