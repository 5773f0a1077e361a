"""The hub's settings (see schemas.runtime.settings for how they are merged)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemas.runtime.settings import (
    CONFIG_FILE,
    SettingsError,
    load_settings,
    read_secret_key,
    write_config_file,
)

DEFAULTS: dict[str, Any] = {
    "home": None,
    "name": "tongban hub",
    "database_url": "",
    "secret_key": "",
    "max_content_length": 16 * 1024 * 1024,
    "proxy_hops": 0,  # reverse proxies in front (X-Forwarded-For is trusted that deep)
    "testing": False,
    "log_level": "INFO",
    # the trust root: the province's code and its root public key (raw Ed25519, base64url),
    # set by `tongban hub trust-root`; until then the hub refuses every envelope
    "root_code": "",
    "root_public_key": "",
    "max_batch": 500,  # envelopes per POST /api/v1/envelopes
    # a sampled audit not answered this long after it was opened reads 未应答 (unanswered)
    "audit_answer_seconds": 24 * 3600,
    "max_blob_bytes": 20 * 1024 * 1024,
    # a long-polling GET /api/v1/mailbox?wait=… is woken by a NOTIFY on PostgreSQL; on SQLite
    # (no notification channel) it also looks this often for other processes' deliveries
    "mailbox_poll_seconds": 0.2,
    # `tongban hub serve`: gunicorn's worker class, "gevent" (a waiting long poll holds a
    # greenlet and its socket, docs/scale.md) or "gthread" (a waiting long poll holds a thread)
    "serve_worker_class": "gevent",
    # gevent: the most connections one worker process holds (waiting nodes and the rest)
    "serve_connections": 5000,
    # gthread: threads per worker
    "serve_threads": 8,
}


def hub_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    settings = load_settings(DEFAULTS, overrides)
    home = settings["home"]
    if not settings["secret_key"]:
        settings["secret_key"] = read_secret_key(home) or ""
    if not settings["database_url"] and home:
        settings["database_url"] = f"sqlite:///{Path(home).resolve() / 'hub.db'}"
    problems = []
    if not settings["secret_key"]:
        problems.append("no secret key (run `tongban hub init` to generate one)")
    if not settings["database_url"]:
        problems.append("database_url is not set and there is no home directory")
    if problems:
        raise SettingsError("hub cannot start: " + "; ".join(problems))
    return settings


def update_config_file(home: str, values: Mapping[str, Any]) -> Path:
    """Set ``values`` in ``<home>/tongban.toml``, keeping every other setting it holds."""
    path = Path(home) / CONFIG_FILE
    current: dict[str, Any] = {}
    if path.exists():
        with path.open("rb") as handle:
            current = tomllib.load(handle)
    unknown = sorted(set(values) - set(DEFAULTS))
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
    return write_config_file(home, {**current, **values})
