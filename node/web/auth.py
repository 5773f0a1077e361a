"""Staff login and logout in the browser (Flask's signed session holds the token)."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from flask import flash, redirect, render_template, request, session, url_for

from node.auth.service import LoginNotice
from node.web.core import (
    SESSION_TOKEN,
    auth_service,
    home_for,
    signed_in_user,
    web_blueprint,
    web_session_commit,
)
from schemas.errors import TooManyAttempts, Unauthorized
from schemas.i18n import _

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


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return _("%(seconds)s 秒", seconds=seconds)
    return _("%(ceil)s 分钟", ceil=math.ceil(seconds / 60))


def notice_messages(notice: LoginNotice) -> list[str]:
    """最近有 N 次失败登录: what a login tells the owner and, for administrators, the
    accounts with failed logins since their previous login (by name, not username)."""
    messages = []
    if notice.own:
        messages.append(_("最近有 %(own)s 次失败登录（自您上次登录以来）。如非本人所为，"
                          "请修改密码并告知管理员。",
                          own=notice.own))
    if notice.accounts or notice.unknown_usernames:
        parts = [_("%(display_name)s %(count)s 次",
                   display_name=a.user.display_name, count=a.count) for a in notice.accounts]
        if notice.unknown_usernames:
            parts.append(_("不存在的用户名 %(unknown_usernames)s 次",
                           unknown_usernames=notice.unknown_usernames))
        total = sum(a.count for a in notice.accounts) + notice.unknown_usernames
        messages.append(_("自您上次登录以来，其他账号最近有 %(total)s 次失败登录：", total=total)
                        + "、".join(parts) + "。")
    return messages


@bp.get("", endpoint="staff_home", strict_slashes=False)
def staff_home() -> Any:
    """``/staff`` and ``/staff/``: the role's own first page, or the login page."""
    user = signed_in_user()
    if user is None:
        return redirect(url_for("web_auth.login"))
    return redirect(home_for(user))


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
        return render_template("web/login.html", error=_("请输入用户名和密码。"),
                               username=username,
                               next=safe_next(request.form.get("next")) or ""), 422
    try:
        issued = auth_service().login(username, password, request.remote_addr or "")
    except TooManyAttempts as exc:
        message = _("登录失败次数过多，请 %(wait_text)s后再试。",
                    wait_text=_wait_text(exc.retry_after_seconds))
        return render_template("web/login.html", error=message, username=username,
                               next=safe_next(request.form.get("next")) or ""), 429, {
            "Retry-After": str(exc.retry_after_seconds)}
    except Unauthorized:
        web_session_commit()  # keep the recorded failure despite the error answer
        return render_template("web/login.html", error=_("用户名或密码错误。"), username=username,
                               next=safe_next(request.form.get("next")) or ""), 401
    session.clear()  # a fresh session (and CSRF secret) for the signed-in user
    session[SESSION_TOKEN] = issued.token
    for message in notice_messages(issued.notice):
        flash(message)
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

