"""Enrolment through cert and revoke envelopes, the published registry, and trust-root."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from hub.cli import hub as hub_cli
from hub.config import hub_settings
from hub.models import RegisteredNode
from hub.registry.models import StoredCertificate, StoredRevocation
from hub.relay.models import EnvelopeRecord
from schemas import keys
from schemas.divisions import CountyKind, Level
from schemas.envelope import Kind
from schemas.runtime.database import utcnow
from schemas.trust import TrustStore
from tests.unit.hub.federation import (
    CITY,
    COUNTY,
    ENROLMENT_ORDER,
    KEYS,
    OTHER_CITY,
    PROVINCE,
    ROOT_KEY,
    SIBLING,
    STRANGER_KEY,
    TOWNSHIP,
    Node,
    b64,
    certificate,
    count,
    enroll,
    kid,
    revocation,
)
from tests.unit.schemas.test_messages import case_update_body


def test_the_enrolment_chain_registers_every_node(hub_app: Flask) -> None:
    enroll(hub_app.test_client())
    db = hub_app.extensions["tongban_db"]
    with db.sessions() as session:
        nodes = {node.code: node for node in session.scalars(select(RegisteredNode))}
    assert set(nodes) == {PROVINCE, *ENROLMENT_ORDER}
    assert nodes[COUNTY].level is Level.COUNTY
    assert nodes[COUNTY].kind is CountyKind.COUNTY_CITY
    assert nodes[COUNTY].parent_code == CITY
    assert nodes[PROVINCE].parent_code is None
    assert count(hub_app, StoredCertificate) == 1 + len(ENROLMENT_ORDER)
    health = hub_app.test_client().get("/healthz").json
    assert health["nodes"] == 1 + len(ENROLMENT_ORDER)
    assert health["trust_root"] == PROVINCE


def test_the_registry_verifies_against_the_root_a_node_trusts(hub_app: Flask) -> None:
    client = hub_app.test_client()
    enroll(client)
    document = client.get("/api/v1/registry").json
    assert document["root_code"] == PROVINCE
    assert document["root_public_key"] == b64(ROOT_KEY)
    registry = {k: v for k, v in document.items()
                if k not in ("root_code", "root_public_key", "cursor", "names")}
    store = TrustStore.from_registry(registry, PROVINCE, b64(ROOT_KEY))
    now = utcnow()
    for code in (PROVINCE, *ENROLMENT_ORDER):
        assert keys.key_id(store.key_for(code, kid(KEYS[code]), now)) == kid(KEYS[code])


def test_the_schemas_are_published(hub_app: Flask) -> None:
    schemas = hub_app.test_client().get("/api/v1/schemas").json
    assert {"envelope", "summary", "cert", "revoke", "catalog.publish"} <= set(schemas)


def test_a_certificate_signed_by_a_non_parent_is_rejected(hub_app: Flask) -> None:
    client = hub_app.test_client()
    nodes = enroll(client, CITY)
    province = nodes[PROVINCE]
    forged = certificate(COUNTY, issuer=PROVINCE)  # the county's parent is the city
    wire = province.envelope(Kind.CERT, "hub", {"certificate": forged})
    [result] = province.results(wire)
    assert result["status"] == "rejected"
    assert result["reason"] == "not_parent"
    assert count(hub_app, StoredCertificate) == 2
    assert count(hub_app, RegisteredNode, RegisteredNode.code == COUNTY) == 0
    assert count(hub_app, EnvelopeRecord, EnvelopeRecord.id == wire["id"]) == 0


def test_a_certificate_with_a_bad_issuer_key_is_rejected(hub_app: Flask) -> None:
    client = hub_app.test_client()
    nodes = enroll(client, CITY)
    city = nodes[CITY]
    forged = certificate(COUNTY, issuer_key=STRANGER_KEY)
    [result] = city.results(city.envelope(Kind.CERT, "hub", {"certificate": forged}))
    assert (result["status"], result["reason"]) == ("rejected", "unknown_issuer")
    assert count(hub_app, RegisteredNode, RegisteredNode.code == COUNTY) == 0


def test_the_root_key_opens_only_the_envelope_endpoint(hub_app: Flask) -> None:
    province = Node(hub_app.test_client(), PROVINCE)
    response = province.call("GET", "/api/v1/mailbox", key=ROOT_KEY)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "not_enrolled"


def test_an_enrolled_province_may_not_be_replaced_by_a_foreign_self_certificate(
    hub_app: Flask,
) -> None:
    client = hub_app.test_client()
    nodes = enroll(client)
    province = nodes[PROVINCE]
    forged = certificate(PROVINCE, subject_key=STRANGER_KEY, issuer_key=STRANGER_KEY)
    [result] = province.results(
        province.envelope(Kind.CERT, "hub", {"certificate": forged}, key=STRANGER_KEY),
        key=ROOT_KEY)
    assert (result["status"], result["reason"]) == ("rejected", "unknown_issuer")
    assert count(hub_app, StoredCertificate) == 1 + len(ENROLMENT_ORDER)


def test_a_revoked_key_is_refused_after_its_revocation_time(hub_app: Flask) -> None:
    client = hub_app.test_client()
    nodes = enroll(client)
    city, county = nodes[CITY], nodes[COUNTY]
    # a revocation taking effect tomorrow changes nothing today
    later = revocation(COUNTY, issuer=CITY, effective_at=utcnow() + dt.timedelta(days=1))
    [result] = city.results(city.envelope(Kind.REVOKE, "hub", {"revocation": later}))
    assert result["status"] == "accepted"
    assert county.mailbox().status_code == 200

    past = revocation(COUNTY, issuer=PROVINCE, effective_at=utcnow() - dt.timedelta(minutes=1))
    province = nodes[PROVINCE]
    [result] = province.results(province.envelope(Kind.REVOKE, "hub", {"revocation": past}))
    assert result["status"] == "accepted"
    assert count(hub_app, StoredRevocation) == 2
    before = count(hub_app, EnvelopeRecord)
    wire = county.envelope(Kind.CASE_UPDATE, TOWNSHIP, _update())
    response = county.push(wire)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "revoked_key"
    assert response.json["error"]["details"] == {"reason": "revoked_key"}
    assert count(hub_app, EnvelopeRecord) == before
    # the registry carries the revocation: every node can see it
    document = client.get("/api/v1/registry").json
    registry = {k: v for k, v in document.items()
                if k not in ("root_code", "root_public_key", "cursor", "names")}
    store = TrustStore.from_registry(registry, PROVINCE, b64(ROOT_KEY))
    assert store.revoked_from(COUNTY, kid(KEYS[COUNTY])) is not None


def test_a_revocation_by_a_non_ancestor_is_rejected(hub_app: Flask) -> None:
    nodes = enroll(hub_app.test_client())
    sibling = nodes[SIBLING]
    document = revocation(COUNTY, issuer=SIBLING, effective_at=utcnow())
    [result] = sibling.results(sibling.envelope(Kind.REVOKE, "hub", {"revocation": document}))
    assert (result["status"], result["reason"]) == ("rejected", "not_ancestor")
    assert count(hub_app, StoredRevocation) == 0


def test_an_unenrolled_node_is_refused(hub_app: Flask) -> None:
    client = hub_app.test_client()
    enroll(client, CITY)
    other = Node(client, OTHER_CITY)
    response = other.push(other.envelope(Kind.CASE_UPDATE, CITY, _update()))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "not_enrolled"
    assert count(hub_app, EnvelopeRecord) == 2  # the two certificates' envelopes


def test_trust_root_writes_the_settings(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    runner = CliRunner()
    result = runner.invoke(hub_cli, ["init", "--home", str(home)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(hub_cli, ["trust-root", "--home", str(home), "--code", PROVINCE,
                                     "--public-key", b64(ROOT_KEY)])
    assert result.exit_code == 0, result.output
    with (home / "tongban.toml").open("rb") as handle:
        written = tomllib.load(handle)
    assert written["root_code"] == PROVINCE
    assert written["name"] == "tongban hub"  # earlier settings are kept
    settings = hub_settings({"home": str(home)})
    assert (settings.root_code, settings.root_public_key) == (PROVINCE, b64(ROOT_KEY))
    bad = runner.invoke(hub_cli, ["trust-root", "--home", str(home), "--code", COUNTY,
                                  "--public-key", b64(ROOT_KEY)])
    assert bad.exit_code != 0
    assert "not a province" in bad.output


def _update() -> dict[str, Any]:
    return case_update_body()
