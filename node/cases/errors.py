"""Case domain errors (mapped to HTTP in one place, schemas.runtime.webapp)."""

from __future__ import annotations

from node.cases.states import CaseState
from schemas.errors import Conflict


class CaseStateError(Conflict):
    """An action that the case's current state does not allow; lists what is allowed."""

    code = "invalid_transition"

    def __init__(self, message: str, state: CaseState, allowed: list[str]) -> None:
        super().__init__(message, {"state": state.value, "allowed": allowed})


class StaleCaseError(Conflict):
    """The case changed since the client read it (optimistic locking)."""

    code = "stale_version"
