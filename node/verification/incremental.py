"""A period's tree built from its last build (issue 21's cost goal, docs/verification.md).

The first build of a period computes every counted case's leaf (node/verification/leaves.py)
and keeps, in ``commitment_caches``, the leaves' case numbers, the case versions they were
computed from and their hashes, all in tree order, with the tallies and runs they add up to;
every leaf goes to ``commitment_leaves`` by its hash.  A later build recomputes only the
leaves of the cases that may have changed since:

* the cases changed since then: ``cases.updated_at`` at or after the newest change the last
  build saw, less :data:`MARGIN` (a transaction that stamped its change earlier and committed
  after the build); every change of a case moves its ``version`` and ``updated_at`` (the ORM's
  version counter, and the bulk UPDATE of a calendar recompute), a special procedure and a
  payment come with one, and cases are never deleted;
* when the day described moved on (``as_of``), the cases whose leaf a new day can change
  without a change of theirs: a date falling on the new days, a deadline passing (open to
  overdue), a payment or a special procedure starting or ending on them.

A candidate whose version the cache already holds, on the same day, is skipped; the others'
leaves are computed, and where a hash differs the old leaf leaves the tallies (read back by its
hash) and the new one enters them, and the leaf moves to its place in its state's run.  The
upper levels of the tree are hashed again from the leaf hashes: the root is byte for byte that
of a full rebuild (tests/unit/node/test_verification_incremental.py checks it on random
changes).  A build finding no cache, another leaf format, or an earlier day builds in full.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import sys
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from node.cases.models import Case, FeePayment, Suspension
from node.cases.states import CaseState
from node.verification.leaves import (
    SHANGHAI,
    chosen_leaves_query,
    leaf_of,
    leaves_query,
    salt_key,
)
from node.verification.models import CommitmentCache, CommitmentLeaf
from schemas.commitment import LEAF_VERSION, STATES, leaf_bytes, tallies
from schemas.merkle import leaf_hash, tree_root
from schemas.periods import Period
from schemas.runtime.database import insert_many

MARGIN = dt.timedelta(hours=1)
CHUNK = 500  # ids or hashes per IN (…)
DIGEST = 32
STATE_INDEX = {state: i for i, state in enumerate(STATES)}


@dataclasses.dataclass(frozen=True)
class Tree:
    """A period's tree: its leaf hashes in tree order and what they add up to."""

    digests: list[bytes]
    root: bytes
    counts: dict[str, int]
    by_state: dict[str, int]


@dataclasses.dataclass(frozen=True)
class _Entry:
    number: bytes
    version: int
    digest: bytes

    @property
    def key(self) -> bytes:
        return self.number


def build(session: Session, period: Period, as_of: dt.date) -> Tree:
    """``period``'s tree at the end of ``as_of``, from its last build where there is one."""
    marker = session.scalar(select(func.max(Case.updated_at)))
    cache = session.get(CommitmentCache, period.label)
    if cache is None or cache.leaf_version != LEAF_VERSION or cache.as_of > as_of \
            or cache.marker is None:
        return _full(session, period, as_of, marker, cache)
    return _incremental(session, period, as_of, marker, cache)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _computed(session: Session, period: Period, as_of: dt.date,
              ids: Iterable[int] | None) -> Iterable[tuple[Any, dict[str, Any]]]:
    """``(row, leaf)`` of every counted case (of ``ids`` only, when given)."""
    key = salt_key(session)
    if ids is None:
        statement, counted = leaves_query(period, as_of)
        for row in session.execute(statement.where(counted)):
            yield row, leaf_of(row, as_of, key)
        return
    chosen = chosen_leaves_query(period, as_of)
    for part in _chunks(sorted(ids)):
        for row in session.execute(chosen.where(Case.id.in_(part))):
            yield row, leaf_of(row, as_of, key)


def store_leaves(session: Session, label: str, fresh: dict[bytes, bytes]) -> None:
    """Keep the leaves of ``fresh`` (hash → bytes) the period does not hold yet."""
    if not fresh:
        return
    known: set[bytes] = set()
    for part in _chunks(list(fresh)):
        known.update(session.scalars(select(CommitmentLeaf.digest).where(
            CommitmentLeaf.period_label == label, CommitmentLeaf.digest.in_(part))))
    rows = [{"period_label": label, "digest": digest, "leaf": data}
            for digest, data in fresh.items() if digest not in known]
    insert_many(session.connection(), CommitmentLeaf.__table__,  # type: ignore[arg-type]
                rows)


def _full(session: Session, period: Period, as_of: dt.date, marker: dt.datetime | None,
          cache: CommitmentCache | None) -> Tree:
    entries: list[tuple[int, bytes, int, bytes]] = []
    fresh: dict[bytes, bytes] = {}
    leaves = []
    for row, leaf in _computed(session, period, as_of, None):
        data = leaf_bytes(leaf)
        digest = leaf_hash(data)
        fresh[digest] = data
        leaves.append(leaf)
        entries.append((STATE_INDEX[leaf["state"]], row.number.encode("utf-8"),
                        int(row.version), digest))
    entries.sort()
    counts, by_state = tallies(leaves, period.start, min(period.end, as_of))
    digests = [entry[3] for entry in entries]
    tree = Tree(digests, tree_root(digests), counts, by_state)
    store_leaves(session, period.label, fresh)
    _save(session, period, as_of, marker, cache, tree,
          [entry[1] for entry in entries], [entry[2] for entry in entries])
    return tree


def _save(session: Session, period: Period, as_of: dt.date, marker: dt.datetime | None,
          cache: CommitmentCache | None, tree: Tree, numbers: list[bytes],
          versions: list[int]) -> None:
    packed = array("q", versions)
    if sys.byteorder == "big":
        packed.byteswap()
    values = {
        "leaf_version": LEAF_VERSION, "as_of": as_of, "marker": marker,
        "size": len(tree.digests), "root": tree.root.hex(),
        "counts": orjson.dumps({"tallies": tree.counts, "by_state": tree.by_state}).decode(),
        "numbers": b"\n".join(numbers), "versions": packed.tobytes(),
        "digests": b"".join(tree.digests),
    }
    if cache is None:
        session.add(CommitmentCache(period_label=period.label, **values))
    else:
        for name, value in values.items():
            setattr(cache, name, value)
    session.flush()


def _dated(session: Session, since: dt.date, as_of: dt.date) -> set[int]:
    """The cases whose leaf the days ``(since, as_of]`` can change without a change of
    theirs: a date on one of them, a deadline passing, a payment, a special procedure."""
    ids: set[int] = set()
    for column in (Case.received_on, Case.accepted_on, Case.completed_on, Case.closed_on,
                   Case.forwarded_on):
        ids.update(session.scalars(select(Case.id).where(column > since, column <= as_of)))
    # open at the end of ``since`` with its deadline not passed yet (every state listed, so
    # that the (state, deadline) index of the lists serves the range)
    ids.update(session.scalars(select(Case.id).where(
        Case.state.in_([state.value for state in CaseState]),
        Case.deadline_on >= since, Case.deadline_on < as_of,
        or_(Case.closed_on.is_(None), Case.closed_on > since))))
    after = dt.datetime.combine(since + dt.timedelta(days=1), dt.time(), SHANGHAI)
    until = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), SHANGHAI)
    ids.update(session.scalars(select(FeePayment.case_id).where(
        FeePayment.paid_at >= after, FeePayment.paid_at < until)))
    ids.update(session.scalars(select(Suspension.case_id).where(or_(
        Suspension.start_on.between(since + dt.timedelta(days=1), as_of),
        Suspension.end_on.between(since + dt.timedelta(days=1), as_of)))))
    return ids


def _candidates(session: Session, cache: CommitmentCache, as_of: dt.date
                ) -> tuple[set[int], set[int]]:
    """The cases changed since ``cache`` was built, and those the days since can change."""
    assert cache.marker is not None  # noqa: S101 - build() sends a cache without one to _full
    changed = set(session.scalars(select(Case.id).where(
        Case.updated_at >= cache.marker - MARGIN)))
    dated = _dated(session, cache.as_of, as_of) if as_of > cache.as_of else set()
    return changed, dated


def candidates(session: Session, period: Period, as_of: dt.date) -> set[int]:
    """The cases whose leaves the next build of ``period`` at ``as_of`` looks at (every case
    counted when there is no last build to start from)."""
    cache = session.get(CommitmentCache, period.label)
    if cache is None or cache.leaf_version != LEAF_VERSION or cache.as_of > as_of \
            or cache.marker is None:
        return {row.id for row, _leaf in _computed(session, period, as_of, None)}
    changed, dated = _candidates(session, cache, as_of)
    return changed | dated


class _Runs:
    """The cached tree's leaves, by state runs of case numbers in byte order."""

    def __init__(self, cache: CommitmentCache, by_state: dict[str, int]) -> None:
        self.numbers = cache.numbers.split(b"\n") if cache.size else []
        packed = array("q")
        packed.frombytes(cache.versions)
        if sys.byteorder == "big":
            packed.byteswap()
        self.versions = packed.tolist()
        blob = cache.digests
        self.digests = [blob[i:i + DIGEST] for i in range(0, len(blob), DIGEST)]
        self.bounds: dict[str, tuple[int, int]] = {}
        low = 0
        for state in STATES:
            high = low + int(by_state.get(state, 0))
            self.bounds[state] = (low, high)
            low = high

    def find(self, number: bytes) -> int | None:
        for low, high in self.bounds.values():
            if low < high:
                at = bisect.bisect_left(self.numbers, number, low, high)
                if at < high and self.numbers[at] == number:
                    return at
        return None

    def place(self, state: str, number: bytes) -> int:
        low, high = self.bounds[state]
        return bisect.bisect_left(self.numbers, number, low, high)


def _incremental(session: Session, period: Period, as_of: dt.date,
                 marker: dt.datetime | None, cache: CommitmentCache) -> Tree:
    assert cache.marker is not None  # noqa: S101 - build() sends a cache without one to _full
    saved = orjson.loads(cache.counts)
    counts: dict[str, int] = saved["tallies"]
    by_state: dict[str, int] = saved["by_state"]
    candidates, dated = _candidates(session, cache, as_of)
    if not candidates and not dated and as_of == cache.as_of:
        runs = _Runs(cache, by_state)  # nothing changed: the tree as it was
        return Tree(runs.digests, bytes.fromhex(cache.root), counts, by_state)
    runs = _Runs(cache, by_state)
    # each candidate as it is now: (number, version); skip those the cache holds unchanged
    wanted: list[int] = []
    gone: dict[int, bytes] = {}  # a candidate the cache holds, by its id: its number
    for part in _chunks(sorted(candidates | dated)):
        for case_id, number, version in session.execute(
                select(Case.id, Case.number, Case.version).where(Case.id.in_(part))):
            encoded = number.encode("utf-8")
            at = runs.find(encoded)
            if at is not None and runs.versions[at] == version and case_id not in dated:
                continue
            wanted.append(case_id)
            if at is not None:
                gone[case_id] = encoded
    removals: dict[int, bytes] = {}  # position → old hash
    insertions: list[tuple[int, int, bytes, _Entry]] = []
    new_leaves: list[dict[str, Any]] = []
    fresh: dict[bytes, bytes] = {}
    for row, leaf in _computed(session, period, as_of, wanted):
        data = leaf_bytes(leaf)
        digest = leaf_hash(data)
        encoded = row.number.encode("utf-8")
        gone.pop(row.id, None)
        at = runs.find(encoded)
        if at is not None and runs.digests[at] == digest:
            runs.versions[at] = int(row.version)  # the same leaf from a later version
            continue
        if at is not None:
            removals[at] = runs.digests[at]
        fresh[digest] = data
        new_leaves.append(leaf)
        state = leaf["state"]
        insertions.append((runs.place(state, encoded), STATE_INDEX[state], encoded,
                           _Entry(encoded, int(row.version), digest)))
    for encoded in gone.values():  # no longer counted
        at = runs.find(encoded)
        if at is not None:
            removals[at] = runs.digests[at]
    if removals or insertions:
        old_leaves = leaves_by_digest(session, period.label, list(removals.values()))
        end = min(period.end, as_of)
        minus, minus_states = tallies(old_leaves, period.start, end)
        plus, plus_states = tallies(new_leaves, period.start, end)
        counts = {k: counts.get(k, 0) - minus[k] + plus[k] for k in plus}
        by_state = {k: by_state.get(k, 0) - minus_states[k] + plus_states[k]
                    for k in plus_states}
        runs = _merged(runs, removals, insertions)
    store_leaves(session, period.label, fresh)
    tree = Tree(runs.digests, tree_root(runs.digests), counts, by_state)
    if sum(by_state.values()) != len(runs.digests):  # never: the cache is not what it says
        return _full(session, period, as_of, marker, cache)
    _save(session, period, as_of, max(marker or cache.marker, cache.marker), cache, tree,
          runs.numbers, runs.versions)
    return tree


def leaves_by_digest(session: Session, label: str,
                      digests: Sequence[bytes]) -> list[dict[str, Any]]:
    found: dict[bytes, bytes] = {}
    for part in _chunks(list(digests)):
        for digest, data in session.execute(select(CommitmentLeaf.digest, CommitmentLeaf.leaf)
                                            .where(CommitmentLeaf.period_label == label,
                                                   CommitmentLeaf.digest.in_(part))):
            found[digest] = data
    return [orjson.loads(found[digest]) for digest in digests]


def _merged(runs: _Runs, removals: dict[int, bytes],
            insertions: list[tuple[int, int, bytes, _Entry]]) -> _Runs:
    """The runs with the leaves at ``removals`` taken out and ``insertions`` put in (each at
    its place among the old leaves), by slices of the old lists."""
    # at one place: insertions in key order, then the removal of the old leaf there
    events = sorted([(at, 0, state, number, entry) for at, state, number, entry in insertions]
                    + [(at, 1, 0, b"", None) for at in removals],
                    key=lambda e: (e[0], e[1], e[2], e[3]))
    numbers: list[bytes] = []
    versions: list[int] = []
    digests: list[bytes] = []
    done = 0
    for at, kind, _state, _number, entry in events:
        if at > done:
            numbers += runs.numbers[done:at]
            versions += runs.versions[done:at]
            digests += runs.digests[done:at]
            done = at
        if entry is not None:
            numbers.append(entry.number)
            versions.append(entry.version)
            digests.append(entry.digest)
        elif kind == 1:
            done = at + 1
    numbers += runs.numbers[done:]
    versions += runs.versions[done:]
    digests += runs.digests[done:]
    runs.numbers, runs.versions, runs.digests = numbers, versions, digests
    return runs
