# ruff: noqa: T201 - a command-line report: print is the output
"""Login timing (issue 16, item 3): a wrong password for an existing account against an
unknown username, through the node's real login view (Flask test client, SQLite), measured
interleaved — known, unknown, known, … — in every round on the same core.  The two must
take the same time: ``login_timing_ratio`` = median over rounds of (median known ÷ median
unknown), goal within 0.9 … 1.1 (the noise of one run on a shared machine).

    .venv/bin/python -m tests.bench.bench_login [--rounds 7] [--per-round 10]

Every attempt comes from its own client address and no account is tried more than a few
times, so the throttle never answers (its waits are the same for both: unit-tested).  The
answers are checked to be 401 with identical bodies.  The last line of stdout is one JSON
document.
"""

from __future__ import annotations

import argparse
import itertools
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL = (0.9, 1.1)
PASSWORD = "bench-login-pass-7"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(rounds: int, per_round: int) -> dict[str, Any]:
    from node import create_app
    from node.auth.models import User
    from node.auth.permissions import Role
    from node.auth.service import hash_password
    from node.models import Base
    from schemas.keys import generate_private_key, write_private_key

    with tempfile.TemporaryDirectory(prefix="tongban-bench-login-") as tmp:
        key = Path(tmp) / "node_key.pem"
        write_private_key(key, generate_private_key())
        app = create_app({"code": "450981", "name": "北流市", "level": "county",
                          "kind": "county_city", "parent_code": "450900",
                          "database_url": f"sqlite:///{tmp}/node.db",
                          "secret_key": secrets.token_urlsafe(32),
                          "private_key_file": str(key)})
        db = app.extensions["tongban_db"]
        Base.metadata.create_all(db.engine)
        accounts = [f"viewer{n}" for n in range(per_round)]
        with db.unit_of_work() as session:
            digest = hash_password(PASSWORD)
            for name in accounts:
                session.add(User(username=name, display_name=name, role=Role.VIEWER,
                                 password_hash=digest, active=True))
        client = app.test_client()
        addresses = (f"198.18.{n // 250}.{n % 250 + 1}" for n in itertools.count())
        unknown_names = (f"nobody{n}" for n in itertools.count())
        bodies: set[bytes] = set()

        def attempt(username: str) -> float:
            started = time.perf_counter()
            answer = client.post("/api/v1/auth/login",
                                 json={"username": username, "password": "wrong-pass-123"},
                                 environ_base={"REMOTE_ADDR": next(addresses)})
            elapsed = time.perf_counter() - started
            assert answer.status_code == 401, answer.get_json()
            bodies.add(answer.get_data())
            return elapsed

        for name in accounts[:3]:  # warm up both paths
            attempt(name)
            attempt(next(unknown_names))
        ratios, known_all, unknown_all = [], [], []
        for number in range(rounds):
            known, unknown = [], []
            for name in accounts:
                known.append(attempt(name))
                unknown.append(attempt(next(unknown_names)))
            ratio = statistics.median(known) / statistics.median(unknown)
            ratios.append(ratio)
            known_all += known
            unknown_all += unknown
            log(f"  round {number + 1}: known {statistics.median(known) * 1000:.1f} ms, "
                f"unknown {statistics.median(unknown) * 1000:.1f} ms, ratio {ratio:.3f}")
        db.dispose()
    ratio = statistics.median(ratios)
    return {
        "login_timing_ratio": round(ratio, 3),
        "login_timing_goal": list(GOAL),
        "login_timing_goal_met": GOAL[0] <= ratio <= GOAL[1],
        "login_known_ms_median": round(statistics.median(known_all) * 1000, 2),
        "login_unknown_ms_median": round(statistics.median(unknown_all) * 1000, 2),
        "login_ratio_per_round": [round(r, 3) for r in ratios],
        "identical_bodies": len(bodies) == 1,
        "rounds": rounds, "per_round": per_round,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=10)
    args = parser.parse_args(argv)
    document = measure(args.rounds, args.per_round)
    print(f"login timing: known ÷ unknown {document['login_timing_ratio']} (median of "
          f"{args.rounds} interleaved rounds; known {document['login_known_ms_median']} ms, "
          f"unknown {document['login_unknown_ms_median']} ms; goal {GOAL[0]}–{GOAL[1]})")
    print(json.dumps(document, ensure_ascii=False))


if __name__ == "__main__":
    main()
