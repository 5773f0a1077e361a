"""What node and hub agree on about saved composite-index methodologies (docs/rankings.md):
where a node saves them, and the Chinese title people read in place of the code name."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from schemas.i18n import _

TITLE_MAX_LENGTH = 40
_HAN = re.compile(r"[\u3400-\u9fff]")


def methodology_prefix(node: str) -> str:
    """A node saves its methodologies at the hub under its own code: ``<code>.<name>``
    (e.g. ``450900.bulletin``), so that no center replaces another's or the hub's."""
    return f"{node}."


def title_problems(value: Any) -> tuple[str | None, list[str]]:
    """A methodology's ``title`` as given (absent or null: no title), stripped, and what is
    wrong with it: the name people read, in Chinese, 1 to 40 characters on one line."""
    if value is None:
        return None, []
    if not isinstance(value, str):
        return None, [_("a text of 1 to %(max)s characters", max=TITLE_MAX_LENGTH)]
    title = value.strip()
    if not 1 <= len(title) <= TITLE_MAX_LENGTH:
        return None, [_("a text of 1 to %(max)s characters", max=TITLE_MAX_LENGTH)]
    if any(unicodedata.category(char).startswith("C") for char in title):
        return None, [_("one line of text, without control characters")]
    if not _HAN.search(title):
        return None, [_("a Chinese name: at least one Chinese character")]
    return title, []


def methodology_label(methodology: Mapping[str, Any]) -> str:
    """How a page or an export names a methodology (its ``to_json`` document):
    「季度综合评价」第 3 版; one saved without a title 未命名方法（第 3 版）, never its code name;
    one given with a question and not saved 「…」（未保存） or 本次查询给出的方法（未保存）."""
    title, version = methodology.get("title"), methodology.get("version")
    if title and version:
        return _("「%(title)s」第 %(version)s 版", title=title, version=version)
    if title:
        return _("「%(title)s」（未保存）", title=title)
    if version:
        return _("未命名方法（第 %(version)s 版）", version=version)
    return _("本次查询给出的方法（未保存）")
