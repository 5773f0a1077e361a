# ruff: noqa: T201 - a command-line report: print is the output
"""The verification benchmark (issue 21, item 4): what the commitment and the audits cost.

    python -m tests.bench.bench_verification [--cases N] [--rounds N] [--sqlite-file PATH]
                                             [--profile]

On the node of the metrics benchmark (tests/bench/bench_metrics.py: a year of 1,000,000
cases by default) and its month, interleaved (tests/bench/interleaved.py):

* ``commitment_ratio`` = the month's tree as the summary job builds and keeps it
  (node.verification.service.commit and keep) every ``summary_refresh_minutes`` (60), each
  build from the last one taking in an hour's changes (:data:`HOUR_CHANGES` at 1,000,000
  cases a year, node/verification/incremental.py) ÷ the bare ``GROUP BY completed_on`` of
  the month that the summary benchmark uses as its ceiling (goal <= 3); beside it a day's
  changes at once (``commitment_day_ratio``: the build of the month's last day from the
  day before's), the first build (``commitment_first_ratio``: every counted case's leaf,
  salted, canonical JSON, RFC 9162 hashes) and a build with nothing changed
  (``commitment_unchanged_ratio``);
* ``audit_verify_ms`` = checking a 30-leaf answer as the hub does
  (schemas.audit_check.findings: proofs, runs, flags, the cases as they are now);
* ``summary_envelope_bytes`` = the month's signed summary with its commitment, against the
  envelope limit of 1 MiB.

The last line of stdout is one JSON document.  Not a test: pytest does not collect this file.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, func, select, update

from node.app import MIGRATIONS
from node.cases.models import Case
from node.verification import incremental
from node.verification.models import CommitmentCache
from node.verification.service import commit, committed_leaves
from node.verification.service import keep as keep_tree
from schemas.audit_check import findings
from schemas.commitment import DEFAULT_SAMPLE_SIZE, audit_seed, sample_indexes
from schemas.envelope import HUB, MAX_ENVELOPE_BYTES, Kind, sign_envelope
from schemas.keys import generate_private_key
from schemas.merkle import inclusion_proof, tree_levels
from schemas.runtime import migrate
from schemas.runtime.database import Database
from tests.bench.bench_metrics import (
    GROUP_BY,
    MONTH,
    NODE,
    NOW,
    POLICY,
    _count_cases,
    build,
    summarize,
)
from tests.bench.interleaved import add_rounds_option, interleave, machine_line
from tests.verification_full import commit_leaves, period_leaves

GOAL = 3.0
HOUR_CHANGES = 900  # at 1,000,000 cases a year; in proportion to --cases
AUDIT_REPEAT = 200


def say(line: str = "") -> None:
    print(line, flush=True)


DAY_BEFORE = MONTH.end - dt.timedelta(days=1)


def _job(db: Database, as_of: dt.date, *, keep: bool = False) -> Any:
    """The summary job's part: the month's tree and its leaf hashes kept under a summary
    envelope (node/worker.py send_summaries); rolled back unless ``keep``, so that every
    round starts from the same last build."""
    with db.sessions() as session:
        commitment = commit(session, MONTH, as_of)
        keep_tree(session, commitment, str(uuid.uuid4()), 1)
        session.flush()
        if keep:
            session.commit()
        else:
            session.rollback()
    return commitment


class Hours:
    """An hour's changes at a center of 1,000,000 cases a year: about 3,800 cases received
    on a working day, accepted and (70 %) completed the same day, in 9 hours — some
    :data:`HOUR_CHANGES` case changes (in proportion for another size), each moving the
    case's version and ``updated_at``: June's open cases among them completed on 30 June,
    the others changed in what no leaf reads."""

    def __init__(self, db: Database, changes: int) -> None:
        self.db, self.changes = db, changes
        self.rng = random.Random(21)
        with db.sessions() as session:
            self.ids = list(session.scalars(select(Case.id).where(
                Case.received_on.between(MONTH.start, MONTH.end))))
            self.clock = session.scalar(select(func.max(Case.updated_at)))

    def change(self) -> None:
        self.clock += dt.timedelta(hours=1)
        picked = self.rng.sample(self.ids, self.changes)
        with self.db.unit_of_work() as session:
            session.execute(update(Case).where(Case.id.in_(picked)).values(
                version=Case.version + 1, updated_at=self.clock))
            session.execute(update(Case).where(
                Case.id.in_(picked), Case.closed_on.is_(None), Case.accepted_on.is_not(None),
            ).values(completed_on=MONTH.end, closed_on=MONTH.end, state="completed",
                     updated_at=self.clock))  # not the ORM's onupdate: today, before 2027


def _first(db: Database) -> Any:
    """The month's first build (no last build to start from), rolled back."""
    with db.sessions() as session:
        session.execute(delete(CommitmentCache).where(CommitmentCache.period_label
                                                      == MONTH.label))
        commitment = commit(session, MONTH, MONTH.end)
        session.rollback()
    return commitment


def _last_build(db: Database, as_of: dt.date) -> None:
    with db.unit_of_work() as session:  # the salt key too, made on first use
        commit(session, MONTH, as_of)


def measure(db: Database, rounds: int, profile: bool, cases: int) -> dict[str, Any]:
    def group_by() -> Any:
        with db.sessions() as session:
            return session.execute(GROUP_BY, {"start": MONTH.start, "end": MONTH.end}).all()

    # the last build describes 29 June: the build of 30 June takes in a day's changes
    _last_build(db, DAY_BEFORE)
    day = interleave({"group_by": group_by, "job": lambda: _job(db, MONTH.end),
                      "first": lambda: _first(db)}, rounds)
    commitment = day.results["job"]
    with db.sessions() as session:
        full = commit_leaves(MONTH, MONTH.end, period_leaves(session, MONTH, MONTH.end))
        changed = len(incremental.candidates(session, MONTH, MONTH.end))
    assert full.body == commitment.body, "the incremental root is not the full rebuild's"
    if profile:
        _profile(db)
    # then a build with nothing changed since the last one (a closed month's refresh)
    _last_build(db, MONTH.end)
    same = interleave({"group_by": group_by, "job": lambda: _job(db, MONTH.end)}, rounds)
    assert same.results["job"].body == full.body
    # and the summary job as it runs, every summary_refresh_minutes (60): each build takes in
    # an hour's changes, kept for the next
    hours = Hours(db, max(1, HOUR_CHANGES * cases // 1_000_000))
    hourly = interleave({"group_by": group_by, "job": lambda: _job(db, MONTH.end, keep=True)},
                        rounds, setup={"job": hours.change})
    commitment = hourly.results["job"]
    with db.sessions() as session:
        full = commit_leaves(MONTH, MONTH.end, period_leaves(session, MONTH, MONTH.end))
    assert full.body == commitment.body, "the incremental root is not the full rebuild's"

    # a 30-leaf answer, checked as the hub checks one
    digests = commitment.digests
    levels = tree_levels(digests)
    seed = audit_seed("ab" * 32, "cd" * 32)
    indexes = sample_indexes(seed, len(digests), DEFAULT_SAMPLE_SIZE)
    with db.sessions() as session:
        leaves = committed_leaves(session, MONTH.label, [digests[i] for i in indexes])
    answer = {"size": len(digests), "root": commitment.body["root"], "seed": seed,
              "items": [{"index": i, "leaf": leaf,
                         "proof": [p.hex() for p in inclusion_proof(levels, i)],
                         "current": leaf} for i, leaf in zip(indexes, leaves, strict=True)]}
    assert findings(commitment.body, answer, indexes, seed) == []
    times = []
    for _ in range(AUDIT_REPEAT):
        started = time.perf_counter()
        findings(commitment.body, answer, indexes, seed)
        times.append(time.perf_counter() - started)

    with db.sessions() as session:
        body = summarize(session, NODE, MONTH, NOW, POLICY)
    body["commitment"] = commitment.body
    body["audit"] = {"entries": 10**9, "head": "ef" * 32, "restore": None}
    envelope = sign_envelope(kind=Kind.SUMMARY, sender=NODE.code, to=HUB, seq=1, body=body,
                             private_key=generate_private_key())
    size = len(envelope.wire_bytes())
    ratio = hourly.ratio("job", "group_by")
    return {
        "commitment_ratio": round(ratio, 2),
        "commitment_ms": round(1000 * hourly.median("job"), 1),
        "group_by_ms": round(1000 * hourly.median("group_by"), 1),
        "commitment_goal": GOAL,
        "commitment_goal_met": ratio <= GOAL,
        "commitment_hour_changes": hours.changes,
        "commitment_day_ratio": round(day.ratio("job", "group_by"), 2),
        "commitment_day_ms": round(1000 * day.median("job"), 1),
        "commitment_day_cases": changed,
        "commitment_first_ratio": round(day.ratio("first", "group_by"), 2),
        "commitment_first_ms": round(1000 * day.median("first"), 1),
        "commitment_unchanged_ratio": round(same.ratio("job", "group_by"), 2),
        "commitment_unchanged_ms": round(1000 * same.median("job"), 1),
        "leaves_in_month": len(digests),
        "rounds": rounds,
        "interleaved": True,
        "audit_verify_ms": round(1000 * statistics.median(times), 3),
        "audit_sample": len(indexes),
        "summary_envelope_bytes": size,
        "envelope_limit_bytes": MAX_ENVELOPE_BYTES,
        "summary_envelope_within_limit": size <= MAX_ENVELOPE_BYTES,
    }


def _profile(db: Database) -> None:
    """Where the time of the build after a day's changes goes (stdout, before the JSON)."""
    profiler = cProfile.Profile()
    profiler.enable()
    _job(db, MONTH.end)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    say(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_verification",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000,
                        help="cases in the year (default 1,000,000)")
    parser.add_argument("--sqlite-file", metavar="PATH",
                        help="build the database there and keep it; reused when it already "
                        "holds --cases cases")
    parser.add_argument("--profile", action="store_true",
                        help="print where the time of the build after a day's changes goes")
    add_rounds_option(parser)
    args = parser.parse_args(argv)
    say(machine_line("verification"))
    with tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp:
        path = Path(args.sqlite_file) if args.sqlite_file else Path(tmp) / "node.db"
        url = f"sqlite:///{path}"
        probe = create_engine(url)
        found = _count_cases(probe)
        probe.dispose()
        db = Database(url)
        try:
            if found != args.cases:
                if found is not None:
                    raise SystemExit(f"{path} holds {found:,} cases, not {args.cases:,}")
                started = time.perf_counter()
                build(db, args.cases)
                say(f"  built {args.cases:,} cases in {time.perf_counter() - started:.1f} s")
            migrate.upgrade(db.engine, MIGRATIONS)  # a file built by an older tongban
            figures = measure(db, args.rounds, args.profile, args.cases)
        finally:
            db.dispose()
    goal = "goal met" if figures["commitment_goal_met"] else "GOAL NOT MET"
    say(f"  month {MONTH.label}: {figures['leaves_in_month']:,} leaves")
    say(f"  bare GROUP BY (the ceiling)       {figures['group_by_ms']:.1f} ms")
    say(f"  the summary job's build and keep, each taking in an hour's changes "
        f"({figures['commitment_hour_changes']:,} cases)")
    say(f"                                    {figures['commitment_ms']:.1f} ms")
    say(f"  commitment_ratio (goal <= {GOAL:g})   {figures['commitment_ratio']:.2f}  {goal}")
    say(f"  a day's changes at once ({figures['commitment_day_cases']:,} cases to look at) "
        f"{figures['commitment_day_ms']:.1f} ms, ratio {figures['commitment_day_ratio']:.2f}")
    say(f"  the first build (no last build)   {figures['commitment_first_ms']:.1f} ms, "
        f"ratio {figures['commitment_first_ratio']:.2f}")
    say(f"  nothing changed since             {figures['commitment_unchanged_ms']:.1f} ms, "
        f"ratio {figures['commitment_unchanged_ratio']:.2f}")
    say(f"  audit_verify_ms ({figures['audit_sample']} leaves)     "
        f"{figures['audit_verify_ms']:.3f} ms")
    say(f"  summary envelope                  {figures['summary_envelope_bytes']:,} bytes "
        f"(limit {MAX_ENVELOPE_BYTES:,})")
    say(json.dumps({"cases": args.cases, "database": "sqlite", **figures},
                   ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
