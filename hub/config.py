"""The hub's settings (see schemas.settings for how they are merged)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemas.settings import SettingsError, load_settings, read_secret_key

DEFAULTS: dict[str, Any] = {
    "home": None,
    "name": "tongban hub",
    "database_url": "",
    "secret_key": "",
    "max_content_length": 16 * 1024 * 1024,
    "proxy_hops": 0,  # reverse proxies in front (X-Forwarded-For is trusted that deep)
    "testing": False,
    "log_level": "INFO",
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
