"""The rectification (整改) state machine and its deadline rules::

      pending ──start──▶ in_rectification ──complete──▶ done            (note required)
                         in_rectification ──cannot_rectify──▶ cannot_rectify (reason)
      pending ──dispute──▶ disputed ──uphold──▶ pending                 (申诉: invalid-rating
                           disputed ──invalidate──▶ rating_void          review; reasons)
      pending / in_rectification ──extend──▶ (same state)               (延期: once, reason,
                                                                         moves the deadline)

*Overdue* is computed (deadline passed while still open), never stored. A dispute does not
stop the clock: the rating stands until the review voids it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from node.feedback.models import (
    RectificationState,
)

# Working days a department has to rectify a bad rating (评价–反馈–整改), counted from the
# rating on the node's working calendar.
RECTIFICATION_WORKING_DAYS = 5
# One extension (延期) may add at most as much time again as the original period.
RECTIFICATION_MAX_EXTENSION_DAYS = RECTIFICATION_WORKING_DAYS


class RectificationAction(enum.StrEnum):
    START = "start"
    COMPLETE = "complete"
    DISPUTE = "dispute"
    UPHOLD = "uphold"
    INVALIDATE = "invalidate"
    CANNOT_RECTIFY = "cannot_rectify"
    EXTEND = "extend"


R = RectificationState


@dataclass(frozen=True)
class RectificationTransition:
    action: RectificationAction
    sources: frozenset[RectificationState]
    target: RectificationState | None  # None: the state stays (an extension)
    text_field: str | None = None  # the written text the action requires, by its input name


RECTIFICATION_TRANSITIONS: dict[RectificationAction, RectificationTransition] = {
    t.action: t
    for t in (
        RectificationTransition(RectificationAction.START, frozenset({R.PENDING}),
                                R.IN_RECTIFICATION),
        RectificationTransition(RectificationAction.COMPLETE, frozenset({R.IN_RECTIFICATION}),
                                R.DONE, "note"),
        RectificationTransition(RectificationAction.DISPUTE, frozenset({R.PENDING}),
                                R.DISPUTED, "reason"),
        RectificationTransition(RectificationAction.UPHOLD, frozenset({R.DISPUTED}), R.PENDING),
        RectificationTransition(RectificationAction.INVALIDATE, frozenset({R.DISPUTED}),
                                R.RATING_VOID, "reason"),
        RectificationTransition(RectificationAction.CANNOT_RECTIFY,
                                frozenset({R.IN_RECTIFICATION}), R.CANNOT_RECTIFY, "reason"),
        RectificationTransition(RectificationAction.EXTEND,
                                frozenset({R.PENDING, R.IN_RECTIFICATION}), None, "reason"),
    )
}
CLOSED_BY = frozenset(
    {RectificationAction.COMPLETE, RectificationAction.INVALIDATE,
     RectificationAction.CANNOT_RECTIFY}
)


def allowed_rectification_actions(state: RectificationState, *, extended: bool) -> list[str]:
    """Actions possible from ``state``, in a stable order; an extension is granted once."""
    return [
        t.action.value
        for t in RECTIFICATION_TRANSITIONS.values()
        if state in t.sources and not (t.action is RectificationAction.EXTEND and extended)
    ]
