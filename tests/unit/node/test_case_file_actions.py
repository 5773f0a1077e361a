"""The case file offers only the steps that can apply to this case here: 退回下级中心 only for
a case received from a center below (never at a township, which has none below it), 上报上级
only where a center above is left, 告知承诺 only where the matter allows it, a decision only
to whom it belongs."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from node.cases.actors import Actor
from node.cases.models import Case
from node.web.clerk import can_apply
from schemas.envelope import Kind
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api, matter_payload
from tests.unit.node.test_forwarding import (
    TOWNSHIP,
    _accepted,
    _apply,
    _forward_body,
    _from,
)
from tests.unit.node.test_web import log_in

ACTION_FORMS = re.compile(r'action="/staff/cases/\d+/([a-z_]+)"')


def _offered(client: FlaskClient, case_id: int) -> set[str]:
    text = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    return set(ACTION_FORMS.findall(text))


def test_a_case_of_our_own_is_offered_up_but_never_back_down(
        client: FlaskClient, desk: dict[str, Api]) -> None:
    case = _accepted(desk)
    log_in(client, "clerk1")

    offered = _offered(client, case["id"])

    assert "forward" in offered  # the county has Yulin and Guangxi above it
    assert "return" not in offered  # nothing came from below: there is no one to return to
    assert {"approve", "deny"} <= offered  # the window holds the approve power


def test_a_case_from_below_may_be_returned(app: Flask, client: FlaskClient,
                                           desk: dict[str, Api], db: Database) -> None:
    _apply(app, db, _from(TOWNSHIP, Kind.CASE_FORWARD, _forward_body()))
    with db.unit_of_work(write=False) as session:
        case_id = session.scalars(select(Case.id)).one()
    log_in(client, "clerk1")

    offered = _offered(client, case_id)

    assert {"return", "forward"} <= offered
    page = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    assert "退回下级中心" in page


def test_notify_and_commit_and_decisions_only_where_they_apply(
        app: Flask, client: FlaskClient, desk: dict[str, Api]) -> None:
    clerk = desk["clerk"]
    plain = clerk.post("/api/v1/cases", {"matter_code": "11450981MB0001",
                                         "applicant_name": "张三"}).json
    committed = clerk.post("/api/v1/cases", {"matter_code": "NC1",
                                             "applicant_name": "张三"}).json
    log_in(client, "clerk1")
    assert "commit" not in _offered(client, plain["id"])  # the matter does not allow it
    assert "commit" in _offered(client, committed["id"])

    # a window without the approve power: its clerk is not offered a decision, the approver is
    desk["admin"].post("/api/v1/matters", matter_payload(
        code="NOAPPROVE", powers={"accept": True, "review": True}))
    case = clerk.post("/api/v1/cases", {"matter_code": "NOAPPROVE",
                                        "applicant_name": "王五"}).json
    accepted = clerk.post(f"/api/v1/cases/{case['id']}/accept", {"version": case["version"]})
    assert accepted.status_code == 200, accepted.json
    offered = _offered(client, case["id"])
    assert not {"approve", "deny", "extend"} & offered
    assert {"forward", "withdraw"} <= offered
    approver = app.test_client()
    log_in(approver, "approver1")
    assert {"approve", "deny", "suspend"} <= _offered(approver, case["id"])
    other = app.test_client()
    log_in(other, "approver2")  # 住房和城乡建设局 has no part in it
    assert not {"approve", "deny", "suspend", "start_review"} & _offered(other, case["id"])


def test_the_top_of_the_tree_forwards_nowhere(desk: dict[str, Api], db: Database) -> None:
    made = _accepted(desk)
    with db.unit_of_work(write=False) as session:
        case = session.get(Case, made["id"])
        assert case is not None
        actor = Actor("clerk1", "clerk")
        assert can_apply("forward", case, actor, "450981") is True
        assert can_apply("forward", case, actor, "450000") is False  # a province: none above
        assert can_apply("return", case, actor, "450981101") is False  # a township's own case
