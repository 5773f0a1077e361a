"""What the rankings need of the hub: a port the sync layer implements.

The node asks the hub's rankings API as itself (node/sync/rankings.py signs each request and
sends it over HTTP); the hub answers only about the node's own subtree (403 ``outside_scope``
otherwise).  The hub's answer — JSON, CSV or XLSX, success or error — is handed back as it came;
only a hub that cannot be reached or fails (5xx) becomes :class:`~node.ports.HubUnavailable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class HubAnswer:
    status: int
    content_type: str
    body: bytes
    content_disposition: str | None = None


class RankingsHub(Protocol):
    """Asks the hub's rankings API (``/api/v1/rankings/<what>``) as this node, and opens
    audits of the centers below from the completeness page."""

    def ask(self, method: str, what: str, query: Sequence[tuple[str, str]] = (),
            body: bytes = b"") -> HubAnswer: ...

    def open_audit(self, node: str, period: str, sample_size: int) -> HubAnswer:
        """Open a sampled audit of a descendant's newest summary of ``period`` as this
        node (``POST /api/v1/audits``; docs/verification.md)."""
        ...


__all__ = ["HubAnswer", "RankingsHub"]
