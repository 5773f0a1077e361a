"""Hub apps on a fresh database (SQLite and PostgreSQL), with the test federation's root."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from flask import Flask

from hub import create_app
from hub.models import Base
from tests.apps import AppCache, config_key
from tests.unit.hub.federation import PROVINCE, ROOT_KEY, b64

MakeHub = Callable[..., Flask]


@pytest.fixture
def make_hub(database_url: str, shared_apps: AppCache) -> Iterator[MakeHub]:
    """Hub apps on the test database (which holds the hub's tables already: see
    tests/conftest.py); each configuration is built once per process and lent (tests/apps.py).
    Two calls with the same settings in one test give two apps on the same database."""
    lent: ExitStack = ExitStack()
    in_use: set[Any] = set()

    def make(**settings: Any) -> Flask:
        config = {
            "database_url": database_url, "secret_key": secrets.token_urlsafe(32),
            "testing": True, "root_code": PROVINCE, "root_public_key": b64(ROOT_KEY),
            **settings,
        }
        key = config_key(config, "database_url", "secret_key")
        if key in in_use:  # the same configuration twice: a second app of its own
            app = create_app(config)
            Base.metadata.create_all(app.extensions["tongban_db"].engine)
            lent.callback(app.extensions["tongban_db"].dispose)
            return app
        in_use.add(key)
        shared = shared_apps.get(("hub", key), lambda: create_app(config))
        return lent.enter_context(shared.lent(database_url))

    with lent:
        yield make


@pytest.fixture
def hub_app(make_hub: MakeHub) -> Flask:
    return make_hub()
