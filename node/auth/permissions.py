"""Which role may do what: the one table every staff endpoint is checked against."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    CLERK = "clerk"  # 窗口工作人员
    APPROVER = "approver"  # 部门审批人员
    ADMIN = "admin"  # 中心管理员
    SUPERVISOR = "supervisor"  # 效能监察
    VIEWER = "viewer"  # 只读（上级中心、领导）


ROLES_WITH_DEPARTMENT = frozenset({Role.CLERK, Role.APPROVER})


class Permission(enum.StrEnum):
    CATALOG_READ = "catalog.read"
    CATALOG_MANAGE = "catalog.manage"
    STAFF_READ = "staff.read"
    USERS_READ = "users.read"
    USERS_MANAGE = "users.manage"
    CASES_READ = "cases.read"
    CASES_HANDLE = "cases.handle"  # window work: take, notify, accept, complete, deliver
    CASES_DECIDE = "cases.decide"  # review, suspend, approve, deny
    CASES_HAND_OVER = "cases.hand_over"
    SUPERVISION_READ = "supervision.read"  # warnings, complaints, rectifications
    SUPERVISION_MANAGE = "supervision.manage"


_EVERY_STAFF = {Permission.CATALOG_READ, Permission.CASES_READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset(
        {*_EVERY_STAFF, Permission.CASES_HANDLE, Permission.CASES_DECIDE,
         Permission.CASES_HAND_OVER}
    ),
    Role.APPROVER: frozenset({*_EVERY_STAFF, Permission.CASES_DECIDE}),
    Role.VIEWER: frozenset({*_EVERY_STAFF, Permission.SUPERVISION_READ}),
    Role.SUPERVISOR: frozenset(
        {*_EVERY_STAFF, Permission.STAFF_READ, Permission.USERS_READ,
         Permission.CASES_HAND_OVER, Permission.SUPERVISION_READ, Permission.SUPERVISION_MANAGE}
    ),
    # the administrator runs the center's set-up, not its cases
    Role.ADMIN: frozenset(
        set(Permission) - {Permission.CASES_HANDLE, Permission.CASES_DECIDE}
    ),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
