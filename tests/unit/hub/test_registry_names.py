"""The registry's names: each center's name as its own signed summary gives it, kept in the
hub's ``nodes`` table and served with the registry part a node asks for, so that the node can
show centers by name (node/sync/names.py)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from hub.models import RegisteredNode
from schemas.envelope import Kind
from tests.unit.hub.federation import (
    CITY,
    COUNTY,
    OTHER_CITY,
    TOWNSHIP,
    TOWNSHIP2,
    Node,
    enroll,
)
from tests.unit.schemas.test_messages import summary_body


def _summary(node: Node, name: str, *, seq: int | None = None) -> dict[str, Any]:
    body = summary_body()
    body["node"]["name"] = name
    return node.envelope(Kind.SUMMARY, "hub", body, **({"seq": seq} if seq else {}))


def _names(app: Flask) -> dict[str, str | None]:
    with app.extensions["tongban_db"].sessions() as session:
        return dict(session.execute(select(RegisteredNode.code, RegisteredNode.name)).all())


def test_a_summary_names_its_center_and_a_later_one_renames_it(hub_app: Flask) -> None:
    nodes = enroll(hub_app.test_client(), CITY, COUNTY, TOWNSHIP)
    county = nodes[COUNTY]
    assert _names(hub_app)[COUNTY] is None
    # a batch of summaries (written together at the end of the batch): the last name wins
    results = county.results(_summary(county, "北流市政务服务中心", seq=1),
                             _summary(county, "北流市政务服务中心（新址）", seq=2))
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    assert _names(hub_app)[COUNTY] == "北流市政务服务中心（新址）"
    [result] = county.results(_summary(county, "北流市政务服务中心", seq=3))
    assert result["status"] == "accepted"
    names = _names(hub_app)
    assert names[COUNTY] == "北流市政务服务中心"
    assert names[CITY] is None  # nobody else was named by it


def test_the_registry_part_carries_the_names_of_its_centers_only(hub_app: Flask) -> None:
    client = hub_app.test_client()
    nodes = enroll(client, CITY, COUNTY, TOWNSHIP, TOWNSHIP2, OTHER_CITY)
    county = nodes[COUNTY]
    county.results(_summary(county, "北流市政务服务中心", seq=1))
    with hub_app.extensions["tongban_db"].sessions() as session:
        session.get(RegisteredNode, CITY).name = "玉林市政务服务中心"  # type: ignore[union-attr]
        session.get(RegisteredNode, OTHER_CITY).name = "南宁市政务服务中心"  # type: ignore[union-attr]
        session.get(RegisteredNode, TOWNSHIP2).name = "另一个乡镇"  # type: ignore[union-attr]
        session.commit()

    part = client.get(f"/api/v1/registry?node={TOWNSHIP}").get_json()
    # its lineage, and every county-level or higher center of the province (通办's picker);
    # not another township
    assert part["names"] == {CITY: "玉林市政务服务中心", COUNTY: "北流市政务服务中心",
                             OTHER_CITY: "南宁市政务服务中心"}
    # whatever the cursors: a node learns a renamed center without new certificates
    cursor = part["cursor"]
    again = client.get(f"/api/v1/registry?node={TOWNSHIP}&certificates_after="
                       f"{cursor['certificates']}&revocations_after={cursor['revocations']}")
    assert again.get_json()["certificates"] == []
    assert again.get_json()["names"] == part["names"]
    # a sender's chain from elsewhere brings its name too
    chained = client.get(f"/api/v1/registry?node={TOWNSHIP}&chain={OTHER_CITY}").get_json()
    assert chained["names"][OTHER_CITY] == "南宁市政务服务中心"
