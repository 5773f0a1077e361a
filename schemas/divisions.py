"""Administrative division codes: a node's identity (DESIGN.md, "Identity and trust").

Six digits for province, city and county level (GB/T 2260), nine for townships.
"""

from __future__ import annotations

import enum
import re


class Level(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"


class CountyKind(enum.StrEnum):
    """County-level units are ranked among their own kind."""

    DISTRICT = "district"
    COUNTY = "county"
    COUNTY_CITY = "county_city"


_CODE = re.compile(r"[0-9]{6}|[0-9]{9}")


class DivisionCodeError(ValueError):
    pass


def level_of(code: str) -> Level:
    """The level a division code denotes, e.g. ``450000`` is a province."""
    if not _CODE.fullmatch(code):
        raise DivisionCodeError(f"{code!r} is not a 6- or 9-digit division code")
    if len(code) == 9:
        return Level.TOWNSHIP
    if code[2:] == "0000":
        return Level.PROVINCE
    if code[4:] == "00":
        return Level.CITY
    return Level.COUNTY


def parent_of(code: str) -> str | None:
    """The code of the division directly above ``code`` (None for a province).

    Province-administered county-level units (e.g. 429004) have the province as parent
    when their city part is ``90``.
    """
    level = level_of(code)
    if level is Level.PROVINCE:
        return None
    if level is Level.CITY:
        return code[:2] + "0000"
    if level is Level.COUNTY:
        return code[:2] + "0000" if code[2:4] == "90" else code[:4] + "00"
    return code[:6]


def ancestors_of(code: str) -> list[str]:
    """The codes above ``code``, nearest first: parent, grandparent, … the province.

    Raises :class:`DivisionCodeError` for a malformed code, like :func:`parent_of`.
    """
    found: list[str] = []
    parent = parent_of(code)
    while parent is not None:
        found.append(parent)
        parent = parent_of(parent)
    return found


def lineage(code: str) -> list[str]:
    """``code`` and the codes above it, nearest first (just ``[code]`` when ``code`` is no
    division code)."""
    try:
        return [code, *ancestors_of(code)]
    except DivisionCodeError:
        return [code]


def at_level(code: str, level: Level) -> str | None:
    """The division at ``level`` that is ``code`` or lies above it; None when ``code`` lies
    above ``level`` or is no division code."""
    try:
        return next((c for c in lineage(code) if level_of(c) is level), None)
    except DivisionCodeError:
        return None


def province_of(code: str) -> str:
    """The province of a division code (its nodes' trust root)."""
    return code[:2] + "0000"


def subtree_prefix(code: str) -> str:
    """The prefix that the codes of ``code``'s subtree, itself included, start with and no
    other code does: a child's code extends its parent's significant digits (two of a
    province, four of a city, six of a county), except that a code whose city part is ``90``
    (a county-level unit under the province) is no city's child, and a township has nothing
    below it.  Raises :class:`DivisionCodeError` for a malformed code."""
    level = level_of(code)
    if level is Level.PROVINCE:
        return code[:2]
    if level is Level.CITY and code[2:4] != "90":
        return code[:4]
    return code


def is_ancestor(ancestor: str, code: str) -> bool:
    """Whether ``ancestor`` is strictly above ``code`` (False when ``code`` is malformed)."""
    try:
        return ancestor in ancestors_of(code)
    except DivisionCodeError:
        return False


def is_within(scope: str, code: str) -> bool:
    """Whether ``code`` is ``scope`` itself or below it in the administrative tree (False
    when ``code`` is malformed and not ``scope``)."""
    return code == scope or is_ancestor(scope, code)


def validate_identity(code: str, level: str, kind: str | None) -> list[str]:
    """Reasons why ``code``/``level``/``kind`` do not describe one node (empty when fine)."""
    try:
        actual = level_of(code)
    except DivisionCodeError as exc:
        return [str(exc)]
    problems = []
    if level != actual.value:
        problems.append(f"code {code} is a {actual.value}-level code, not {level}")
    if actual is Level.COUNTY and kind not in {k.value for k in CountyKind}:
        problems.append("a county-level node needs kind district, county or county_city")
    if actual is not Level.COUNTY and kind:
        problems.append("only county-level nodes have a kind")
    return problems
