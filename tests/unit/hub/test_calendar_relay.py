"""calendar.publish at the hub: only the trust root may send one, it fans out to the
province's subtree, and a node registered later receives the schedules in force."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from hub.relay.models import EnvelopeRecord
from schemas.envelope import Kind
from tests.unit.hub.federation import (
    CITY,
    COUNTY,
    OTHER_CITY,
    PROVINCE,
    SIBLING,
    TOWNSHIP,
    TOWNSHIP2,
    Node,
    certificate,
    count,
    enroll,
)
from tests.unit.schemas.test_messages import calendar_publish_body


def schedule(version: int, year: int = 2027) -> dict[str, Any]:
    body = calendar_publish_body()
    body["version"] = version
    body["year"] = year
    for day in body["days"]:
        day["date"] = f"{year}{day['date'][4:]}"
    return body


def ids(node: Node) -> list[str]:
    return [item["envelope"]["id"] for item in node.mailbox().json["items"]]


@pytest.fixture
def nodes(hub_app: Flask) -> dict[str, Node]:
    # everyone but the second township, which enrolls late
    return enroll(hub_app.test_client(), CITY, OTHER_CITY, COUNTY, SIBLING, TOWNSHIP)


def test_the_provinces_schedule_fans_out_to_every_registered_node(
    nodes: dict[str, Node]
) -> None:
    province = nodes[PROVINCE]
    wire = province.envelope(Kind.CALENDAR_PUBLISH, f"{PROVINCE}/*", schedule(1))
    assert province.results(wire)[0]["status"] == "accepted"
    for code in (CITY, OTHER_CITY, COUNTY, SIBLING, TOWNSHIP):
        assert ids(nodes[code]) == [wire["id"]]
    assert ids(province) == []


@pytest.mark.parametrize(("sender", "to"), [(CITY, f"{CITY}/*"), (COUNTY, f"{COUNTY}/*")])
def test_a_schedule_from_below_the_province_is_refused_as_not_trust_root(
    hub_app: Flask, nodes: dict[str, Node], sender: str, to: str
) -> None:
    wire = nodes[sender].envelope(Kind.CALENDAR_PUBLISH, to, schedule(1))
    [result] = nodes[sender].results(wire)
    assert (result["status"], result["reason"]) == ("rejected", "not_trust_root")
    assert "450000" in result["message"]
    assert count(hub_app, EnvelopeRecord, EnvelopeRecord.id == wire["id"]) == 0
    assert ids(nodes[TOWNSHIP]) == []


def test_a_node_enrolled_later_receives_the_newest_schedule_of_each_year(
    nodes: dict[str, Node]
) -> None:
    province = nodes[PROVINCE]
    first = province.envelope(Kind.CALENDAR_PUBLISH, f"{PROVINCE}/*", schedule(1))
    newer = province.envelope(Kind.CALENDAR_PUBLISH, f"{PROVINCE}/*", schedule(2))
    other_year = province.envelope(Kind.CALENDAR_PUBLISH, f"{PROVINCE}/*", schedule(1, 2028))
    # a lower version sent last (e.g. re-sent after a restore) is not the one in force
    late_old = province.envelope(Kind.CALENDAR_PUBLISH, f"{PROVINCE}/*", schedule(1))
    assert [r["status"] for r in province.results(first, newer, other_year, late_old)] == [
        "accepted"] * 4

    county = nodes[COUNTY]
    statuses = county.results(
        county.envelope(Kind.CERT, "hub", {"certificate": certificate(TOWNSHIP2)}))
    assert [s["status"] for s in statuses] == ["accepted"]

    late = Node(county.client, TOWNSHIP2)
    items = late.mailbox().json["items"]
    assert [item["envelope"]["id"] for item in items] == [newer["id"], other_year["id"]]
    # the township can tell no envelope of the province is missing before them
    assert [item["prev_seq"] for item in items] == [0, newer["seq"]]
    # a renewed certificate of a node already registered delivers nothing again
    statuses = county.results(county.envelope(
        Kind.CERT, "hub", {"certificate": certificate(TOWNSHIP2)}))
    assert [s["status"] for s in statuses] == ["accepted"]
    assert len(late.mailbox().json["items"]) == 2
