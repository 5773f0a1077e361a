"""Summaries of a batch are logged and stored together at the end of the batch: the answers
and what is stored must be exactly those of one envelope at a time."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hub.relay.models import EnvelopeRecord, SummaryRecord
from schemas.envelope import Kind
from tests.unit.hub.federation import CITY, COUNTY, Node, certificate, count, enroll
from tests.unit.schemas.test_messages import summary_body


@pytest.fixture
def nodes(hub_app: Flask) -> dict[str, Node]:
    return enroll(hub_app.test_client(), CITY, COUNTY)


def _summary(node: Node, completed: int) -> dict[str, Any]:
    body = summary_body()
    body["metrics"]["completed"]["value"] = completed
    return node.envelope(Kind.SUMMARY, "hub", body)


def _statuses(results: list[dict[str, Any]]) -> list[str]:
    return [r["status"] for r in results]


def test_a_repeated_summary_in_one_batch_is_stored_once(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    county = nodes[COUNTY]
    first, second = _summary(county, 1), _summary(county, 2)

    results = county.results(first, copy.deepcopy(first), second)

    assert _statuses(results) == ["accepted", "duplicate", "accepted"]
    assert [r["id"] for r in results] == [first["id"], first["id"], second["id"]]
    assert count(hub_app, SummaryRecord) == 2
    assert count(hub_app, EnvelopeRecord, EnvelopeRecord.kind == "summary") == 2


def test_a_summary_logged_by_an_earlier_batch_is_a_duplicate(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    county = nodes[COUNTY]
    old, new = _summary(county, 1), _summary(county, 2)
    assert _statuses(county.results(old)) == ["accepted"]

    assert _statuses(county.results(new, old)) == ["accepted", "duplicate"]
    assert count(hub_app, SummaryRecord) == 2


def test_a_rejected_summary_between_others_stores_nothing(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    county = nodes[COUNTY]
    forged = _summary(county, 3)
    forged["body"]["metrics"]["completed"]["value"] = 4  # after signing

    results = county.results(_summary(county, 1), forged, _summary(county, 2))

    assert _statuses(results) == ["accepted", "rejected", "accepted"]
    assert results[1]["reason"] == "bad_signature"
    assert count(hub_app, SummaryRecord) == 2


def test_summaries_around_a_certificate_keep_their_order_and_answers(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    city = nodes[CITY]
    county_again = city.envelope(Kind.CERT, "hub", {"certificate": certificate(COUNTY)})
    body = summary_body() | {"node": summary_body()["node"] | {
        "code": CITY, "level": "city", "kind": None, "parent": "450000"}}
    before, after = (city.envelope(Kind.SUMMARY, "hub", body) for _ in range(2))

    results = city.results(before, county_again, after, copy.deepcopy(before))

    assert _statuses(results) == ["accepted", "accepted", "accepted", "duplicate"]
    with hub_app.extensions["tongban_db"].sessions() as session:
        logged = list(session.scalars(select(EnvelopeRecord.seq).where(
            EnvelopeRecord.sender == CITY).order_by(EnvelopeRecord.seq)))
    assert logged[-3:] == [2, 3, 4]


def test_a_push_says_where_its_time_went(hub_app: Flask, nodes: dict[str, Node]) -> None:
    """Server-Timing: parse, verify and the database's share of the push, in milliseconds
    (the hub ingest benchmark reports them per envelope)."""
    county = nodes[COUNTY]
    response = county.push(_summary(county, 1), _summary(county, 2))
    assert response.status_code == 200
    parts = dict(part.strip().split(";dur=") for part in
                 response.headers["Server-Timing"].split(","))
    assert set(parts) == {"parse", "verify", "db"}
    assert all(float(value) > 0 for value in parts.values()), parts
    # a request that stores no envelope says nothing of the kind
    assert "Server-Timing" not in county.mailbox().headers


def test_a_push_whose_json_orjson_refuses_is_malformed(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    county = nodes[COUNTY]
    response = county.call("POST", "/api/v1/envelopes", raw=b'{"envelopes": [NaN]}')
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"
    assert count(hub_app, EnvelopeRecord) == 3  # the enrolment's certificates only
