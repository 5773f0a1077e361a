"""Building a CaseService from a node's settings (shared by the API, the CLI and jobs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from node.calendar.service import CalendarService
from node.cases.service import CaseService
from node.cases.warnings import WarningPolicy


def case_service_for(session: Session, settings: Mapping[str, Any]) -> CaseService:
    """A CaseService on ``session`` with the node's calendar overrides and warning policy."""
    return CaseService(
        session,
        node_code=settings["code"],
        calendar=CalendarService(session).calendar(),
        warning_policy=WarningPolicy(
            yellow_days_left=settings["warning_yellow_days_left"],
            yellow_used_percent=settings["warning_yellow_used_percent"],
        ),
    )
