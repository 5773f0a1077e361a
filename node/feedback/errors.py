"""The feedback's domain errors (each a 409 with what the state allows)."""

from __future__ import annotations

from node.feedback.models import (
    ComplaintState,
    RectificationState,
)
from schemas.errors import Conflict


class RectificationStateError(Conflict):
    """An action the rectification's state does not allow; lists what is allowed."""

    code = "invalid_transition"

    def __init__(self, message: str, state: RectificationState, allowed: list[str]) -> None:
        super().__init__(message, {"state": state.value, "allowed": allowed})


class ComplaintStateError(Conflict):
    """A complaint that is no longer open (already resolved)."""

    code = "invalid_transition"

    def __init__(self, message: str, state: ComplaintState, allowed: list[str]) -> None:
        super().__init__(message, {"state": state.value, "allowed": allowed})


class NotEvaluable(Conflict):
    """The case is not completed yet: there is nothing to rate."""

    code = "not_completed"


class AlreadyEvaluated(Conflict):
    """The case has been rated; a rating is given once."""

    code = "already_evaluated"
