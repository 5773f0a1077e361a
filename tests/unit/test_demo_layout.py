"""The demo federation's layout and generated data are what the issue asks for."""

from __future__ import annotations

import datetime as dt
import random

from deploy.demo.catalog import MATTERS
from deploy.demo.history import _id_number
from deploy.demo.layout import check_layout, full_layout
from schemas.divisions import level_of, validate_identity
from schemas.personal import resident_id_problems


def test_the_full_federation_is_guangxi_yulin_its_counties_and_two_townships_each() -> None:
    layout = full_layout()
    codes = [node.code for node in layout]

    assert len(layout) == 23
    assert codes[:2] == ["450000", "450900"]
    assert {n.code for n in layout if n.level == "county"} == {
        "450902", "450903", "450921", "450922", "450923", "450924", "450981"}
    townships = [n for n in layout if n.level == "township"]
    assert len(townships) == 14
    assert all(sum(t.parent == c for t in townships) == 2
               for c in ("450902", "450903", "450921", "450922", "450923", "450924", "450981"))
    for node in layout:
        assert validate_identity(node.code, level_of(node.code).value, node.kind) == []
        assert node.parent is None or codes.index(node.parent) < codes.index(node.code)


def test_the_centers_differ_in_volume_and_rates() -> None:
    counties = [n for n in full_layout() if n.level == "county"]
    volumes = sorted(n.profile.monthly for n in counties)
    on_time = {n.profile.on_time for n in counties}

    assert volumes[-1] >= 10 * volumes[0]
    assert len(on_time) >= 5
    assert {n.kind for n in counties} == {"district", "county", "county_city"}


def test_the_check_federation_has_every_level() -> None:
    levels = [node.level for node in check_layout()]

    assert levels == ["province", "city", "county", "county", "township", "township"]


def test_generated_id_numbers_are_valid() -> None:
    rng = random.Random(7)
    for _ in range(200):
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 50))
        assert resident_id_problems(_id_number(rng, born)) == []


def test_the_standard_catalog_has_both_handling_types_and_every_department() -> None:
    assert {m["handling_type"] for m in MATTERS} == {"immediate", "promised"}
    assert {m["department_code"] for m in MATTERS} == {"GA", "SC", "ZR", "ZJ", "WJ"}
    assert all(m["code"].startswith("450000") for m in MATTERS)


def test_the_history_spans_the_months_asked_for() -> None:
    from deploy.demo.history import first_day

    assert first_day(dt.date(2026, 11, 29), 3) == dt.date(2026, 9, 1)
    assert first_day(dt.date(2026, 2, 3), 3) == dt.date(2025, 12, 1)
    assert first_day(dt.date(2026, 1, 31), 1) == dt.date(2026, 1, 1)
