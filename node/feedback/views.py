"""Complaints and rectifications as the supervision API shows them (node/views.py)."""

from __future__ import annotations

from dataclasses import dataclass

from node.feedback.models import Complaint, Rectification
from node.feedback.service import FeedbackService
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


def present_complaint(service: FeedbackService, complaint: Complaint,
                      phone_visible: bool = False) -> ComplaintView:
    """The complaint with what is computed on read: overdue today, resolved in time."""
    return ComplaintView(complaint, overdue_now=service.complaint_overdue(complaint),
                         in_time_now=service.resolved_in_time(complaint),
                         phone_visible=phone_visible)


def present_rectification(service: FeedbackService,
                          rectification: Rectification) -> RectificationView:
    """The rectification with what is computed on read: overdue today, rectified in time."""
    return RectificationView(rectification,
                             overdue_now=service.rectification_overdue(rectification),
                             in_time_now=service.rectified_in_time(rectification))
