"""The node's signed client for the hub's rankings API (``/api/v1/rankings/…``) and for
opening an audit from the completeness page (``POST /api/v1/audits``): the HTTP side of
:class:`node.rankings.hub.RankingsHub`.

The node asks as itself: the hub answers only about the node's own subtree (403
``outside_scope`` otherwise).  The hub's answer — JSON, CSV or XLSX, success or error — is
handed back as it came; only a hub that cannot be reached or fails (5xx) becomes
:class:`~node.ports.HubUnavailable`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.ports import HubUnavailable
from node.rankings.hub import HubAnswer
from node.sync.client import AUDITS_PATH, HttpSession, SignedHubClient
from schemas.runtime.database import utcnow

RANKINGS_PATH = "/api/v1/rankings"
DEFAULT_TIMEOUT = (5.0, 60.0)  # (connect, read) seconds: a province-wide table takes a while
ANSWER_MAX_BYTES = 32 * 1024 * 1024


class RankingsClient(SignedHubClient):
    """Signed GET/POST to the hub's rankings endpoints, over the one signed client."""

    def __init__(self, base_url: str, node_code: str, private_key: Ed25519PrivateKey, *,
                 session: HttpSession | None = None,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        super().__init__(base_url, node_code, private_key, timeout=timeout, session=session,
                         clock=clock)

    def ask(self, method: str, what: str, query: Sequence[tuple[str, str]] = (),
            body: bytes = b"") -> HubAnswer:
        """``method`` on ``/api/v1/rankings/<what>`` with ``query`` and a JSON ``body``."""
        target = f"{RANKINGS_PATH}/{what}"
        if query:
            target += "?" + urlencode(list(query))
        headers = {"Accept": "application/json"}
        if body:
            headers["Content-Type"] = "application/json"
        return self._answer(self.send(method, target, body=body, headers=headers))

    def open_audit(self, node: str, period: str, sample_size: int) -> HubAnswer:
        """Open a sampled audit of a descendant's newest summary of ``period``
        (``POST /api/v1/audits``, signed as this node; docs/verification.md)."""
        body = orjson.dumps({"node": node, "period": period, "sample_size": sample_size})
        return self._answer(self.send("POST", AUDITS_PATH, body=body, headers={
            "Accept": "application/json", "Content-Type": "application/json"}))

    def _answer(self, response: Any) -> HubAnswer:
        if response.status_code >= 500:
            raise HubUnavailable(f"the hub answered {response.status_code}",
                                 {"status": response.status_code})
        content = response.content
        if len(content) > ANSWER_MAX_BYTES:
            raise HubUnavailable("the hub's answer is too large", {"bytes": len(content)})
        headers_in: Mapping[str, str] = response.headers
        return HubAnswer(response.status_code,
                         headers_in.get("Content-Type", "application/json"), content,
                         headers_in.get("Content-Disposition"))
