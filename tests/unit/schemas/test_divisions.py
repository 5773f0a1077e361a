"""Division codes: levels, parents and consistency of a node's identity; the tree's helpers
live here once (issue 18), and no module elsewhere walks the tree itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from schemas.divisions import (
    DivisionCodeError,
    Level,
    ancestors_of,
    at_level,
    is_ancestor,
    is_within,
    level_of,
    lineage,
    parent_of,
    province_of,
    subtree_prefix,
    validate_identity,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("450000", Level.PROVINCE, None),
        ("450900", Level.CITY, "450000"),
        ("450981", Level.COUNTY, "450900"),
        ("450981101", Level.TOWNSHIP, "450981"),
        ("429004", Level.COUNTY, "420000"),  # province-administered county-level city
    ],
)
def test_level_and_parent(code: str, level: Level, parent: str | None) -> None:
    assert level_of(code) == level
    assert parent_of(code) == parent


@pytest.mark.parametrize("code", ["", "45098", "4509811", "45098a", "4509811011"])
def test_malformed_codes(code: str) -> None:
    with pytest.raises(DivisionCodeError):
        level_of(code)


def test_identity_consistency() -> None:
    assert validate_identity("450981", "county", "county_city") == []
    assert validate_identity("450900", "city", None) == []
    assert validate_identity("450981", "county", None)  # a county-level node needs a kind
    assert validate_identity("450900", "city", "district")  # only county-level has a kind
    assert validate_identity("450981", "township", None)


@pytest.mark.parametrize("code", ["٤٥٠٩٨١", "450981\n", "４５０９８１"])
def test_only_ascii_digits_without_trailing_newline(code: str) -> None:
    with pytest.raises(DivisionCodeError):
        level_of(code)


def test_ancestors_nearest_first() -> None:
    assert ancestors_of("450981101") == ["450981", "450900", "450000"]
    assert ancestors_of("429004") == ["420000"]  # a county-level unit under the province
    assert ancestors_of("450000") == []
    with pytest.raises(DivisionCodeError):
        ancestors_of("hub")


def test_ancestor_and_subtree_are_one_rule_with_one_error_behaviour() -> None:
    assert is_ancestor("450900", "450981101")
    assert not is_ancestor("450981101", "450981101")  # strictly above
    assert not is_ancestor("450100", "450981")  # another city
    assert not is_ancestor("450000", "hub")  # a malformed code is below nothing
    assert is_within("450981", "450981")
    assert is_within("450000", "450981101")
    assert not is_within("450981", "450900")
    assert not is_within("450000", "")
    assert is_within("", "")


def test_lineage_is_the_code_and_its_ancestors() -> None:
    assert lineage("450981101") == ["450981101", "450981", "450900", "450000"]
    assert lineage("450000") == ["450000"]
    assert lineage("hub") == ["hub"]  # no division code: only itself


def test_the_division_at_a_level() -> None:
    assert at_level("450981101", Level.CITY) == "450900"
    assert at_level("450981", Level.COUNTY) == "450981"
    assert at_level("450900", Level.COUNTY) is None  # above the level
    assert at_level("429004", Level.CITY) is None  # under the province, no city above it
    assert at_level("hub", Level.PROVINCE) is None
    assert province_of("450981101") == "450000"


@pytest.mark.parametrize(("code", "prefix", "inside", "outside"), [
    ("450000", "45", ["450981101", "459001"], ["460000", "440981"]),
    ("450900", "4509", ["450981", "450981101"], ["450100", "459001"]),
    ("429000", "429000", ["429000"], ["429004"]),  # no real city: 429004 is the province's
    ("450981", "450981", ["450981101"], ["450982"]),
    ("450981101", "450981101", ["450981101"], ["450981102"]),
])
def test_a_subtree_is_the_codes_with_its_prefix(code: str, prefix: str, inside: list[str],
                                                outside: list[str]) -> None:
    assert subtree_prefix(code) == prefix
    for other in inside:
        assert other.startswith(prefix)
        assert is_within(code, other) or level_of(code) is Level.PROVINCE
    for other in outside:
        assert not other.startswith(prefix)
        assert not is_within(code, other)


def _walks_the_tree(source: str) -> list[int]:
    """The lines of each ``while`` loop that calls ``parent_of`` (a hand-made walk up the
    tree)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.While):
            for inner in ast.walk(node):
                if (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name)
                        and inner.func.id == "parent_of"):
                    found.append(node.lineno)
                    break
    return found


def test_the_scan_sees_a_walk_up_the_tree() -> None:
    assert _walks_the_tree("p = parent_of(c)\nwhile p is not None:\n    p = parent_of(p)\n") == [2]
    assert _walks_the_tree("for c in codes:\n    below = parent_of(c) == code\n") == []


def test_no_module_but_divisions_walks_the_tree_itself() -> None:
    walks = {}
    for package in ("node", "hub", "schemas", "deploy"):
        for path in sorted((ROOT / package).rglob("*.py")):
            lines = _walks_the_tree(path.read_text(encoding="utf-8"))
            if lines:
                walks[path.relative_to(ROOT).as_posix()] = lines
    assert walks.keys() == {"schemas/divisions.py"}, walks
