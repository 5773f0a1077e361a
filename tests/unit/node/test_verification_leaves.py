"""The commitment's leaves add up to the summary's figures (issue 21), on both databases.

For random cases around November 2026 (the generators of test_metrics_properties), every
figure the leaves can support (schemas.commitment.COMMITTED_METRICS) equals what the leaves
of the month's tree add up to, after the month and in the middle of it; the leaves carry no
personal data and their flags agree with their own dates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from node.metrics.patterns import PatternPolicy
from node.metrics.summary import as_of, summarize
from node.verification.service import commit, committed_leaves
from schemas.commitment import (
    COMMITTED_METRICS,
    COMMITTED_RATIOS,
    LEAF_FIELDS,
    commitment_problems,
    flag_problems,
    leaf_digest,
    sort_key,
)
from schemas.merkle import tree_root
from schemas.metrics import ALL_METRICS, DERIVED_COUNTS, ratio_value
from tests.unit.node.test_metrics_properties import (
    AFTER,
    MONTH,
    NODE,
    PROPERTY_SETTINGS,
    Generated,
    World,
    at,
    clear,
    insert,
    world,  # noqa: F401 - the fixture
    worlds,
)
from tests.verification_full import period_leaves


def _check(setup: World, moment: dt.datetime) -> dict[str, Any]:
    with setup.db.unit_of_work() as session:
        summary = summarize(session, NODE, MONTH, moment, PatternPolicy())
        commitment = commit(session, MONTH, as_of(MONTH, moment))
        leaves = period_leaves(session, MONTH, as_of(MONTH, moment))
        assert committed_leaves(session, MONTH.label, commitment.digests) == leaves
    body = commitment.body
    for key in COMMITTED_METRICS:
        assert body["tallies"][key] == summary["metrics"][key]["value"], key
    summary["commitment"] = body
    assert commitment_problems(summary) == []
    assert body["size"] == len(leaves) == sum(body["by_state"].values())
    assert leaves == sorted(leaves, key=sort_key)
    assert body["root"] == tree_root([leaf_digest(leaf) for leaf in leaves]).hex()
    for leaf in leaves:
        assert tuple(sorted(leaf)) == tuple(sorted(LEAF_FIELDS))
        assert "测试" not in str(leaf)  # the applicant's name never enters a leaf
        assert flag_problems(leaf, body["as_of"]) == []
    return body


@PROPERTY_SETTINGS
@given(data=worlds, day=st.integers(min_value=1, max_value=30))
def test_leaves_add_up_to_the_summary(
    world: World, data: tuple[list[Generated], list[dict[str, Any]]], day: int  # noqa: F811
) -> None:
    cases, complaints = data
    try:
        with world.db.unit_of_work() as session:
            insert(session, world, cases, complaints)
        after = _check(world, AFTER)
        assert after["as_of"] == "2026-11-30"
        _check(world, at(dt.date(2026, 11, day), 20 * 60))
    finally:
        clear(world.db)


def test_an_inflated_figure_disagrees_with_the_commitment(world: World) -> None:  # noqa: F811
    with world.db.unit_of_work() as session:
        summary = summarize(session, NODE, MONTH, AFTER, PatternPolicy())
        summary["commitment"] = commit(session, MONTH, as_of(MONTH, AFTER)).body
    summary["metrics"]["completed_on_time"]["value"] += 1
    assert commitment_problems(summary) == [
        {"reason": "counts", "field": "completed_on_time", "summary": 1, "commitment": 0}]
    summary["metrics"]["completed_on_time"]["value"] -= 1
    summary["commitment"]["size"] += 2
    assert [p["reason"] for p in commitment_problems(summary)] == ["size"]
    summary["commitment"]["size"] -= 2


@PROPERTY_SETTINGS
@given(data=worlds)
def test_a_rate_beside_honest_counts_disagrees_with_the_commitment(
    world: World, data: tuple[list[Generated], list[dict[str, Any]]]  # noqa: F811
) -> None:
    """Every rate a committed figure enters (COMMITTED_RATIOS): its value dressed up beside
    honest counts, or its numerator and denominator with it, is caught by name."""
    cases, complaints = data
    try:
        with world.db.unit_of_work() as session:
            insert(session, world, cases, complaints)
            summary = summarize(session, NODE, MONTH, AFTER, PatternPolicy())
            summary["commitment"] = commit(session, MONTH, as_of(MONTH, AFTER)).body
    finally:
        clear(world.db)
    assert commitment_problems(summary) == []
    assert set(COMMITTED_RATIOS) == {"on_time_rate", "on_time_rate_strict", "same_day_rate",
                                     "outside_center_rate", "active_evaluation_rate",
                                     "completed_monthly_average"}
    for key in COMMITTED_RATIOS:
        metric, honest = ALL_METRICS[key], summary["metrics"][key]
        value = honest.get("value")
        changes = [{"value": value + 1 if value is not None else 10000}]
        # a committed part off by one, the value computed from the parts as claimed
        for part, name in (("numerator", metric.numerator),
                           ("denominator", metric.denominator)):
            if name in (*COMMITTED_METRICS, *DERIVED_COUNTS, "months"):
                parts = {"numerator": honest["numerator"], "denominator": honest["denominator"],
                         part: honest[part] + 1}
                changes.append(parts | {"value": ratio_value(
                    metric.unit, parts["numerator"], parts["denominator"])})
        assert len(changes) >= 2, key
        for change in changes:
            forged = summary | {"metrics": summary["metrics"] | {key: honest | change}}
            assert commitment_problems(forged) == [
                {"reason": "counts", "field": key, "summary": change["value"],
                 "commitment": value}], (key, change)
        left_out = summary | {"metrics": {k: v for k, v in summary["metrics"].items()
                                          if k != key}}
        assert commitment_problems(left_out) == []  # a rate left out claims nothing
