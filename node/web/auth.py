"""Staff login and logout in the browser (Flask's signed session holds the token)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

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


_NEXT_MAX = 2000
_BASE = "http://tongban.invalid/"  # stands for this site while resolving a relative target


def _unsafe_text(text: str) -> bool:
    """Control characters (browsers drop tab, CR and LF inside a URL, so ``/%09/evil.example``
    becomes ``//evil.example``), backslashes (read as slashes) and whitespace."""
    return any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" or c.isspace() for c in text)


def safe_next(target: str | None) -> str | None:
    """The page to go to after login: only a path on this site, normalised, else None.

    Refused: anything longer than 2,000 characters; control characters, backslashes or
    whitespace, also when percent-encoded; a scheme or a host; ``//`` anywhere in the path
    (no page of this site has one), also once dot segments are resolved.  What is accepted
    comes back normalised (path and query, no fragment), so the redirect goes exactly where
    the check looked.
    """
    if not target or len(target) > _NEXT_MAX:
        return None
    if _unsafe_text(target) or _unsafe_text(unquote(target)):
        return None
    raw_path = target.split("?", 1)[0].split("#", 1)[0]
    if not target.startswith("/") or "//" in unquote(raw_path):
        return None
    try:
        resolved = urlsplit(urljoin(_BASE, target))
    except ValueError:
        return None
    if (resolved.scheme, resolved.netloc) != ("http", "tongban.invalid"):
        return None
    path = resolved.path or "/"
    if path.startswith("//") or unquote(path).startswith("//"):
        return None
    return path + (f"?{resolved.query}" if resolved.query else "")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        user = signed_in_user()
        if user is not None:
            return redirect(home_for(user))
        return render_template("web/login.html", next=safe_next(request.args.get("next")) or "")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        return render_template("web/login.html", error="请输入用户名和密码。",
                               username=username,
                               next=safe_next(request.form.get("next")) or ""), 422
    try:
        issued = auth_service().login(username, password)
    except (Unauthorized, TooManyAttempts) as exc:
        web_session_commit()  # keep the failed-login count despite the error answer
        message = ("登录失败次数过多，账号已暂时锁定，请稍后再试。"
                   if isinstance(exc, TooManyAttempts) else "用户名或密码错误。")
        return render_template("web/login.html", error=message, username=username,
                               next=safe_next(request.form.get("next")) or ""), 401
    session.clear()  # a fresh session (and CSRF secret) for the signed-in user
    session[SESSION_TOKEN] = issued.token
    return redirect(safe_next(request.form.get("next")) or home_for(issued.user))


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

