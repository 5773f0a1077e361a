"""Serving a tongban application: gunicorn in production, Flask's server with ``--dev``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.factory()


def serve(
    factory: Callable[[], Flask],
    *,
    bind: str,
    workers: int,
    dev: bool,
    config_file: str | None = None,
) -> None:
    """Run ``factory()``'s app until stopped (SIGINT/SIGTERM end it cleanly)."""
    if dev:
        host, _, port = bind.rpartition(":")
        factory().run(host=host or "127.0.0.1", port=int(port), debug=False, use_reloader=False)
        return
    options: dict[str, Any] = {
        "bind": bind,
        "workers": workers,
        "accesslog": "-",
        "errorlog": "-",
        "timeout": 60,
        "graceful_timeout": 10,
    }
    if config_file:
        options["config"] = config_file
    _Gunicorn(factory, options).run()
