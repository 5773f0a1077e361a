# ruff: noqa: T201 - a command-line report: print is the output
"""Forward latency (issue 9, "Load and speed"): the time from a township forwarding a case
(上报) to the county holding its linked case, with real processes: a hub (gunicorn, gevent),
the township's and the county's web servers and their workers with the push-now watch and the
long-polled mailbox.  Goal: under 1 s on loopback.

    .venv/bin/python -m tests.bench.bench_forward [--cases 15]

The clock starts just before the township's ``POST /api/v1/cases/<id>/forward`` and stops
when the county's database holds the case opened from it (read every 10 ms).  Progress goes
to stderr, the last line of stdout is one JSON document.
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

from tests.faults.cluster import COUNTY, TOWNSHIP, build, cluster, wait_until

GOAL_S = 1.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(cases: int, watch: float, wait: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tongban-bench-forward-") as tmp:
        work = Path(tmp)
        log("building the federation (hub, province, city, county, township) ...")
        (work / "template").mkdir()
        build(work / "template")
        settings = {"push_watch_seconds": watch, "pull_wait_seconds": wait,
                    "sync_interval_seconds": 60}
        with cluster(work / "fed", work / "template", settings=settings) as fed:
            for code in (COUNTY, TOWNSHIP):
                fed.serve_node(code)
                fed.staff(code)
                fed.start_worker(code)
            latencies = []
            for number in range(cases):
                case = fed.call(TOWNSHIP, "clerk", "POST", "/api/v1/cases", {
                    "matter_code": "11450000MB0001", "applicant_name": f"申请人{number}",
                    "applicant_id_number": "11010519491231002X",
                    "applicant_phone": "13800138000"}, 201)
                case = fed.call(TOWNSHIP, "clerk", "POST",
                                f"/api/v1/cases/{case['id']}/accept",
                                {"version": case["version"]})
                started = time.perf_counter()
                fed.call(TOWNSHIP, "clerk", "POST", f"/api/v1/cases/{case['id']}/forward",
                         {"version": case["version"]})
                wait_until(lambda n=case["number"]: n in fed.linked_origins(COUNTY), 30,
                           f"case {case['number']} at the county", interval=0.01)
                latencies.append(time.perf_counter() - started)
                log(f"  case {number + 1}: {latencies[-1]:.3f} s")
                time.sleep(0.3)  # not in step with the watch's interval
    return {
        "forward_latency_s": round(statistics.median(latencies), 3),
        "forward_latency_p90_s": round(percentile(latencies, 0.9), 3),
        "forward_latency_max_s": round(max(latencies), 3),
        "forward_latency_min_s": round(min(latencies), 3),
        "forward_latency_goal_s": GOAL_S,
        "forward_latency_goal_met": statistics.median(latencies) < GOAL_S,
        "cases": cases, "push_watch_seconds": watch, "pull_wait_seconds": wait,
        "hub_mailbox_poll_seconds": "0.2 on SQLite (a NOTIFY on PostgreSQL)",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=15)
    parser.add_argument("--watch", type=float, default=0.2, help="push_watch_seconds")
    parser.add_argument("--wait", type=float, default=20.0, help="pull_wait_seconds")
    args = parser.parse_args(argv)
    document = measure(args.cases, args.watch, args.wait)
    print(f"forward latency: median {document['forward_latency_s']} s, p90 "
          f"{document['forward_latency_p90_s']} s, max {document['forward_latency_max_s']} s "
          f"(goal < {GOAL_S} s)")
    print(json.dumps(document, ensure_ascii=False))


if __name__ == "__main__":
    main()
