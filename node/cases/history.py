"""A case's history as people read it: each event a sentence in Chinese, with the actor's
display name and another center's name, never a username, an action code or a bare code.

The events keep what was recorded (usernames, action and state codes, the reason as
given); this module only words them.  No Flask: the names are given (people from the
users table, centers from the registry's names: node/sync/names.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.auth.models import User
from node.cases.models import CaseEvent
from schemas import names
from schemas.case_messages import HISTORY_MAX
from schemas.i18n import LOCALES, _, say
from schemas.message_parts import NAME_MAX, REASON_MAX

# a step the case took at another center, sent with a case.forward (``history``): stored as an
# event whose actor is that center's code, with this role and action; its reason keeps what
# came as JSON ({"action", "by", "note"})
REMOTE_ROLE = "center"
REMOTE_STEP = "remote_step"

# the names of roles and states: one table each, in schemas/names.py
NON_STAFF = names.NON_STAFF
ROLE_NAMES = names.ROLE_NAMES
STATE_NAMES = names.CASE_STATE_NAMES

# the non-staff actors (系统, 申请人, 公众) as another center may have written them as the ``by``
# of its steps: :func:`person` said in whatever language was current there, so every language
# (built once: the history words every event of a case against it)
NON_STAFF_WORDS = frozenset(str(say(name, locale))
                            for name in NON_STAFF.values() for locale in LOCALES)

# the words no event changes (messages: each says itself in the reader's language)
DELETED_ACCOUNT = _("已删除的账号")
SOME_STEP = _("办理")
SOME_PROGRESS = _("有新的办理进展")

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
    name = people.get(username) or DELETED_ACCOUNT
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
    """News from the center above as one message each (its parts said in the reader's
    language: a message joined to text with ``+`` stays in the default language)."""
    found = _UPDATE.match(reason or "")
    if found is None:
        progress = _with_centers(reason, centers) if reason else SOME_PROGRESS
        return _("上级中心：%(progress)s", progress=progress)
    center, state = center_text(found["code"], centers), found["state"]
    step = UPSTREAM_STEPS.get(state, SOME_PROGRESS)
    note = (found["note"] or "").strip()
    if note.startswith("已接收"):
        rest = note.removeprefix("已接收").lstrip("：")
        if rest:
            return _("%(center)s已接收上报件；%(step)s（%(note)s）", center=center, step=step,
                     note=_with_centers(rest, centers))
        return _("%(center)s已接收上报件；%(step)s", center=center, step=step)
    if note.startswith("已转报"):  # passed on further up: the note names the center
        return _("%(center)s已转报 %(above)s", center=center,
                 above=_with_centers(note.removeprefix("已转报").strip(), centers))
    if note:
        return _("%(center)s%(step)s：%(note)s", center=center, step=step,
                 note=_with_centers(note, centers))
    return _("%(center)s%(step)s", center=center, step=step)


def remote_reason_prefix(action: str) -> str:
    """How the reason of another center's ``action`` step begins (:func:`remote_events` writes
    the action first), for a query counting those steps (the visits of a 通办 case at the
    receiving center, node/metrics/daily.py)."""
    return json.dumps({"action": action}, ensure_ascii=False)[:-1] + ", "


def remote_step(event: Any) -> dict[str, Any] | None:
    """What another center's step (``REMOTE_STEP``) recorded: ``{action, by, note}``."""
    if event.action != REMOTE_STEP:
        return None
    found: dict[str, Any] = json.loads(event.reason or "{}")
    return found


def wire_history(case: Any, here: str, people: Mapping[str, str]) -> list[dict[str, Any]]:
    """The case's history for a ``case.forward``: its public steps here (who by display name)
    and the other centers' steps it came with, oldest first; the newest ``HISTORY_MAX`` kept,
    each note cut to ``REASON_MAX`` characters.  News from above (``upstream_update``) is not
    sent: it is the receiving center's own."""
    steps: list[dict[str, Any]] = []
    for event in sorted(case.events, key=lambda e: (e.at, e.id or 0)):
        remote = remote_step(event)
        if remote is not None:
            steps.append({"at": event.at.isoformat(), "center": event.actor, **remote})
        elif event.public and event.action != "upstream_update":
            steps.append(wire_step(event, here, people))
    return steps[-HISTORY_MAX:]


def wire_step(event: Any, here: str, people: Mapping[str, str]) -> dict[str, Any]:
    """One step this center took, as another center stores it: when, where, what, who by
    display name (never a username), the note cut to ``REASON_MAX`` characters."""
    return {"at": event.at.isoformat(), "center": here, "action": event.action,
            "by": str(person(event.actor, event.role, people))[:NAME_MAX],
            "note": (event.reason or None) and event.reason[:REASON_MAX]}


def remote_events(steps: Iterable[Mapping[str, Any]], state: str) -> list[CaseEvent]:
    """The events, for a case that arrived, of the steps it took at other centers (in the order
    sent, oldest first); ``state`` is the case's state on arrival."""
    return [CaseEvent(at=dt.datetime.fromisoformat(step["at"]), actor=step["center"],
                      role=REMOTE_ROLE, action=REMOTE_STEP, from_state=None, to_state=state,
                      public=True,
                      reason=json.dumps({"action": step["action"], "by": step["by"],
                                         "note": step["note"]}, ensure_ascii=False))
            for step in steps]


def event_sentence(event: Any, people: Mapping[str, str], centers: Mapping[str, str],
                   action_names: Mapping[str, str]) -> str:
    """One event as a sentence: who did what, and what became of the case."""
    if event.action == "upstream_update":
        return _upstream(event.reason, centers)
    remote = remote_step(event)
    if remote is not None:  # "<center name>：<who><what>"
        what = action_names.get(remote["action"]) or NOTE_PHRASES.get(remote["action"]) \
            or SOME_STEP
        return f"{center_text(event.actor, centers)}：{remote['by']}{what}"
    who = person(event.actor, event.role, people)
    what = action_names.get(event.action) or NOTE_PHRASES.get(event.action) or SOME_STEP
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
    remote = remote_step(event)
    if remote is not None:  # the other center's system notes name centers by bare code
        note = str(remote["note"] or "")
        return _with_centers(note, centers) if remote["by"] in NON_STAFF_WORDS else note
    if event.role in NON_STAFF or event.actor in NON_STAFF:
        return _with_centers(event.reason, centers)
    return str(event.reason)
