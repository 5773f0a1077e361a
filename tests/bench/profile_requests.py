# ruff: noqa: T201 - a command-line report
"""Where an authenticated request's time goes (issues 17 and 20): a few requests through the
node's app in one process (Flask test client), each timed, its SQL statements counted and,
with ``--profile``, profiled.

    python -m tests.bench.profile_requests --sqlite-file PATH [--requests 300] [--profile NAME]

The node is a file bench_lists or bench_search built (``--sqlite-file``; ``--cases`` builds one
when the file does not exist yet).  For each request: the best of ``--repeat`` runs of
``--requests`` requests, in ms per request (wall and this thread's CPU time), and the
statements one request runs.  The last line of stdout is one JSON document.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from tests.bench import bench_lists as lists
from tests.bench import bench_search as search
from tests.bench.interleaved import machine_line


def requests(app: Any) -> dict[str, str]:
    engine = app.extensions["tongban_db"].engine
    with engine.connect() as conn:
        found = {item["name"]: item["url"] for item in search.searches(conn)}
    per_page = lists.PER_PAGE
    return {
        "healthz": "/healthz",
        "auth_me": "/api/v1/auth/me",
        "search_id_number": found["by_id_number"],
        "cases_by_state": f"/api/v1/cases?state=delivered&per_page={per_page}",
        "supervision_warnings": f"/api/v1/supervision/warnings?per_page={per_page}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.profile_requests",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite-file", metavar="PATH", required=True)
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", metavar="NAME", action="append", default=[],
                        help="cProfile this request (repeatable); the top 30 by own time")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (default tottime)")
    args = parser.parse_args(argv)
    logging.getLogger("tongban.calendar").setLevel(logging.ERROR)
    print(machine_line("request cost"), flush=True)
    path = Path(args.sqlite_file)
    lists.prepare(path, args.cases)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tongban-profile-") as tmp:
        app, headers = lists.node_app(f"sqlite:///{path}", Path(tmp))
        client = app.test_client()
        engine = app.extensions["tongban_db"].engine
        statements: list[str] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _count(_conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
            statements.append(" ".join(sql.split())[:110])

        for name, url in requests(app).items():
            def ask(url: str = url) -> None:
                answer = client.get(url, headers=headers)
                assert answer.status_code == 200, (url, answer.get_json())

            for _ in range(20):
                ask()
            statements.clear()
            ask()
            seen = list(statements)
            wall, cpu = min(_timed(ask, args.requests) for _ in range(args.repeat))
            result[name] = {"ms": round(1000 * wall, 3), "cpu_ms": round(1000 * cpu, 3),
                            "statements": len(seen)}
            print(f"{name:22} {1000 * wall:7.3f} ms  (CPU {1000 * cpu:7.3f} ms)"
                  f"  {len(seen)} statements", flush=True)
            for sql in seen:
                print(f"    {sql}")
            if name in args.profile:
                profiler = cProfile.Profile(time.thread_time)
                profiler.enable()
                for _ in range(args.requests):
                    ask()
                profiler.disable()
                stats = pstats.Stats(profiler)
                stats.sort_stats(args.sort).print_stats(30)
        app.extensions["tongban_db"].dispose()
    print(json.dumps(result))
    return 0


def _timed(ask: Any, count: int) -> tuple[float, float]:
    """Wall and CPU time (this thread's) per request: on a loaded machine the CPU time is
    what the code costs, the wall time what the machine let it have."""
    started, cpu = time.perf_counter(), time.thread_time()
    for _ in range(count):
        ask()
    return (time.perf_counter() - started) / count, (time.thread_time() - cpu) / count


if __name__ == "__main__":
    raise SystemExit(main())
