"""What the account service takes: a new staff account and the changes to one, as typed
dataclasses (node/inputs.py) the API's schemas and the accounts pages load alike."""

from __future__ import annotations

import dataclasses

from node.auth.permissions import Role
from node.inputs import UNSET, Given, Unset


@dataclasses.dataclass(frozen=True, kw_only=True)
class NewUser(Given):
    """A staff account to create; clerks and approvers belong to a department."""

    username: str
    role: Role
    password: str
    display_name: str | None = None  # none: the username
    department_code: str | Unset | None = UNSET
    staff_code: str | Unset | None = UNSET


@dataclasses.dataclass(frozen=True, kw_only=True)
class UserChanges(Given):
    """The fields of an account to change, each :data:`~node.inputs.UNSET` when not given;
    a new password or ``active=False`` revokes the account's tokens."""

    display_name: str | Unset = UNSET
    role: Role | Unset = UNSET
    department_code: str | Unset | None = UNSET
    staff_code: str | Unset | None = UNSET
    password: str | Unset = UNSET
    active: bool | Unset = UNSET


__all__ = ["NewUser", "UserChanges"]
