"""The trust store: the certificates and revocations verified so far, and what they say about a
key at a time (:mod:`schemas.certificates` issues and parses the documents).

Everything the store is given is checked on the way in, including a whole registry from the
hub: the hub relays trust, it never vouches.  Refusals are :class:`TrustError` with one of the
codes listed in :mod:`schemas.certificates`.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PublicKey,
)

from schemas import keys
from schemas.canonical import CanonicalError
from schemas.certificates import (
    Certificate,
    Revocation,
    TrustError,
    iso_time,
    parse_certificate,
    parse_revocation,
    require_aware,
    signed_payload,
    stored_certificate,
)
from schemas.divisions import DivisionCodeError, Level, ancestors_of, level_of

_Added = TypeVar("_Added", "Certificate", "Revocation")
REGISTRY_KEYS = ("root", "certificates", "revocations", "issued_at", "serial")
_LEVEL_ORDER = {level: depth for depth, level in enumerate(Level)}


class TrustStore:
    """Verified certificates and revocations under one root; answers which keys to trust."""

    def __init__(self, root_code: str, root_key_b64: str) -> None:
        try:
            root_level = level_of(root_code)
        except DivisionCodeError as exc:
            raise TrustError("malformed", f"trust root: {exc}") from exc
        if root_level is not Level.PROVINCE:
            raise TrustError("malformed", f"the trust root {root_code} is not a province")
        self.root_code = root_code
        try:
            self.root_key = keys.public_key_from_b64(root_key_b64)
        except keys.KeyFormatError as exc:
            raise TrustError("malformed", f"the trust root key: {exc}") from exc
        self.root_key_id = keys.key_id(self.root_key)
        self._certificates: dict[str, list[Certificate]] = {}
        self._certificate_order: list[Certificate] = []
        self._revocations: list[Revocation] = []
        # (subject, key_id) -> the earliest time any revocation of that key takes effect
        self._revoked_from: dict[tuple[str, str], dt.datetime] = {}
        self._seen: set[bytes] = set()
        # a view's store underneath (read, never changed by the view): see view()
        self._base: TrustStore | None = None

    def view(self) -> TrustStore:
        """A store that reads this one without copying it: what is added to the view (a
        batch's certificates, on trust until it commits) stays in the view, and this store
        is never changed through it.  Costs nothing whatever this store's size."""
        view = object.__new__(TrustStore)
        view.root_code, view.root_key, view.root_key_id = (
            self.root_code, self.root_key, self.root_key_id)
        view._certificates, view._certificate_order = {}, []
        view._revocations, view._revoked_from, view._seen = [], {}, set()
        view._base = self
        return view

    # -- what is held, this store's own and its base's ---------------------------------------

    def _certificates_of(self, code: str) -> list[Certificate]:
        """The certificates of ``code`` in the order added (a list the caller may not change)."""
        own = self._certificates.get(code)
        if self._base is None:
            return own or []
        inherited = self._base._certificates_of(code)
        return inherited + own if own else inherited

    def _knows(self, code: str) -> bool:
        return code in self._certificates or (self._base is not None and self._base._knows(code))

    def _was_seen(self, fingerprint: bytes) -> bool:
        return fingerprint in self._seen or (
            self._base is not None and self._base._was_seen(fingerprint))

    def _revocation_start(self, slot: tuple[str, str]) -> dt.datetime | None:
        own = self._revoked_from.get(slot)
        inherited = self._base._revocation_start(slot) if self._base is not None else None
        if own is None or inherited is None:
            return own or inherited
        return min(own, inherited)

    # -- adding -------------------------------------------------------------------------

    def add_certificate(self, document: Mapping[str, Any]) -> Certificate:
        """Verify ``document`` and keep it; adding the same document again changes nothing.

        The signer must be the subject's parent, with a key one of the parent's certificates
        holds — or, for the root's own certificate, the trust root key itself.  Validity in
        time and revocation are judged when a key is asked for (:meth:`key_for`).
        """
        return self._admit(parse_certificate(document), document, verify=True)

    def add_stored_certificate(self, document: Mapping[str, Any]) -> Certificate:
        """Keep a certificate this side verified with :meth:`add_certificate` when it stored
        it (the hub's own database), without verifying its signature again: a process
        starting on a registry of 40,000 nodes loads it in about a second, where verifying
        every signature again took minutes.  Everything else is checked as on the way in —
        the subject in the root's tree, issued by its parent with a key a certificate of the
        parent already held holds, and the root's own certificate's signature against the
        configured trust root key (so a store under another root trusts none of it).
        Validity in time and revocations are judged when a key is asked for, as always.
        ``document`` is kept as given (no copy): pass one freshly decoded."""
        certificate = stored_certificate(document)
        return self._admit(certificate, document, verify=certificate.subject == self.root_code)

    def _admit(
        self, certificate: Certificate, document: Mapping[str, Any], *, verify: bool
    ) -> Certificate:
        payload = signed_payload("certificate", document)
        fingerprint = payload + b"." + document["sig"].encode("ascii")
        if self._was_seen(fingerprint):
            return next(c for c in self._certificates_of(certificate.subject)
                        if c.document == certificate.document)
        subject, issuer = certificate.subject, certificate.issuer
        if subject == self.root_code:
            if issuer != self.root_code:
                raise TrustError("not_parent", f"the root {subject} certifies itself, not {issuer}",
                                 {"subject": subject, "issuer": issuer})
            signers = [self.root_key] if certificate.issuer_key_id == self.root_key_id else []
            if not signers:
                raise TrustError(
                    "unknown_issuer",
                    f"the root's certificate is signed with key {certificate.issuer_key_id}, "
                    f"not the trust root key {self.root_key_id}",
                    {"subject": subject, "issuer_key_id": certificate.issuer_key_id},
                )
        else:
            self._require_in_tree(subject)
            if issuer != certificate.parent:
                raise TrustError(
                    "not_parent",
                    f"the certificate of {subject} is issued by {issuer}; only its parent "
                    f"{certificate.parent} may certify it",
                    {"subject": subject, "issuer": issuer, "parent": certificate.parent},
                )
            signers = self._keys_of(issuer, certificate.issuer_key_id)
            if not signers:
                raise TrustError(
                    "unknown_issuer",
                    f"no certificate of {issuer} holds key {certificate.issuer_key_id}, which "
                    f"signed the certificate of {subject}",
                    {"subject": subject, "issuer": issuer,
                     "issuer_key_id": certificate.issuer_key_id},
                )
        if verify and not any(keys.verify_b64(key, payload, document["sig"]) for key in signers):
            raise TrustError(
                "bad_signature",
                f"the certificate of {subject} (serial {certificate.serial}) does not verify "
                f"with {issuer}'s key {certificate.issuer_key_id}",
                {"subject": subject, "issuer": issuer, "serial": certificate.serial},
            )
        self._seen.add(fingerprint)
        self._certificates.setdefault(subject, []).append(certificate)
        self._certificate_order.append(certificate)
        return certificate

    def add_revocation(self, document: Mapping[str, Any]) -> Revocation:
        """Verify ``document`` and keep it; adding the same document again changes nothing.

        The signer must be an ancestor of the subject (parent, grandparent, … province),
        signing with a key that one of its certificates holds and that chains to the root
        and is within its validity at ``effective_at``.  (Other revocations are not consulted
        here, so that the outcome does not depend on the order revocations arrive in; a
        revoked ancestor key could only ever revoke, never grant, trust.)
        """
        revocation = parse_revocation(document)
        payload = signed_payload("revocation", document)
        fingerprint = payload + b"." + document["sig"].encode("ascii")
        if self._was_seen(fingerprint):
            return next(r for r in self.revocations if r.document == revocation.document)
        subject, issuer = revocation.subject, revocation.issuer
        if issuer not in ancestors_of(subject):
            raise TrustError(
                "not_ancestor",
                f"{issuer} is not an ancestor of {subject} and cannot revoke its keys",
                {"subject": subject, "issuer": issuer},
            )
        candidates = [
            c for c in self._certificates_of(issuer) if c.key_id == revocation.issuer_key_id
        ]
        if not candidates:
            raise TrustError(
                "unknown_issuer",
                f"no certificate of {issuer} holds key {revocation.issuer_key_id}, which signed "
                f"the revocation of {subject}'s key {revocation.key_id}",
                {"subject": subject, "issuer": issuer,
                 "issuer_key_id": revocation.issuer_key_id},
            )
        if not keys.verify_b64(candidates[0].public_key, payload, document["sig"]):
            raise TrustError(
                "bad_signature",
                f"the revocation of {subject}'s key {revocation.key_id} does not verify with "
                f"{issuer}'s key {revocation.issuer_key_id}",
                {"subject": subject, "issuer": issuer, "serial": revocation.serial},
            )
        failures = [
            problem for c in candidates
            if (problem := self._chain_problem(c, revocation.effective_at, revocations=False))
        ]
        if len(failures) == len(candidates):
            first = failures[0]
            raise TrustError(
                first.code,
                f"{issuer}'s key {revocation.issuer_key_id} cannot revoke at "
                f"{revocation.effective_at.isoformat()}: {first.message}",
                {"subject": subject, "issuer": issuer, **first.details},
            )
        self._seen.add(fingerprint)
        self._revocations.append(revocation)
        slot = (subject, revocation.key_id)
        earliest = self._revocation_start(slot)
        if earliest is None or revocation.effective_at < earliest:
            self._revoked_from[slot] = revocation.effective_at
        return revocation

    # -- asking -------------------------------------------------------------------------

    def key_for(self, node_code: str, key_id: str, at: dt.datetime) -> Ed25519PublicKey:
        """The public key ``key_id`` of ``node_code``, if it is to be trusted at ``at``.

        Some certificate of the node for that key must chain to the root with every
        certificate of the chain valid at ``at`` and no key of the chain revoked at or before
        ``at``.  Raises :class:`TrustError` otherwise.
        """
        return self.certificate_for(node_code, key_id, at).public_key

    def certificate_for(self, node_code: str, key_id: str, at: dt.datetime) -> Certificate:
        """The certificate that makes :meth:`key_for` trust the key (the newest such)."""
        require_aware(at)
        candidates = [c for c in self._certificates_of(node_code) if c.key_id == key_id]
        if not candidates:
            raise TrustError(
                "unknown_key" if self._knows(node_code) else "no_chain",
                f"no certificate of {node_code} holds key {key_id}"
                if self._knows(node_code) else f"{node_code} is not enrolled",
                {"node": node_code, "key_id": key_id},
            )
        # the newest first; of two equally new, the one added last
        candidates.reverse()
        candidates.sort(key=lambda c: c.not_before, reverse=True)
        problems = []
        for certificate in candidates:
            problem = self._chain_problem(certificate, at, revocations=True)
            if problem is None:
                return certificate
            problems.append(problem)
        raise problems[0]

    def chain(self, node_code: str, key_id: str | None = None) -> list[Certificate]:
        """The certificates from ``node_code`` up to the root, for display: at each step the
        newest (latest ``not_before``, then last added); neither time nor revocation is judged."""
        candidates = [
            c for c in self._certificates_of(node_code)
            if key_id is None or c.key_id == key_id
        ]
        if not candidates:
            raise TrustError("no_chain", f"no certificate of {node_code}"
                             + (f" holds key {key_id}" if key_id else ""),
                             {"node": node_code, "key_id": key_id})
        current = max(reversed(candidates), key=lambda c: c.not_before)
        found = [current]
        while not current.self_issued:
            issuers = self._issuer_certificates(current)
            if not issuers:  # cannot happen for a verified store; say so rather than crash
                raise TrustError("no_chain", f"nothing certifies the key of {current.subject}",
                                 {"node": current.subject})
            current = max(reversed(issuers), key=lambda c: c.not_before)
            found.append(current)
        return found

    def certificates_of(self, node_code: str) -> tuple[Certificate, ...]:
        """Every verified certificate of ``node_code``, in the order they were added."""
        return tuple(self._certificates_of(node_code))

    @property
    def certificates(self) -> tuple[Certificate, ...]:
        inherited = self._base.certificates if self._base is not None else ()
        return inherited + tuple(self._certificate_order)

    @property
    def revocations(self) -> tuple[Revocation, ...]:
        inherited = self._base.revocations if self._base is not None else ()
        return inherited + tuple(self._revocations)

    def revoked_from(self, node_code: str, key_id: str) -> dt.datetime | None:
        """When ``node_code``'s key ``key_id`` stopped being valid by revocation, if it did."""
        return self._revocation_start((node_code, key_id))

    # -- the registry ---------------------------------------------------------------------

    def to_registry(
        self, *, issued_at: dt.datetime | None = None, serial: int | None = None
    ) -> dict[str, Any]:
        """The registry document the hub publishes and nodes cache.

        ``serial`` defaults to the number of documents held: the registry only grows, so a
        newer registry has a higher serial.  ``issued_at`` defaults to now.
        """
        when = issued_at if issued_at is not None else dt.datetime.now(dt.UTC)
        return {
            "root": self.root_code,
            "certificates": [copy.deepcopy(c.document) for c in self.certificates],
            "revocations": [copy.deepcopy(r.document) for r in self.revocations],
            "issued_at": iso_time(when, "issued_at"),
            "serial": serial if serial is not None else (
                len(self.certificates) + len(self.revocations)),
        }

    @classmethod
    def from_registry(
        cls, document: Mapping[str, Any], root_code: str, root_key_b64: str
    ) -> TrustStore:
        """A trust store rebuilt from a registry, re-verifying every entry against the root
        this node was configured with; any entry that fails refuses the whole registry."""
        if not isinstance(document, Mapping) or set(document) != set(REGISTRY_KEYS):
            raise TrustError("malformed", f"a registry is an object with exactly "
                             f"{', '.join(REGISTRY_KEYS)}")
        if document["root"] != root_code:
            raise TrustError(
                "wrong_root",
                f"the registry is for root {document['root']!r}, this node trusts {root_code}",
                {"root": document["root"], "expected": root_code},
            )
        certificates, revocations = document["certificates"], document["revocations"]
        if not isinstance(certificates, list) or not isinstance(revocations, list):
            raise TrustError("malformed", "a registry's certificates and revocations are lists")
        store = cls(root_code, root_key_b64)
        # parents before children, whatever order the relay used
        position: dict[int, int] = {}
        for index, entry in sorted(enumerate(certificates), key=lambda item: _depth(item[1])):
            added = store._add_registry_entry(store.add_certificate, "certificates", index, entry)
            position.setdefault(id(added), index)
        # ... and then the relay's order again, so that the registry reads back as it came
        store._certificate_order.sort(key=lambda certificate: position[id(certificate)])
        for index, entry in enumerate(revocations):
            store._add_registry_entry(store.add_revocation, "revocations", index, entry)
        return store

    def extend(
        self, certificates: list[Any], revocations: list[Any]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Verify and add what a part of a registry brings (a node's refresh: only what was
        stored since its last one), certificates parents first; the documents that were
        new here.  Any entry that fails refuses the rest (TrustError naming it); what was
        added before it stays, verified."""
        new_certificates: list[dict[str, Any]] = []
        new_revocations: list[dict[str, Any]] = []
        for index, entry in sorted(enumerate(certificates), key=lambda item: _depth(item[1])):
            if not self._holds("certificate", entry):
                self._add_registry_entry(self.add_certificate, "certificates", index, entry)
                new_certificates.append(entry)
        for index, entry in enumerate(revocations):
            if not self._holds("revocation", entry):
                self._add_registry_entry(self.add_revocation, "revocations", index, entry)
                new_revocations.append(entry)
        return new_certificates, new_revocations

    # -- internals -------------------------------------------------------------------------

    def _holds(self, name: str, entry: Any) -> bool:
        """Whether this exact signed document was added already (False when malformed: the
        add that follows says what is wrong with it)."""
        try:
            fingerprint = signed_payload(name, entry) + b"." + entry["sig"].encode("ascii")
        except (TypeError, KeyError, AttributeError, CanonicalError, TrustError):
            return False
        return self._was_seen(fingerprint)

    @staticmethod
    def _add_registry_entry(
        add: Callable[[Mapping[str, Any]], _Added], section: str, index: int, entry: Any
    ) -> _Added:
        try:
            return add(entry)
        except TrustError as exc:
            raise TrustError(
                exc.code, f"registry {section}[{index}]: {exc.message}",
                {**exc.details, "entry": f"{section}[{index}]"},
            ) from exc

    def _require_in_tree(self, subject: str) -> None:
        ancestors = ancestors_of(subject)
        if not ancestors or ancestors[-1] != self.root_code:
            raise TrustError(
                "no_chain",
                f"{subject} is not in the tree of the root {self.root_code}",
                {"subject": subject, "root": self.root_code},
            )

    def _keys_of(self, code: str, key_id: str) -> list[Ed25519PublicKey]:
        # key ids are hashes of the keys, so certificates sharing one share the key
        matching = [c.public_key for c in self._certificates_of(code) if c.key_id == key_id]
        return matching[:1]

    def _issuer_certificates(self, certificate: Certificate) -> list[Certificate]:
        return [
            c for c in self._certificates_of(certificate.issuer)
            if c.key_id == certificate.issuer_key_id
        ]

    def _chain_problem(
        self, certificate: Certificate, at: dt.datetime, *, revocations: bool
    ) -> TrustError | None:
        """Why ``certificate``'s chain is not valid at ``at`` (None when it is)."""
        who = f"the certificate of {certificate.subject} for key {certificate.key_id}"
        details = {"node": certificate.subject, "key_id": certificate.key_id}
        if at < certificate.not_before:
            return TrustError("not_yet_valid", f"{who} is valid only from "
                              f"{certificate.not_before.isoformat()}", details)
        if at >= certificate.not_after:
            return TrustError("expired", f"{who} expired at {certificate.not_after.isoformat()}",
                              details)
        if revocations:
            revoked_from = self._revocation_start((certificate.subject, certificate.key_id))
            if revoked_from is not None and revoked_from <= at:
                return TrustError("revoked", f"the key {certificate.key_id} of "
                                  f"{certificate.subject} is revoked from "
                                  f"{revoked_from.isoformat()}", details)
        if certificate.self_issued:
            return None  # the root's own, verified against the trust root key when added
        problems = [
            self._chain_problem(issuer, at, revocations=revocations)
            for issuer in self._issuer_certificates(certificate)
        ]
        if not problems:
            return TrustError("no_chain", f"nothing certifies the key that signed {who}",
                              details)
        if all(problems):
            return problems[0]
        return None


def _depth(entry: Any) -> int:
    """How far below the province an entry's subject is (unknown shapes sort last)."""
    try:
        return _LEVEL_ORDER[level_of(entry["certificate"]["subject"])]
    except (TypeError, KeyError, DivisionCodeError):
        return len(_LEVEL_ORDER)
