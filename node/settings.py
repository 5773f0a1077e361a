"""A node's settings as the code reads them: one frozen dataclass, built and checked at start
by node.config.node_settings (from defaults, a TOML file, the environment and create_app's
mapping).  No imports beyond the standard library: every part of the node may take it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NodeSettings:
    """A node's settings, checked at start: the node web app, its worker and its commands all
    read them (``tongban node …``).  Each field's default is the node's default; a TOML file,
    ``TONGBAN_<NAME>`` and ``create_app``'s mapping override it (schemas.settings)."""

    home: str | None = None
    code: str = ""
    name: str = ""
    level: str = ""
    kind: str = ""
    parent_code: str = ""
    database_url: str = ""
    secret_key: str = field(default="", repr=False)
    max_content_length: int = 8 * 1024 * 1024
    # an application's material files (node/cases/materials.py): each, and all of one case
    upload_max_file_bytes: int = 4 * 1024 * 1024
    upload_max_case_bytes: int = 8 * 1024 * 1024
    token_ttl_minutes: int = 12 * 60
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    warning_yellow_days_left: int = 1
    warning_yellow_used_percent: int = 80
    lookup_attempts_per_minute: int = 10
    two_headed_window_days: int = 30
    # the monthly model-window rule (红旗窗口), see node.metrics.assessment
    model_window_min_cases: int = 20
    model_window_min_on_time_bp: int = 9800
    model_window_max_complaints: int = 0
    model_window_top: int = 3
    model_window_flag_bottom: int = 1
    model_window_weight_on_time: int = 50
    model_window_weight_same_day: int = 30
    model_window_weight_satisfaction: int = 20
    # sync with the hub (node.sync)
    hub_url: str = ""
    hub_timeout_seconds: float = 30.0
    private_key_file: str = ""  # default: <home>/node_key.pem
    root_public_key: str = ""  # the province's trust root; empty: pinned from the first registry
    push_batch_size: int = 100
    pull_batch_size: int = 100
    sync_interval_seconds: int = 60
    # push-now: the worker looks at the outbox this often and pushes at once what it finds
    push_watch_seconds: float = 0.2
    # pull-now: the worker long-polls its mailbox, the hub holding an empty answer this long
    # (0: no long poll; the mailbox is then read every sync_interval_seconds only)
    pull_wait_seconds: float = 20.0
    # after consecutive failures to reach the hub: exponential backoff with full jitter
    sync_backoff_base_seconds: float = 5.0
    sync_backoff_cap_seconds: float = 900.0
    sync_gap_hold_minutes: int = 60
    summary_refresh_minutes: int = 60
    proxy_hops: int = 0  # reverse proxies in front (X-Forwarded-For is trusted that deep)
    # the session cookie's Secure flag, resolved at start from the setting: "auto" (the
    # default, see DEFAULTS) sets it when proxy_hops > 0 (a proxy that terminates TLS), true
    # or false decide it
    session_cookie_secure: bool = False
    testing: bool = False
    log_level: str = "INFO"

    @property
    def upload_request_max_bytes(self) -> int:
        """The most a request of a form with material files may carry (every other request:
        ``max_content_length``): an application's files (``upload_max_case_bytes``) with room
        for the multipart envelope and the form's other fields (a quarter more, at least
        1 MB), so that files beyond a material's or the case's limit are answered by the
        form's own message naming the material (node/cases/materials.py), not by a 413."""
        room = max(1024 * 1024, self.upload_max_case_bytes // 4)
        return max(self.max_content_length, self.upload_max_case_bytes + room)

    def as_dict(self) -> dict[str, Any]:
        """The settings as ``create_app`` takes them (a test's app of its own, a child process)."""
        return dataclasses.asdict(self)
