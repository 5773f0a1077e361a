"""A node's settings (see schemas.runtime.settings for how they are merged)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from node.metrics.assessment import ModelWindowRule
from schemas.divisions import validate_identity
from schemas.runtime.files import readable_by_others, sqlite_files
from schemas.runtime.settings import SettingsError, load_settings, read_secret_key

DEFAULTS: dict[str, Any] = {
    "home": None,
    "code": "",
    "name": "",
    "level": "",
    "kind": "",
    "parent_code": "",
    "database_url": "",
    "secret_key": "",
    "max_content_length": 8 * 1024 * 1024,
    "token_ttl_minutes": 12 * 60,
    "max_failed_logins": 5,
    "lockout_minutes": 15,
    "warning_yellow_days_left": 1,
    "warning_yellow_used_percent": 80,
    "lookup_attempts_per_minute": 10,
    "two_headed_window_days": 30,
    # the monthly model-window rule (红旗窗口), see node.metrics.assessment
    "model_window_min_cases": 20,
    "model_window_min_on_time_bp": 9800,
    "model_window_max_complaints": 0,
    "model_window_top": 3,
    "model_window_flag_bottom": 1,
    "model_window_weight_on_time": 50,
    "model_window_weight_same_day": 30,
    "model_window_weight_satisfaction": 20,
    # sync with the hub (node.sync)
    "hub_url": "",
    "hub_timeout_seconds": 30,
    "private_key_file": "",  # default: <home>/node_key.pem
    "root_public_key": "",  # the province's trust root; empty: pinned from the first registry
    "push_batch_size": 100,
    "pull_batch_size": 100,
    "sync_interval_seconds": 60,
    # push-now: the worker looks at the outbox this often and pushes at once what it finds
    "push_watch_seconds": 0.2,
    # pull-now: the worker long-polls its mailbox, the hub holding an empty answer this long
    # (0: no long poll; the mailbox is then read every sync_interval_seconds only)
    "pull_wait_seconds": 20.0,
    # after consecutive failures to reach the hub: exponential backoff with full jitter
    "sync_backoff_base_seconds": 5.0,
    "sync_backoff_cap_seconds": 900.0,
    "sync_gap_hold_minutes": 60,
    "summary_refresh_minutes": 60,
    "proxy_hops": 0,  # reverse proxies in front (X-Forwarded-For is trusted that deep)
    # the session cookie's Secure flag: "auto" sets it when proxy_hops > 0 (a proxy that
    # terminates TLS), true or false decide it
    "session_cookie_secure": "auto",
    "testing": False,
    "log_level": "INFO",
}


def check_private_database(settings: Mapping[str, Any]) -> None:
    """A node refuses to start with an SQLite database (or its -wal, -shm) that others may
    read: it holds applicants' ID and phone numbers and password hashes."""
    url = make_url(settings["database_url"])
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


def node_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
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
    try:
        ModelWindowRule.from_settings(settings)
    except SettingsError as exc:
        problems.append(str(exc))
    secure = cookie_secure(settings["session_cookie_secure"], settings["proxy_hops"])
    if secure is None:
        problems.append("session_cookie_secure must be auto, true or false, not "
                        f"{settings['session_cookie_secure']!r}")
    else:
        settings["session_cookie_secure"] = secure
    if problems:
        raise SettingsError("node cannot start: " + "; ".join(problems))
    return settings
