"""Every CSV and XLSX the hub writes is inert: a lower center whose name starts with
``=HYPERLINK(…)`` plants no live formula in a higher center's league table or composite
index; completeness, roll-up and trend exports hold none either (schemas/runtime/spreadsheet.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.hub import rank_federation
from tests.unit.hub.conftest import MakeHub
from tests.unit.hub.rank_federation import (
    LUCHUAN,
    RONG,
    YULIN,
    RankFederation,
    count,
    rate,
)
from tests.unit.schemas.test_spreadsheet import PLANTED, assert_inert_csv, assert_inert_xlsx

PERIOD = "2026-10"


@pytest.fixture
def fed(make_hub: MakeHub, monkeypatch: pytest.MonkeyPatch) -> RankFederation:
    level, kind, _name = rank_federation.IDENTITY[RONG]
    monkeypatch.setitem(rank_federation.IDENTITY, RONG, (level, kind, PLANTED))
    federation = RankFederation(make_hub())
    for code, (done, on_time) in ((RONG, (50, 45)), (LUCHUAN, (40, 40))):
        federation.report(code, PERIOD, {"completed": count(done),
                                         "on_time_rate": rate(on_time, done)})
    return federation


def _check(response: Any, fmt: str, planted: str | None) -> None:
    assert response.status_code == 200, response.data[:300]
    if fmt == "csv":
        assert_inert_csv(response.data, planted)
    else:
        assert_inert_xlsx(response.data, planted)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_hub_export_is_inert(fed: RankFederation, fmt: str) -> None:
    league = fed.get(f"/api/v1/rankings/league?scope={YULIN}&period={PERIOD}"
                     f"&metric=completed&format={fmt}")
    _check(league, fmt, PLANTED)
    composite = fed.post("/api/v1/rankings/composite", {
        "scope": YULIN, "period": PERIOD, "kind": "county", "format": fmt,
        "methodology": {"normalisation": "min_max", "components": [
            {"metric": "completed", "weight": 2}, {"metric": "on_time_rate", "weight": 1}]}})
    _check(composite, fmt, PLANTED)
    for path in (f"completeness?scope={YULIN}&period={PERIOD}",
                 f"rollup?scope={YULIN}&period={PERIOD}",
                 f"trend?scope={YULIN}&metric=completed&from=2026-08&to={PERIOD}"):
        _check(fed.get(f"/api/v1/rankings/{path}&format={fmt}"), fmt, None)
