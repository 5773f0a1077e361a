"""The errors that name a case state, an action, a role or a permission say its name from
schemas/names.py, in the reader's language, never its code (in_review, reject, clerk); the
codes stay in the error's fields."""

from __future__ import annotations

import pytest

from node.auth.models import User
from node.auth.permissions import Permission, Role
from node.auth.service import AuthService
from node.cases.actors import Actor
from node.cases.authorization import authorize_file
from node.cases.errors import CaseStateError
from node.cases.models import AttachmentRole, Case
from node.cases.states import TRANSITIONS, Action, CaseState, TransitionRefused, plan
from schemas.errors import Forbidden
from schemas.i18n import Message
from schemas.names import CASE_ACTION_NAMES, CASE_STATE_NAMES, ROLE_NAMES, names_of
from tests.unit.schemas.test_chinese_catalog import foreign_words

REFUSED = [(state, action) for action, transition in TRANSITIONS.items()
           for state in CaseState if state not in transition.sources]


def _said(message: str) -> tuple[str, str]:
    assert isinstance(message, Message)
    return message.in_locale("zh_Hans_CN"), message.in_locale("en")


@pytest.mark.parametrize(("state", "action"), REFUSED)
def test_a_refused_transition_names_the_state_and_the_actions(
        state: CaseState, action: Action) -> None:
    role = next(iter(TRANSITIONS[action].roles))
    with pytest.raises(TransitionRefused) as refused:
        plan(state, action, role, "理由")
    chinese, english = _said(refused.value.message)
    assert foreign_words(chinese) == []
    assert f"「{CASE_STATE_NAMES[state]}」" in chinese
    assert f"「{CASE_ACTION_NAMES[action]}」" in chinese
    # the English names, not the codes either
    assert repr(state.value) not in english
    assert repr(action.value) not in english
    assert not [word for word in english.split() if "_" in word]
    assert refused.value.state is state  # the codes stay in the error's fields


def test_the_refusal_in_review_of_reject_reads_as_people_say_it() -> None:
    with pytest.raises(TransitionRefused) as refused:
        plan(CaseState.IN_REVIEW, Action.REJECT, Role.CLERK, "材料不全")
    chinese, english = _said(refused.value.message)
    assert chinese == ("办件处于「审核中」状态，不能执行「不予受理」（可执行：挂起（特别程序）、"
                       "准予许可、不予许可、超时默认许可、撤回、上报上级、退回下级）。")
    assert english.startswith("Action ")
    assert "in_review" not in english
    assert "'reject'" not in english
    assert refused.value.allowed[:2] == ["suspend", "approve"]


def test_a_role_that_may_not_act_and_a_missing_reason_are_named() -> None:
    with pytest.raises(PermissionError) as wrong_role:
        plan(CaseState.ACCEPTED, Action.START_REVIEW, Role.CLERK, None)
    assert _said(wrong_role.value.args[0])[0] == "窗口工作人员不能对办件执行「开始审核」"
    with pytest.raises(ValueError, match="须填写书面理由") as no_reason:
        plan(CaseState.SUBMITTED, Action.REJECT, Role.CLERK, "  ")
    assert _said(no_reason.value.args[0])[0] == "「不予受理」须填写书面理由"


def test_a_permission_refusal_names_the_role_and_the_permission() -> None:
    viewer = User(username="leader", role=Role.VIEWER)
    with pytest.raises(Forbidden) as refused:
        AuthService.require(viewer, Permission.USERS_MANAGE)
    chinese, _english = _said(refused.value.message)
    assert chinese == "上级中心/领导（只读）没有此操作的权限（管理账号）。"
    assert refused.value.details == {"permission": "users.manage", "role": "viewer"}


def test_a_file_refusal_names_the_file_the_role_and_the_states() -> None:
    case = Case(number="450981-2026-000001", state=CaseState.COMPLETED)
    with pytest.raises(Forbidden) as wrong_role:
        authorize_file(case, Actor("boss", Role.ADMIN.value), AttachmentRole.MATERIAL)
    assert _said(wrong_role.value.message)[0] == "中心管理员不能为办件添加文件。"
    with pytest.raises(CaseStateError) as too_late:
        authorize_file(case, Actor("clerk1", Role.CLERK.value), AttachmentRole.RESULT)
    chinese, _english = _said(too_late.value.message)
    assert chinese == ("结果文书只能在办件处于以下状态时添加：已受理、审核中、准予许可、不予许可；"
                       "办件 450981-2026-000001 当前为「已办结」。")
    assert foreign_words(chinese) == []


def test_names_of_says_a_list_in_each_language() -> None:
    listed = names_of(ROLE_NAMES, ["clerk", "approver"])
    assert _said(listed) == ("窗口工作人员、部门审批人员",
                             f"{ROLE_NAMES['clerk'].in_locale('en')}, "  # type: ignore[attr-defined]
                             f"{ROLE_NAMES['approver'].in_locale('en')}")  # type: ignore[attr-defined]
    assert names_of(ROLE_NAMES, []) == "无"
