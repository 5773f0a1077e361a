"""A hub process that starts on a stored registry loads it without verifying every
certificate's signature again (each was verified by the process that stored it), and keeps
everything else a trust decision rests on: the root's own certificate against the configured
root key, the chain of issuers, validity in time and revocations.

(What it costs at 40,000 nodes: tests/bench/bench_registry.py, ``registry_cold_start_ms``;
real processes restarted: tests/integration/test_hub_restart.py.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest

from hub.api.auth import trust_cache
from hub.composition import HubServices
from hub.registry.service import TrustCache
from schemas import keys
from schemas.certificates import TrustError
from schemas.envelope import Kind
from schemas.runtime.database import utcnow
from schemas.trust import TrustStore
from tests.unit.hub.conftest import MakeHub
from tests.unit.hub.federation import (
    COUNTY,
    ENROLMENT_ORDER,
    IDENTITY,
    KEYS,
    PROVINCE,
    ROOT_KEY,
    TOWNSHIP,
    TOWNSHIP2,
    Node,
    b64,
    certificate,
    enroll,
    fixed_key,
    kid,
    revocation,
)


def _count_verifications(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every Ed25519 verification the trust store makes (the payloads verified)."""
    verified: list[bytes] = []
    real = keys.verify_b64

    def counting(key: Any, payload: bytes, signature: str) -> bool:
        verified.append(payload)
        return real(key, payload, signature)

    monkeypatch.setattr(keys, "verify_b64", counting)
    return verified


def test_a_fresh_process_serves_a_registry_it_did_not_verify_itself(
    make_hub: MakeHub, monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = make_hub()
    nodes = enroll(first.test_client())
    past = revocation(TOWNSHIP2, issuer=PROVINCE, effective_at=utcnow() - dt.timedelta(minutes=1))
    province = nodes[PROVINCE]
    [result] = province.results(province.envelope(Kind.REVOKE, "hub", {"revocation": past}))
    assert result["status"] == "accepted"

    fresh = make_hub()  # a second app on the same database: a process that stored nothing
    cache: TrustCache = HubServices.of_app(fresh.extensions).trust_cache
    assert cache.rebuilds == cache.added == 0  # its store not built yet
    verified = _count_verifications(monkeypatch)
    with fresh.app_context(), fresh.extensions["tongban_db"].sessions() as session:
        store = trust_cache().current(session)
    assert cache.rebuilds == 1
    assert cache.added == 1 + len(ENROLMENT_ORDER) + 1  # every certificate and the revocation
    # the root's own certificate against the root key, and the revocation; no other
    assert len(verified) == 2
    assert verified[0].startswith(b'{"certificate":')
    assert b'"subject":"450000"' in verified[0]
    assert verified[1].startswith(b'{"revocation":')
    now = utcnow()
    assert store.key_for(TOWNSHIP, kid(KEYS[TOWNSHIP]), now)
    with pytest.raises(TrustError) as refused:
        store.key_for(TOWNSHIP2, kid(KEYS[TOWNSHIP2]), now)
    assert refused.value.code == "revoked"
    # the stored documents read back as verified: the same store a node rebuilds
    rebuilt = TrustStore.from_registry(store.to_registry(), PROVINCE, b64(ROOT_KEY))
    assert [c.document for c in rebuilt.certificates] == [c.document for c in store.certificates]

    client = fresh.test_client()
    township = Node(client, TOWNSHIP)
    assert township.mailbox().status_code == 200
    response = Node(client, TOWNSHIP2).mailbox()
    assert response.status_code == 401
    assert response.json["error"]["code"] == "revoked_key"


def test_a_process_under_another_root_trusts_none_of_the_stored_registry(
    make_hub: MakeHub,
) -> None:
    enroll(make_hub().test_client())
    other = make_hub(root_public_key=b64(fixed_key(42)))
    client = other.test_client()
    for code in (PROVINCE, COUNTY, TOWNSHIP):
        response = Node(client, code).mailbox()
        assert response.status_code == 401, code
        assert response.json["error"]["code"] == "not_enrolled", response.json


def test_a_stored_certificate_still_needs_its_issuer_before_it() -> None:
    store = TrustStore(PROVINCE, b64(ROOT_KEY))
    store.add_stored_certificate(orjson.loads(orjson.dumps(certificate(PROVINCE))))
    with pytest.raises(TrustError) as refused:  # the county before its city
        store.add_stored_certificate(orjson.loads(orjson.dumps(certificate(COUNTY))))
    assert refused.value.code == "unknown_issuer"
    with pytest.raises(TrustError) as malformed:
        store.add_stored_certificate({"certificate": {"subject": COUNTY}, "sig": "x"})
    assert malformed.value.code == "malformed"
    for code in ENROLMENT_ORDER:
        store.add_stored_certificate(orjson.loads(orjson.dumps(certificate(code))))
    assert {c.subject for c in store.certificates} == set(IDENTITY)


def test_a_stored_root_certificate_is_verified_against_the_root_key() -> None:
    store = TrustStore(PROVINCE, b64(ROOT_KEY))
    forged = certificate(PROVINCE)
    forged["sig"] = certificate(COUNTY)["sig"]
    with pytest.raises(TrustError) as refused:
        store.add_stored_certificate(forged)
    assert refused.value.code == "bad_signature"
