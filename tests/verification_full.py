"""The full build of a period's commitment, from every leaf at once: what the node's
incremental build (node/verification/incremental.py, ``commit``) must equal, leaf for leaf and
root for root.  The node itself never builds this way; the tests, the fault suite and the
benchmark compare against it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from node.verification.leaves import leaf_of, leaves_query, salt_key
from node.verification.service import Commitment
from schemas.commitment import leaf_bytes, sort_key, tallies
from schemas.merkle import leaf_hash, tree_root
from schemas.periods import Period


def period_leaves(session: Session, period: Period, as_of: dt.date) -> list[dict[str, Any]]:
    """The leaves of every case ``period``'s figures count at the end of ``as_of``, in tree
    order (state, then case number)."""
    statement, counted = leaves_query(period, as_of)
    key = salt_key(session)
    leaves = [leaf_of(row, as_of, key) for row in session.execute(statement.where(counted))]
    leaves.sort(key=sort_key)
    return leaves


def commit_leaves(period: Period, as_of: dt.date, leaves: list[dict[str, Any]]) -> Commitment:
    """The commitment to ``leaves`` as given, in their order."""
    data = [leaf_bytes(leaf) for leaf in leaves]
    digests = [leaf_hash(item) for item in data]
    counts, by_state = tallies(leaves, period.start, min(period.end, as_of))
    body = {"size": len(leaves), "root": tree_root(digests).hex(), "as_of": as_of.isoformat(),
            "tallies": counts, "by_state": by_state}
    return Commitment(period, as_of, digests, body, dict(zip(digests, data, strict=True)))
