"""Staff login, tokens, user administration and role checks (the login throttle in detail:
test_login_throttle.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from node.auth.models import ApiToken, User
from node.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from tests.unit.node.conftest import PASSWORD, Api


def login(anonymous: Api, username: str, password: str = PASSWORD):
    return anonymous.post("/api/v1/auth/login", {"username": username, "password": password})


def login_from(anonymous: Api, username: str, password: str, environ: dict[str, str]):
    return anonymous.client.post("/api/v1/auth/login", json={"username": username,
                                                             "password": password},
                                 environ_base=environ)


def test_login_returns_a_token_stored_only_as_hash(make_user, anonymous: Api, db) -> None:
    admin = make_user(Role.ADMIN, username="boss")
    me = admin.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json["username"] == "boss"
    assert me.json["role"] == "admin"
    assert "password" not in me.json
    with db.sessions() as session:
        hashes = session.scalars(select(ApiToken.token_hash)).all()
        stored_password = session.scalar(select(User.password_hash))
    assert admin.token not in hashes
    assert len(hashes) == 1
    assert stored_password.startswith("$argon2id$")


def test_wrong_password_and_unknown_user_look_the_same(make_user, anonymous: Api) -> None:
    make_user(Role.CLERK, username="clerk-a")
    wrong = login(anonymous, "clerk-a", "not-the-password1")
    unknown = login(anonymous, "nobody", "not-the-password1")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json


def test_repeated_failures_delay_that_address_not_the_account(make_user, anonymous: Api) -> None:
    """Failed logins from one address make that address wait (429), not the account: its
    owner still logs in from their usual place."""
    make_user(Role.CLERK, username="clerk-b")
    office = {"REMOTE_ADDR": "10.1.1.10"}
    stranger = {"REMOTE_ADDR": "203.0.113.9"}
    assert login_from(anonymous, "clerk-b", PASSWORD, office).status_code == 200
    for _ in range(5):
        assert login_from(anonymous, "clerk-b", "bad-password-1", stranger).status_code == 401
    waiting = login_from(anonymous, "clerk-b", PASSWORD, stranger)  # even the right password
    assert waiting.status_code == 429
    assert waiting.json["error"]["code"] == "too_many_attempts"
    assert 0 < int(waiting.headers["Retry-After"]) <= 30
    assert login_from(anonymous, "clerk-b", PASSWORD, office).status_code == 200


def test_logout_revokes_the_token(admin: Api) -> None:
    assert admin.post("/api/v1/auth/logout").status_code == 204
    after = admin.get("/api/v1/auth/me")
    assert after.status_code == 401
    assert after.json["error"]["code"] == "unauthorized"
    assert after.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_refused(admin: Api, db) -> None:
    with db.unit_of_work() as session:
        for token in session.scalars(select(ApiToken)):
            token.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    response = admin.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json["error"]["message"] == "登录已过期，请重新登录。"


def test_missing_or_garbage_token(anonymous: Api) -> None:
    assert anonymous.get("/api/v1/departments").status_code == 401
    garbage = Api(anonymous.client, "not-a-token")
    assert garbage.get("/api/v1/departments").status_code == 401
    basic = anonymous.get("/api/v1/departments", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401


def test_admin_manages_users(admin: Api, anonymous: Api) -> None:
    admin.post("/api/v1/departments", {"code": "SC", "name": "市场监督管理局"})
    created = admin.post(
        "/api/v1/users",
        {"username": "li.na", "display_name": "李娜", "role": "clerk",
         "department_code": "SC", "password": "window-pass-1"},
    )
    assert created.status_code == 201, created.json
    assert created.json["department"]["code"] == "SC"
    assert login(anonymous, "li.na", "window-pass-1").status_code == 200
    disabled = admin.patch("/api/v1/users/li.na", {"active": False})
    assert disabled.status_code == 200
    assert login(anonymous, "li.na", "window-pass-1").status_code == 401


def test_disabling_a_user_revokes_live_tokens(admin: Api, make_user) -> None:
    clerk = make_user(Role.CLERK, username="clerk-c")
    assert clerk.get("/api/v1/departments").status_code == 200
    assert admin.patch("/api/v1/users/clerk-c", {"active": False}).status_code == 200
    assert clerk.get("/api/v1/departments").status_code == 401


def test_password_change_revokes_tokens(admin: Api, make_user, anonymous: Api) -> None:
    clerk = make_user(Role.CLERK, username="clerk-d")
    changed = admin.patch("/api/v1/users/clerk-d", {"password": "a-new-secret-2"})
    assert changed.status_code == 200
    assert clerk.get("/api/v1/departments").status_code == 401
    assert login(anonymous, "clerk-d", "a-new-secret-2").status_code == 200


def test_user_validation(admin: Api) -> None:
    weak = admin.post(
        "/api/v1/users", {"username": "weak", "role": "viewer", "password": "short"}
    )
    assert weak.status_code == 422
    assert "password" in weak.json["error"]["details"]["fields"]
    no_department = admin.post(
        "/api/v1/users", {"username": "clerkless", "role": "clerk", "password": "long-enough-1"}
    )
    assert no_department.status_code == 422
    assert "department_code" in no_department.json["error"]["details"]["fields"]
    bad_role = admin.post(
        "/api/v1/users", {"username": "x1", "role": "king", "password": "long-enough-1"}
    )
    assert bad_role.status_code == 422
    assert "role" in bad_role.json["error"]["details"]["fields"]
    ok = admin.post(
        "/api/v1/users", {"username": "viewer1", "role": "viewer", "password": "long-enough-1"}
    )
    assert ok.status_code == 201
    duplicate = admin.post(
        "/api/v1/users", {"username": "viewer1", "role": "viewer", "password": "long-enough-1"}
    )
    assert duplicate.status_code == 409


def test_admin_cannot_lock_themselves_out(admin: Api) -> None:
    me = admin.get("/api/v1/auth/me").json["username"]
    assert admin.patch(f"/api/v1/users/{me}", {"active": False}).status_code == 409
    assert admin.patch(f"/api/v1/users/{me}", {"role": "viewer"}).status_code == 409


def test_revoke_tokens_of_another_user(admin: Api, make_user) -> None:
    viewer = make_user(Role.VIEWER, username="viewer-z")
    assert admin.post("/api/v1/users/viewer-z/revoke-tokens").status_code == 204
    assert viewer.get("/api/v1/auth/me").status_code == 401


# -- role-based access: for each role an allowed and a denied call -----------------------

ALLOWED_AND_DENIED = {
    Role.CLERK: (("GET", "/api/v1/matters"), ("POST", "/api/v1/departments")),
    Role.APPROVER: (("GET", "/api/v1/windows"), ("GET", "/api/v1/staff")),
    Role.VIEWER: (("GET", "/api/v1/departments"), ("GET", "/api/v1/users")),
    Role.SUPERVISOR: (("GET", "/api/v1/staff"), ("POST", "/api/v1/users")),
}


@pytest.mark.parametrize("role", list(ALLOWED_AND_DENIED))
def test_role_allowed_and_denied(role: Role, make_user) -> None:
    user = make_user(role)
    (method, allowed), (denied_method, denied) = ALLOWED_AND_DENIED[role]
    assert user.request(method, allowed).status_code == 200
    response = user.request(denied_method, denied, json={"code": "X", "name": "x"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert response.json["error"]["details"]["role"] == role.value


def test_admin_allowed_everything_but_denied_without_token(make_user, anonymous: Api) -> None:
    admin = make_user(Role.ADMIN)
    assert admin.post("/api/v1/departments", {"code": "ZJ", "name": "住建局"}).status_code == 201
    assert admin.get("/api/v1/users").status_code == 200
    assert anonymous.post("/api/v1/departments", {"code": "ZK", "name": "x"}).status_code == 401


def test_every_staff_endpoint_declares_a_permission(app) -> None:
    """Every /api/v1 view except login, the guide and the docs is guarded."""
    public = {"auth.Login", "api-docs.openapi_json", "api-docs.openapi_swagger_ui",
              "vendor.static"}
    unguarded = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint in public:
            continue
        if rule.endpoint.startswith(("guide.", "public.")):
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        methods = [m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}]
        for method in methods:
            handler = getattr(view_class, method)
            doc = getattr(handler, "_apidoc", {}).get("manual_doc", {})
            if "x-permission" not in doc:
                unguarded.append(f"{method.upper()} {rule.rule}")
    assert unguarded == []


def test_permission_table_covers_every_role() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert Permission.CASES_HANDLE not in ROLE_PERMISSIONS[Role.ADMIN]
    assert Permission.USERS_MANAGE in ROLE_PERMISSIONS[Role.ADMIN]
    for role in Role:
        assert Permission.CATALOG_READ in ROLE_PERMISSIONS[role]


def test_a_common_password_is_refused_with_a_chinese_reason(admin: Api) -> None:
    created = admin.post("/api/v1/users", {"username": "viewer9", "role": "viewer",
                                           "password": "Password123"})
    assert created.status_code == 422
    assert created.json["error"]["details"]["fields"]["password"] == [
        "这是最常用的密码之一，很容易被猜中，请换一个"]
    assert admin.get("/api/v1/users/viewer9").status_code == 404
    ok = admin.post("/api/v1/users", {"username": "viewer9", "role": "viewer",
                                      "password": "lantern-river-42"})
    assert ok.status_code == 201
    changed = admin.patch("/api/v1/users/viewer9", {"password": "woaini1314"})
    assert changed.status_code == 422
    assert "常用的密码" in changed.json["error"]["details"]["fields"]["password"][0]
