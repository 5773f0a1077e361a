"""View models (node/views.py): what is computed on read sits beside the row, never on it."""

from __future__ import annotations

import copy

import pytest

from node.cases.models import Case
from node.cases.views import CaseView
from node.cases.warnings import Warning
from node.feedback.models import Complaint
from node.feedback.views import ComplaintView


def test_a_view_reads_its_row_through_and_patches_nothing() -> None:
    case = Case(number="450981-2026-0000001", applicant_name="张三")
    view = CaseView(case, warning_now=Warning.RED, allowed_now=["accept"], query_code="ABCD2345")
    assert (view.number, view.applicant_name) == (case.number, "张三")
    assert (view.warning_now, view.allowed_now, view.query_code) == (
        Warning.RED, ["accept"], "ABCD2345")
    for name in ("warning_now", "allowed_now", "query_code"):
        assert not hasattr(case, name)  # the ORM row was given nothing
    assert not hasattr(view, "__getitem__")  # marshmallow reads it as an object, not a mapping
    assert copy.copy(view).row is case
    with pytest.raises(AttributeError):
        _ = view.no_such_column


def test_a_complaint_view_says_what_its_viewer_may_see() -> None:
    complaint = Complaint(number="TS-1", contact_phone="13900000000")
    shown = ComplaintView(complaint, overdue_now=True, in_time_now=None)
    assert (shown.number, shown.overdue_now, shown.phone_visible) == ("TS-1", True, False)
    assert not hasattr(complaint, "overdue_now")
