"""The case file offers only the steps that can apply to this case here: 退回下级中心 only for
a case received from a center below (never at a township, which has none below it), 上报上级
only where a center above is left, 告知承诺 only where the matter allows it, a decision only
to whom it belongs.  Each step's form is made from its schema (a reason, required or not)
unless it needs fields of its own, so a new case action with an existing input needs no
template (docs/architecture.md, "A new case action")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from node.auth.permissions import Permission
from node.cases.actions import ACTIONS_BY_NAME, CASE_ACTIONS, CaseAction
from node.cases.actors import Actor
from node.cases.arguments import ReasonArgs, Reasoned
from node.cases.models import Case
from node.web import clerk
from node.web.clerk import OWN_FORMS, GenericForm, can_apply, generic_form
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
from tests.unit.node.test_web import csrf_of, log_in

ACTION_FORMS = re.compile(r'action="/staff/cases/\d+/([a-z_]+)"')
CASE_TEMPLATE = Path(__file__).resolve().parents[3] / "node/templates/web/staff/case.html"


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


def test_a_steps_form_is_made_from_its_schema() -> None:
    assert generic_form(ACTIONS_BY_NAME["accept"]) == GenericForm(reason=None)
    assert generic_form(ACTIONS_BY_NAME["reject"]) == GenericForm(reason=True)
    assert generic_form(ACTIONS_BY_NAME["approve"]) == GenericForm(reason=False)
    with pytest.raises(ValueError, match="deliver: the case file makes no field for method"):
        generic_form(ACTIONS_BY_NAME["deliver"])


def test_only_the_steps_with_fields_beyond_a_reason_have_a_form_of_their_own() -> None:
    """A step the template writes no form for gets one from its schema; a step whose input the
    generic form cannot carry is listed in OWN_FORMS and has its branch in case.html."""
    beyond_a_reason = set()
    for action in CASE_ACTIONS:
        if action.step is None:
            continue  # the side forms (payment, extension, hand-over …) are the template's
        try:
            generic_form(action)
        except ValueError:
            beyond_a_reason.add(action.name)
    assert beyond_a_reason == OWN_FORMS
    template = CASE_TEMPLATE.read_text(encoding="utf-8")
    for name in OWN_FORMS:
        assert f"name == '{name}'" in template, name


def test_the_reason_fields_on_the_case_file(app: Flask, desk: dict[str, Api]) -> None:
    case = _accepted(desk)
    review = desk["approver"].post(f"/api/v1/cases/{case['id']}/start-review",
                                   {"version": case["version"]})
    assert review.status_code == 200, review.json
    approver = app.test_client()
    log_in(approver, "approver1")
    page = approver.get(f"/staff/cases/{case['id']}").get_data(as_text=True)

    def form(name: str) -> str:
        found = re.search(rf'<details id="action-{name}".*?</details>', page, re.S)
        assert found is not None, name
        return found.group(0)

    deny, approve = form("deny"), form("approve")
    assert '<textarea id="reason-deny" name="reason" required>' in deny
    assert "理由（必填）" in deny
    assert 'class="danger"' in deny
    assert '<textarea id="reason-approve" name="reason">' in approve
    assert "意见（可选）" in approve
    assert "<summary>准予许可</summary>" in approve
    assert 'class="danger"' not in approve

    missing = approver.post(f"/staff/cases/{case['id']}/deny",
                            data={"csrf_token": csrf_of(approver, f"/staff/cases/{case['id']}")})
    assert missing.status_code == 422
    denied = approver.post(f"/staff/cases/{case['id']}/deny",
                           data={"csrf_token": csrf_of(approver, f"/staff/cases/{case['id']}"),
                                 "reason": "不符合条件"})
    assert denied.status_code == 302
    assert desk["approver"].get(f"/api/v1/cases/{case['id']}").json["state"] == "denied"


def test_a_new_step_with_a_reason_is_offered_and_taken_without_a_template(
        app: Flask, desk: dict[str, Api], monkeypatch: pytest.MonkeyPatch) -> None:
    """A row the template has never heard of (中止 ``halt``, here carried out as a withdrawal)
    is offered with a required reason field and taken from the case file."""
    halt = CaseAction("halt", Permission.CASES_HANDLE, Reasoned, ReasonArgs,
                      lambda s, f, c, a, d: s.withdraw(c, a, reason=d.reason,
                                                       version=d.version),
                      "中止")
    monkeypatch.setitem(ACTIONS_BY_NAME, "halt", halt)
    allowed = clerk.allowed_actions
    monkeypatch.setattr(clerk, "allowed_actions",
                        lambda state, role: [*allowed(state, role), "halt"])
    case = _accepted(desk)
    staff = app.test_client()
    log_in(staff, "clerk1")
    path = f"/staff/cases/{case['id']}"
    page = staff.get(path).get_data(as_text=True)

    found = re.search(r'<details id="action-halt".*?</details>', page, re.S)
    assert found is not None
    assert '<textarea id="reason-halt" name="reason" required>' in found.group(0)
    taken = staff.post(f"{path}/halt", data={"csrf_token": csrf_of(staff, path),
                                             "reason": "申请人要求中止"})
    assert taken.status_code == 302
    assert desk["clerk"].get(f"/api/v1/cases/{case['id']}").json["state"] == "withdrawn"
