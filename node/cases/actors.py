"""Who acts on a case: a staff user, or the worker's scheduled jobs."""

from __future__ import annotations

from dataclasses import dataclass

from node.auth.models import User
from node.cases.states import (
    SystemRole,
)


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user, or the worker's scheduled jobs."""

    username: str
    role: str
    user_id: int | None = None
    department_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.username, user.role.value, user.id, user.department_id)


SYSTEM_ACTOR = Actor("system", SystemRole.SYSTEM.value)
