"""The Chinese catalog says every message in Chinese: a translation, its placeholders filled
with sample values, holds no snake_case token (a code: ``in_review``, ``next_cursor``) and no
Latin word but a short allowlist of file types, units and protocol words (docs/web.md,
"Messages and languages")."""

from __future__ import annotations

import re

import pytest
from babel.messages.catalog import Catalog

from deploy.messages import read_catalog
from schemas.i18n import DEFAULT_LOCALE

# what Chinese government sites write in Latin letters too; compared ignoring case
ALLOWED_WORDS = frozenset(word.casefold() for word in (
    "Excel", "CSV", "XLSX", "JSON", "PDF", "JPG", "PNG", "MB", "MiB", "UTF-8", "UUID", "IP",
    "NaN", "NUL", "CSRF", "YYYY-MM-DD", "Q4", "Authorization", "Bearer",
))
_PLACEHOLDER = re.compile(r"%\((?P<name>[a-z_0-9]+)\)(?P<type>[sdr])|\{[a-z_0-9]*(?:![rs])?\}")
# an address or a media type is not a word: /api/v1/rankings/metrics, application/pdf
_PATH = re.compile(r"[A-Za-z0-9_.-]*/[A-Za-z0-9_./{}-]+")
_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def filled(text: str) -> str:
    """``text`` as a reader sees it, each placeholder filled with a sample value."""
    def sample(found: re.Match[str]) -> str:
        return "7" if found.group("type") == "d" else "样例"
    return _PLACEHOLDER.sub(sample, text).replace("%%", "%")


def foreign_words(text: str) -> list[str]:
    """The snake_case tokens and the Latin words outside the allowlist in ``text`` (one
    letter alone is a formula's variable, n or v, not a word)."""
    text = _ESCAPE.sub(" ", _PATH.sub(" ", filled(text)))
    return [token for token in _TOKEN.findall(text)
            if "_" in token or (len(token) > 1 and token.casefold() not in ALLOWED_WORDS)]


def _translations(catalog: Catalog) -> list[tuple[str, str]]:
    found = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found.extend((str(message.id), str(string)) for string in strings)
    return found


def test_every_chinese_translation_names_things_without_codes_or_english() -> None:
    offending = {msgid: words for msgid, string in _translations(read_catalog(DEFAULT_LOCALE))
                 if (words := foreign_words(string))}
    assert offending == {}


@pytest.mark.parametrize(("text", "words"), [
    ("办件处于 %(state)s 状态，不能执行 reject。", ["reject"]),
    ("当前状态 in_review", ["in_review"]),
    ("请把返回的 next_cursor 传入", ["next_cursor"]),
    ("与现有数据冲突。（Department still has active matters）",
     ["Department", "still", "has", "active", "matters"]),
    ("经办人：clerk", ["clerk"]),
    ("%(name)s 已保存", []),
    ("导出 Excel（含方法说明），格式为 xlsx 或 csv", []),
    ("未知指标 %(repr)s，见 /api/v1/rankings/metrics", []),
    ("n =（v − 最小值）÷（最大值 − 最小值）", []),
    ("共 %%d 件，第 %(page)d 页", []),
])
def test_the_check_finds_codes_and_english_words(text: str, words: list[str]) -> None:
    assert foreign_words(text) == words
