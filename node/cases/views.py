"""A case as the pages and the API show it (node/views.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from node.cases.models import Case
from node.cases.warnings import Warning
from node.views import RowView


@dataclass(frozen=True)
class CaseView(RowView):
    """A case with its warning colour now and the actions its viewer may take now; once,
    right after 收件, the applicant's query code."""

    row: Case
    warning_now: Warning | None
    allowed_now: list[str] = field(default_factory=list)
    query_code: str | None = None
