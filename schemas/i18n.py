"""One message catalog for everything a person reads (docs/web.md, "Messages and languages").

Every message is written once in the code, wrapped in ``_()``: the text as the source says it
(Chinese on the pages and in the exports, English in the domain's errors), the msgid of
the gettext catalogs under ``schemas/translations`` (``zh_Hans_CN`` the default, ``en``).
``_()`` needs no Flask: the domain modules raise errors with it, the CLI prints it in the
default language, and the web layer (Flask-Babel, ``schemas/runtime/webapp.py``) says it in the
language the request asks for.

``_()`` returns a :class:`Message`: a ``str`` holding the text in the default language (so it
can be stored, compared and sent as JSON as before) that remembers its msgid and parameters,
and says itself in the current language wherever it is shown: ``str()``, f-strings and
``format``, Jinja's ``{{ }}``, and the API's error documents (:func:`localize`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from markupsafe import Markup, escape

DOMAIN = "messages"
TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT_LOCALE = "zh_Hans_CN"
LOCALES = (DEFAULT_LOCALE, "en")


def _default_locale() -> str:
    return DEFAULT_LOCALE


_current_locale: Callable[[], str] = _default_locale


def set_locale_source(source: Callable[[], str] | None) -> None:
    """Where the current language comes from (the web layer: the request's Flask-Babel
    locale); ``None`` goes back to the default language."""
    global _current_locale  # noqa: PLW0603 - one process-wide hook, set once by the web layer
    _current_locale = source or _default_locale


def current_locale() -> str:
    return _current_locale()


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of ``locale`` (the .mo files are committed: docs/web.md)."""
    return Translations.load(str(TRANSLATIONS), [locale], DOMAIN)


def _fill(text: str, params: Any, braces: bool, locale: str) -> str:
    if not params:
        return text
    if not braces:
        return text % {key: say(value, locale) for key, value in params.items()}
    # ``format`` fields, filled in stages as marshmallow does ("Must be {min_op} {{min}}.")
    for stage in params:
        text = text.format(**{key: say(value, locale) for key, value in stage.items()})
    return text


def say(value: Any, locale: str) -> Any:
    """``value`` in ``locale`` when it is a :class:`Message`; anything else unchanged."""
    if isinstance(value, Message):
        return value.in_locale(locale)
    return value


class Message(str):
    """A message a person reads: the default language's text, its msgid and parameters."""

    msgid: str
    params: Any  # a mapping of %(name)s values, or the stages of ``format`` fields
    braces: bool

    def __new__(cls, msgid: str, params: Any = None, braces: bool = False) -> Message:
        params = tuple(params or ()) if braces else dict(params or {})
        self = super().__new__(cls, _render(msgid, params, braces, DEFAULT_LOCALE))
        self.msgid, self.params, self.braces = msgid, params, braces
        return self

    def in_locale(self, locale: str) -> str:
        return _render(self.msgid, self.params, self.braces, locale)

    def __str__(self) -> str:
        return self.in_locale(current_locale())

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __html__(self) -> Markup:
        return escape(str(self))

    def format(self, *args: Any, **kwargs: Any) -> Message:
        """marshmallow's messages fill ``{name}`` fields with ``format``: the result is still
        a message, said in each reader's language."""
        if args:
            raise TypeError("a message's fields are named")
        stages = self.params if self.braces else ()
        return Message(self.msgid, (*stages, kwargs), braces=True)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Message, (self.msgid, self.params, self.braces))


def _render(msgid: str, params: Any, braces: bool, locale: str) -> str:
    return _fill(translations(locale).gettext(msgid), params, braces, locale)


def _(msgid: str, **params: Any) -> str:
    """Mark ``msgid`` as a message a person reads, with its ``%(name)s`` parameters."""
    return Message(msgid, params)


def localize(value: Any, locale: str | None = None) -> Any:
    """``value`` with every :class:`Message` in it (in dicts, lists, tuples) said in
    ``locale`` (default: the current language): an error document before it is sent."""
    locale = locale or current_locale()
    if isinstance(value, Message):
        return value.in_locale(locale)
    if isinstance(value, dict):
        return {key: localize(item, locale) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [localize(item, locale) for item in value]
    return value


__all__ = ["DEFAULT_LOCALE", "LOCALES", "TRANSLATIONS", "Message", "_", "localize", "say",
           "set_locale_source", "translations"]
