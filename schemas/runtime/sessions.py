"""The signed session cookie keeps a message a person reads as its msgid and parameters.

A page flashes a message (``flash(_("已完成：%(get)s。", …))``) in one request and shows it in
the next.  Flask's session serializer would write the :class:`~schemas.i18n.Message` as the
plain string it is, the default language's text, and the next page would show Chinese to a
reader who asked for English.  Kept as its msgid and parameters, the message is said when it
is shown, in the language of the request that shows it (docs/web.md, "Messages and languages").
"""

from __future__ import annotations

from typing import Any

from flask.json.tag import JSONTag, TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface

from schemas.i18n import Message


class MessageTag(JSONTag):
    """A :class:`Message` in the session: ``[msgid, parameters, braces]``, its parameters
    (names that are messages themselves) tagged in turn."""

    __slots__ = ()
    key = " msg"

    def check(self, value: Any) -> bool:
        return isinstance(value, Message)

    def to_json(self, value: Any) -> Any:
        return [value.msgid, self.serializer.tag(value.params), value.braces]

    def to_python(self, value: Any) -> Any:
        msgid, params, braces = value
        return Message(msgid, params, braces=braces)


def _serializer() -> TaggedJSONSerializer:
    serializer = TaggedJSONSerializer()
    serializer.register(MessageTag, index=0)  # before str: a Message is a str
    return serializer


class MessageSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, its messages kept unsaid until they are shown."""

    serializer = _serializer()


__all__ = ["MessageSessionInterface", "MessageTag"]
