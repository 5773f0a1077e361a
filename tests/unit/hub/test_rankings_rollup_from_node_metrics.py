"""The roll-up counts a forwarded case once, proved with the node's own metric code.

A township (450981101) and its county (Beiliu, 450981) each work cases through the node's real
services (the golden metrics test's desk) on their own databases: the township completes one
case and forwards two up; the county handles one case of its own and the two from below.  Their
summaries, computed by ``node.metrics.summary.summarize``, go to the hub through the signed
ingest path, and the hub's roll-up of Beiliu counts four cases received and four completed —
where adding ``received_from_below`` as well would count the forwarded two twice.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from node.metadata import load_all_models
from node.metrics.summary import NodeIdentity, summarize
from node.models import Base
from schemas.periods import Period
from schemas.runtime.database import Database
from tests.unit.hub.conftest import MakeHub
from tests.unit.hub.rank_federation import BEILIU, TOWN_A, YULIN, RankFederation
from tests.unit.node.test_metrics_golden import NOW, POLICY, Desk, d, set_up_center

NOVEMBER = Period.month(2026, 11)


def center(path: Path) -> Database:
    load_all_models()
    db = Database(f"sqlite:///{path}")
    Base.metadata.create_all(db.engine)
    with db.unit_of_work() as session:
        set_up_center(session)
    return db


def summary(db: Database, identity: NodeIdentity) -> dict[str, Any]:
    with db.unit_of_work(write=False) as session:
        return summarize(session, identity, NOVEMBER, NOW, POLICY)


def handled(desk: Desk, key: str, **submit: Any) -> None:
    desk.submit(key, **submit)
    desk.accept(key)
    desk.approve(key)
    desk.complete(key)


def test_township_cases_forwarded_to_the_county_are_counted_once(
    make_hub: MakeHub, tmp_path: Path,
) -> None:
    township_db, county_db = center(tmp_path / "town.db"), center(tmp_path / "county.db")
    try:
        township = Desk(township_db)
        township.at(d(11, 2))
        handled(township, "T1")
        for key in ("T2", "T3"):
            township.submit(key)
            township.accept(key)
            township.forward(key)
        county = Desk(county_db)
        county.at(d(11, 4))
        handled(county, "C1")
        for key in ("T2", "T3"):
            handled(county, key, from_below=TOWN_A)

        town_summary = summary(township_db, NodeIdentity(
            TOWN_A, "北流镇甲", "township", None, BEILIU))
        county_summary = summary(county_db, NodeIdentity(
            BEILIU, "北流市", "county", "county_city", YULIN))
    finally:
        township_db.dispose()
        county_db.dispose()

    def value(body: dict[str, Any], key: str) -> int:
        return int(body["metrics"][key]["value"])

    # what each center reports, by the node's own definitions
    assert [value(town_summary, k) for k in ("received", "completed", "forwarded_up")] == [
        3, 1, 2]
    assert [value(county_summary, k) for k in ("received", "received_from_below",
                                               "completed")] == [1, 2, 3]

    fed = RankFederation(make_hub())
    fed.push_summary(town_summary)
    fed.push_summary(county_summary)
    response = fed.get(f"/api/v1/rankings/rollup?scope={BEILIU}&period={NOVEMBER.label}")

    assert response.status_code == 200, response.json
    totals = response.json["metrics"]
    assert totals["received"]["value"] == 4  # T1, T2, T3 and C1, each once
    assert totals["completed"]["value"] == 4  # T1 by the township; C1, T2, T3 by the county
    assert totals["forwarded_up"]["value"] == 2
    assert totals["received_from_below"]["value"] == 2
    assert totals["received"]["value"] + totals["received_from_below"]["value"] == 6  # twice
    on_time = totals["on_time_rate"]
    assert (on_time["numerator"], on_time["denominator"]) == (
        town_summary["metrics"]["on_time_rate"]["numerator"]
        + county_summary["metrics"]["on_time_rate"]["numerator"], 4)
    assert response.json["nodes"] == [BEILIU, TOWN_A]
    assert dt.date.fromisoformat(town_summary["period"]["start"]) == NOVEMBER.start
