"""Applications built once per test process and lent to one test at a time.

``create_app`` costs far more than most tests (the URL map and the OpenAPI document of every
blueprint), so the ``app`` and ``make_hub`` fixtures build each distinct configuration once
and, for each test, put the test's own database under it and every setting and extension back
as ``create_app`` left them: the test sees the app exactly as a fresh one, on its own database.

What this relies on, and what a change to the apps must keep true:

- the request's database is ``app.extensions["tongban_db"]`` (schemas/runtime/webapp.py reads it per
  request), so swapping it swaps the database;
- per-process state lives in ``app.extensions`` or ``app.config["TONGBAN"]`` (both restored
  for each test, the composition roots' ``NodeServices`` and ``HubServices`` built anew; the
  settings are a frozen dataclass, which a test changes by replacing it with
  ``dataclasses.replace``, so every part of the app reads them from ``app.config`` at
  the time it needs them, never from a copy it kept) or on the ``Database`` object (new for
  each test); a cache kept anywhere else would carry one test's data into the next;
- a test that changes the app's set-up (adds a route or a hook) asks for an app of its own
  with ``@pytest.mark.own_app``: Flask refuses set-up calls once an app has served a request.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from hub.composition import HubServices
from hub.relay.wakeup import MailboxBell
from node.composition import NodeServices
from schemas.runtime.database import Database


class SharedApp:
    """One app and the state ``create_app`` left it in."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.config = dict(app.config)
        self.settings = app.config["TONGBAN"]  # frozen: never changed in place
        self.extensions = dict(app.extensions)
        app.extensions["tongban_db"].dispose()  # the test's database replaces it

    @contextmanager
    def lent(self, database_url: str) -> Iterator[Flask]:
        """The app on ``database_url`` for one test, reset to its first state afterwards."""
        app = self.app
        app.config.clear()
        app.config.update(self.config, TONGBAN=replace(self.settings, database_url=database_url))
        app.extensions.clear()
        app.extensions.update(self.extensions)
        db = Database(database_url)
        app.extensions["tongban_db"] = db
        # the composition root's services as create_app builds them, anew for each test: what
        # they keep per process (the hub's trust store, the rankings client) is the test's own
        bell: MailboxBell | None = None
        hub_services = self.extensions.get(HubServices.EXTENSION)
        if isinstance(hub_services, HubServices):  # the hub's waiters listen on its database
            if hub_services.bell is not None:
                bell = MailboxBell(db.engine, poll_seconds=hub_services.bell.poll_seconds)
            app.extensions[HubServices.EXTENSION] = HubServices(
                app.config["TONGBAN"], db, bell=bell)
        node_services = self.extensions.get(NodeServices.EXTENSION)
        if isinstance(node_services, NodeServices):
            app.extensions[NodeServices.EXTENSION] = NodeServices(
                node_services.settings, node_services.private_key)
        try:
            yield app
        finally:
            if bell is not None:
                bell.close()
            db.dispose()
            app.extensions["tongban_db"] = self.extensions["tongban_db"]


class AppCache:
    """The shared apps of one test process, one per distinct configuration."""

    def __init__(self) -> None:
        self._apps: dict[Hashable, SharedApp] = {}

    def get(self, key: Hashable, build: Callable[[], Flask]) -> SharedApp:
        if key not in self._apps:
            self._apps[key] = SharedApp(build())
        return self._apps[key]


def config_key(config: dict[str, Any], *ignored: str) -> Hashable:
    """A hashable key of a configuration, leaving out what differs per test."""
    return tuple(sorted((name, repr(value)) for name, value in config.items()
                        if name not in ignored))


def wants_own_app(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("own_app") is not None
