"""gunicorn's settings as ``serve`` gives them (schemas/runtime/serving.py): the graceful stop
production keeps, and the one the real-process tests ask for."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from schemas.runtime import serving


def settings_of(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Any:
    """The gunicorn configuration ``serve`` builds (its server is not started)."""
    seen: list[Any] = []
    monkeypatch.setattr(serving._Gunicorn, "run", lambda self: seen.append(self.cfg))
    serving.serve(lambda: Flask("t"), bind="127.0.0.1:1", workers=1, dev=False, **kwargs)
    (cfg,) = seen
    return cfg


def test_a_stopped_worker_has_ten_seconds_to_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TONGBAN_GUNICORN_GRACEFUL_TIMEOUT", raising=False)
    assert settings_of(monkeypatch).graceful_timeout == 10


def test_the_graceful_stop_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_GUNICORN_GRACEFUL_TIMEOUT", "1")
    cfg = settings_of(monkeypatch)
    assert cfg.graceful_timeout == 1
    assert cfg.timeout == 60  # nothing else changes
    assert cfg.workers == 1
