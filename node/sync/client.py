"""The real :class:`~node.sync.transport.HubTransport`: the hub's HTTP API over ``requests``.

Every call is signed with the node's key (schemas.request_signing) except the public
registry.  Network failures and 5xx/429 answers become :class:`HubUnavailable` (retry with
backoff); other 4xx answers :class:`HubRefused`.  An idempotent request whose connection was
closed under it (the hub closed a kept-alive connection as the session reused it) is sent
once more at once, signed afresh, on a new connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast
from urllib.parse import urlencode

import orjson
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from urllib3.exceptions import ProtocolError

from node.ports import HubUnavailable
from node.sync.errors import HubRefused
from node.sync.transport import HubTransport
from schemas.request_signing import sign_request
from schemas.runtime.database import utcnow

ENVELOPES_PATH = "/api/v1/envelopes"
LAST_SEQ_PATH = "/api/v1/envelopes/last-seq"
MAILBOX_PATH = "/api/v1/mailbox"
ACK_PATH = "/api/v1/mailbox/ack"
REGISTRY_PATH = "/api/v1/registry"
BLOBS_PATH = "/api/v1/blobs/"
AUDIT_ANCHOR_PATH = "/api/v1/audit/anchor"
PENDING_AUDITS_PATH = "/api/v1/audits/pending"
AUDITS_PATH = "/api/v1/audits"
DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# sent twice, they change nothing more than once (HTTP's idempotent methods); a POST says so
# itself (`idempotent=True`: a push, whose envelopes the hub logs once by sender and seq, and
# an acknowledgement of a cursor)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class HttpSession(Protocol):
    """What the client needs of ``requests.Session`` (tests pass an in-process hub)."""

    def request(self, method: str, url: str, **kwargs: Any) -> Any: ...


class SignedHubClient:
    """The node's one HTTP client of the hub: one session, every request signed as this node
    (RFC 9421, schemas.request_signing) unless it is public, a timeout on every call, and a
    hub that cannot be reached raised as :class:`HubUnavailable`.  The sync transport and the
    rankings client are built on it."""

    def __init__(
        self,
        base_url: str,
        node_code: str,
        private_key: Ed25519PrivateKey,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        session: HttpSession | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.node_code = node_code
        self.private_key = private_key
        self.timeout = timeout
        self.session = session if session is not None else cast(HttpSession, requests.Session())
        self.clock = clock

    def send(self, method: str, target: str, *, body: bytes = b"",
             headers: Mapping[str, str] | None = None, signed: bool = True,
             timeout: float | tuple[float, float] | None = None,
             idempotent: bool | None = None) -> Any:
        """``method`` on ``target`` (path and query) with ``body``; the response as it came.

        A request that is ``idempotent`` (default: by its method) and whose connection was
        closed under it is sent a second time, signed afresh (a new nonce: the hub may have
        stored the first one's), never a third: the hub closes an idle kept-alive connection
        after its keep-alive time, and a session that reuses it at that moment gets
        ``Connection aborted`` / ``Connection reset`` although the hub is up.  A refused
        connection or a timeout is not retried here (the worker's backoff does that)."""
        path = target.split("?", 1)[0]
        again = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        while True:
            sent = dict(headers or {})
            if signed:
                sent.update(sign_request(method=method, path=target, body=body,
                                         node=self.node_code, private_key=self.private_key,
                                         now=self.clock()))
            try:
                return self.session.request(method, self.base_url + target, data=body or None,
                                            headers=sent,
                                            timeout=self.timeout if timeout is None else timeout)
            except requests.RequestException as exc:
                if again and closed_under_request(exc):
                    again = False
                    continue
                raise HubUnavailable(f"cannot reach the hub for {method} {path}: {exc}") from exc

    def close(self) -> None:
        close = getattr(self.session, "close", None)
        if close is not None:
            close()


def closed_under_request(exc: requests.RequestException) -> bool:
    """Whether ``exc`` is a connection that was open and closed by the other side while the
    request was sent or its answer awaited (urllib3's ``ProtocolError``: ``Connection
    aborted``, ``RemoteDisconnected``, a reset), not a refused connection or a timeout."""
    return (isinstance(exc, requests.ConnectionError)
            and not isinstance(exc, requests.Timeout)
            and bool(exc.args) and isinstance(exc.args[0], ProtocolError))


class HttpHubTransport(SignedHubClient):
    """:class:`HubTransport` over the signed client: JSON in and out, 4xx refused, the rest
    retried."""

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        payload: Any = None,
        signed: bool = True,
        raw: bytes | None = None,
        binary: bool = False,
        extra_wait: float = 0.0,
        idempotent: bool | None = None,
    ) -> Any:
        target = f"{path}?{urlencode(query)}" if query else path
        body = orjson.dumps(payload) if payload is not None else (raw or b"")
        headers = {"Accept": "application/octet-stream" if binary else "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        elif raw is not None:
            headers["Content-Type"] = "application/octet-stream"
        response = self.send(method, target, body=body, headers=headers, signed=signed,
                             timeout=self._timeout(extra_wait), idempotent=idempotent)
        try:
            response.raise_for_status()
            if binary:
                return response.content
            return response.json() if response.content else None
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status >= 500 or status in RETRYABLE_STATUSES:
                raise HubUnavailable(f"the hub answered {status} to {method} {path}",
                                     {"status": status}) from exc
            reason, text = _error_reason(exc.response)
            label = f"{status} {reason}" if reason else str(status)
            raise HubRefused(
                status, f"the hub refused {method} {path} ({label}): {text}",
                {"reason": reason} if reason else None,
            ) from exc
        except requests.RequestException as exc:  # a body cut off while it was read
            raise HubUnavailable(f"cannot reach the hub for {method} {path}: {exc}") from exc
        except ValueError as exc:  # a body that is not JSON (requests' JSONDecodeError)
            raise HubUnavailable(f"the hub's answer to {method} {path} is not JSON") from exc

    def _timeout(self, extra_wait: float) -> float | tuple[float, float]:
        """The timeout of a call the hub may hold ``extra_wait`` seconds (a long poll)."""
        if not extra_wait:
            return self.timeout
        if isinstance(self.timeout, tuple):
            connect, read = self.timeout
            return (connect, read + extra_wait)
        return (self.timeout, self.timeout + extra_wait)

    def post_envelopes(self, envelopes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        # the hub logs an envelope once (sender, seq): a push sent twice is answered the same
        answer = self._call("POST", ENVELOPES_PATH, payload={"envelopes": list(envelopes)},
                            idempotent=True)
        return _list_field(answer, "results", "POST", ENVELOPES_PATH)

    def fetch_last_seq(self) -> int:
        """The highest seq the hub has logged from this node (0 when none)."""
        answer = self._call("GET", LAST_SEQ_PATH)
        if not isinstance(answer, dict) or not isinstance(answer.get("last_seq"), int):
            raise HubUnavailable(f"the hub's answer to GET {LAST_SEQ_PATH} has no last_seq")
        return int(answer["last_seq"])

    def fetch_mailbox(self, after: int, limit: int) -> list[dict[str, Any]]:
        answer = self._call("GET", MAILBOX_PATH, query={"after": after, "limit": limit})
        return _list_field(answer, "items", "GET", MAILBOX_PATH)

    def wait_for_mailbox(self, after: int, limit: int, wait: float) -> list[dict[str, Any]]:
        """A long poll: the mailbox after ``after``, the hub holding an empty answer up to
        ``wait`` seconds until something arrives (the read timeout grows by ``wait``)."""
        answer = self._call("GET", MAILBOX_PATH,
                            query={"after": after, "limit": limit, "wait": wait},
                            extra_wait=wait)
        return _list_field(answer, "items", "GET", MAILBOX_PATH)

    def ack(self, cursor: int) -> None:
        self._call("POST", ACK_PATH, payload={"cursor": cursor}, idempotent=True)

    def fetch_registry(self) -> dict[str, Any]:
        answer = self._call("GET", REGISTRY_PATH, signed=False)
        if not isinstance(answer, dict):
            raise HubUnavailable(f"the hub's answer to GET {REGISTRY_PATH} is not a registry")
        return answer

    def fetch_registry_changes(
        self, *, node: str, certificates_after: int, revocations_after: int,
        chains: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The part of the registry ``node`` hears from, stored after the two cursors, plus
        the whole chains of ``chains`` (``GET /api/v1/registry?node=…``)."""
        query: list[tuple[str, Any]] = [
            ("node", node), ("certificates_after", certificates_after),
            ("revocations_after", revocations_after), *(("chain", code) for code in chains)]
        answer = self._call("GET", REGISTRY_PATH, query=query, signed=False)
        if not isinstance(answer, dict) or not isinstance(answer.get("cursor"), dict):
            raise HubUnavailable(f"the hub's answer to GET {REGISTRY_PATH} is not a registry")
        return answer

    def fetch_audit_anchor(self) -> dict[str, Any] | None:
        """This node's newest audit anchor at the hub (None before its first)."""
        try:
            answer = self._call("GET", AUDIT_ANCHOR_PATH)
        except HubRefused as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(answer, dict) or not isinstance(answer.get("entries"), int) \
                or not isinstance(answer.get("head"), str):
            raise HubUnavailable(f"the hub's answer to GET {AUDIT_ANCHOR_PATH} is no anchor")
        return answer

    def fetch_audits(self) -> list[dict[str, Any]]:
        """This node's audits waiting for its ``audit.response`` (docs/verification.md)."""
        return _list_field(self._call("GET", PENDING_AUDITS_PATH), "audits", "GET",
                           PENDING_AUDITS_PATH)

    def open_audit(self, node: str, period: str, sample_size: int,
                   seq: int | None = None) -> dict[str, Any]:
        """Open a sampled audit of a descendant's summary as this node (POST /api/v1/audits)."""
        document: dict[str, Any] = {"node": node, "period": period, "sample_size": sample_size}
        if seq is not None:
            document["seq"] = seq
        answer = self._call("POST", AUDITS_PATH, payload=document)
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise HubUnavailable(f"the hub's answer to POST {AUDITS_PATH} is no audit")
        return answer

    def put_blob(self, sha256: str, data: bytes) -> None:
        self._call("PUT", BLOBS_PATH + sha256, raw=data)

    def get_blob(self, sha256: str) -> bytes:
        content = self._call("GET", BLOBS_PATH + sha256, binary=True)
        assert isinstance(content, bytes)  # noqa: S101 - binary=True
        return content


def _list_field(answer: Any, key: str, method: str, path: str) -> list[dict[str, Any]]:
    """``answer[key]`` as a list; an answer without it (an empty or cut-off body that still
    parsed) is a failure worth retrying, like no answer at all."""
    if not isinstance(answer, dict) or not isinstance(answer.get(key), list):
        raise HubUnavailable(f"the hub's answer to {method} {path} has no {key!r} list")
    return list(answer[key])


def _error_reason(response: requests.Response | None) -> tuple[str, str]:
    """The hub's reason code (``details.reason``, else ``code``) and message of an error."""
    if response is None:
        return "", ""
    try:
        error = response.json().get("error", {})
        reason = str((error.get("details") or {}).get("reason") or error.get("code") or "")
        return reason[:64], str(error.get("message", ""))[:500]
    except (ValueError, AttributeError):
        return "", response.text[:500]


__all__ = ["HttpHubTransport", "HttpSession", "HubTransport", "SignedHubClient"]
