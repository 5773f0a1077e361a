"""Complaints and rectifications as the supervision API shows them (node/views.py)."""

from __future__ import annotations

from dataclasses import dataclass

from node.feedback.models import Complaint, Rectification
from node.views import RowView


@dataclass(frozen=True)
class ComplaintView(RowView):
    """A complaint with whether it is overdue today and was resolved in time; whether its
    viewer may see the complainant's phone in full."""

    row: Complaint
    overdue_now: bool
    in_time_now: bool | None
    phone_visible: bool = False


@dataclass(frozen=True)
class RectificationView(RowView):
    """A rectification with whether it is overdue today and was rectified in time."""

    row: Rectification
    overdue_now: bool
    in_time_now: bool | None
