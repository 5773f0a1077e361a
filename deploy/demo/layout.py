"""Who is in the demo federation and how busy each center is.

Guangxi (450000), Yulin city (450900), Yulin's seven county-level centers and two townships
under each.  The volumes and rates differ by center the way the reference reports' figures
do, at about half the reports' volumes so that the first ``make demo`` takes minutes: a busy
district with nearly a thousand cases a month and a high same-day rate, a small district with
a few dozen and more late cases, townships with a few to a few dozen (``--scale`` changes all).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from schemas.divisions import level_of, parent_of


@dataclass(frozen=True)
class Profile:
    """How a center works: cases a month and the shares that make its figures differ."""

    monthly: int  # cases received in a month (at scale 1)
    on_time: float  # share of decisions made by the deadline
    same_day: float  # share of promised-limit cases decided on the day they were accepted
    entered: float  # share of the standard catalog's matters entered in the center (进驻)
    approve_power: float  # share of entered matters whose window may approve (审批授权)
    forwards: int = 0  # cases a township forwards to its county in the demo's last days


@dataclass(frozen=True)
class DemoNode:
    code: str
    name: str
    kind: str | None
    profile: Profile

    @property
    def level(self) -> str:
        return level_of(self.code).value

    @property
    def parent(self) -> str | None:
        return parent_of(self.code)


PROVINCE = DemoNode("450000", "广西壮族自治区政务服务中心", None,
                    Profile(80, 0.995, 0.55, 0.95, 0.90))
CITY = DemoNode("450900", "玉林市政务服务中心", None, Profile(200, 0.985, 0.62, 0.77, 0.42))

COUNTIES: tuple[DemoNode, ...] = (
    DemoNode("450902", "玉州区政务服务中心", "district", Profile(900, 0.995, 0.80, 0.92, 0.85)),
    DemoNode("450903", "福绵区政务服务中心", "district", Profile(60, 0.93, 0.35, 0.60, 0.30)),
    DemoNode("450921", "容县政务服务中心", "county", Profile(350, 0.975, 0.58, 0.85, 0.55)),
    DemoNode("450922", "陆川县政务服务中心", "county", Profile(300, 0.96, 0.50, 0.80, 0.45)),
    DemoNode("450923", "博白县政务服务中心", "county", Profile(550, 0.985, 0.66, 0.88, 0.70)),
    DemoNode("450924", "兴业县政务服务中心", "county", Profile(150, 0.92, 0.40, 0.70, 0.35)),
    DemoNode("450981", "北流市政务服务中心", "county_city", Profile(750, 0.99, 0.77, 0.90, 0.75)),
)

_TOWNSHIP_NAMES = {
    "450902": (("450902001", "名山街道便民服务中心"), ("450902002", "南江街道便民服务中心")),
    "450903": (("450903101", "福绵镇便民服务中心"), ("450903102", "成均镇便民服务中心")),
    "450921": (("450921101", "容州镇便民服务中心"), ("450921102", "杨梅镇便民服务中心")),
    "450922": (("450922101", "温泉镇便民服务中心"), ("450922102", "米场镇便民服务中心")),
    "450923": (("450923101", "博白镇便民服务中心"), ("450923102", "水鸣镇便民服务中心")),
    "450924": (("450924101", "石南镇便民服务中心"), ("450924102", "大平山镇便民服务中心")),
    "450981": (("450981101", "北流镇便民服务中心"), ("450981102", "塘岸镇便民服务中心")),
}


def _townships(county: DemoNode) -> tuple[DemoNode, ...]:
    busy = county.profile.monthly
    return tuple(
        DemoNode(code, name, None,
                 Profile(max(4, busy // (15 + 15 * i)), min(0.999, county.profile.on_time + 0.01),
                         0.7, 0.5, 0.2, forwards=3 - i))
        for i, (code, name) in enumerate(_TOWNSHIP_NAMES[county.code])
    )


def full_layout() -> tuple[DemoNode, ...]:
    """Province, city, seven county-level centers, fourteen townships: parents first."""
    townships = tuple(t for county in COUNTIES for t in _townships(county))
    return (PROVINCE, CITY, *COUNTIES, *townships)


def check_layout() -> tuple[DemoNode, ...]:
    """The smaller federation of ``--check``: every level, two counties of different kinds."""
    chosen = (COUNTIES[0], COUNTIES[-1])  # 玉州区 (district) and 北流市 (county-level city)
    townships = tuple(_townships(county)[0] for county in chosen)
    return (PROVINCE, CITY, *chosen, *townships)


def default_workers() -> int:
    """Processes that set up centers side by side: the cores, at most four."""
    return max(1, min(4, os.cpu_count() or 1))
