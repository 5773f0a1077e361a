"""Division codes: levels, parents and consistency of a node's identity."""

from __future__ import annotations

import pytest

from schemas.divisions import (
    DivisionCodeError,
    Level,
    ancestors_of,
    is_ancestor,
    is_within,
    level_of,
    parent_of,
    validate_identity,
)


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
