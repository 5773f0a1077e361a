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


_EVERY_STAFF = {Permission.CATALOG_READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset(_EVERY_STAFF),
    Role.APPROVER: frozenset(_EVERY_STAFF),
    Role.VIEWER: frozenset(_EVERY_STAFF),
    Role.SUPERVISOR: frozenset({*_EVERY_STAFF, Permission.STAFF_READ, Permission.USERS_READ}),
    Role.ADMIN: frozenset(Permission),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
