"""Division codes: levels, parents and consistency of a node's identity."""

from __future__ import annotations

import pytest

from schemas.divisions import DivisionCodeError, Level, level_of, parent_of, validate_identity


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
