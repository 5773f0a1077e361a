"""A case's history in Chinese (node/cases/history.py): each event a sentence with the
actor's display name and another center's name; printed documents signed with the handler's
display name; the hand-over picker without usernames."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from node.auth.models import User
from node.cases.history import event_reason, event_sentence, person
from node.web.labels import ACTIONS
from schemas.i18n import set_locale_source
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api
from tests.unit.node.test_cases_api import submit
from tests.unit.node.test_web import log_in

CENTERS = {"450900": "玉林市政务服务中心", "450000": "广西壮族自治区政务服务中心"}
PEOPLE = {"clerk1": "李明"}
SNAKE = re.compile(r"[a-z]+_[a-z_]+")


def _event(action: str, actor: str = "system", role: str = "system", *,
           before: str | None = "forwarded", after: str = "forwarded",
           reason: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(action=action, actor=actor, role=role, from_state=before,
                           to_state=after, reason=reason)


def _sentence(event: SimpleNamespace) -> str:
    return event_sentence(event, PEOPLE, CENTERS, ACTIONS)


def test_news_from_the_center_above_reads_as_a_sentence_with_its_name() -> None:
    received = _event("upstream_update", reason="450900：in_review 已接收")
    assert _sentence(received) == "玉林市政务服务中心（450900）已接收上报件；进入审查"
    passed_on = _event("upstream_update", reason="450900：forwarded 已转报 450000")
    assert _sentence(passed_on) == (
        "玉林市政务服务中心（450900）已转报 广西壮族自治区政务服务中心（450000）")
    asked = _event("upstream_update", reason="450900：supplement_requested 缺营业执照")
    assert _sentence(asked) == "玉林市政务服务中心（450900）要求补正材料：缺营业执照"
    unnamed = _event("upstream_update", reason="450100：accepted")
    assert _sentence(unnamed) == "未登记名称的中心（450100）已受理上报件"
    for event in (received, passed_on, asked, unnamed):
        assert not SNAKE.search(_sentence(event))
        assert event_reason(event, CENTERS) == ""  # all of it is in the sentence


def test_people_by_display_name_and_the_system_and_applicant_in_chinese() -> None:
    accepted = _event("accept", "clerk1", "clerk", before="submitted", after="accepted")
    assert _sentence(accepted) == "李明（窗口工作人员）受理，状态由「已收件」变为「已受理」"
    deemed = _event("deem_accept", before="supplement_requested", after="accepted")
    assert _sentence(deemed) == "系统视为受理，状态由「待补正」变为「已受理」"
    assert _sentence(_event("attach", "applicant", "applicant")) == "申请人添加材料"
    received = _event("receive_forward", before=None, after="submitted")
    assert _sentence(received) == "系统收到下级报送，状态为「已收件」"
    assert person("gone", "clerk", PEOPLE) == "已删除的账号（窗口工作人员）"
    # a relay's reason names the center that decided
    approval = _event("receive_approval", before="forwarded", after="approved",
                      reason="450900 准予许可")
    assert event_reason(approval, CENTERS) == "玉林市政务服务中心（450900） 准予许可"
    # a person's own words are kept as written, digits and all
    rejected = _event("reject", "clerk1", "clerk", before="submitted", after="rejected",
                      reason="证照编号 450981 有误")
    assert event_reason(rejected, CENTERS) == "证照编号 450981 有误"


@pytest.fixture
def reading_in_english() -> Iterator[None]:
    set_locale_source(lambda: "en")
    try:
        yield
    finally:
        set_locale_source(None)


def test_news_from_above_is_one_message_in_the_readers_language(
    reading_in_english: None,
) -> None:
    """Each sentence of news from above is one message: on an English page no Chinese word of
    its own is left (上级中心： once stayed Chinese, joined to the rest with ``+``)."""
    news = {
        "": "Center above: New progress",
        "进展说明": "Center above: 进展说明",  # as the center above wrote it
        "450900：in_review 已接收": (
            "玉林市政务服务中心（450900） received the forwarded case; Start the review"),
        "450900：in_review 已接收：材料齐全": (
            "玉林市政务服务中心（450900） received the forwarded case; Start the review "
            "(材料齐全)"),
        "450900：supplement_requested 缺营业执照": (
            "玉林市政务服务中心（450900）: Ask for missing materials: 缺营业执照"),
        "450900：forwarded 已转报 450000": (
            "玉林市政务服务中心（450900） forwarded it to 广西壮族自治区政务服务中心（450000）"),
        "450100：accepted": (
            "Center without a registered name（450100）: Forwarded case accepted"),
    }
    for reason, english in news.items():
        sentence = _sentence(_event("upstream_update", reason=reason or None))
        assert str(sentence) == english, reason
    set_locale_source(None)  # the same events on a Chinese page
    chinese = {
        "": "上级中心：有新的办理进展",
        "进展说明": "上级中心：进展说明",
        "450900：in_review 已接收：材料齐全": (
            "玉林市政务服务中心（450900）已接收上报件；进入审查（材料齐全）"),
        "450900：forwarded 已转报 450000": (
            "玉林市政务服务中心（450900）已转报 广西壮族自治区政务服务中心（450000）"),
        "450100：accepted": "未登记名称的中心（450100）已受理上报件",
    }
    for reason, text in chinese.items():
        assert str(_sentence(_event("upstream_update", reason=reason or None))) == text


def _remote(by: str, note: str) -> SimpleNamespace:
    """A step another center sent with the case (its ``by`` as :func:`person` said it there)."""
    return SimpleNamespace(action="remote_step", actor="450900", role="center",
                           from_state=None, to_state="submitted",
                           reason=json.dumps({"action": "receive_forward", "by": by,
                                              "note": note}, ensure_ascii=False))


@pytest.mark.parametrize("by", ["系统", "System", "申请人", "Public"])
def test_another_centers_system_note_names_its_centers_whatever_language_it_was_sent_in(
    reading_in_english: None, by: str,
) -> None:
    """The sender said 系统 in the language current where it sent the case, the reader reads
    in another: the note's codes are named all the same."""
    note = event_reason(_remote(by, "450000 已转报"), CENTERS)
    assert note == "广西壮族自治区政务服务中心（450000） 已转报"


def test_a_person_at_another_center_keeps_the_digits_of_their_note(
    reading_in_english: None,
) -> None:
    assert event_reason(_remote("李明（窗口工作人员）", "证照编号 450981 有误"), CENTERS) == (
        "证照编号 450981 有误")


def test_the_case_page_and_the_printed_notice_name_the_handler(
    client: FlaskClient, db: Database, desk: dict[str, Api]
) -> None:
    with db.unit_of_work() as session:
        session.execute(update(User).where(User.username == "clerk1")
                        .values(display_name="李明"))
    clerk = desk["clerk"]
    case = submit(clerk)
    notice = clerk.post(f"/api/v1/cases/{case['id']}/notices", {"material_positions": [1]})
    assert notice.status_code == 201, notice.json

    printed = clerk.get(f"/api/v1/cases/{case['id']}/notices/{notice.json['number']}")
    assert "经办人：李明" in printed.get_data(as_text=True)
    assert "clerk1" not in printed.get_data(as_text=True)

    assert log_in(client, "clerk1").status_code == 302
    page = client.get(f"/staff/cases/{case['id']}").get_data(as_text=True)
    history = page[page.index("办理过程"):]
    assert "李明（窗口工作人员）收件，状态为「已收件」" in history
    assert "李明（窗口工作人员）一次性告知" in history
    assert "clerk1" not in history
    assert not SNAKE.search(re.sub(r"<[^>]+>", "", history))
    web_notice = client.get(f"/staff/cases/{case['id']}/notices/{notice.json['number']}")
    assert "经办人：李明" in web_notice.get_data(as_text=True)
    # the hand-over picker shows people by name, not by username
    picker = re.search(r'<select id="handover-to".*?</select>', page, re.DOTALL)
    assert picker is not None
    assert ">clerk2<" in picker.group(0)  # its display name is its username in this fixture
    assert "（clerk2" not in picker.group(0)
