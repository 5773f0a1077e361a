"""A node's settings (see schemas.runtime.settings for how they are merged)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from node.metrics.assessment import ModelWindowRule
from node.settings import NodeSettings
from schemas.divisions import validate_identity
from schemas.runtime.files import readable_by_others, sqlite_files
from schemas.runtime.settings import (
    SettingsError,
    defaults_of,
    load_settings,
    read_secret_key,
    settings_of,
)

# what a TOML file, the environment and create_app may set, with the defaults
DEFAULTS: dict[str, Any] = {**defaults_of(NodeSettings), "session_cookie_secure": "auto"}


def check_private_database(settings: NodeSettings) -> None:
    """A node refuses to start with an SQLite database (or its -wal, -shm) that others may
    read: it holds applicants' ID and phone numbers and password hashes."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    loose = readable_by_others(sqlite_files(Path(url.database)))
    if loose:
        files = ", ".join(f"{path} (mode {mode:04o})" for path, mode in loose)
        raise SettingsError(
            f"node cannot start: {files} may be read by others; the database holds "
            f"applicants' personal data: run `chmod 600 {' '.join(str(p) for p, _ in loose)}`")


def cookie_secure(value: Any, proxy_hops: int) -> bool | None:
    """The session cookie's Secure flag from the setting (None when the value is bad)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("auto", ""):
        return int(proxy_hops) > 0
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    return None


def node_settings(overrides: Mapping[str, Any] | None = None) -> NodeSettings:
    """Load and check a node's settings; a node refuses to start without code and secret."""
    settings = load_settings(DEFAULTS, overrides)
    home = settings["home"]
    if not settings["secret_key"]:
        settings["secret_key"] = read_secret_key(home) or ""
    if not settings["database_url"] and home:
        settings["database_url"] = f"sqlite:///{Path(home).resolve() / 'node.db'}"
    problems = []
    if not settings["code"]:
        problems.append("code is not set (run `tongban node init`)")
    else:
        problems += validate_identity(settings["code"], settings["level"], settings["kind"] or None)
    if not settings["secret_key"]:
        problems.append("no secret key (run `tongban node init` to generate one)")
    if not settings["database_url"]:
        problems.append("database_url is not set and there is no home directory")
    secure = cookie_secure(settings["session_cookie_secure"], settings["proxy_hops"])
    if secure is None:
        problems.append("session_cookie_secure must be auto, true or false, not "
                        f"{settings['session_cookie_secure']!r}")
    else:
        settings["session_cookie_secure"] = secure
    if problems:
        raise SettingsError("node cannot start: " + "; ".join(problems))
    checked = settings_of(NodeSettings, settings, "node")
    if not 0 < checked.upload_max_file_bytes <= checked.upload_max_case_bytes:
        raise SettingsError(
            "node cannot start: upload_max_file_bytes must be above 0 and at most "
            f"upload_max_case_bytes, not {checked.upload_max_file_bytes!r} and "
            f"{checked.upload_max_case_bytes!r}")
    try:
        ModelWindowRule.from_settings(checked)
    except SettingsError as exc:
        raise SettingsError(f"node cannot start: {exc}") from None
    return checked
