"""The message catalog's upkeep: ``python -m deploy.messages update | compile | check``.

- ``update`` extracts every message of the code and the templates (Babel, the mapping of
  ``babel.cfg``), adds the new ones to both catalogs (``schemas/translations/<locale>/
  LC_MESSAGES/messages.po``), their text as the translation in the msgid's own language and
  empty in the other, drops the ones no longer used, and compiles.
- ``compile`` writes each catalog's ``messages.mo`` (committed: docs/web.md says why).
- ``check`` (run by ``make lint``) fails when a message used in the code or a template is
  missing or untranslated in a catalog, when a translation's placeholders differ from its
  msgid's, or when a committed ``.mo`` is not what its ``.po`` compiles to.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from schemas.i18n import DEFAULT_LOCALE, DOMAIN, LOCALES, TRANSLATIONS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("node", "hub", "schemas", "deploy")
CONFIG = ROOT / "babel.cfg"
KEYWORDS = {"_": None, "gettext": None}
_CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
_PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sdr]|\{[a-z_0-9]*(?:![rs])?\}")


def method_map(config: Path = CONFIG) -> list[tuple[str, str]]:
    """``babel.cfg``'s ``[method: pattern]`` sections, in order."""
    sections = re.findall(r"^\[(\w+):\s*(.+?)\]\s*$", config.read_text(encoding="utf-8"), re.M)
    return [(pattern, method) for method, pattern in sections]


def extract(root: Path = ROOT, sources: Iterable[str] = SOURCES,
            config: Path = CONFIG) -> dict[str, list[str]]:
    """Every msgid used under ``root``'s ``sources``, with where it is used."""
    found: dict[str, list[str]] = {}
    mapping = method_map(config)
    for source in sources:
        directory = root / source
        if not directory.is_dir():
            continue
        for filename, line, message, _comments, _context in extract_from_dir(
                str(directory), mapping, keywords=KEYWORDS):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, []).append(f"{source}/{filename}:{line}")
    return found


def is_chinese(msgid: str) -> bool:
    return bool(_CJK.search(msgid))


def po_path(locale: str, translations: Path = TRANSLATIONS) -> Path:
    return translations / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(locale: str, translations: Path = TRANSLATIONS) -> Catalog:
    path = po_path(locale, translations)
    if not path.exists():
        return Catalog(locale=locale, domain=DOMAIN, project="tongban")
    with path.open("rb") as po:
        return read_po(po, locale=locale, domain=DOMAIN)


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


def check(root: Path = ROOT, translations: Path = TRANSLATIONS,
          sources: Iterable[str] = SOURCES, config: Path = CONFIG,
          locales: Sequence[str] = LOCALES) -> list[str]:
    """What is wrong with the catalogs under ``translations`` for the messages under
    ``root``; empty when nothing is."""
    used = extract(root, sources, config)
    problems = []
    for locale in locales:
        catalog = read_catalog(locale, translations)
        for msgid, where in sorted(used.items()):
            entry = catalog.get(msgid)
            if entry is None or not entry.string or entry.fuzzy:
                state = "missing" if entry is None else "untranslated"
                problems.append(f"{locale}: {state} {msgid!r} ({where[0]})")
            elif _placeholders(str(entry.string)) != _placeholders(msgid):
                problems.append(f"{locale}: the placeholders of {msgid!r} differ in "
                                f"{entry.string!r} ({where[0]})")
        mo = po_path(locale, translations).with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compiled(catalog):
            problems.append(f"{locale}: {mo.relative_to(translations)} is not what "
                            f"{mo.with_suffix('.po').name} compiles to: "
                            "run python -m deploy.messages compile")
    return problems


def update(root: Path = ROOT, translations: Path = TRANSLATIONS,
           sources: Iterable[str] = SOURCES, config: Path = CONFIG) -> dict[str, int]:
    """Bring both catalogs to the messages in use; how many each still lacks."""
    used = extract(root, sources, config)
    untranslated = {}
    for locale in LOCALES:
        old = read_catalog(locale, translations)
        catalog = Catalog(locale=locale, domain=DOMAIN, project="tongban",
                          fuzzy=False, header_comment=f"# tongban's messages ({locale})")
        for msgid, where in sorted(used.items()):
            entry = old.get(msgid)
            string = entry.string if entry is not None else ""
            own_language = is_chinese(msgid) == (locale == DEFAULT_LOCALE)
            if not string and own_language:
                string = msgid
            catalog.add(msgid, string, locations=[
                (path.rsplit(":", 1)[0], int(path.rsplit(":", 1)[1])) for path in where])
        path = po_path(locale, translations)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=100, sort_output=True, no_location=True)
        untranslated[locale] = sum(1 for message in catalog if message.id and not message.string)
    compile_all(translations)
    return untranslated


def compile_all(translations: Path = TRANSLATIONS) -> None:
    for locale in LOCALES:
        catalog = read_catalog(locale, translations)
        po_path(locale, translations).with_suffix(".mo").write_bytes(compiled(catalog))


def main(argv: Sequence[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:] or ["check"])[0]
    if command == "update":
        for locale, missing in update().items():
            print(f"{locale}: {missing} messages without a translation")
        return 0
    if command == "compile":
        compile_all()
        return 0
    if command == "check":
        problems = check()
        for problem in problems:
            print(problem)
        if problems:
            print(f"{len(problems)} problems in the message catalogs "
                  "(python -m deploy.messages update, then translate)")
            return 1
        print("the message catalogs hold every message in use, in every language")
        return 0
    print("usage: python -m deploy.messages update | compile | check")
    return 2


if __name__ == "__main__":
    sys.exit(main())
