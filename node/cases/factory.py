"""Building a CaseService from a node's settings (shared by the API, the CLI and jobs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from node.calendar.service import CalendarService
from node.cases.forwarding import Forwarding
from node.cases.service import CaseService
from node.cases.warnings import WarningPolicy
from schemas.envelope import Envelope, Kind
from schemas.runtime.database import utcnow


def case_service_for(
    session: Session, settings: Mapping[str, Any], private_key: Ed25519PrivateKey,
    clock: Callable[[], dt.datetime] = utcnow,
) -> CaseService:
    """A CaseService on ``session`` with the node's calendar overrides and warning policy, and
    forwarding installed: steps on a case from below are signed and sent back with the key."""
    return forwarding_for(session, settings, private_key, clock).cases


def forwarding_for(
    session: Session, settings: Mapping[str, Any], private_key: Ed25519PrivateKey,
    clock: Callable[[], dt.datetime] = utcnow,
) -> Forwarding:
    cases = CaseService(
        session,
        node_code=settings["code"],
        calendar=CalendarService(session).cached_calendar(),
        warning_policy=WarningPolicy(
            yellow_days_left=settings["warning_yellow_days_left"],
            yellow_used_percent=settings["warning_yellow_used_percent"],
        ),
        clock=clock,
    )
    return Forwarding(cases, private_key)


def case_handlers(
    settings: Mapping[str, Any], private_key: Ed25519PrivateKey
) -> dict[Kind, Callable[[Session, Envelope], None]]:
    """The inbox handlers of ``case.forward``, ``case.result`` and ``case.update``."""

    def forward(session: Session, envelope: Envelope) -> None:
        forwarding_for(session, settings, private_key).receive_forward(envelope)

    def result(session: Session, envelope: Envelope) -> None:
        forwarding_for(session, settings, private_key).receive_result(envelope)

    def update(session: Session, envelope: Envelope) -> None:
        forwarding_for(session, settings, private_key).receive_update(envelope)

    return {Kind.CASE_FORWARD: forward, Kind.CASE_RESULT: result, Kind.CASE_UPDATE: update}
