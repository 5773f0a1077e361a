"""The staff session cookie: SameSite=Lax and HttpOnly really set, Secure by the setting
``session_cookie_secure`` (auto: on behind a proxy, proxy_hops > 0)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from node import create_app
from node.models import Base
from schemas.runtime.settings import SettingsError
from tests.conftest import node_config
from tests.unit.node.conftest import Api
from tests.unit.node.test_web import log_in


def _cookie(app: Flask) -> str:
    client = app.test_client()
    answer = log_in(client, "clerk1")
    assert answer.status_code == 302
    [cookie] = [v for k, v in answer.headers.items() if k == "Set-Cookie"]
    return cookie


def _app_like(app: Flask, **settings: Any) -> Flask:
    """An app on the same database as ``app`` with other settings."""
    other = create_app(node_config(app.config["TONGBAN"].database_url, **settings))
    Base.metadata.create_all(other.extensions["tongban_db"].engine)
    return other


def test_the_session_cookie_is_samesite_lax_and_httponly_not_secure_without_a_proxy(
        app: Flask, desk: dict[str, Api]) -> None:
    cookie = _cookie(app)
    assert "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie
    assert "Secure" not in cookie


@pytest.mark.parametrize(("settings", "secure"), [
    ({"proxy_hops": 1}, True),
    ({"proxy_hops": 1, "session_cookie_secure": "false"}, False),
    ({"proxy_hops": 0, "session_cookie_secure": True}, True),
    ({"proxy_hops": 0, "session_cookie_secure": "auto"}, False),
])
def test_secure_follows_the_setting_and_the_proxy(app: Flask, desk: dict[str, Api],
                                                  settings: dict[str, Any],
                                                  secure: bool) -> None:
    other = _app_like(app, **settings)
    try:
        cookie = _cookie(other)
    finally:
        other.extensions["tongban_db"].dispose()
    assert ("Secure" in cookie) is secure
    assert "SameSite=Lax" in cookie


def test_a_bad_value_is_refused_at_start(database_url: str) -> None:
    with pytest.raises(SettingsError, match="session_cookie_secure must be auto, true or false"):
        create_app(node_config(database_url, session_cookie_secure="sometimes"))
