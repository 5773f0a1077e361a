"""Issue 19: the errors of forwarding, directives, complaint travel and the catalog name each
center, 北流市政务服务中心（450981）, with its code only beside its name, in both languages;
and a page never echoes an action nobody offered."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from node.catalog.publishing import adopt_catalog, publish_catalog
from node.composition import NodeServices
from node.feedback.models import Complaint, ComplaintState
from node.sync.names import RegistryCenterNames, store_names
from schemas.envelope import Envelope, Kind, sign_envelope
from schemas.errors import TongbanError
from schemas.i18n import Message
from schemas.keys import generate_private_key
from schemas.runtime.database import Database, utcnow
from tests.unit.node.conftest import Api
from tests.unit.node.test_web import csrf_of, log_in

HERE, CITY, TOWNSHIP, OTHER_TOWNSHIP, SIBLING = (
    "450981", "450900", "450981101", "450981102", "450902")
NAMES = {CITY: "玉林市政务服务中心", TOWNSHIP: "民乐镇便民服务中心",
         OTHER_TOWNSHIP: "北流镇便民服务中心", SIBLING: "玉州区政务服务中心"}
OWN = "北流市政务服务中心"  # this node's configured name (tests/conftest.py NODE_IDENTITY)
EN = {"Accept-Language": "en-US,en;q=0.9"}
_key = generate_private_key()


def _named(text: str, *centers: tuple[str, str]) -> None:
    """Each center appears as 名称（代码）, and no code stands alone anywhere in ``text``."""
    for code, name in centers:
        assert f"{name}（{code}）" in text, text
    # a division code (not part of a case number 450981-2026-0000001 nor of an id) only in （）
    alone = re.search(r"(?<![（0-9A-Za-z-])\d{6,9}(?![0-9A-Za-z-])", text)
    assert alone is None, f"a code alone in {text!r}"


def _both(error: TongbanError | str, *centers: tuple[str, str]) -> tuple[str, str]:
    """The message in Chinese and in English, each naming ``centers``."""
    message = error.message if isinstance(error, TongbanError) else error
    assert isinstance(message, Message)
    chinese, english = message.in_locale("zh_Hans_CN"), message.in_locale("en")
    assert chinese != english
    _named(chinese, *centers)
    _named(english, *centers)
    return chinese, english


def _services(app: Flask) -> NodeServices:
    return NodeServices.of_app(app.extensions)


def _with_names(db: Database) -> None:
    with db.unit_of_work() as session:
        store_names(session, NAMES, utcnow())


def _envelope(kind: Kind, sender: str, body: dict[str, Any]) -> Envelope:
    return sign_envelope(kind=kind, sender=sender, to=HERE, seq=1, body=body,
                         private_key=_key, ts=utcnow())


def _apply(app: Flask, db: Database, envelope: Envelope) -> TongbanError:
    with db.unit_of_work() as session, pytest.raises(TongbanError) as refused:
        _services(app).envelope_registry().handlers()[envelope.kind](session, envelope)
    return refused.value


def test_the_own_center_is_its_configured_name_and_an_unnamed_one_says_so(db: Database) -> None:
    names = RegistryCenterNames(HERE, OWN)
    _with_names(db)
    with db.unit_of_work(write=False) as session:
        assert names.text(session, HERE) == f"{OWN}（{HERE}）"
        assert names.text(session, CITY) == f"玉林市政务服务中心（{CITY}）"
        assert names.text(session, "450100") == "未登记名称的中心（450100）"


def test_a_forward_to_a_center_not_above_names_every_center(
    desk: dict[str, Api], db: Database
) -> None:
    from tests.unit.node.test_forwarding import _accepted

    _with_names(db)
    case = _accepted(desk)
    answers = [desk["clerk"].post(f"/api/v1/cases/{case['id']}/forward",
                                  {"version": case["version"], "to": SIBLING}, headers=headers)
               for headers in ({}, EN)]
    texts = [answer.json["error"]["details"]["fields"]["to"][0] for answer in answers]
    assert [answer.status_code for answer in answers] == [422, 422]
    assert "不是" in texts[0]
    assert "is not a center above" in texts[1]
    for text in texts:
        _named(text, (SIBLING, NAMES[SIBLING]), (HERE, OWN), (CITY, NAMES[CITY]))


def test_a_result_from_a_center_the_case_did_not_go_to_names_it(
    app: Flask, db: Database
) -> None:
    _with_names(db)
    from tests.unit.node.test_forwarding import _result

    body = _result("450981-2026-0000001", decided_by_node=SIBLING)
    refused = _apply(app, db, _envelope(Kind.CASE_RESULT, SIBLING, body))
    chinese, english = _both(refused, (SIBLING, NAMES[SIBLING]))
    assert "回复结果" in chinese
    assert "waiting here for a result" in english


def test_a_directive_to_a_center_not_below_names_both(app: Flask, db: Database) -> None:
    _with_names(db)
    with db.unit_of_work() as session, pytest.raises(TongbanError) as refused:
        _services(app).directives(session).issue("chief", SIBLING, "text", "请说明",
                                                 dt.date(2026, 12, 31))
    _both(refused.value, (SIBLING, NAMES[SIBLING]), (HERE, OWN))
    field = refused.value.details["fields"]["target"][0]
    _both(field, (HERE, OWN))


def test_a_reply_from_a_center_a_directive_did_not_go_to_names_both(
    app: Flask, db: Database
) -> None:
    _with_names(db)
    with db.unit_of_work() as session:
        directive = _services(app).directives(session).issue(
            "chief", TOWNSHIP, "text", "请说明", dt.date(2026, 12, 31))
        directive_id = directive.directive_id
    reply = {"directive_id": directive_id, "state": "done", "text": "好", "replied_by": "x"}
    refused = _apply(app, db, _envelope(Kind.DIRECTIVE_REPLY, OTHER_TOWNSHIP, reply))
    chinese, english = _both(refused, (TOWNSHIP, NAMES[TOWNSHIP]),
                             (OTHER_TOWNSHIP, NAMES[OTHER_TOWNSHIP]))
    assert directive_id in chinese
    assert directive_id in english


def _complaint_forward(number: str) -> dict[str, Any]:
    return {"number": number, "case": {"node": TOWNSHIP, "case_number": "450981101-2026-0000009"},
            "content": "办理超时", "contact_phone": "13800138000",
            "received_at": "2026-12-01T09:00:00+08:00", "due_on": "2026-12-15"}


def test_complaint_travel_refusals_name_the_sender(app: Flask, db: Database) -> None:
    _with_names(db)
    unknown_case = _apply(app, db, _envelope(Kind.COMPLAINT_FORWARD, TOWNSHIP,
                                             _complaint_forward("TS-2026-000001")))
    _both(unknown_case, (TOWNSHIP, NAMES[TOWNSHIP]))
    reply = {"number": "TS-2026-000002", "resolution": "已整改", "resolved_by": SIBLING,
             "resolved_at": "2026-12-02T09:00:00+08:00"}
    with db.unit_of_work() as session:
        session.add(_complaint("TS-2026-000002", sent_to=CITY))
    not_sent_there = _apply(app, db, _envelope(Kind.COMPLAINT_REPLY, SIBLING, reply))
    _both(not_sent_there, (SIBLING, NAMES[SIBLING]))


def _complaint(number: str, *, sent_to: str) -> Complaint:
    return Complaint(number=number, query_code_hash=None, case=None, content="办理超时",
                     contact_phone="13800138000", received_at=utcnow(),
                     due_on=dt.date(2026, 12, 15), state=ComplaintState.RECEIVED,
                     sent_to=sent_to)


def test_a_complaint_sent_elsewhere_is_not_resolved_here_and_names_where(
    app: Flask, db: Database
) -> None:
    _with_names(db)
    with db.unit_of_work() as session:
        session.add(_complaint("TS-2026-000003", sent_to=CITY))
    with db.unit_of_work() as session:
        feedback = _services(app).feedback(session)
        complaint = feedback.complaint("TS-2026-000003")
        with pytest.raises(TongbanError) as refused:
            feedback.resolve_complaint(complaint, _system(), resolution="已答复")
    _both(refused.value, (CITY, NAMES[CITY]))


def _system() -> Any:
    from node.cases.actors import SYSTEM_ACTOR

    return SYSTEM_ACTOR


def test_catalog_refusals_name_the_centers(app: Flask, db: Database) -> None:
    from tests.unit.node.test_catalog_publishing import _published

    _with_names(db)
    services = _services(app)
    with db.unit_of_work() as session, pytest.raises(TongbanError) as not_a_province:
        publish_catalog(session, outbox=services.outbox, actor="x", names=services.center_names)
    _both(not_a_province.value, (HERE, OWN))
    envelope = sign_envelope(kind=Kind.CATALOG_PUBLISH, sender=SIBLING, to=f"{SIBLING}/*",
                             seq=1, private_key=_key, ts=utcnow(),
                             body={"catalog_version": 1, "published_at": utcnow().isoformat(),
                                   "matters": [_published("NEW-0003")]})
    with db.unit_of_work() as session, pytest.raises(TongbanError) as not_above:
        adopt_catalog(session, envelope, node_code=HERE, inbox=services.inbox,
                      names=services.center_names)
    _both(not_above.value, (SIBLING, NAMES[SIBLING]), (HERE, OWN))


def test_an_unknown_action_is_not_echoed(client: FlaskClient, desk: dict[str, Api]) -> None:
    assert log_in(client, "super1").status_code == 302
    token = csrf_of(client, "/staff/supervision/rectifications")
    for headers, said in (({}, "未知的操作"), (EN, "Unknown action")):
        page = client.post("/staff/supervision/rectifications/1/evil-payload",
                           data={"csrf_token": token}, headers=headers)
        text = page.get_data(as_text=True)
        assert said in text
        assert "evil-payload" not in text


def test_an_unknown_case_action_is_not_echoed(client: FlaskClient, desk: dict[str, Api]) -> None:
    assert log_in(client, "clerk1").status_code == 302
    token = csrf_of(client, "/staff/desk/new?matter_code=11450981MB0001")
    for headers, said in (({}, "未知的操作"), (EN, "Unknown action")):
        page = client.post("/staff/cases/1/evil-payload", data={"csrf_token": token},
                           headers=headers)
        text = page.get_data(as_text=True)
        assert page.status_code == 404
        assert said in text
        assert "evil-payload" not in text


def test_a_document_title_in_a_message_is_said_in_the_readers_language(
    desk: dict[str, Api]
) -> None:
    from tests.unit.node.test_forwarding import _accepted

    case = _accepted(desk)
    said = {}
    for language, headers in (("zh", {}), ("en", EN)):
        missing = desk["clerk"].get(f"/api/v1/cases/{case['id']}/documents/grant",
                                    headers=headers)
        assert missing.status_code == 404
        said[language] = missing.json["error"]["message"]
    assert "准予行政许可决定书" in said["zh"]
    assert "Decision granting the administrative licence" in said["en"]
    assert not re.search(r"[\u4e00-\u9fff]", said["en"]), said["en"]


def test_a_sideways_forward_to_a_center_not_competent_names_both(
    desk: dict[str, Api], db: Database
) -> None:
    from tests.unit.node.test_lateral import NANNING, RONG, RONG_ID, _accepted_for, _tongban

    with db.unit_of_work() as session:
        store_names(session, {RONG: "容县政务服务中心", NANNING: "南宁市政务服务中心"}, utcnow())
    _tongban(desk, "household")
    case = _accepted_for(desk, RONG_ID)
    texts = []
    for headers in ({}, EN):
        refused = desk["clerk"].post(f"/api/v1/cases/{case['id']}/forward",
                                     {"version": case["version"], "to": NANNING},
                                     headers=headers)
        assert refused.status_code == 422
        texts.append(refused.json["error"]["details"]["fields"]["to"][0])
    assert "没有管辖权" in texts[0]
    assert "is not competent" in texts[1]
    for text in texts:
        assert f"南宁市政务服务中心（{NANNING}）" in text
        assert f"容县政务服务中心（{RONG}）" in text
