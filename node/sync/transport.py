"""What the sync service needs from the hub, as a Protocol (no HTTP library here).

:class:`node.sync.client.HttpHubTransport` is the real one; unit tests use an in-memory hub.
Implementations raise :class:`node.sync.errors.HubUnavailable` for failures worth retrying
and :class:`node.sync.errors.HubRefused` when the hub refuses the request itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class HubTransport(Protocol):
    """What the sync service needs from the hub."""

    def post_envelopes(self, envelopes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Push wire envelopes; one result per envelope: ``{"id", "status", "reason"?}``."""

    def fetch_mailbox(self, after: int, limit: int) -> list[dict[str, Any]]:
        """This node's mailbox items after ``after``: ``[{"cursor": int, "envelope": wire}]``.

        A transport that can long-poll also has ``wait_for_mailbox(after, limit, wait)``
        (the hub holds an empty answer up to ``wait`` seconds); :meth:`SyncService.pull`
        uses it when asked to wait, and reads at once without it."""

    def ack(self, cursor: int) -> None:
        """Acknowledge everything up to ``cursor``."""

    def fetch_registry(self) -> dict[str, Any]:
        """The registry document plus ``root_code`` and ``root_public_key``."""

    def put_blob(self, sha256: str, data: bytes) -> None:
        """Upload a file's bytes under their SHA-256 (storing them again changes nothing)."""

    def get_blob(self, sha256: str) -> bytes:
        """Download a blob this node may read (sender or addressee of an envelope listing it)."""
