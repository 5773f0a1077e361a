"""通办 (代收代办) on one node: the competence rules (node/cases/lateral.py), a case sent
sideways through the API, what a sideways arrival does here, and the delivery by post.

The node is Beiliu 450981 (a county-level city under Yulin 450900); 容县 450921 is its sibling
county, 450921101 a township of 容县, 南宁 450100 a city of the same province.  The round
trips between real processes are in tests/integration/test_lateral_federation.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from node.cases.lateral import (
    NotCompetent,
    NotTongban,
    arrival_refusal,
    competence_of,
    competent_center,
    household_division,
)
from node.cases.models import Case, TongbanRole
from node.catalog.models import Competence, Matter, TongbanScope
from node.metrics.daily import daily_counts
from node.rollups import DailyRollup
from schemas.divisions import Level
from schemas.envelope import Kind
from schemas.errors import TongbanError
from schemas.i18n import Message
from schemas.personal import id_check_digit
from schemas.runtime.database import Database, utcnow
from tests.unit.node.conftest import Api
from tests.unit.node.test_forwarding import (
    HERE,
    MATTER,
    _apply,
    _cases,
    _forward_body,
    _from,
    _outbox,
)

RONG, RONG_TOWNSHIP, NANNING, YULIN = "450921", "450921101", "450100", "450900"
def _id(prefix: str) -> str:
    body = prefix + "19800101002"
    return body + id_check_digit(body)


RONG_ID = _id(RONG)  # 户籍 容县
HERE_ID = _id(HERE)  # 户籍 北流


def _matter(scope: TongbanScope = TongbanScope.PROVINCE,
            competence: Competence = Competence.HOUSEHOLD,
            level: Level = Level.COUNTY) -> Matter:
    return Matter(code="M", name="户口迁移", tongban_scope=scope, competence=competence,
                  handling_level=level)


# -- the rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "division", "center"), [
    (Level.COUNTY, RONG, RONG),
    (Level.COUNTY, RONG_TOWNSHIP, RONG),
    (Level.CITY, RONG_TOWNSHIP, YULIN),
    (Level.PROVINCE, RONG, "450000"),
    (Level.TOWNSHIP, RONG_TOWNSHIP, RONG_TOWNSHIP),
    (Level.TOWNSHIP, RONG, None),  # a county names no township
    (Level.COUNTY, "4509", None),
])
def test_the_competent_center_is_the_one_of_the_level_over_the_division(
    level: Level, division: str, center: str | None
) -> None:
    assert competent_center(level, division) == center


@pytest.mark.parametrize(("id_number", "division"), [
    (RONG_ID, RONG), ("450921198001010021", RONG), ("110105194912310", None),
    (None, None), ("45092119800101002Y", None),
])
def test_the_household_division_is_where_the_id_number_was_issued(
    id_number: str | None, division: str | None
) -> None:
    assert household_division(id_number) == division


def test_household_competence_comes_from_the_id_number() -> None:
    found = competence_of(_matter(), here=HERE, id_number=RONG_ID, division=None)
    assert (found.division, found.center) == (RONG, RONG)
    with pytest.raises(NotCompetent) as missing:
        competence_of(_matter(), here=HERE, id_number=None, division=None)
    assert "身份证" in str(missing.value.details)
    with pytest.raises(NotCompetent) as refused:
        competence_of(_matter(), here=HERE, id_number=RONG_ID, division=NANNING)
    assert refused.value.code == "not_competent"


def test_address_and_matter_competence_need_the_division_picked() -> None:
    for rule in (Competence.ADDRESS, Competence.MATTER):
        found = competence_of(_matter(competence=rule), here=HERE, id_number=HERE_ID,
                              division=RONG_TOWNSHIP)
        assert (found.division, found.center) == (RONG_TOWNSHIP, RONG)
        with pytest.raises(NotCompetent) as missing:
            competence_of(_matter(competence=rule), here=HERE, id_number=HERE_ID, division=None)
        assert "请选择" in str(missing.value.details)


def test_not_tongban_and_outside_the_province_are_refused() -> None:
    with pytest.raises(NotTongban) as refused:
        competence_of(_matter(scope=TongbanScope.NONE), here=HERE, id_number=RONG_ID,
                      division=None)
    assert refused.value.code == "not_tongban"
    with pytest.raises(NotCompetent) as elsewhere:
        competence_of(_matter(competence=Competence.ADDRESS), here=HERE, id_number=None,
                      division="440100")
    assert "不在本省" in str(elsewhere.value.details)


def test_the_competent_center_refuses_what_it_is_not_competent_for() -> None:
    args: dict[str, Any] = {"id_number": RONG_ID, "rule": "household", "division": RONG,
                            "matter_name": "户口迁移", "center": lambda code: f"某中心（{code}）"}
    assert arrival_refusal(_matter(), here=RONG, **args) is None
    elsewhere = str(arrival_refusal(_matter(), here=NANNING[:4] + "21", **args))
    assert "没有管辖权" in elsewhere
    # the centers by name (issue 19): here and the competent one, a code never alone
    assert f"本中心某中心（{NANNING[:4]}21）对此件" in elsewhere
    assert f"由 某中心（{RONG}） 受理" in elsewhere
    refusal = arrival_refusal(_matter(), here=NANNING[:4] + "21", **args)
    assert isinstance(refusal, Message)
    english = refusal.in_locale("en")
    assert f"this center, 某中心（{NANNING[:4]}21）, is not competent" in english
    assert f"goes to 某中心（{RONG}）" in english
    assert "不是通办事项" in str(arrival_refusal(_matter(scope=TongbanScope.NONE), here=RONG,
                                                 **args))
    assert "事项目录中没有" in str(arrival_refusal(None, here=RONG, **args))
    assert "管辖规则" in str(arrival_refusal(_matter(competence=Competence.ADDRESS), here=RONG,
                                             **args))
    # the 户籍 rule is checked against the ID number, not only the division claimed
    assert arrival_refusal(_matter(), here=RONG, **(args | {"id_number": HERE_ID})) is not None


# -- sending sideways through the API ---------------------------------------------------------


def _tongban(desk: dict[str, Api], competence: str = "household") -> None:
    changed = desk["admin"].patch(f"/api/v1/matters/{MATTER}",
                                  {"tongban_scope": "province", "competence": competence})
    assert changed.status_code == 200, changed.json


def _accepted_for(desk: dict[str, Api], id_number: str) -> dict[str, Any]:
    clerk = desk["clerk"]
    case = clerk.post("/api/v1/cases", {"matter_code": MATTER, "applicant_name": "王五",
                                        "applicant_id_number": id_number,
                                        "applicant_phone": "13800138000"}).json
    accepted = clerk.post(f"/api/v1/cases/{case['id']}/accept", {"version": case["version"]})
    assert accepted.status_code == 200, accepted.json
    return clerk.get(f"/api/v1/cases/{case['id']}").json  # type: ignore[no-any-return]


def test_a_tongban_case_goes_sideways_to_the_competent_county(
    desk: dict[str, Api], db: Database
) -> None:
    _tongban(desk)
    case = _accepted_for(desk, RONG_ID)

    moved = desk["clerk"].post(f"/api/v1/cases/{case['id']}/forward",
                               {"version": case["version"], "to": RONG, "note": "异地代收"})

    assert moved.status_code == 200, moved.json
    file = desk["clerk"].get(f"/api/v1/cases/{case['id']}").json
    assert (file["state"], file["forwarded_to"]) == ("forwarded", RONG)
    assert (file["tongban_role"], file["tongban_division"]) == ("received", RONG)
    [sent] = _outbox(db)
    assert (sent.kind, sent.to) == (Kind.CASE_FORWARD, RONG)
    assert sent.body["tongban"] == {"rule": "household", "division": RONG}
    assert sent.body["chain"] == [HERE]


@pytest.mark.parametrize(("competence", "body", "code", "field"), [
    (None, {"to": RONG}, "not_tongban", "to"),  # the matter is not 通办 here
    ("household", {"to": NANNING}, "not_competent", "to"),  # 户籍 容县, not 南宁
    ("address", {"to": RONG}, "not_competent", "division"),  # no address division picked
    ("address", {"division": RONG_TOWNSHIP, "to": NANNING}, "not_competent", "to"),
])
def test_a_sideways_forward_the_rules_refuse_changes_nothing(
    desk: dict[str, Api], db: Database, competence: str | None, body: dict[str, Any],
    code: str, field: str,
) -> None:
    if competence:
        _tongban(desk, competence)
    case = _accepted_for(desk, RONG_ID)

    refused = desk["clerk"].post(f"/api/v1/cases/{case['id']}/forward",
                                 {"version": case["version"], **body})

    assert refused.status_code == 422, refused.json
    assert refused.json["error"]["code"] == code
    assert field in refused.json["error"]["details"]["fields"]
    assert _outbox(db) == []
    assert desk["clerk"].get(f"/api/v1/cases/{case['id']}").json["state"] == "accepted"


# -- arriving sideways ------------------------------------------------------------------------


def _sideways_body(id_number: str = HERE_ID, division: str = HERE, sender: str = RONG
                   ) -> dict[str, Any]:
    body = _forward_body(number=f"{sender}-2026-0000003", chain=[sender],
                         tongban={"rule": "household", "division": division})
    body["applicant"]["id_number"] = id_number
    return body


def test_a_sideways_arrival_opens_a_case_counted_here(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    _tongban(desk)
    with db.unit_of_work() as session:  # 23 Nov was rolled up already
        session.add(DailyRollup(day=dt.date(2026, 11, 23), computed_at=utcnow()))

    _apply(app, db, _from(RONG, Kind.CASE_FORWARD, _sideways_body()))

    [case] = _cases(db)
    assert (case.received_from, case.origin_node_code) == (RONG, RONG)
    assert (case.tongban_role, case.tongban_division) == (TongbanRole.ACCEPTED, HERE)
    assert case.state.value == "accepted"
    with db.unit_of_work(write=False) as session:
        assert session.scalars(select(DailyRollup)).all() == []  # counted again, here
        events = session.scalars(select(Case)).one().events
        assert "450921 通办代收转来" in str(events[0].reason)


@pytest.mark.parametrize(("competence", "id_number", "division", "why"), [
    (None, HERE_ID, HERE, "不是通办事项"),
    ("household", RONG_ID, RONG, "没有管辖权"),  # 户籍 容县: not for 北流
    ("household", RONG_ID, HERE, "户籍地为 450921"),  # the division claimed is not the 户籍
    ("address", HERE_ID, HERE, "管辖规则"),  # the sender applied another rule
])
def test_the_competent_center_sends_back_what_it_may_not_take(
    app: Flask, desk: dict[str, Api], db: Database, competence: str | None, id_number: str,
    division: str, why: str,
) -> None:
    if competence:
        _tongban(desk, competence)

    _apply(app, db, _from(RONG, Kind.CASE_FORWARD, _sideways_body(id_number, division)))

    assert _cases(db) == []
    [answer] = _outbox(db)
    assert (answer.kind, answer.to, answer.body["outcome"]) == (
        Kind.CASE_RESULT, RONG, "returned")
    assert why in answer.body["reason"]


def test_a_sideways_arrival_without_tongban_or_from_another_province_is_refused(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    _tongban(desk)
    plain = _forward_body(number="450921-2026-0000003", chain=[RONG])
    with pytest.raises(TongbanError, match="is not below 450981"):
        _apply(app, db, _from(RONG, Kind.CASE_FORWARD, plain))
    elsewhere = _sideways_body(sender="440100")
    with pytest.raises(TongbanError, match="is not below 450981"):
        _apply(app, db, _from("440100", Kind.CASE_FORWARD, elsewhere))
    assert _cases(db) == []
    assert _outbox(db) == []


# -- delivery ---------------------------------------------------------------------------------


def test_delivery_by_post_needs_and_records_the_tracking_number(
    desk: dict[str, Api]
) -> None:
    clerk, approver = desk["clerk"], desk["approver"]
    case = _accepted_for(desk, HERE_ID)
    approver.post(f"/api/v1/cases/{case['id']}/approve", {"version": case["version"]})
    case = clerk.get(f"/api/v1/cases/{case['id']}").json
    clerk.post(f"/api/v1/cases/{case['id']}/complete", {"version": case["version"]})
    case = clerk.get(f"/api/v1/cases/{case['id']}").json
    assert case["state"] == "completed"

    untracked = clerk.post(f"/api/v1/cases/{case['id']}/deliver",
                           {"version": case["version"], "method": "post"})
    assert untracked.status_code == 422
    assert "tracking_number" in untracked.json["error"]["details"]["fields"]

    posted = clerk.post(f"/api/v1/cases/{case['id']}/deliver",
                        {"version": case["version"], "method": "post",
                         "tracking_number": "SF1234567890"})
    assert posted.status_code == 200, posted.json
    file = clerk.get(f"/api/v1/cases/{case['id']}").json
    assert (file["state"], file["delivery_method"], file["delivery_tracking"]) == (
        "delivered", "post", "SF1234567890")
    assert "SF1234567890" in file["events"][-1]["reason"]


# -- 跑动次数 of a 通办 case (docs/metrics.md, "Visits") ------------------------------------------


def _step(action: str, note: str | None = None) -> dict[str, Any]:
    return {"at": "2026-11-23T09:00:00+08:00", "center": RONG, "action": action,
            "by": "张敏（窗口工作人员）", "note": note}


@pytest.mark.parametrize(("channel", "steps", "visits"), [
    # received at 容县's window (the first visit), a material brought there once more
    ("window", [_step("submit"), _step("visit", "补交原件"), _step("attach", "visit")], 2),
    # applied for online at 容县: no visit at all, 全程网办 when decided here
    ("online", [_step("submit")], 0),
])
def test_a_tongban_case_counts_its_visits_at_the_receiving_hall_once_where_it_is_decided(
    app: Flask, desk: dict[str, Api], db: Database, channel: str,
    steps: list[dict[str, Any]], visits: int,
) -> None:
    _tongban(desk)
    body = _sideways_body()
    body["channel"], body["history"] = channel, steps
    _apply(app, db, _from(RONG, Kind.CASE_FORWARD, body))
    [arrived] = _cases(db)
    clerk, approver = desk["clerk"], desk["approver"]
    case = clerk.get(f"/api/v1/cases/{arrived.id}").json
    approved = approver.post(f"/api/v1/cases/{arrived.id}/approve", {"version": case["version"]})
    assert approved.status_code == 200, approved.json
    [case_row] = _cases(db)
    assert case_row.completed_on is not None  # decided here: completed, the result sent back

    with db.unit_of_work(write=False) as session:
        day = daily_counts(session, case_row.completed_on, case_row.completed_on)[
            case_row.completed_on]
    assert day["completed_here"] == 1  # the case once, at the center that decided it
    assert day["visits"] == visits
    assert day["visited_at_most_once"] == (1 if visits <= 1 else 0)
    assert day["fully_online"] == (1 if channel == "online" else 0)


# -- the receiving center's steps after sending (node/cases/receiving.py) ----------------------


def _sent_to_rong(desk: dict[str, Api]) -> dict[str, Any]:
    _tongban(desk)
    case = _accepted_for(desk, RONG_ID)
    moved = desk["clerk"].post(f"/api/v1/cases/{case['id']}/forward",
                               {"version": case["version"], "to": RONG})
    assert moved.status_code == 200, moved.json
    return desk["clerk"].get(f"/api/v1/cases/{case['id']}").json  # type: ignore[no-any-return]


def _act_here(desk: dict[str, Api], case_id: int, action: str, **body: Any) -> dict[str, Any]:
    clerk = desk["clerk"]
    version = clerk.get(f"/api/v1/cases/{case_id}").json["version"]
    done = clerk.post(f"/api/v1/cases/{case_id}/{action}", {"version": version, **body})
    assert done.status_code == 200, done.json
    return clerk.get(f"/api/v1/cases/{case_id}").json  # type: ignore[no-any-return]


def test_the_receiving_centers_visits_completion_and_delivery_go_to_the_competent_center(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    case = _sent_to_rong(desk)
    _act_here(desk, case["id"], "visit", reason="询问办理进度")
    _apply(app, db, _from(RONG, Kind.CASE_RESULT, {
        "origin": {"node": HERE, "case_number": case["number"]}, "outcome": "approved",
        "reason": None, "decided_on": "2026-11-25", "decided_by_node": RONG, "documents": [],
        "fee_due_fen": 0, "case_number": "450921-2026-0000009"}))
    _act_here(desk, case["id"], "visit", reason="领取结果")
    _act_here(desk, case["id"], "complete")
    _act_here(desk, case["id"], "deliver", method="post", tracking_number="EMS1234567890")

    told = [e for e in _outbox(db) if e.kind is Kind.CASE_UPDATE]
    assert {e.to for e in told} == {RONG}
    assert [(e.body["step"]["action"], e.body["step"]["note"]) for e in told] == [
        ("visit", "询问办理进度"), ("visit", "领取结果"), ("complete", None),
        ("deliver", "邮寄送达，邮件单号 EMS1234567890")]
    first = told[0].body
    assert first["origin"] == {"node": HERE, "case_number": case["number"]}
    assert first["step"]["center"] == HERE
    assert "（窗口工作人员）" in first["step"]["by"]  # a display name, never the username
    assert [e.body["state"] for e in told] == ["forwarded", "approved", "completed",
                                               "delivered"]


def test_a_visit_on_a_case_not_sent_elsewhere_tells_no_one(
    desk: dict[str, Api], db: Database
) -> None:
    _tongban(desk)
    own = _accepted_for(desk, HERE_ID)  # 户籍 北流: decided here
    _act_here(desk, own["id"], "visit", reason="补交原件")
    up = _accepted_for(desk, RONG_ID)
    _act_here(desk, up["id"], "forward")  # 上报 to the city: counted neither here nor there
    _act_here(desk, up["id"], "visit")
    assert [e.kind for e in _outbox(db)] == [Kind.CASE_FORWARD]


def _taken_from_rong(app: Flask, desk: dict[str, Api], db: Database) -> Case:
    """A 通办 case 容县 received at its window (1 visit) and sent here, decided here."""
    _tongban(desk)
    _apply(app, db, _from(RONG, Kind.CASE_FORWARD, _sideways_body()))
    [arrived] = _cases(db)
    case = desk["clerk"].get(f"/api/v1/cases/{arrived.id}").json
    approved = desk["approver"].post(f"/api/v1/cases/{arrived.id}/approve",
                                     {"version": case["version"]})
    assert approved.status_code == 200, approved.json
    [decided] = _cases(db)
    assert decided.completed_on is not None
    return decided


def _rong_step(action: str, note: str | None, sender: str = RONG,
               number: str = f"{RONG}-2026-0000003") -> Any:
    step = {"at": "2026-11-26T10:00:00+08:00", "center": sender, "action": action,
            "by": "张敏（窗口工作人员）", "note": note}
    return _from(sender, Kind.CASE_UPDATE, {
        "origin": {"node": RONG, "case_number": number}, "state": "completed", "note": "",
        "at": step["at"], "case_number": number, "step": step})


def test_a_visit_at_the_receiving_hall_after_sending_counts_once_where_it_was_decided(
    app: Flask, desk: dict[str, Api], db: Database
) -> None:
    decided = _taken_from_rong(app, desk, db)
    day = decided.completed_on
    assert day is not None
    with db.unit_of_work() as session:  # the completion day was rolled up already
        session.add(DailyRollup(day=day, computed_at=utcnow()))
    with db.unit_of_work(write=False) as session:
        assert daily_counts(session, day, day)[day]["visits"] == 1  # the receipt at 容县

    _apply(app, db, _rong_step("visit", "领取结果"))
    _apply(app, db, _rong_step("deliver", "邮寄送达，邮件单号 EMS1234567890"))

    with db.unit_of_work(write=False) as session:
        assert session.get(DailyRollup, day) is None  # the day is counted again
        counts = daily_counts(session, day, day)[day]
    assert (counts["completed_here"], counts["visits"], counts["visited_at_most_once"]) == (
        1, 2, 0)
    file = desk["clerk"].get(f"/api/v1/cases/{decided.id}").json
    theirs = [(e["center"], e["action"], e["reason"]) for e in file["events"][-2:]]
    assert theirs == [(RONG, "visit", "领取结果"),
                      (RONG, "deliver", "邮寄送达，邮件单号 EMS1234567890")]


@pytest.mark.parametrize(("sender", "number"), [
    (NANNING, f"{RONG}-2026-0000003"),  # not the center the case came from
    (RONG, f"{RONG}-2026-0000099"),  # no case of that number taken from it
])
def test_a_step_for_no_case_taken_from_the_sender_changes_nothing(
    app: Flask, desk: dict[str, Api], db: Database, sender: str, number: str
) -> None:
    decided = _taken_from_rong(app, desk, db)
    before = len(desk["clerk"].get(f"/api/v1/cases/{decided.id}").json["events"])

    _apply(app, db, _rong_step("visit", "领取结果", sender=sender, number=number))

    assert len(desk["clerk"].get(f"/api/v1/cases/{decided.id}").json["events"]) == before
    with db.unit_of_work(write=False) as session:
        day = decided.completed_on
        assert day is not None
        assert daily_counts(session, day, day)[day]["visits"] == 1
