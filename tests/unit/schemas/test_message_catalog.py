"""``python -m deploy.messages check`` (run by ``make lint``) fails on a message missing from
a catalog and passes on the project's own catalogs."""

from __future__ import annotations

import shutil
from pathlib import Path

from deploy.messages import check, update
from schemas.i18n import TRANSLATIONS

REPO = Path(__file__).resolve().parents[3]


def test_the_projects_catalogs_hold_every_message_in_every_language() -> None:
    assert check() == []


def _tree(tmp_path: Path, code: str, template: str) -> tuple[Path, Path]:
    (tmp_path / "node" / "templates").mkdir(parents=True)
    (tmp_path / "node" / "feature.py").write_text(code, encoding="utf-8")
    (tmp_path / "node" / "templates" / "page.html").write_text(template, encoding="utf-8")
    shutil.copy(REPO / "babel.cfg", tmp_path / "babel.cfg")
    translations = tmp_path / "translations"
    return tmp_path, translations


def test_a_message_missing_from_a_catalog_fails_the_check(tmp_path: Path) -> None:
    root, translations = _tree(
        tmp_path, 'from schemas.i18n import _\n\nMESSAGE = _("这条消息不在目录中")\n',
        "<p>{{ _('办事指南') }}</p>\n")
    shutil.copytree(TRANSLATIONS, translations)
    problems = check(root, translations, sources=["node"], config=root / "babel.cfg")
    assert any("missing '这条消息不在目录中'" in p and p.startswith("zh_Hans_CN") for p in problems)
    assert any("missing '这条消息不在目录中'" in p and p.startswith("en") for p in problems)
    assert not any("办事指南" in p for p in problems)  # in both catalogs already


def test_an_untranslated_message_and_a_stale_mo_fail_the_check(tmp_path: Path) -> None:
    root, translations = _tree(
        tmp_path, 'from schemas.i18n import _\n\nMESSAGE = _("本月新到 %(n)s 件", n=1)\n', "")
    shutil.copytree(TRANSLATIONS, translations)
    update(root, translations, sources=["node"], config=root / "babel.cfg")
    problems = check(root, translations, sources=["node"], config=root / "babel.cfg")
    # the Chinese catalog takes the Chinese msgid as it is; English still lacks it
    assert problems == ["en: untranslated '本月新到 %(n)s 件' (node/feature.py:3)"]
    po = translations / "en" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text(encoding="utf-8").replace(
        'msgid "本月新到 %(n)s 件"\nmsgstr ""',
        'msgid "本月新到 %(n)s 件"\nmsgstr "%(n)s new this month"'),
        encoding="utf-8")
    stale = check(root, translations, sources=["node"], config=root / "babel.cfg")
    assert len(stale) == 1
    assert "is not what messages.po compiles to" in stale[0]
