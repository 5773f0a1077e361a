"""The trust store kept from the database, and recording what it accepts.

Certificates and revocations are stored verified, append-only, with a one-row version
(``registry_state``) raised in the same transaction — before the document is stored, so the
row's lock orders the stores of concurrent transactions as their commits.  Each hub process
keeps one verified :class:`TrustStore` (:class:`TrustCache`): a request reads the version
(a primary-key read, riding in a signed request's nonce INSERT: hub.api.auth) and, when it
moved, only the documents stored since are added;
nothing is rebuilt and nothing is copied (a request works on a view of the store).  A
certificate's signature is verified once, by the process that stores it: the others (and a
freshly started process loading the whole registry) add the stored document without
verifying it again (:meth:`TrustStore.add_stored_certificate`).
Any number of hub processes agree, since each follows the same stored documents.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any, cast

import orjson
from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from hub.models import RegisteredNode
from hub.registry.models import (
    RegistryEnvelope,
    RegistryState,
    StoredCertificate,
    StoredRevocation,
)
from hub.relay.models import EnvelopeRecord
from schemas.certificates import Certificate, Revocation, TrustError
from schemas.divisions import lineage, province_of, subtree_prefix
from schemas.errors import TongbanError
from schemas.fastcanon import canonical
from schemas.runtime.database import insert_if_missing, utcnow
from schemas.trust import TrustStore

log = logging.getLogger("tongban.hub.registry")


class TrustRootMissing(TongbanError):
    """No trust root is configured: the hub can accept nothing yet."""

    code = "trust_root_not_configured"


def fingerprint(document: dict[str, Any]) -> str:
    """SHA-256 (hex) of a document's canonical JSON: one stored row per document."""
    return hashlib.sha256(canonical(document)).hexdigest()


_VERSION = select(RegistryState.version).where(RegistryState.id == 1)
# the version as a scalar subquery, for a statement that reads it on the way (the nonce's
# INSERT … RETURNING, hub.relay.service.remember_nonce): 0 before anything was stored
VERSION_SUBQUERY = func.coalesce(_VERSION.scalar_subquery(), 0)


def registry_version(session: Session) -> int:
    """The registry's version: one primary-key read (0 before anything was stored), on the
    session's connection directly — a Core statement, not an ORM query: the ORM's layer
    cost as much as the read itself (tests/bench/bench_registry.py)."""
    return session.connection().scalar(_VERSION) or 0


def bump_registry_version(session: Session) -> None:
    """Raise the version by one, in the caller's transaction.  Call it *before* storing the
    document: on PostgreSQL the row stays locked until commit, so the documents of two
    transactions get their ids in the order the transactions commit, and a process that
    read up to an id never misses a lower one committed later."""
    insert_if_missing(session, RegistryState, {"id": 1, "version": 0}, ["id"])
    session.execute(update(RegistryState).where(RegistryState.id == 1)
                    .values(version=RegistryState.version + 1))


class TrustCache:
    """One process's verified trust store, brought up to the stored version incrementally."""

    def __init__(self, root_code: str, root_public_key: str) -> None:
        self.root_code = root_code
        self.root_public_key = root_public_key
        self._store: TrustStore | None = None
        self._version = -1
        self._after_certificate = 0
        self._after_revocation = 0
        self._lock = threading.Lock()
        self.rebuilds = 0  # how often a store was built from nothing (tests and /healthz)
        self.added = 0  # documents verified and added since

    def require_root(self) -> None:
        """Refuse (503) while no trust root is configured: the hub can accept nothing yet."""
        if not self.root_code or not self.root_public_key:
            raise TrustRootMissing(
                "The hub has no trust root; run `tongban hub trust-root` with the province's "
                "code and root public key."
            )

    def kept(self) -> tuple[int, TrustStore] | None:
        """The store kept and the version it is at, without reading the database (None
        before the first :meth:`current`).  A signed request is checked against it first and
        the version confirmed by the request's nonce statement (hub.api.auth): the read of
        the version is not a round trip of its own."""
        version = self._version  # read first: a catch-up adds to the store, then raises it
        store = self._store
        if store is None or version < 0:
            return None
        return version, store

    def current(self, session: Session, version: int | None = None) -> TrustStore:
        """The store at the version ``session`` sees (read unless the caller read it in
        this transaction already): the one kept while the version is the same, else the
        same store with the documents stored since added."""
        self.require_root()
        if version is None:
            version = registry_version(session)
        store = self._store
        if store is not None and version == self._version:
            return store
        with self._lock:
            if self._store is None or version < self._version:  # a restored database
                self._store = TrustStore(self.root_code, self.root_public_key)
                self._after_certificate = self._after_revocation = 0
                self.rebuilds += 1
            if version != self._version:
                self._catch_up(session, self._store)
                self._version = version
            return self._store

    def _catch_up(self, session: Session, store: TrustStore) -> None:
        """Add what was stored since: certificates without verifying their signatures again
        (a hub process verified each before storing it, in this database; the root's own is
        verified against the configured root key, so nothing chains under another root),
        revocations verified (they are few, and a key's revocation must never be lost)."""
        for row_id, subject, document in session.execute(
                select(StoredCertificate.id, StoredCertificate.subject,
                       StoredCertificate.document)
                .where(StoredCertificate.id > self._after_certificate)
                .order_by(StoredCertificate.id)):
            _add(store.add_stored_certificate, document, f"certificate {row_id} of {subject}")
            self._after_certificate = row_id
            self.added += 1
        for row_id, subject, document in session.execute(
                select(StoredRevocation.id, StoredRevocation.subject, StoredRevocation.document)
                .where(StoredRevocation.id > self._after_revocation)
                .order_by(StoredRevocation.id)):
            _add(store.add_revocation, document, f"revocation {row_id} of {subject}")
            self._after_revocation = row_id
            self.added += 1


def _add(add: Any, document: str, what: str) -> None:
    try:
        add(orjson.loads(document))
    except TrustError as exc:
        log.warning("stored %s does not verify under the configured root: %s", what, exc)


def record_certificate(session: Session, certificate: Certificate) -> None:
    """Store a verified certificate (once) and enroll or update its subject in the registry."""
    bump_registry_version(session)
    insert_if_missing(session, StoredCertificate, {
        "fingerprint": fingerprint(certificate.document),
        "subject": certificate.subject,
        "key_id": certificate.key_id,
        "serial": certificate.serial,
        "issuer": certificate.issuer,
        "document": orjson.dumps(certificate.document).decode("utf-8"),
        "not_before": certificate.not_before,
        "not_after": certificate.not_after,
        "received_at": utcnow(),
    }, ["fingerprint"])
    node = session.get(RegisteredNode, certificate.subject)
    if node is None:
        insert_if_missing(session, RegisteredNode, {
            "code": certificate.subject,
            "name": None,
            "level": certificate.level,
            "kind": certificate.kind,
            "parent_code": certificate.parent,
            "registered_at": utcnow(),
        }, ["code"])
    else:
        node.level, node.kind, node.parent_code = (
            certificate.level, certificate.kind, certificate.parent)
    session.flush()


def record_names(session: Session, names: Mapping[str, str | None]) -> None:
    """Keep each center's name as its own signed summary gives it (``{code: name}``), for
    the registry's ``names``: one statement for all, changing only the rows whose name moved
    (a summary every few minutes repeats the name it gave before)."""
    rows = [{"node_code": code, "node_name": name} for code, name in names.items() if name]
    if not rows:
        return
    table = cast(Table, RegisteredNode.__table__)
    session.connection().execute(
        update(table)
        .where(table.c.code == bindparam("node_code"),
               or_(table.c.name.is_(None), table.c.name != bindparam("node_name")))
        .values(name=bindparam("node_name")),
        rows)


def record_revocation(session: Session, revocation: Revocation) -> None:
    """Store a verified revocation (once)."""
    bump_registry_version(session)
    insert_if_missing(session, StoredRevocation, {
        "fingerprint": fingerprint(revocation.document),
        "subject": revocation.subject,
        "key_id": revocation.key_id,
        "issuer": revocation.issuer,
        "document": orjson.dumps(revocation.document).decode("utf-8"),
        "effective_at": revocation.effective_at,
        "received_at": utcnow(),
    }, ["fingerprint"])


def record_registry_envelope(session: Session, envelope_id: str, kind: str) -> None:
    """Note an accepted ``cert`` or ``revoke`` envelope (already in the envelope log) for
    ``GET /api/v1/registry/envelopes``.  Call it after :func:`record_certificate` or
    :func:`record_revocation`, which lock the version row until commit."""
    insert_if_missing(session, RegistryEnvelope, {"envelope_id": envelope_id, "kind": kind},
                      ["envelope_id"])


class Records:
    """What an accepted envelope adds to the registry (:class:`hub.ports.RegistryRecords`),
    which the composition root hands to each :class:`hub.relay.service.Ingest`."""

    def certificate(self, session: Session, certificate: Certificate) -> None:
        record_certificate(session, certificate)

    def revocation(self, session: Session, revocation: Revocation) -> None:
        record_revocation(session, revocation)

    def envelope(self, session: Session, envelope_id: str, kind: str) -> None:
        record_registry_envelope(session, envelope_id, kind)

    def names(self, session: Session, names: Mapping[str, str | None]) -> None:
        record_names(session, names)


@dataclasses.dataclass(frozen=True)
class EnvelopePage:
    """Registry envelopes as signed (their stored wire text), each with its position."""

    items: list[tuple[int, str]]
    more: bool


def registry_envelopes(session: Session, *, after: int, limit: int) -> EnvelopePage:
    """The ``cert`` and ``revoke`` envelopes stored after position ``after``, oldest first,
    at most ``limit`` (a keyset page: ask after the last position for the next one)."""
    rows = session.execute(
        select(RegistryEnvelope.position, EnvelopeRecord.wire)
        .join(EnvelopeRecord, EnvelopeRecord.id == RegistryEnvelope.envelope_id)
        .where(RegistryEnvelope.position > after)
        .order_by(RegistryEnvelope.position)
        .limit(limit + 1)).all()
    return EnvelopePage([(row.position, row.wire) for row in rows[:limit]], len(rows) > limit)


@dataclasses.dataclass(frozen=True)
class RegistryPart:
    """Stored documents (as stored JSON text) and the positions to ask after next time."""

    certificates: list[str]
    revocations: list[str]
    certificates_cursor: int
    revocations_cursor: int
    version: int
    # {code: name} of every center of the part whose name is known (all of them, whatever
    # the cursors: a name is a few dozen bytes, and a node must learn a renamed center)
    names: dict[str, str] = dataclasses.field(default_factory=dict)


def registry_part(
    session: Session,
    *,
    node: str | None = None,
    certificates_after: int = 0,
    revocations_after: int = 0,
    chains: Iterable[str] = (),
) -> RegistryPart:
    """What a node needs of the registry, in the order stored (parents before children):

    - without ``node``, every document; with it, those whose subject is ``node``, one of
      its ancestors or one of its descendants (the senders it hears from in the tree);
    - only those stored after ``certificates_after`` / ``revocations_after`` (the cursors
      of the part it already holds);
    - and, whatever the cursors, every document of each code in ``chains`` and of its
      ancestors (a sender from elsewhere in the province, e.g. a sideways forward).

    The cursors returned are the highest positions stored, so that asking after them next
    time returns only what is new.
    """
    version = registry_version(session)
    cursors = [session.scalar(select(func.max(model.id))) or 0
               for model in (StoredCertificate, StoredRevocation)]
    parts: list[list[str]] = []
    for model, after in ((StoredCertificate, certificates_after),
                         (StoredRevocation, revocations_after)):
        scope: Any = None
        if node is not None:
            scope = or_(model.subject.in_(lineage(node)),
                        model.subject.startswith(subtree_prefix(node), autoescape=True))
        wanted = model.id > after if scope is None else and_(model.id > after, scope)
        lineages = sorted({code for chain in chains for code in lineage(chain)})
        if lineages:
            wanted = or_(wanted, model.subject.in_(lineages))
        parts.append(list(session.scalars(select(model.document).where(wanted)
                                          .order_by(model.id))))
    return RegistryPart(parts[0], parts[1], cursors[0], cursors[1], version,
                        part_names(session, node=node, chains=chains))


def part_names(session: Session, *, node: str | None, chains: Iterable[str] = ()) -> dict[str, str]:
    """``{code: name}`` of the named centers of ``node``'s part of the tree (its lineage, its
    descendants and the lineages of ``chains``) and of every county-level or higher center of
    its province (通办: the competent center a case is sent to sideways is picked by name);
    every named center without ``node``."""
    wanted: Any = RegisteredNode.name.is_not(None)
    if node is not None:
        codes = set(lineage(node)) | {code for chain in chains for code in lineage(chain)}
        scope: Any = or_(RegisteredNode.code.in_(sorted(codes)),
                         RegisteredNode.code.startswith(subtree_prefix(node), autoescape=True))
        scope = or_(scope, and_(RegisteredNode.code.startswith(subtree_prefix(province_of(node)),
                                                               autoescape=True),
                                func.length(RegisteredNode.code) == 6))
        wanted = and_(wanted, scope)
    rows = session.execute(select(RegisteredNode.code, RegisteredNode.name).where(wanted)
                           .order_by(RegisteredNode.code)).all()
    return {code: name for code, name in rows if name is not None}
