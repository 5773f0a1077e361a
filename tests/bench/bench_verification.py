# ruff: noqa: T201 - a command-line report: print is the output
"""The verification benchmark (issue 21, item 4): what the commitment and the audits cost.

    python -m tests.bench.bench_verification [--cases N] [--rounds N] [--sqlite-file PATH]

On the node of the metrics benchmark (tests/bench/bench_metrics.py: a year of 1,000,000
cases by default) and its month, interleaved (tests/bench/interleaved.py):

* ``commitment_ratio`` = building the month's tree (every counted case's leaf, salted,
  canonical JSON, RFC 9162 hashes; node.verification.service.commit) ÷ the bare ``GROUP BY
  completed_on`` of the month that the summary benchmark uses as its ceiling (goal <= 3);
* ``audit_verify_ms`` = checking a 30-leaf answer as the hub does
  (schemas.audit_check.findings: proofs, runs, flags, the cases as they are now);
* ``summary_envelope_bytes`` = the month's signed summary with its commitment, against the
  envelope limit of 1 MiB.

The last line of stdout is one JSON document.  Not a test: pytest does not collect this file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from node.verification.service import commit
from schemas.audit_check import findings
from schemas.commitment import DEFAULT_SAMPLE_SIZE, audit_seed, leaf_bytes, sample_indexes
from schemas.envelope import HUB, MAX_ENVELOPE_BYTES, Kind, sign_envelope
from schemas.keys import generate_private_key
from schemas.merkle import inclusion_proof, leaf_hash, tree_levels
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

GOAL = 3.0
AUDIT_REPEAT = 200


def say(line: str = "") -> None:
    print(line, flush=True)


def measure(db: Database, rounds: int) -> dict[str, Any]:
    def group_by() -> Any:
        with db.sessions() as session:
            return session.execute(GROUP_BY, {"start": MONTH.start, "end": MONTH.end}).all()

    def tree() -> Any:
        with db.unit_of_work() as session:  # the salt key is made on first use
            return commit(session, MONTH, MONTH.end)

    measured = interleave({"group_by": group_by, "commitment": tree}, rounds)
    commitment = measured.results["commitment"]
    ratio = measured.ratio("commitment", "group_by")

    # a 30-leaf answer, checked as the hub checks one
    levels = tree_levels([leaf_hash(leaf_bytes(leaf)) for leaf in commitment.leaves])
    seed = audit_seed("ab" * 32, "cd" * 32)
    indexes = sample_indexes(seed, len(commitment.leaves), DEFAULT_SAMPLE_SIZE)
    answer = {"size": len(commitment.leaves), "root": commitment.body["root"], "seed": seed,
              "items": [{"index": i, "leaf": commitment.leaves[i],
                         "proof": [p.hex() for p in inclusion_proof(levels, i)],
                         "current": commitment.leaves[i]} for i in indexes]}
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
    return {
        "commitment_ratio": round(ratio, 2),
        "commitment_ms": round(1000 * measured.median("commitment"), 1),
        "group_by_ms": round(1000 * measured.median("group_by"), 1),
        "commitment_goal": GOAL,
        "commitment_goal_met": ratio <= GOAL,
        "leaves_in_month": len(commitment.leaves),
        "rounds": rounds,
        "interleaved": True,
        "audit_verify_ms": round(1000 * statistics.median(times), 3),
        "audit_sample": len(indexes),
        "summary_envelope_bytes": size,
        "envelope_limit_bytes": MAX_ENVELOPE_BYTES,
        "summary_envelope_within_limit": size <= MAX_ENVELOPE_BYTES,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_verification",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000,
                        help="cases in the year (default 1,000,000)")
    parser.add_argument("--sqlite-file", metavar="PATH",
                        help="build the database there and keep it; reused when it already "
                        "holds --cases cases")
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
            figures = measure(db, args.rounds)
        finally:
            db.dispose()
    goal = "goal met" if figures["commitment_goal_met"] else "GOAL NOT MET"
    say(f"  month {MONTH.label}: {figures['leaves_in_month']:,} leaves")
    say(f"  the month's tree                  {figures['commitment_ms']:.1f} ms")
    say(f"  bare GROUP BY (the ceiling)       {figures['group_by_ms']:.1f} ms")
    say(f"  commitment_ratio (goal <= {GOAL:g})   {figures['commitment_ratio']:.2f}  {goal}")
    say(f"  audit_verify_ms ({figures['audit_sample']} leaves)     "
        f"{figures['audit_verify_ms']:.3f} ms")
    say(f"  summary envelope                  {figures['summary_envelope_bytes']:,} bytes "
        f"(limit {MAX_ENVELOPE_BYTES:,})")
    say(json.dumps({"cases": args.cases, "database": "sqlite", **figures},
                   ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
