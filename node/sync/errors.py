"""Sync's domain errors (no HTTP here; the web layer maps TongbanError subclasses)."""

from __future__ import annotations

from typing import Any

from node.ports import SyncError
from schemas.errors import TongbanError


class HubRefused(SyncError):
    """The hub refused the request itself (4xx), e.g. a request signature it does not accept."""

    code = "hub_refused"

    def __init__(self, status: int, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, {"status": status, **(details or {})})
        self.status = status


class EnrollmentError(TongbanError):
    """A certificate or revocation this node may not issue."""

    code = "enrollment_error"
