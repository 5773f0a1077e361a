"""A case's history as people read it: each event a sentence in Chinese, with the actor's
display name and another center's name, never a username, an action code or a bare code.

The events keep what was recorded (usernames, action and state codes, the reason as
given); this module only words them.  No Flask: the names are given (people from the
users table, centers from the registry's names: node/sync/names.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.auth.models import User
from schemas import names
from schemas.i18n import _

# the names of roles and states: one table each, in schemas/names.py
NON_STAFF = names.NON_STAFF
ROLE_NAMES = names.ROLE_NAMES
STATE_NAMES = names.CASE_STATE_NAMES

# what a center above did with a case reported to it (an ``upstream_update``'s state)
UPSTREAM_STEPS = {
    "submitted": _("已收到上报件"), "supplement_requested": _("要求补正材料"),
    "accepted": _("已受理上报件"), "rejected": _("不予受理上报件"), "in_review": _("进入审查"),
    "suspended": _("进入特别程序（暂停计时）"), "approved": _("准予许可"), "denied": _("不予许可"),
    "completed": _("已办结"), "delivered": _("已送达"), "withdrawn": _("申请已撤回"),
    "forwarded": _("已转报上级"), "returned": _("已退回"),
}

# the notes (name, other than an action of schemas/names.CASE_ACTION_NAMES) recorded by forwarding,
# files and fees
NOTE_PHRASES = {
    "upstream_update": _("上级中心办理进展"), "relay_result": _("将上级的决定转告报送的下级中心"),
    "attach": _("添加材料"), "payment": _("登记缴费"), "fee_waiver": _("免收费"),
    "hand_over": _("移交办件"), "notice": _("出具一次性告知书"),
}

_UPDATE = re.compile(r"^(?P<code>[0-9]{9}|[0-9]{6})：(?P<state>[a-z_]+)(?: (?P<note>.*))?$",
                     re.DOTALL)
_CODE = re.compile(r"(?<![0-9])([0-9]{9}|[0-9]{6})(?![0-9])")


def center_text(code: str, centers: Mapping[str, str]) -> str:
    """北流市政务服务中心（450981）; 未登记名称的中心（450100） when its name is not known."""
    return names.center_text(code, centers.get(code))


def person(username: str, role: str | None, people: Mapping[str, str]) -> str:
    """Who acted, as people read it: 系统, 申请人, or a display name with the role's name."""
    if username in NON_STAFF or role in NON_STAFF:
        return NON_STAFF.get(username) or NON_STAFF[str(role)]
    name = people.get(username) or _("已删除的账号")
    role_name = ROLE_NAMES.get(role or "")
    return f"{name}（{role_name}）" if role_name else name


def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """``{username: display name}`` of the staff among ``usernames``."""
    wanted = sorted({u for u in usernames if u and u not in NON_STAFF})
    if not wanted:
        return {}
    return dict(session.execute(
        select(User.username, User.display_name).where(User.username.in_(wanted))).all())


def handler_name(session: Session, username: str) -> str:
    """A printed document's 经办人: the staff member's display name."""
    return person(username, None, display_names(session, [username]))


def _with_centers(text: str, centers: Mapping[str, str]) -> str:
    """``text`` with each bare division code given its center's name (relay notes only)."""
    return _CODE.sub(lambda found: center_text(found.group(1), centers), text)


def _upstream(reason: str | None, centers: Mapping[str, str]) -> str:
    found = _UPDATE.match(reason or "")
    if found is None:
        return _("上级中心：") + _with_centers(reason or _("有新的办理进展"), centers)
    center, state = center_text(found["code"], centers), found["state"]
    step = UPSTREAM_STEPS.get(state, "有新的办理进展")
    note = (found["note"] or "").strip()
    if note.startswith("已接收"):
        rest = note.removeprefix("已接收").lstrip("：")
        sentence = _("%(center)s已接收上报件；%(step)s", center=center, step=step)
        return sentence + (f"（{_with_centers(rest, centers)}）" if rest else "")
    if note.startswith("已转报"):
        return f"{center}{_with_centers(note, centers)}"
    return f"{center}{step}" + (f"：{_with_centers(note, centers)}" if note else "")


def event_sentence(event: Any, people: Mapping[str, str], centers: Mapping[str, str],
                   action_names: Mapping[str, str]) -> str:
    """One event as a sentence: who did what, and what became of the case."""
    if event.action == "upstream_update":
        return _upstream(event.reason, centers)
    who = person(event.actor, event.role, people)
    what = action_names.get(event.action) or NOTE_PHRASES.get(event.action) or _("办理")
    sentence = f"{who}{what}"
    after = STATE_NAMES.get(event.to_state, "—")
    if not event.from_state:
        return _("%(sentence)s，状态为「%(after)s」", sentence=sentence, after=after)
    if event.from_state != event.to_state:
        before = STATE_NAMES.get(event.from_state, "—")
        return _(
            "%(sentence)s，状态由「%(before)s」变为「%(after)s」",
            sentence=sentence,
            before=before,
            after=after,
        )
    return sentence


def event_reason(event: Any, centers: Mapping[str, str]) -> str:
    """The reason as recorded; the bare codes of a note from another center named."""
    if event.action == "upstream_update" or not event.reason:
        return ""
    if event.role in NON_STAFF or event.actor in NON_STAFF:
        return _with_centers(event.reason, centers)
    return str(event.reason)
