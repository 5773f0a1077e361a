# ruff: noqa: T201 - a command-line report; the bare queries are fixed text
"""The case search benchmark (issue 20, item 1): a search by ID number and by applicant name
through the node's app, against the bare indexed query.

    python -m tests.bench.bench_search [--cases N] [--sqlite-file PATH] [--rounds 7]

The node is the one ``tests/bench/bench_metrics.py`` builds (1,000,000 cases by default; the
same generator and seed; ``--sqlite-file`` keeps it, and reuses a file bench_metrics or
bench_lists built).  Each search is asked through the app — bearer token, the supervisor's
scope, the view, the service, the ORM, the schema, JSON — with the Flask test client in this
process; its *ceiling* is the page's rows read by hand-written SQL on a connection of the same
engine, from the same index.  App and ceiling alternate in every round
(tests/bench/interleaved.py); ``case_search_ratio`` is the larger of the two searches' medians
of app ÷ bare.  Goal: < 2.

What the ceiling leaves out, and the app does: the token's check, the page's total (counted up
to 1,000), each row's colour (the calendar), the rows' matter, department, window and owner,
and the JSON.  The last line of stdout is one JSON document.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, text

from tests.bench import bench_lists as lists
from tests.bench.interleaved import add_rounds_option, interleave, machine_line

GOAL = 2.0
PER_PAGE = lists.PER_PAGE
NEWEST = f" ORDER BY c.received_on DESC, c.id DESC LIMIT {PER_PAGE + 1}"


def searches(conn: Any) -> list[dict[str, Any]]:
    """The two searches, for an applicant found in the middle of the node."""
    from schemas.personal import id_check_digit, resident_id_problems

    middle = int(conn.exec_driver_sql("SELECT max(id) / 2 FROM cases").scalar_one())
    stored, name = conn.execute(text("SELECT applicant_id_number, applicant_name FROM cases"
                                     " WHERE id = :id"), {"id": middle}).one()
    id_number = stored
    if resident_id_problems(stored):
        # the generator's ID numbers are not checked ones: give this applicant's cases a valid
        # number (GB 11643), as the app refuses to search by an invalid one
        first17 = f"45098119800101{middle % 1000:03d}"
        id_number = first17 + id_check_digit(first17)
        conn.execute(text("UPDATE cases SET applicant_id_number = :new"
                          " WHERE applicant_id_number = :old"), {"new": id_number, "old": stored})
        conn.commit()
    return [
        {"name": "by_id_number", "url": f"/api/v1/cases?id_number={id_number}"
                                        f"&per_page={PER_PAGE}",
         "sql": f"{lists.ROW} WHERE c.applicant_id_number = :v{NEWEST}",
         "params": {"v": id_number}},
        {"name": "by_applicant", "url": f"/api/v1/cases?applicant={quote(name)}"
                                        f"&per_page={PER_PAGE}",
         "sql": f"{lists.ROW} WHERE c.applicant_name = :v{NEWEST}", "params": {"v": name}},
    ]


def measure(url: str, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tongban-bench-search-") as tmp:
        app, headers = lists.node_app(url, Path(tmp))
        client = app.test_client()
        engine = app.extensions["tongban_db"].engine
        with engine.connect() as conn:
            found = searches(conn)
        bare_engine = create_engine(url)  # the same kind of connection
        runs: dict[str, Any] = {}
        for item in found:
            def ask(item: dict[str, Any] = item) -> Any:
                answer = client.get(item["url"], headers=headers)
                assert answer.status_code == 200, answer.get_json()
                return answer.get_json()

            statement = text(item["sql"])

            def bare(statement: Any = statement, item: dict[str, Any] = item) -> Any:
                with bare_engine.connect() as conn:
                    return conn.execute(statement, item["params"]).all()

            runs[f"{item['name']}_app"] = ask
            runs[f"{item['name']}_bare"] = bare
        timing = interleave(runs, rounds)
        figures: dict[str, Any] = {}
        for item in found:
            answer = timing.results[f"{item['name']}_app"]
            rows = timing.results[f"{item['name']}_bare"]
            ours = [i["id"] for i in answer["items"]]
            theirs = [r._mapping["id"] for r in rows[:PER_PAGE]]
            if not ours or ours != theirs:
                raise SystemExit(f"{item['name']}: the app and the bare query read other rows "
                                 f"({ours[:3]}… against {theirs[:3]}…)")
            figures[item["name"]] = {
                "ratio": round(timing.ratio(f"{item['name']}_app", f"{item['name']}_bare"), 2),
                "app_ms": round(1000 * timing.median(f"{item['name']}_app"), 2),
                "bare_ms": round(1000 * timing.median(f"{item['name']}_bare"), 2),
                "rows": len(ours), "total": answer["total"],
                "total_exact": answer["total_exact"],
            }
        bare_engine.dispose()
        app.extensions["tongban_db"].dispose()
    ratio = max(f["ratio"] for f in figures.values())
    return {"case_search_ratio": ratio, "case_search_goal": GOAL,
            "case_search_goal_met": ratio < GOAL, "searches": figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_search",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000,
                        help="cases in the node (default 1,000,000)")
    parser.add_argument("--sqlite-file", metavar="PATH",
                        help="build the node there and keep it; reused when it holds --cases")
    add_rounds_option(parser)
    args = parser.parse_args(argv)
    logging.getLogger("tongban.calendar").setLevel(logging.ERROR)  # 2027 holidays unknown
    print(machine_line("case search"), flush=True)
    with tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp:
        path = Path(args.sqlite_file) if args.sqlite_file else Path(tmp) / "node.db"
        build_s = lists.prepare(path, args.cases)
        result = measure(f"sqlite:///{path}", args.rounds)
    print(f"\ncase search on {args.cases:,} cases (SQLite), {args.rounds} interleaved rounds, "
          "median of app ÷ bare", flush=True)
    for name, f in result["searches"].items():
        print(f"  {name:<13} app {f['app_ms']:>8.2f} ms  bare {f['bare_ms']:>8.2f} ms  "
              f"ratio {f['ratio']:>5.2f}  rows {f['rows']}  total {f['total']}", flush=True)
    met = "goal met" if result["case_search_goal_met"] else "GOAL NOT MET"
    print(f"  case_search_ratio (goal < {GOAL:g}): {result['case_search_ratio']:.2f}  {met}",
          flush=True)
    print(json.dumps({"cases": args.cases, "database": "sqlite", "build_s": build_s,
                      "rounds": args.rounds, **result}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
