"""Test doubles for the sync tests: an in-memory hub and a small signed federation.

(Named test_sync_* to live beside the tests; it holds no tests itself.)
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.metadata import load_all_models
from node.models import Base
from node.ports import HubUnavailable
from node.sync.errors import HubRefused
from schemas.certificates import issue_certificate
from schemas.envelope import Envelope, Kind, sign_envelope
from schemas.keys import generate_private_key, public_key_b64
from schemas.runtime.database import Database
from schemas.trust import TrustStore

PROVINCE, CITY, COUNTY, OTHER_COUNTY = "450000", "450900", "450981", "450921"
T0 = dt.datetime(2026, 11, 29, 4, 0, tzinfo=dt.UTC)


class FakeClock:
    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class FakeHub:
    """The hub's HTTP contract in memory (implements node.sync.client.HubTransport)."""

    def __init__(self, registry: Mapping[str, Any] | None = None) -> None:
        self.registry = dict(registry or {})
        self.received: dict[str, dict[str, Any]] = {}
        self.reject: dict[str, str] = {}  # envelope id -> reason
        self.down = False
        self.mailbox: list[dict[str, Any]] = []
        self.acked = 0
        self.posted_batches: list[list[str]] = []
        self.registry_fetches = 0
        self.blobs: dict[str, bytes] = {}

    def _check_up(self) -> None:
        if self.down:
            raise HubUnavailable("connection refused (fake hub is down)")

    def post_envelopes(self, envelopes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        self._check_up()
        self.posted_batches.append([wire["id"] for wire in envelopes])
        results = []
        for wire in envelopes:
            envelope_id = wire["id"]
            if envelope_id in self.reject:
                results.append({"id": envelope_id, "status": "rejected",
                                "reason": self.reject[envelope_id],
                                "message": f"refused: {self.reject[envelope_id]}"})
            elif envelope_id in self.received:
                results.append({"id": envelope_id, "status": "duplicate"})
            else:
                self.received[envelope_id] = dict(wire)
                results.append({"id": envelope_id, "status": "accepted"})
        return results

    def fetch_mailbox(self, after: int, limit: int) -> list[dict[str, Any]]:
        self._check_up()
        return [copy.deepcopy(item) for item in self.mailbox if item["cursor"] > after][:limit]

    def ack(self, cursor: int) -> None:
        self._check_up()
        self.acked = cursor

    def fetch_registry(self) -> dict[str, Any]:
        self._check_up()
        self.registry_fetches += 1
        return copy.deepcopy(self.registry)

    def put_blob(self, sha256: str, data: bytes) -> None:
        self._check_up()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise HubRefused(422, f"the bytes do not hash to {sha256}")
        self.blobs[sha256] = data

    def get_blob(self, sha256: str) -> bytes:
        self._check_up()
        if sha256 not in self.blobs:
            raise HubRefused(404, f"No blob {sha256} that you may read.")
        return self.blobs[sha256]

    def deliver(self, wire: Mapping[str, Any], prev_seq: int | None = None) -> int:
        """Put an envelope in the mailbox; ``prev_seq`` as the hub computes it, if given."""
        cursor = len(self.mailbox) + 1
        item: dict[str, Any] = {"cursor": cursor, "envelope": copy.deepcopy(dict(wire))}
        if prev_seq is not None:
            item["prev_seq"] = prev_seq
        self.mailbox.append(item)
        return cursor


@dataclasses.dataclass
class Federation:
    """Province (the root), one city, and two of its counties, all certified."""

    keys: dict[str, Ed25519PrivateKey]
    store: TrustStore
    seqs: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def root_public_key(self) -> str:
        return public_key_b64(self.keys[PROVINCE].public_key())

    def registry(self) -> dict[str, Any]:
        return {**self.store.to_registry(issued_at=T0), "root_code": PROVINCE,
                "root_public_key": self.root_public_key}

    def envelope(self, sender: str, *, seq: int | None = None, to: str = COUNTY,
                 kind: Kind = Kind.DIRECTIVE, text: str = "请说明超时原因") -> Envelope:
        if seq is None:
            seq = self.seqs.get(sender, 0) + 1
        self.seqs[sender] = max(seq, self.seqs.get(sender, 0))
        body = {"directive_id": str(uuid.uuid4()), "subject": "text", "text": text,
                "due_on": "2026-12-10", "issued_by": "admin"}
        return sign_envelope(kind=kind, sender=sender, to=to, seq=seq, body=body,
                             private_key=self.keys[sender], ts=T0)


def certify(store: TrustStore, issuer: str, issuer_key: Ed25519PrivateKey, subject: str,
            level: str, kind: str | None, key: Ed25519PrivateKey) -> dict[str, Any]:
    document = issue_certificate(
        issuer_code=issuer, issuer_key=issuer_key, subject=subject, level=level, kind=kind,
        parent=None if subject == PROVINCE else issuer,
        public_key_b64=public_key_b64(key.public_key()),
        not_before=T0 - dt.timedelta(days=1), not_after=T0 + dt.timedelta(days=365),
        serial=len(store.certificates) + 1,
    )
    store.add_certificate(document)
    return document


def make_federation() -> Federation:
    keys = {code: generate_private_key() for code in (PROVINCE, CITY, COUNTY, OTHER_COUNTY)}
    store = TrustStore(PROVINCE, public_key_b64(keys[PROVINCE].public_key()))
    certify(store, PROVINCE, keys[PROVINCE], PROVINCE, "province", None, keys[PROVINCE])
    certify(store, PROVINCE, keys[PROVINCE], CITY, "city", None, keys[CITY])
    certify(store, CITY, keys[CITY], COUNTY, "county", "county_city", keys[COUNTY])
    certify(store, CITY, keys[CITY], OTHER_COUNTY, "county", "county", keys[OTHER_COUNTY])
    return Federation(keys, store)


@pytest.fixture
def sync_db(database_url: str) -> Iterator[Database]:
    """A fresh database (SQLite and PostgreSQL) with every node table."""
    load_all_models()
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def federation() -> Federation:
    return make_federation()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
