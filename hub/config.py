"""The hub's settings (see schemas.runtime.settings for how they are merged)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hub.settings import HubSettings
from schemas.runtime.settings import (
    CONFIG_FILE,
    SettingsError,
    defaults_of,
    load_settings,
    read_secret_key,
    settings_of,
    write_config_file,
)

# what a TOML file, the environment and create_app may set, with the defaults
DEFAULTS: dict[str, Any] = defaults_of(HubSettings)


def hub_settings(overrides: Mapping[str, Any] | None = None) -> HubSettings:
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
    return settings_of(HubSettings, settings, "hub")


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
