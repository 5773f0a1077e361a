"""A node's copy of the hub's registry: its part of the tree, refreshed by what changed.

A province of 1,500 nodes (the country: 33,000) publishes a registry of megabytes; a node
needs only the certificates of the senders it hears from — its ancestors, its descendants
and, now and then, a center elsewhere in the province (a sideways forward) — and, on each
refresh, only what was stored since the last one.  So the node asks
``GET /api/v1/registry?node=<its code>&certificates_after=…&revocations_after=…`` (plus
``chain=<sender>`` for a sender outside its tree), verifies only the new documents against
the root it trusts (:meth:`TrustStore.extend`) and keeps the ``cursor`` of the answer with
its cached registry for the next time.  The hub relays; it never vouches.

No Flask and no HTTP library here: the transport is given.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from schemas.certificates import TrustError
from schemas.divisions import lineage
from schemas.trust import TrustStore

log = logging.getLogger("tongban.node.sync")

# what the hub's answer carries besides a registry document (TrustStore.from_registry)
REGISTRY_EXTRA_KEYS = ("root_code", "root_public_key", "cursor", "names")
CURSOR_KEY = "cursor"


class RegistryChanges(Protocol):
    """A transport that can fetch a part of the registry (HttpHubTransport can)."""

    def fetch_registry_changes(
        self, *, node: str, certificates_after: int, revocations_after: int,
        chains: Sequence[str] = (),
    ) -> dict[str, Any]: ...


@dataclasses.dataclass(frozen=True)
class Refreshed:
    """The trust store after a refresh, and the document to cache (with its ``cursor``)."""

    store: TrustStore
    document: dict[str, Any]
    added: int  # documents verified and added by this refresh
    # {code: name} of the part's named centers, as the hub gave them (node/sync/names.py)
    names: dict[str, Any] = dataclasses.field(default_factory=dict)


def in_tree_of(code: str, other: str) -> bool:
    """Whether ``other`` is ``code``, an ancestor or a descendant of it."""
    return other in lineage(code) or code in lineage(other)


def registry_without_extras(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in REGISTRY_EXTRA_KEYS}


def refresh_registry(
    transport: RegistryChanges,
    *,
    code: str,
    root_code: str,
    root_key: Callable[[str | None], str | None],
    cached: dict[str, Any] | None,
    store: TrustStore | None,
    sender: str | None = None,
) -> Refreshed | None:
    """Bring ``store`` (built from ``cached``, the cached document) up to the hub's registry.

    ``root_key(offered)`` is the root key this node trusts (``offered``: the hub's word for
    it, pinned on first use when none is configured).  With a cached document that has a
    cursor, only what was stored since is fetched and verified; without one, this node's
    whole part.  ``sender``, when outside this node's tree, has its chain fetched too.
    None when the hub's registry does not verify (the cache is kept); SyncError (from the
    transport) when it cannot be fetched.
    """
    cursor = (cached or {}).get(CURSOR_KEY)
    base = (store, cached) if store is not None and cached is not None else None
    if not isinstance(cursor, dict):
        base = None
    chains = [sender] if sender is not None and not in_tree_of(code, sender) else []
    answer = transport.fetch_registry_changes(
        node=code,
        certificates_after=int(cursor["certificates"]) if base and cursor else 0,
        revocations_after=int(cursor["revocations"]) if base and cursor else 0,
        chains=chains)
    trusted_root = root_key(answer.get("root_public_key"))
    if trusted_root is None:
        return None
    part = registry_without_extras(answer)
    try:
        if base is not None:
            store, cached_document = base
            if part.get("root") != root_code:
                raise TrustError("wrong_root", f"the registry is for root {part.get('root')!r}"
                                 f", this node trusts {root_code}")
            certificates, revocations = store.extend(
                list(part.get("certificates") or []), list(part.get("revocations") or []))
            document = {
                **registry_without_extras(cached_document),
                "certificates": [*cached_document["certificates"], *certificates],
                "revocations": [*cached_document["revocations"], *revocations],
                "issued_at": part["issued_at"], "serial": part["serial"],
            }
            added = len(certificates) + len(revocations)
        else:
            store = TrustStore.from_registry(part, root_code, trusted_root)
            document = part
            added = len(part["certificates"]) + len(part["revocations"])
    except (TrustError, KeyError, TypeError) as exc:
        message = exc.message if isinstance(exc, TrustError) else f"malformed: {exc!r}"
        log.warning("the hub's registry is refused, keeping the cached one: %s", message)
        return None
    names = answer.get("names")
    return Refreshed(store, {**document, CURSOR_KEY: answer[CURSOR_KEY]}, added,
                     names if isinstance(names, dict) else {})
