"""The hub's settings as the code reads them: one frozen dataclass, built and checked at start
by hub.config.hub_settings (from defaults, a TOML file, the environment and create_app's
mapping).  No imports beyond the standard library: every part of the hub may take it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HubSettings:
    """The hub's settings, checked at start (``tongban hub …``).  Each field's default is the
    hub's default; a TOML file, ``TONGBAN_<NAME>`` and ``create_app``'s mapping override it
    (schemas.settings)."""

    home: str | None = None
    name: str = "tongban hub"
    database_url: str = ""
    secret_key: str = field(default="", repr=False)
    max_content_length: int = 16 * 1024 * 1024
    proxy_hops: int = 0  # reverse proxies in front (X-Forwarded-For is trusted that deep)
    testing: bool = False
    log_level: str = "INFO"
    # the trust root: the province's code and its root public key (raw Ed25519, base64url),
    # set by `tongban hub trust-root`; until then the hub refuses every envelope
    root_code: str = ""
    root_public_key: str = ""
    max_batch: int = 500  # envelopes per POST /api/v1/envelopes
    # a sampled audit not answered this long after it was opened reads 未应答 (unanswered)
    audit_answer_seconds: int = 24 * 3600
    max_blob_bytes: int = 20 * 1024 * 1024
    # a long-polling GET /api/v1/mailbox?wait=… is woken by a NOTIFY on PostgreSQL; on SQLite
    # (no notification channel) it also looks this often for other processes' deliveries
    mailbox_poll_seconds: float = 0.2
    # `tongban hub serve`: gunicorn's worker class, "gevent" (a waiting long poll holds a
    # greenlet and its socket, docs/scale.md) or "gthread" (a waiting long poll holds a thread)
    serve_worker_class: str = "gevent"
    # gevent: the most connections one worker process holds (waiting nodes and the rest)
    serve_connections: int = 5000
    # gthread: threads per worker
    serve_threads: int = 8
    # how long a worker keeps an idle kept-alive connection open (gunicorn's `keepalive`):
    # above every client's idle gap before it reuses one — nginx's upstream keep-alive (60 s),
    # aiohttp's (15 s) — so that a client never sends on a connection the hub just closed
    # (gunicorn's default, 2 s, gave `Server disconnected` under load: docs/scale.md)
    serve_keepalive_seconds: int = 75

    def as_dict(self) -> dict[str, Any]:
        """The settings as ``create_app`` takes them (a test's app of its own)."""
        return dataclasses.asdict(self)
