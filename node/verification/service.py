"""A summary's commitment, kept for audits, and the answer to an audit (no Flask here).

:func:`commit` builds the period's tree and the ``commitment`` a summary carries, from the
period's last build (node/verification/incremental.py); :func:`keep` stores its leaf hashes
under the summary envelope's id once the envelope is signed (the leaves themselves are kept
once each, by hash, in ``commitment_leaves``);
:func:`answer` builds the body of the ``audit.response`` for an audit the hub holds open:
each sampled leaf as committed, its inclusion proof, and the same case's leaf recomputed
from its record now.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from node.verification import incremental
from node.verification.leaves import current_leaves
from node.verification.models import SummaryCommitment
from schemas.commitment import leaf_bytes
from schemas.errors import NotFound, ValidationFailed
from schemas.i18n import _
from schemas.merkle import inclusion_proof, leaf_hash, tree_levels
from schemas.periods import Period, PeriodError


@dataclasses.dataclass(frozen=True)
class Commitment:
    """A period's tree: its leaf hashes in order, what the summary carries about them, and
    the leaves :func:`keep` must make sure are kept (hash → RFC 8785 bytes)."""

    period: Period
    as_of: dt.date
    digests: list[bytes]
    body: dict[str, Any]
    fresh: dict[bytes, bytes] = dataclasses.field(default_factory=dict)


def _body(size: int, root: bytes, as_of: dt.date, counts: dict[str, int],
          by_state: dict[str, int]) -> dict[str, Any]:
    return {"size": size, "root": root.hex(), "as_of": as_of.isoformat(), "tallies": counts,
            "by_state": by_state}


def commit(session: Session, period: Period, as_of: dt.date) -> Commitment:
    """The commitment of ``period`` at the end of ``as_of`` (the summary's day), built from
    the period's last build (the same root as a full build from every leaf at once, which
    the tests compare it with: tests/verification_full.py)."""
    tree = incremental.build(session, period, as_of)
    body = _body(len(tree.digests), tree.root, as_of, tree.counts, tree.by_state)
    return Commitment(period, as_of, tree.digests, body)


def committed_leaves(session: Session, period_label: str,
                     digests: Sequence[bytes]) -> list[dict[str, Any]]:
    """The leaves whose hashes are ``digests``, in that order."""
    return incremental.leaves_by_digest(session, period_label, digests)


def keep(session: Session, commitment: Commitment, envelope_id: str, seq: int) -> None:
    """Keep the tree of the summary ``envelope_id`` for the audits of that version.

    Every version is kept: each is named by a signed summary the hub keeps, and an ancestor
    may audit any of them (docs/verification.md, "What is kept").  A version whose tree is
    the newest kept one's of its period (the same root: nothing counted changed since, as
    at night or in a closed month's refreshes) keeps no second copy of its leaf hashes: its
    audits read them from the version that holds them (:func:`_holder`)."""
    incremental.store_leaves(session, commitment.period.label, commitment.fresh)
    root = commitment.body["root"]
    newest = session.execute(
        select(SummaryCommitment.root)
        .where(SummaryCommitment.period_label == commitment.period.label)
        .order_by(SummaryCommitment.seq.desc()).limit(1)).first()
    repeated = newest is not None and newest.root == root
    session.add(SummaryCommitment(
        envelope_id=envelope_id, seq=seq, period_label=commitment.period.label,
        as_of=commitment.as_of, size=len(commitment.digests), root=root,
        digests=None if repeated else b"".join(commitment.digests)))


def _holder(session: Session, row: SummaryCommitment) -> SummaryCommitment:
    """The kept version that holds ``row``'s tree: ``row`` itself, or the earliest version of
    its period with the same root that keeps its leaf hashes (or, before migration 0031, its
    leaves)."""
    if row.digests is not None or row.leaves is not None:
        return row
    holder = session.scalar(
        select(SummaryCommitment)
        .where(SummaryCommitment.period_label == row.period_label,
               SummaryCommitment.root == row.root,
               or_(SummaryCommitment.digests.is_not(None),
                   SummaryCommitment.leaves.is_not(None)))
        .order_by(SummaryCommitment.seq).limit(1))
    if holder is None:  # pragma: no cover - keep() stores a tree before any repeat of it
        raise NotFound(_("No commitment is kept for that summary."),
                       {"summary": row.envelope_id})
    return holder


def _kept_tree(session: Session, row: SummaryCommitment, indexes: Sequence[int]
               ) -> tuple[list[bytes], dict[int, dict[str, Any]]]:
    """A kept tree's leaf hashes, and the leaves at ``indexes``."""
    row = _holder(session, row)
    if row.digests is not None:
        blob = row.digests
        digests = [blob[i:i + 32] for i in range(0, len(blob), 32)]
        wanted = [i for i in indexes if 0 <= i < len(digests)]
        found = committed_leaves(session, row.period_label, [digests[i] for i in wanted])
        return digests, dict(zip(wanted, found, strict=True))
    # kept before migration 0031: the leaves themselves, zlib-compressed JSON lines
    data = zlib.decompress(row.leaves or b"")
    leaves = [orjson.loads(line) for line in data.split(b"\n")] if data else []
    return ([leaf_hash(leaf_bytes(leaf)) for leaf in leaves],
            {i: leaves[i] for i in indexes if 0 <= i < len(leaves)})


def answer(session: Session, audit: Mapping[str, Any]) -> dict[str, Any]:
    """The ``audit.response`` body for ``audit`` (as the hub lists it: ``id``, ``summary``
    envelope id, ``seed``, ``indexes``)."""
    row = session.get(SummaryCommitment, str(audit.get("summary")))
    if row is None:
        raise NotFound(_("No commitment is kept for that summary."),
                       {"summary": audit.get("summary")})
    try:
        period = Period.parse(row.period_label)
    except PeriodError as exc:  # never stored: the label came from a Period
        raise ValidationFailed({"period": [str(exc)]}) from exc
    indexes: Sequence[int] = audit.get("indexes") or []
    if any(not isinstance(i, int) or not 0 <= i < row.size for i in indexes):
        raise ValidationFailed({"indexes": [f"each index lies in [0, {row.size})"]})
    digests, leaves = _kept_tree(session, row, indexes)
    levels = tree_levels(digests)
    now = current_leaves(session, period, row.as_of, (leaves[i]["case"] for i in indexes))
    items = [{
        "index": index,
        "leaf": leaves[index],
        "proof": [step.hex() for step in inclusion_proof(levels, index)],
        "current": now.get(leaves[index]["case"]),
    } for index in indexes]
    return {
        "audit": str(audit["id"]),
        "summary": row.envelope_id,
        "seed": str(audit["seed"]),
        "size": row.size,
        "root": row.root,
        "as_of": row.as_of.isoformat(),
        "items": items,
    }


def newest_kept(session: Session, period_label: str) -> SummaryCommitment | None:
    return session.scalar(select(SummaryCommitment)
                          .where(SummaryCommitment.period_label == period_label)
                          .order_by(SummaryCommitment.seq.desc()).limit(1))
