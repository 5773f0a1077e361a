"""Staff login in the browser: where it goes afterwards (``next``), never off the site and
never a 500 (node/web/auth.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from node.web.auth import safe_next
from tests.unit.node.conftest import PASSWORD, Api
from tests.unit.node.test_web import csrf_of

HOSTILE_NEXT = [
    "/\t/evil.example/x",  # the reported one: browsers drop the tab, leaving //evil.example
    "/\n/evil.example/x",
    "/\r\n/evil.example/x",
    "/staff/desk\r\nSet-Cookie: a=b",  # once a 500 (a header with CR LF)
    "//evil.example/x",
    "///evil.example/x",
    "/\\evil.example/x",
    "\\\\evil.example/x",
    "/%2F/evil.example/x",
    "/%09/evil.example/x",
    "/%5Cevil.example/x",
    "/%0d%0aSet-Cookie:a=b",
    "https://evil.example/x",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example/x",
    " /staff/desk",
    "/\u3000/evil.example",  # ideographic space
    "/\x00/evil.example",
    "/\x7f/evil.example",
    "/staff/../..//evil.example/x",
    "/.//evil.example/x",
    "/" + "a" * 2100,
    "",
]
SAFE_NEXT = [
    ("/staff/cases/1", "/staff/cases/1"),
    ("/staff/supervision/figures?period=2026-11", "/staff/supervision/figures?period=2026-11"),
    ("/staff/rankings?metric=completed&level=county", "/staff/rankings?metric=completed"
                                                      "&level=county"),
    ("/staff/x/../desk", "/staff/desk"),  # normalised: the redirect goes where it was checked
    ("/staff/desk#top", "/staff/desk"),
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_a_hostile_next_is_refused(target: str) -> None:
    assert safe_next(target) is None


@pytest.mark.parametrize(("target", "normalised"), SAFE_NEXT)
def test_a_path_on_this_site_is_followed_normalised(target: str, normalised: str) -> None:
    assert safe_next(target) == normalised


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60) | st.from_regex(r"\A/[ -~\t\r\n\\/%]{0,40}\Z"))
def test_whatever_next_is_given_the_answer_is_a_plain_path_on_this_site(target: str) -> None:
    found = safe_next(target)
    if found is None:
        return
    assert found.startswith("/")
    assert not found.startswith("//")
    assert not any(ord(c) < 0x21 or c in "\\\x7f" for c in found)
    assert "#" not in found


def _log_in_with_next(client: FlaskClient, target: str) -> Any:
    token = csrf_of(client, "/staff/login")
    return client.post("/staff/login", data={"username": "clerk1", "password": PASSWORD,
                                             "csrf_token": token, "next": target})


@pytest.mark.parametrize("target", [t for t in HOSTILE_NEXT if "\x00" not in t])
def test_login_with_a_hostile_next_goes_to_the_roles_home(
        client: FlaskClient, desk: dict[str, Api], target: str) -> None:
    shown = client.get(f"/staff/login?next={quote(target)}")
    assert shown.status_code == 200
    assert "evil.example" not in shown.get_data(as_text=True)

    answer = _log_in_with_next(client, target)

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/staff/home"


def test_a_nul_in_next_is_refused_before_any_view(client: FlaskClient,
                                                   desk: dict[str, Api]) -> None:
    answer = client.get("/staff/login?next=%2F%00%2Fevil.example")
    assert answer.status_code == 422


def test_login_with_a_path_on_this_site_goes_there(client: FlaskClient,
                                                  desk: dict[str, Api]) -> None:
    answer = _log_in_with_next(client, "/staff/cases/1?from=desk")

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/staff/cases/1?from=desk"
