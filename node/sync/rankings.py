"""The node's signed client for the hub's rankings API (``/api/v1/rankings/…``): the HTTP
side of :class:`node.rankings.hub.RankingsHub`.

The node asks as itself: the hub answers only about the node's own subtree (403
``outside_scope`` otherwise).  The hub's answer — JSON, CSV or XLSX, success or error — is
handed back as it came; only a hub that cannot be reached or fails (5xx) becomes
:class:`~node.rankings.hub.HubUnreachable`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast
from urllib.parse import urlencode

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.rankings.hub import HubAnswer, HubUnreachable
from schemas.request_signing import sign_request
from schemas.runtime.database import utcnow

RANKINGS_PATH = "/api/v1/rankings"
DEFAULT_TIMEOUT = (5.0, 60.0)  # (connect, read) seconds: a province-wide table takes a while
ANSWER_MAX_BYTES = 32 * 1024 * 1024


class HttpSession(Protocol):
    """What the client needs of ``requests.Session`` (tests pass an in-process hub)."""

    def request(self, method: str, url: str, **kwargs: Any) -> Any: ...


class RankingsClient:
    """Signed GET/POST to the hub's rankings endpoints, with a timeout on every call."""

    def __init__(self, base_url: str, node_code: str, private_key: Ed25519PrivateKey, *,
                 session: HttpSession | None = None,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.base_url = base_url.rstrip("/")
        self.node_code = node_code
        self.private_key = private_key
        self.session = session if session is not None else cast(HttpSession, requests.Session())
        self.timeout = timeout
        self.clock = clock

    def ask(self, method: str, what: str, query: Sequence[tuple[str, str]] = (),
            body: bytes = b"") -> HubAnswer:
        """``method`` on ``/api/v1/rankings/<what>`` with ``query`` and a JSON ``body``."""
        target = f"{RANKINGS_PATH}/{what}"
        if query:
            target += "?" + urlencode(list(query))
        headers = {"Accept": "application/json"}
        if body:
            headers["Content-Type"] = "application/json"
        headers.update(sign_request(method=method, path=target, body=body, node=self.node_code,
                                    private_key=self.private_key, now=self.clock()))
        try:
            response = self.session.request(method, self.base_url + target, data=body or None,
                                            headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise HubUnreachable(f"cannot reach the hub: {exc}") from exc
        if response.status_code >= 500:
            raise HubUnreachable(f"the hub answered {response.status_code}",
                                 {"status": response.status_code})
        content = response.content
        if len(content) > ANSWER_MAX_BYTES:
            raise HubUnreachable("the hub's answer is too large", {"bytes": len(content)})
        headers_in: Mapping[str, str] = response.headers
        return HubAnswer(response.status_code,
                         headers_in.get("Content-Type", "application/json"), content,
                         headers_in.get("Content-Disposition"))

    def close(self) -> None:
        close = getattr(self.session, "close", None)
        if close is not None:
            close()
