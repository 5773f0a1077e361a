"""Hub apps on a fresh database (SQLite and PostgreSQL), with the test federation's root."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from hub import create_app
from hub.models import Base
from tests.unit.hub.federation import PROVINCE, ROOT_KEY, b64

MakeHub = Callable[..., Flask]


@pytest.fixture
def make_hub(database_url: str) -> Iterator[MakeHub]:
    """Build hub apps on the test database; the schema is created once."""
    apps: list[Flask] = []

    def make(**settings: Any) -> Flask:
        app = create_app({
            "database_url": database_url, "secret_key": secrets.token_urlsafe(32),
            "testing": True, "root_code": PROVINCE, "root_public_key": b64(ROOT_KEY),
            **settings,
        })
        if not apps:
            Base.metadata.create_all(app.extensions["tongban_db"].engine)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["hub_mailbox_bell"].close()
        app.extensions["tongban_db"].dispose()


@pytest.fixture
def hub_app(make_hub: MakeHub) -> Flask:
    return make_hub()
