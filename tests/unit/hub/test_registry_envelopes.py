"""``GET /api/v1/registry/envelopes``: an outside auditor rebuilds the trust tree from the hub.

The auditor below uses only ``cryptography``, ``rfc8785`` and the standard library — nothing
of tongban — and the province's root key, which it knows independently of the hub.  It pages
through the served envelopes, checks each envelope's signature by its sender and each
certificate's and revocation's signature by its issuer, and each chain to the root.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask

from hub.registry.models import RegistryEnvelope
from schemas.envelope import Kind
from schemas.runtime.database import utcnow
from tests.unit.hub.federation import (
    CITY,
    COUNTY,
    IDENTITY,
    KEYS,
    PROVINCE,
    ROOT_KEY,
    TOWNSHIP,
    TOWNSHIP2,
    Node,
    count,
    enroll,
    revocation,
)
from tests.unit.schemas.test_messages import case_update_body

ENVELOPES = "/api/v1/registry/envelopes"


class AuditFailure(Exception):
    pass


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw_key(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(b64url(text))


def key_id_of(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def check(key: Ed25519PublicKey, signature: str, document: dict[str, Any], what: str) -> None:
    try:
        key.verify(b64url(signature), rfc8785.dumps(document))
    except InvalidSignature as exc:
        raise AuditFailure(f"{what}: the signature does not verify") from exc


def code_parent(code: str) -> str | None:
    """The administrative parent from the code alone (GB/T 2260 and township codes)."""
    if len(code) == 9:
        return code[:6]
    if code.endswith("0000"):
        return None
    if code.endswith("00"):
        return code[:2] + "0000"
    return code[:4] + "00"


def audit(envelopes: list[dict[str, Any]], root_code: str, root_key: Ed25519PublicKey
          ) -> tuple[dict[tuple[str, str], dict[str, Any]], set[tuple[str, str]]]:
    """Every certificate whose chain reaches the root, by (subject, key id), and every
    revoked (subject, key id); AuditFailure at the first thing that does not verify."""
    certificates: dict[tuple[str, str], dict[str, Any]] = {}
    keys: dict[tuple[str, str], Ed25519PublicKey] = {(root_code, key_id_of(root_key)): root_key}
    pending = [e for e in envelopes if e["kind"] == "cert"]
    # parents before children, whatever order the pages came in
    pending.sort(key=lambda e: len(e["body"]["certificate"]["certificate"]["subject"]))
    for envelope in pending:
        inner = envelope["body"]["certificate"]
        body = inner["certificate"]
        subject, issuer = body["subject"], body["issuer"]
        if body["parent"] != code_parent(subject) or issuer != (body["parent"] or subject):
            raise AuditFailure(f"{subject}: not issued by its parent")
        issuer_key = keys.get((issuer, body["issuer_key_id"]))
        if issuer_key is None:
            raise AuditFailure(f"{subject}: no chain to the root")
        check(issuer_key, inner["sig"], {"certificate": body}, f"certificate of {subject}")
        subject_key = raw_key(body["public_key"])
        if key_id_of(subject_key) != body["key_id"]:
            raise AuditFailure(f"{subject}: key id does not match its key")
        keys[(subject, body["key_id"])] = subject_key
        certificates[(subject, body["key_id"])] = body
    for envelope in envelopes:  # each envelope signed by its sender's key
        sender_key = keys.get((envelope["from"], envelope["key_id"]))
        if sender_key is None:
            raise AuditFailure(f"envelope {envelope['id']}: unknown sender key")
        check(sender_key, envelope["sig"], {k: v for k, v in envelope.items() if k != "sig"},
              f"envelope {envelope['id']}")
    revoked: set[tuple[str, str]] = set()
    for envelope in envelopes:
        if envelope["kind"] != "revoke":
            continue
        inner = envelope["body"]["revocation"]
        body = inner["revocation"]
        ancestors, code = [], body["subject"]
        while (code := code_parent(code)) is not None:
            ancestors.append(code)
        if body["issuer"] not in ancestors:
            raise AuditFailure(f"revocation of {body['subject']}: not by an ancestor")
        issuer_key = keys.get((body["issuer"], body["issuer_key_id"]))
        if issuer_key is None:
            raise AuditFailure(f"revocation of {body['subject']}: unknown issuer key")
        check(issuer_key, inner["sig"], {"revocation": body},
              f"revocation of {body['subject']}")
        revoked.add((body["subject"], body["key_id"]))
    return certificates, revoked


def read_all(app: Flask, limit: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    client, after, envelopes, positions = app.test_client(), 0, [], []
    while True:
        page = client.get(f"{ENVELOPES}?after={after}&limit={limit}")
        assert page.status_code == 200, page.json
        assert len(page.json["items"]) <= limit
        positions += [item["position"] for item in page.json["items"]]
        envelopes += [item["envelope"] for item in page.json["items"]]
        after = page.json["next_after"]
        if not page.json["more"]:
            assert client.get(f"{ENVELOPES}?after={after}").json["items"] == []
            assert positions == sorted(set(positions))
            return envelopes, page.json


@pytest.fixture
def nodes(hub_app: Flask) -> dict[str, Node]:
    found = enroll(hub_app.test_client())
    county = found[COUNTY]
    document = revocation(TOWNSHIP2, issuer=COUNTY,
                          effective_at=utcnow() - dt.timedelta(minutes=1))
    [result] = county.results(county.envelope(Kind.REVOKE, "hub", {"revocation": document}))
    assert result["status"] == "accepted", result
    # another kind is not a registry envelope
    [result] = county.results(county.envelope(Kind.CASE_UPDATE, TOWNSHIP, case_update_body()))
    assert result["status"] == "accepted", result
    return found


def test_an_auditor_rebuilds_the_trust_tree_from_the_hub_alone(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    envelopes, last = read_all(hub_app, limit=3)
    assert last["root_code"] == PROVINCE
    root_key = ROOT_KEY.public_key()  # known to the auditor from the province, not the hub
    assert raw_key(last["root_public_key"]).public_bytes_raw() == root_key.public_bytes_raw()
    assert {e["kind"] for e in envelopes} == {"cert", "revoke"}
    assert len(envelopes) == count(hub_app, RegistryEnvelope) == 8
    certificates, revoked = audit(envelopes, PROVINCE, root_key)
    assert set(certificates) == {(code, key_id_of(KEYS[code].public_key()))
                                 for code in IDENTITY}
    assert {code: body["parent"] for (code, _), body in certificates.items()} == {
        code: code_parent(code) for code in IDENTITY}
    assert revoked == {(TOWNSHIP2, key_id_of(KEYS[TOWNSHIP2].public_key()))}
    # the documents inside are those of the hub's registry, byte for byte as signed
    registry = hub_app.test_client().get("/api/v1/registry").json
    assert sorted(json.dumps(c, sort_keys=True) for c in registry["certificates"]) == sorted(
        json.dumps(e["body"]["certificate"], sort_keys=True)
        for e in envelopes if e["kind"] == "cert")


@pytest.mark.parametrize("tamper", [
    lambda e: e["body"]["certificate"]["certificate"].update(public_key=e["body"][
        "certificate"]["certificate"]["public_key"][::-1]),
    lambda e: e.update(seq=e["seq"] + 1),
    lambda e: e["body"]["certificate"]["certificate"].update(parent=CITY, issuer=CITY),
])
def test_the_auditor_notices_a_tampered_envelope(
    hub_app: Flask, nodes: dict[str, Node], tamper: Any
) -> None:
    envelopes, _ = read_all(hub_app, limit=100)
    township = next(e for e in envelopes if e["kind"] == "cert"
                    and e["body"]["certificate"]["certificate"]["subject"] == TOWNSHIP)
    tamper(township)
    with pytest.raises(AuditFailure):
        audit(envelopes, PROVINCE, ROOT_KEY.public_key())


def test_bad_paging_is_refused(hub_app: Flask, nodes: dict[str, Node]) -> None:
    client = hub_app.test_client()
    for query in ("after=-1", "limit=0", "limit=501", f"after={2**63}", "after=x"):
        answer = client.get(f"{ENVELOPES}?{query}")
        assert answer.status_code == 422, (query, answer.json)
        assert answer.json["error"]["code"] == "validation_failed"
        assert query.split("=")[0] in json.dumps(answer.json["error"]["details"])
