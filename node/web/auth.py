"""Staff login and logout in the browser (Flask's signed session holds the token)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, session, url_for

from node.web.core import (
    SESSION_TOKEN,
    auth_service,
    home_for,
    signed_in_user,
    web_blueprint,
    web_session_commit,
)
from schemas.errors import TooManyAttempts, Unauthorized

bp = web_blueprint("web_auth", "/staff")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (never another host) is followed after login."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        user = signed_in_user()
        if user is not None:
            return redirect(home_for(user))
        return render_template("web/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        return render_template("web/login.html", error="请输入用户名和密码。",
                               username=username, next=request.form.get("next", "")), 422
    try:
        issued = auth_service().login(username, password)
    except (Unauthorized, TooManyAttempts) as exc:
        web_session_commit()  # keep the failed-login count despite the error answer
        message = ("登录失败次数过多，账号已暂时锁定，请稍后再试。"
                   if isinstance(exc, TooManyAttempts) else "用户名或密码错误。")
        return render_template("web/login.html", error=message, username=username,
                               next=request.form.get("next", "")), 401
    session.clear()  # a fresh session (and CSRF secret) for the signed-in user
    session[SESSION_TOKEN] = issued.token
    return redirect(_safe_next(request.form.get("next")) or home_for(issued.user))


@bp.post("/logout")
def logout() -> Any:
    token = session.pop(SESSION_TOKEN, None)
    if token:
        service = auth_service()
        try:
            _user, row = service.authenticate(token)
        except Unauthorized:
            pass  # already expired or revoked
        else:
            service.logout(row)
    session.clear()
    return redirect(url_for("web_auth.login"))

