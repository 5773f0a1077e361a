"""Configuration: defaults in code, then a TOML file, then ``TONGBAN_*`` environment, then
the mapping given to ``create_app`` — each later source overriding the earlier ones.

The home directory (``TONGBAN_HOME``) holds ``tongban.toml``, the generated secret key and,
by default, the SQLite database.  There are no fallback secrets: ``init`` generates one.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import stat
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from schemas.runtime.files import write_private_text

CONFIG_FILE = "tongban.toml"
SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
ENV_PREFIX = "TONGBAN_"


class SettingsError(Exception):
    """The configuration is incomplete or contradicts itself."""


if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_Settings = TypeVar("_Settings", bound="DataclassInstance")


def _coerce(name: str, raw: str, like: Any) -> Any:
    if isinstance(like, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    try:
        if isinstance(like, int):
            return int(raw)
        if isinstance(like, float):
            return float(raw)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name.upper()} must be a number, not {raw!r}") from None
    return raw


def defaults_of(settings_class: type[DataclassInstance]) -> dict[str, Any]:
    """Every setting of a settings dataclass with its default, as :func:`load_settings` reads
    them (the names a TOML file, the environment and ``create_app`` may set)."""
    return {field.name: field.default for field in dataclasses.fields(settings_class)}


def settings_of(settings_class: type[_Settings], values: Mapping[str, Any], who: str) -> _Settings:
    """``values`` (merged by :func:`load_settings` and completed) as the frozen dataclass
    ``settings_class``, each checked against its field's type: a setting of the wrong type
    stops the start with every such problem named (``who`` cannot start: …)."""
    hints = typing.get_type_hints(settings_class)
    problems: list[str] = []
    checked: dict[str, Any] = {}
    for field in dataclasses.fields(settings_class):
        value = values[field.name]
        kinds = _kinds(hints[field.name])
        if isinstance(value, int) and not isinstance(value, bool) and float in kinds:
            value = float(value)  # a whole number where seconds may have a fraction
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            problems.append(f"{field.name} must be {_named(kinds)}, not {value!r}")
        checked[field.name] = value
    if problems:
        raise SettingsError(f"{who} cannot start: " + "; ".join(problems))
    return settings_class(**checked)


def _kinds(annotation: Any) -> tuple[type, ...]:
    """The types a setting's annotation allows (``str``, ``int``, ``str | None``, …)."""
    if isinstance(annotation, types.UnionType):
        return tuple(type(None) if arg is None else arg for arg in typing.get_args(annotation))
    return (annotation,)


_KIND_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
               type(None): "unset"}


def _named(kinds: tuple[type, ...]) -> str:
    return " or ".join(_KIND_NAMES.get(kind, kind.__name__) for kind in kinds)


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
            settings[key] = _coerce(key, raw, like)

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
