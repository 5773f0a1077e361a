"""The fleet benchmark's ramp: every step, however small, has townships whose counties wait,
so that it times forwards (a step of the fleet's first 100 nodes had none)."""

from __future__ import annotations

import pytest

from tests.bench.bench_fleet import step_codes
from tests.bench.enrolment import division_codes


@pytest.mark.parametrize("count", [100, 155, 300, 999])
def test_a_smaller_step_holds_townships_under_its_counties(count: int) -> None:
    fleet = division_codes(1000)
    chosen = step_codes(fleet, count)
    assert len(chosen) == count
    assert len(set(chosen)) == count
    assert set(chosen) <= set(fleet)
    townships = [code for code in chosen if len(code) == 9]
    assert townships
    assert all(code[:6] in chosen for code in townships)


def test_the_whole_fleet_is_every_node_in_its_order() -> None:
    fleet = division_codes(300)
    assert step_codes(fleet, 300) == fleet
    assert step_codes(fleet, 2000) == fleet
