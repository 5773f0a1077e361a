"""docs/rankings.md's worked example of the composite index is what the code computes: the
tables between the ``worked-example`` markers are made here from the example's figures with
hub.rankings.tables and must equal the document's, number for number.

Run ``python -m tests.unit.hub.test_rankings_worked_example`` to print the tables after a
change of the method (then copy them into the document)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from hub.rankings.store import Figure, NodeInfo, Reported
from hub.rankings.tables import (
    Component,
    Group,
    Methodology,
    Normalisation,
    Peers,
    composite,
)
from schemas.divisions import CountyKind, Level
from schemas.metrics import ALL_METRICS, Direction, rate_basis_points

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "rankings.md"
YULIN = "450900"

# Yulin's county-level centers in the bulletins' groups: (code, name, kind, completed,
# (completed on time, completed), (outside the center, received)); 福绵区 sent no
# outside-center figure (no value), so 玉州区 is alone in its group
CENTERS = (
    ("450981", "北流市", CountyKind.COUNTY_CITY, 750, (743, 750), (40, 800)),
    ("450921", "容县", CountyKind.COUNTY, 350, (341, 350), (30, 375)),
    ("450922", "陆川县", CountyKind.COUNTY, 300, (288, 300), (39, 325)),
    ("450923", "博白县", CountyKind.COUNTY, 550, (542, 550), (35, 580)),
    ("450924", "兴业县", CountyKind.COUNTY, 150, (150, 150), (24, 160)),
    ("450902", "玉州区", CountyKind.DISTRICT, 900, (895, 900), (20, 950)),
    ("450903", "福绵区", CountyKind.DISTRICT, 60, (56, 60), None),
)
METHODOLOGY = Methodology(
    (Component("completed", 2),
     Component("on_time_rate", 1),
     Component("outside_center_rate", 1, Direction.LOWER_BETTER)),
    Normalisation.MIN_MAX, description="办结量、按时办结率与体外循环率")


def _rate(pair: tuple[int, int] | None) -> Figure | None:
    if pair is None:
        return None
    return Figure("basis_points", rate_basis_points(*pair), *pair)


def example() -> list[Group]:
    nodes = [NodeInfo(code, name, Level.COUNTY, kind, YULIN)
             for code, name, kind, *_ in CENTERS]
    reported = {
        code: Reported(code, 1, name, {"completed": Figure("count", completed, None, None),
                                       "on_time_rate": _rate(on_time),
                                       "outside_center_rate": _rate(outside)})
        for code, name, _kind, completed, on_time, outside in CENTERS
    }
    return composite(nodes, Level.COUNTY, reported, METHODOLOGY, Peers.BULLETIN)


GROUP_NAMES = {"counties_and_cities": "县（市）", "district": "城区"}
STATUS = {"ranked": "", "no_value": "无数据", "sole_peer": "不参与排名（同类仅 1 个）"}


def _value(metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 100:.2f} %" if ALL_METRICS[metric].unit == "basis_points" else str(value)


def tables() -> str:
    """The example's tables as docs/rankings.md shows them."""
    metrics = METHODOLOGY.metrics
    heading = "| 名次 | 中心 | " + " | ".join(
        f"{ALL_METRICS[m].name} v → n" for m in metrics) + " | 综合得分 |"
    lines = []
    for group in example():
        lines += [f"**{GROUP_NAMES[str(group.key)]}**（参评 {group.ranked} 个）", "",
                  heading, "| --- | --- | " + "--- | " * len(metrics) + "--- |"]
        for row in group.rows:
            cells = [str(row.rank) if row.rank else STATUS[row.status.value], row.name or ""]
            for entry in row.components:
                normalised = entry["normalised"]
                cells.append(_value(entry["metric"], entry["value"]) + " → " + (
                    f"{normalised:.6f}" if normalised is not None else "—"))
            cells.append(f"{row.value:.6f}" if row.value is not None else "—")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def test_the_documents_worked_example_is_what_the_code_computes() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")
    found = re.search(r"<!-- worked-example:start -->\n(.*?)\n<!-- worked-example:end -->",
                      text, re.S)
    assert found is not None, "docs/rankings.md has lost its worked example"
    assert found.group(1).strip() == tables()


def test_the_worked_example_checked_by_hand() -> None:
    groups = {str(g.key): g for g in example()}
    rows = {r.node.code: r for g in groups.values() for r in g.rows}
    # completed 750/350/300/550/150: min 150, max 750 → 北流 1, 容县 1/3, 陆川 1/4, 博白 2/3, 兴业 0
    # on time 99.07 %/97.43 %/96.00 %/98.55 %/100.00 %: min 9600, max 10000
    #   → 北流 (9907 − 9600)/400 = 0.7675, 容县 0.3575, 陆川 0, 博白 0.6375, 兴业 1
    # outside the center, lower is better, 5.00 %/8.00 %/12.00 %/6.03 %/15.00 %:
    #   → 北流 (1500 − 500)/1000 = 1, 容县 0.7, 陆川 0.3, 博白 (1500 − 603)/1000 = 0.897, 兴业 0
    # score = (2·completed + on time + outside) / 4
    assert rows["450981"].value == round((2 * 1 + 0.7675 + 1) / 4, 6)
    assert rows["450921"].value == round((2 / 3 + 0.3575 + 0.7) / 4, 6)
    assert rows["450923"].value == round((2 * 2 / 3 + 0.6375 + 0.897) / 4, 6)
    assert rows["450924"].value == round((0 + 1 + 0) / 4, 6)
    assert [r.node.code for r in groups["counties_and_cities"].rows] == [
        "450981", "450923", "450921", "450924", "450922"]
    assert (rows["450902"].status.value, rows["450902"].rank) == ("sole_peer", None)
    assert (rows["450903"].status.value, rows["450903"].rank) == ("no_value", None)


if __name__ == "__main__":
    sys.stdout.write(tables() + "\n")
