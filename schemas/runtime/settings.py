"""Configuration: defaults in code, then a TOML file, then ``TONGBAN_*`` environment, then
the mapping given to ``create_app`` — each later source overriding the earlier ones.

The home directory (``TONGBAN_HOME``) holds ``tongban.toml``, the generated secret key and,
by default, the SQLite database.  There are no fallback secrets: ``init`` generates one.
"""

from __future__ import annotations

import os
import secrets
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemas.runtime.files import write_private_text

CONFIG_FILE = "tongban.toml"
SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
ENV_PREFIX = "TONGBAN_"


class SettingsError(Exception):
    """The configuration is incomplete or contradicts itself."""


def _coerce(raw: str, like: Any) -> Any:
    if isinstance(like, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(like, int):
        return int(raw)
    if isinstance(like, float):
        return float(raw)
    return raw


def load_settings(
    defaults: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Merge defaults, ``<home>/tongban.toml`` (or ``TONGBAN_CONFIG``), environment and overrides.

    Keys are lower-case; ``TONGBAN_DATABASE_URL`` sets ``database_url``.  Unknown keys in the
    file or the overrides are refused, so that a typo never silently falls back to a default.
    """
    env = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    settings: dict[str, Any] = dict(defaults)
    home = overrides.get("home") or env.get(ENV_PREFIX + "HOME") or defaults.get("home")
    settings["home"] = str(home) if home else None

    config_path = overrides.get("config_file") or env.get(ENV_PREFIX + "CONFIG")
    if not config_path and home and (Path(home) / CONFIG_FILE).exists():
        config_path = str(Path(home) / CONFIG_FILE)
    if config_path:
        with open(config_path, "rb") as fh:
            from_file = tomllib.load(fh)
        _merge_known(settings, defaults, from_file, f"config file {config_path}")

    for key, like in defaults.items():
        raw = env.get(ENV_PREFIX + key.upper())
        if raw is not None and key != "home":
            settings[key] = _coerce(raw, like)

    overrides.pop("config_file", None)
    _merge_known(settings, defaults, overrides, "create_app config")
    settings["home"] = str(home) if home else settings.get("home")
    return settings


def _merge_known(
    settings: dict[str, Any], defaults: Mapping[str, Any], new: Mapping[str, Any], source: str
) -> None:
    unknown = sorted(set(new) - set(defaults) - {"home"})
    if unknown:
        raise SettingsError(f"unknown setting(s) in {source}: {', '.join(unknown)}")
    settings.update(new)


def read_secret_key(home: str | None) -> str | None:
    """The secret key stored under ``home`` by ``init``, if any."""
    if not home:
        return None
    path = Path(home) / SECRET_FILE
    if not path.exists():
        return None
    return path.read_text(encoding="ascii").strip()


def write_secret_key(home: str) -> Path:
    """Generate a secret key file readable by its owner only (kept if it already exists)."""
    path = Path(home) / SECRET_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path


def write_config_file(home: str, values: Mapping[str, Any]) -> Path:
    """Write ``tongban.toml`` with simple scalar values (mode 0600: it may hold a database
    password)."""
    lines = ["# tongban configuration, written by `tongban ... init`; edit as needed."]
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{key} = {value}")
        else:
            escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key} = "{escaped}"')
    return write_private_text(Path(home) / CONFIG_FILE, "\n".join(lines) + "\n")
