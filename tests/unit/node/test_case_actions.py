"""One table of case actions (node/cases/actions.py) read by the API and the case file: every
step a member of staff takes through the state machine has a row, the API serves each of its
rows at one path, and the page posts each by the same name."""

from __future__ import annotations

import pytest
from flask import Flask

from node.cases.actions import ACTIONS_BY_NAME, CASE_ACTIONS, CaseAction
from node.cases.arguments import HandOver, Payment, ReasonArgs, Reasoned, Step
from node.cases.models import PaymentPlace
from node.cases.states import TRANSITIONS, Action, SystemRole

CASE_STEP = "/api/v1/cases/<int(max=2147483647):case_id>/"


def _api_post_paths(app: Flask) -> dict[str, str]:
    """The case step paths the API serves by POST, with their endpoints."""
    return {rule.rule.removeprefix(CASE_STEP): rule.endpoint for rule in app.url_map.iter_rules()
            if rule.rule.startswith(CASE_STEP) and "POST" in (rule.methods or set())
            and rule.endpoint.startswith("cases.")}


def test_every_staff_step_of_the_state_machine_has_one_row() -> None:
    staff_steps = {t.action for t in TRANSITIONS.values()
                   if set(t.roles) - {SystemRole.SYSTEM.value}
                   and not t.action.value.startswith("receive_")}
    rows = {action.step for action in CASE_ACTIONS if action.step is not None}
    assert rows == staff_steps
    assert len(ACTIONS_BY_NAME) == len(CASE_ACTIONS)  # names are unique
    for action in CASE_ACTIONS:
        if action.step is not None:
            assert action.name == Action(action.step).value  # the page posts the step's name


def test_the_api_serves_each_row_at_its_path(app: Flask) -> None:
    served = _api_post_paths(app)
    for action in CASE_ACTIONS:
        if action.api:
            assert action.path in served, action.name
    # the two answered by their own document keep their own endpoints
    assert {"suspend", "notices"} <= served.keys()
    assert "request-supplement" not in served


def test_a_row_differs_between_api_and_page_only_in_the_payment_form() -> None:
    differing = {action.name for action in CASE_ACTIONS if action.form is not None}
    assert differing == {"payment"}
    payment = ACTIONS_BY_NAME["payment"]
    loaded = payment.form_schema().load({"amount_yuan": "20.50", "where": "center_bank",
                                         "version": 3})
    # the page's form (元) and the API's body (分) load the same typed input
    assert loaded == Payment(amount_fen=2050, where=PaymentPlace.CENTER_BANK, version=3)
    assert payment.arguments().load({"amount_fen": 2050, "where": "center_bank"}) == Payment(
        amount_fen=2050, where=PaymentPlace.CENTER_BANK)


def test_each_row_loads_its_typed_input() -> None:
    for action in CASE_ACTIONS:
        assert action.arguments.INPUT is action.takes, action.name
    loaded = ACTIONS_BY_NAME["reject"].arguments().load({"reason": "材料不全", "version": 2})
    assert loaded == Reasoned(reason="材料不全", version=2)
    assert ACTIONS_BY_NAME["accept"].arguments().load({}) == Step()


def test_a_row_whose_schema_loads_another_input_is_refused() -> None:
    row = ACTIONS_BY_NAME["reject"]
    with pytest.raises(TypeError, match="ReasonArgs loads"):
        CaseAction("reject", row.permission, HandOver, ReasonArgs, row.run, row.summary)
