"""Typed inputs of the feedback services, as the public forms and the API load them
(node/feedback/schemas.py, ``ComplaintArgs``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class NewComplaint:
    """A complaint (投诉) against a case (with its query code), a window or a staff member's
    工号; the service checks that it names one of them."""

    content: str
    case_number: str | None = None
    code: str | None = None
    window_code: str | None = None
    staff_code: str | None = None
    contact_phone: str | None = None


__all__ = ["NewComplaint"]
