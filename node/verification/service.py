"""A summary's commitment, kept for audits, and the answer to an audit (no Flask here).

:func:`commit` builds the period's tree and the ``commitment`` a summary carries;
:func:`keep` stores its leaves under the summary envelope's id once the envelope is signed;
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
from sqlalchemy import select
from sqlalchemy.orm import Session

from node.verification.leaves import current_leaves, period_leaves
from node.verification.models import SummaryCommitment
from schemas.commitment import leaf_bytes, tallies
from schemas.errors import NotFound, ValidationFailed
from schemas.i18n import _
from schemas.merkle import inclusion_proof, leaf_hash, root_of_levels, tree_levels
from schemas.periods import Period, PeriodError


@dataclasses.dataclass(frozen=True)
class Commitment:
    """A period's tree: its leaves in order and what the summary carries about them."""

    period: Period
    as_of: dt.date
    leaves: list[dict[str, Any]]
    body: dict[str, Any]


def commit_leaves(period: Period, as_of: dt.date, leaves: list[dict[str, Any]]) -> Commitment:
    levels = tree_levels([leaf_hash(leaf_bytes(leaf)) for leaf in leaves])
    counts, by_state = tallies(leaves, period.start, min(period.end, as_of))
    body = {
        "size": len(leaves),
        "root": root_of_levels(levels).hex(),
        "as_of": as_of.isoformat(),
        "tallies": counts,
        "by_state": by_state,
    }
    return Commitment(period, as_of, leaves, body)


def commit(session: Session, period: Period, as_of: dt.date) -> Commitment:
    """The commitment of ``period`` at the end of ``as_of`` (the summary's day)."""
    return commit_leaves(period, as_of, period_leaves(session, period, as_of))


def keep(session: Session, commitment: Commitment, envelope_id: str, seq: int) -> None:
    """Keep the leaves of the summary ``envelope_id`` for the audits of that version."""
    packed = zlib.compress(b"\n".join(orjson.dumps(leaf) for leaf in commitment.leaves), 6)
    session.add(SummaryCommitment(
        envelope_id=envelope_id, seq=seq, period_label=commitment.period.label,
        as_of=commitment.as_of, size=len(commitment.leaves), root=commitment.body["root"],
        leaves=packed))


def kept_leaves(row: SummaryCommitment) -> list[dict[str, Any]]:
    data = zlib.decompress(row.leaves)
    return [orjson.loads(line) for line in data.split(b"\n")] if data else []


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
    leaves = kept_leaves(row)
    indexes: Sequence[int] = audit.get("indexes") or []
    if any(not isinstance(i, int) or not 0 <= i < len(leaves) for i in indexes):
        raise ValidationFailed({"indexes": [f"each index lies in [0, {len(leaves)})"]})
    levels = tree_levels([leaf_hash(leaf_bytes(leaf)) for leaf in leaves])
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
