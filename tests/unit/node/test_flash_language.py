"""A flashed message is said in the language of the page that shows it, not of the request
that flashed it: the session keeps its msgid and parameters (schemas/runtime/sessions.py)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from schemas.i18n import Message
from schemas.names import CASE_ACTION_NAMES
from schemas.runtime.sessions import MessageSessionInterface
from tests.unit.node.conftest import Api
from tests.unit.node.test_web import _admin_client, csrf_of

EN = {"Accept-Language": "en-US,en;q=0.9"}
CHINESE_FLASH = "窗口 住建窗口 已撤销。"
ENGLISH_FLASH = "Window 住建窗口: Retire done."


def _flash_retired_window(client: FlaskClient, headers: dict[str, str]) -> None:
    token = csrf_of(client, "/staff/admin/organisation")
    response = client.post("/staff/admin/organisation/window/W02/retire",
                           data={"csrf_token": token}, headers=headers)
    assert response.status_code == 302


@pytest.mark.parametrize(("flashed_in", "shown_in", "expected", "not_expected"), [
    (EN, {}, CHINESE_FLASH, ENGLISH_FLASH),
    ({}, EN, ENGLISH_FLASH, CHINESE_FLASH),
    ({}, {}, CHINESE_FLASH, ENGLISH_FLASH),
    (EN, EN, ENGLISH_FLASH, CHINESE_FLASH),
])
def test_a_flash_is_said_in_the_language_of_the_page_that_shows_it(
        client: FlaskClient, desk: dict[str, Api], make_user: Any,
        flashed_in: dict[str, str], shown_in: dict[str, str], expected: str,
        not_expected: str) -> None:
    assert desk["admin"].post("/api/v1/windows", {"code": "W02", "name": "住建窗口",
                                                  "department_codes": ["ZJ"]}).status_code == 201
    _admin_client(client, make_user)
    _flash_retired_window(client, flashed_in)
    page = client.get("/staff/admin/organisation", headers=shown_in).get_data(as_text=True)
    assert expected in page
    assert not_expected not in page
    # shown once: the next page has no flash left
    again = client.get("/staff/admin/organisation", headers=shown_in).get_data(as_text=True)
    assert expected not in again


def test_the_session_keeps_a_message_with_its_named_parameters() -> None:
    serializer = MessageSessionInterface.serializer
    message = Message("已完成：%(get)s。", {"get": CASE_ACTION_NAMES["accept"]})
    stored = serializer.dumps({"_flashes": [("message", message)]})
    assert "已完成：受理。" not in stored  # the msgid and parameters, not the said text
    back = serializer.loads(stored)["_flashes"][0][1]
    assert isinstance(back, Message)
    assert back.in_locale("zh_Hans_CN") == "已完成：受理。"
    assert back.in_locale("en") == message.in_locale("en")
    assert back.in_locale("en") != back.in_locale("zh_Hans_CN")
