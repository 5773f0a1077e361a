"""A higher center's rankings pages never wait on the hub for what they already have: a
question answered before is shown at once from the kept answer, with its age in minutes,
and asked again once the page has been sent; a hub that is down reads
无法连接上级枢纽，显示的是 HH:MM 缓存的数据 — never a Python exception.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from node.auth.permissions import Role
from node.composition import NodeServices
from node.rankings.models import RankingAnswer
from tests.unit.hub.rank_federation import BEILIU, TOWN_A, count
from tests.unit.node.test_web import _HubTransport, hub_behind, log_in  # noqa: F401

PAGE = f"/staff/rankings?scope={BEILIU}&period=2026-10&metric=completed"


class _Counting:
    """The hub transport, counting requests; ``down`` makes every call a network failure
    whose own text must never reach a page."""

    def __init__(self, inner: _HubTransport) -> None:
        self.inner = inner
        self.calls = 0
        self.down = False

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.calls += 1
        if self.down:
            raise requests.ConnectionError(
                "('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")
        return self.inner.request(method, url, **kwargs)


@pytest.fixture
def hub(hub_behind: Any, app: Any) -> _Counting:  # noqa: F811 - the imported fixture
    hub_behind.report(TOWN_A, "2026-10", {"completed": count(12)})
    client = NodeServices.of_app(app.extensions).rankings_hub
    counting = _Counting(client.session)
    client.session = counting
    return counting


def _kept(app: Any) -> RankingAnswer:
    db = app.extensions["tongban_db"]
    with db.sessions() as session:
        found = session.query(RankingAnswer).one()
        session.expunge(found)
        return found


def _show(client: FlaskClient) -> str:
    response = client.get(PAGE)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    response.close()  # what the server does once the page is sent: the refresh runs
    return text


def test_a_kept_answer_is_shown_at_once_then_refreshed(
        client: FlaskClient, desk: Any, make_user: Any, app: Any, hub: _Counting) -> None:
    make_user(Role.SUPERVISOR, username="watch")
    assert log_in(client, "watch").status_code == 302
    first = _show(client)  # nothing kept yet: the page waits for the hub
    assert hub.calls == 1
    assert 'id="cached-notice"' not in first
    assert 'id="stale-notice"' not in first
    fetched = _kept(app).fetched_at

    second = _show(client)  # kept: shown from the node's database, no call before it
    assert 'id="cached-notice"' in second
    assert re.search(r'id="cached-age">0</span> 分钟前', second)
    assert hub.calls == 1  # asked again only if 10 s passed since the last ask

    # older than that: shown at once, and asked again once the page was sent
    db = app.extensions["tongban_db"]
    with db.unit_of_work() as session:
        kept = session.query(RankingAnswer).one()
        kept.fetched_at = kept.fetched_at.replace(year=kept.fetched_at.year - 1)
    third = _show(client)
    assert 'id="cached-notice"' in third
    assert hub.calls == 2
    assert _kept(app).fetched_at >= fetched


def test_a_hub_that_is_down_shows_the_kept_figures_with_their_time(
        client: FlaskClient, desk: Any, make_user: Any, app: Any, hub: _Counting) -> None:
    make_user(Role.SUPERVISOR, username="watch")
    assert log_in(client, "watch").status_code == 302
    _show(client)
    hub.down = True
    db = app.extensions["tongban_db"]
    with db.unit_of_work() as session:
        kept = session.query(RankingAnswer).one()
        kept.fetched_at = kept.fetched_at.replace(year=kept.fetched_at.year - 1)
    shown = _show(client)  # at once, from the kept answer; the refresh after it fails
    assert 'id="cached-notice"' in shown
    answer = _kept(app)
    assert answer.asked_at is not None
    assert answer.asked_at > answer.fetched_at
    again = _show(client)
    assert "无法连接上级枢纽，显示的是" in again
    assert re.search(r'id="stale-as-of">\d{2}:\d{2}</span> 缓存的数据', again)
    for page in (shown, again):
        assert "Connection" not in page
        assert "Error" not in page


def test_a_question_never_answered_says_the_hub_is_unreachable_in_chinese(
        client: FlaskClient, desk: Any, make_user: Any, hub: _Counting) -> None:
    make_user(Role.SUPERVISOR, username="watch")
    assert log_in(client, "watch").status_code == 302
    hub.down = True
    response = client.get(PAGE)
    text = response.get_data(as_text=True)
    assert "无法连接上级枢纽" in text
    assert "本节点还没有此查询的缓存数据" in text
    assert "Connection" not in text
    assert "Error" not in text


def test_the_unreachable_hub_is_said_in_the_readers_language(
        client: FlaskClient, desk: Any, make_user: Any, hub: _Counting) -> None:
    """The reason a question has no answer is a catalog message said when the page is made:
    an English reader gets it in English, not the Chinese it was once written in."""
    make_user(Role.SUPERVISOR, username="watch")
    assert log_in(client, "watch").status_code == 302
    hub.down = True
    text = client.get(PAGE, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "The hub above cannot be reached" in text
    assert "无法连接上级枢纽" not in text
