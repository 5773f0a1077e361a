"""The registry at scale: a one-row version, each process's trust store brought up to date
by what was stored since (never rebuilt, never copied), and nodes fetching only their part
of the tree and only what changed (GET /api/v1/registry?node=…&certificates_after=…).

(What it costs at 40,000 nodes is tests/bench/bench_registry.py.)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask
from sqlalchemy import func, select

from hub.composition import HubServices
from hub.registry.models import RegistryState, StoredCertificate
from hub.registry.service import TrustCache, registry_version
from node.sync.registry import refresh_registry, registry_without_extras
from schemas.envelope import Kind
from schemas.runtime.database import utcnow
from schemas.trust import TrustStore
from tests.unit.hub.federation import (
    CITY,
    COUNTY,
    KEYS,
    OTHER_CITY,
    PROVINCE,
    ROOT_KEY,
    SIBLING,
    TOWNSHIP,
    TOWNSHIP2,
    Node,
    b64,
    certificate,
    enroll,
    fixed_key,
    kid,
)


def _subjects(document: dict[str, Any]) -> list[str]:
    return [entry["certificate"]["subject"] for entry in document["certificates"]]


def _version(app: Flask) -> int:
    with app.extensions["tongban_db"].sessions() as session:
        return registry_version(session)


def test_the_version_is_one_row_raised_by_every_stored_document(hub_app: Flask) -> None:
    enroll(hub_app.test_client())
    with hub_app.extensions["tongban_db"].sessions() as session:
        rows = session.scalar(select(func.count()).select_from(RegistryState))
        stored = session.scalar(select(func.count()).select_from(StoredCertificate))
    assert rows == 1
    assert _version(hub_app) == stored == 7


def test_a_new_certificate_is_verified_once_and_added_never_rebuilt(hub_app: Flask) -> None:
    nodes = enroll(hub_app.test_client(), CITY, COUNTY)
    cache: TrustCache = HubServices.of_app(hub_app.extensions).trust_cache
    county = nodes[COUNTY]
    assert county.mailbox().status_code == 200  # caught up with the last enrolment
    before = cache.added
    assert before == 3
    assert county.mailbox().status_code == 200  # a request at an unchanged version
    assert cache.added == before
    statuses = county.results(county.envelope(
        Kind.CERT, "hub", {"certificate": certificate(TOWNSHIP)}))
    assert [s["status"] for s in statuses] == ["accepted"]
    assert county.mailbox().status_code == 200  # the next request adds just that one
    assert cache.added == before + 1
    assert cache.rebuilds == 1
    # the batch's own store was a view: the township was trusted in it before the commit,
    # and reaches the process's store only through the database
    township = nodes[TOWNSHIP]
    assert township.mailbox().status_code == 200


def test_a_node_fetches_its_part_of_the_tree_and_then_only_what_changed(
    hub_app: Flask,
) -> None:
    client = hub_app.test_client()
    enroll(client, CITY, OTHER_CITY, COUNTY, SIBLING, TOWNSHIP)
    part = client.get(f"/api/v1/registry?node={COUNTY}").json
    # its ancestors, itself and its descendants; not the sibling county nor the other city
    assert sorted(_subjects(part)) == sorted([PROVINCE, CITY, COUNTY, TOWNSHIP])
    cursor = part["cursor"]
    assert cursor["certificates"] >= 6
    everything = client.get("/api/v1/registry").json
    assert len(everything["certificates"]) == 6
    # nothing new since the cursor
    query = (f"node={COUNTY}&certificates_after={cursor['certificates']}"
             f"&revocations_after={cursor['revocations']}")
    assert client.get(f"/api/v1/registry?{query}").json["certificates"] == []
    # a sender from elsewhere: its whole chain, whatever the cursor
    chained = client.get(f"/api/v1/registry?{query}&chain={SIBLING}").json
    assert sorted(_subjects(chained)) == sorted([PROVINCE, CITY, SIBLING])
    # a new township of the county: only it
    county = Node(client, COUNTY)
    statuses = county.results(county.envelope(
        Kind.CERT, "hub", {"certificate": certificate(TOWNSHIP2)}))
    assert [s["status"] for s in statuses] == ["accepted"]
    changed = client.get(f"/api/v1/registry?{query}").json
    assert _subjects(changed) == [TOWNSHIP2]
    assert changed["serial"] == _version(hub_app)
    # ... and another county's node is not sent it
    other = client.get(f"/api/v1/registry?node={SIBLING}&certificates_after="
                       f"{cursor['certificates']}").json
    assert other["certificates"] == []


def test_bad_registry_queries_are_refused_with_the_field_named(hub_app: Flask) -> None:
    client = hub_app.test_client()
    enroll(client, CITY)
    for query, field in (("node=4509", "node"), ("certificates_after=-1", "certificates_after"),
                         # was a 500: a cursor beyond BIGINT reached the query
                         (f"certificates_after={2**63}", "certificates_after"),
                         (f"revocations_after={10**30}", "revocations_after"),
                         ("chain=x", "chain")):
        response = client.get(f"/api/v1/registry?{query}")
        assert response.status_code == 422, query
        assert field in response.json["error"]["details"]["fields"], response.json


class _HubRegistry:
    """node.sync.registry's transport over the hub's test client."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.queries: list[str] = []

    def fetch_registry_changes(self, *, node: str, certificates_after: int,
                               revocations_after: int, chains: Any = ()) -> dict[str, Any]:
        query = urlencode([("node", node), ("certificates_after", certificates_after),
                           ("revocations_after", revocations_after),
                           *(("chain", code) for code in chains)])
        self.queries.append(query)
        response = self.client.get(f"/api/v1/registry?{query}")
        assert response.status_code == 200, response.json
        return dict(response.json)


def test_a_node_refresh_verifies_only_what_changed(hub_app: Flask) -> None:
    client = hub_app.test_client()
    nodes = enroll(client, CITY, OTHER_CITY, COUNTY, SIBLING, TOWNSHIP)
    transport = _HubRegistry(client)

    def refresh(cached: Any, store: Any, sender: str | None = None) -> Any:
        return refresh_registry(transport, code=COUNTY, root_code=PROVINCE,
                                root_key=lambda _offered: b64(ROOT_KEY), cached=cached,
                                store=store, sender=sender)

    first = refresh(None, None)
    assert first.added == 4  # province, city, county, township: its part of the tree
    assert "certificates_after=0" in transport.queries[-1]
    now = utcnow()
    assert first.store.key_for(TOWNSHIP, kid(KEYS[TOWNSHIP]), now)

    statuses = nodes[COUNTY].results(nodes[COUNTY].envelope(
        Kind.CERT, "hub", {"certificate": certificate(TOWNSHIP2)}))
    assert [s["status"] for s in statuses] == ["accepted"]
    second = refresh(first.document, first.store)
    assert second.added == 1
    assert second.store.key_for(TOWNSHIP2, kid(KEYS[TOWNSHIP2]), now)
    assert f"certificates_after={first.document['cursor']['certificates']}" in \
        transport.queries[-1]
    # the cached document is whole: a restarted node rebuilds the same store from it
    rebuilt = TrustStore.from_registry(registry_without_extras(second.document), PROVINCE,
                                       b64(ROOT_KEY))
    assert len(rebuilt.certificates) == 5

    # a sideways sender: its chain comes too, and only what was new is verified
    third = refresh(second.document, second.store, sender=SIBLING)
    assert third.added == 1
    assert "chain=450902" in transport.queries[-1]
    assert third.store.key_for(SIBLING, kid(KEYS[SIBLING]), now)
    # a registry that does not verify under the node's root is refused, the cache kept
    assert refresh_registry(transport, code=COUNTY, root_code=PROVINCE,
                            root_key=lambda _offered: b64(fixed_key(42)), cached=None,
                            store=None) is None
