# ruff: noqa: T201 - a command-line report: print is the output
"""Node API throughput (issues 9 and 17): cases created and accepted per second through
gunicorn, against a trivial endpoint of the same server, interleaved in the same run.

    .venv/bin/python -m tests.bench.bench_node_api [--seconds 4] [--rounds 5] [--clients N]
    .venv/bin/python -m tests.bench.bench_node_api --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres

A node (SQLite, as a center runs it by default) is served by ``tongban node serve`` with
several gunicorn workers.  Client processes, each with its own HTTP session and staff token,
alternate two phases of ``--seconds`` each for ``--rounds`` rounds (at least 5), on the same
server and cores: the **baseline** calls ``GET /healthz`` (one ``SELECT 1``: the ceiling of
the server and its framework), the **subject** creates and accepts cases (``POST
/api/v1/cases`` then ``POST …/accept``: two requests and two transactions per case).  Each
round's ratio is cases per second ÷ trivial requests per second; ``node_api_ratio`` is the
median of the rounds' ratios; goal ≥ 0.3, with the case's p99 ≤ 3 × its p50.  The last line
of stdout is one JSON document.  With ``--pg URL`` (or ``TONGBAN_BENCH_PG``) the same run is
repeated with the node on PostgreSQL, in a fresh database dropped afterwards, nested under
``postgresql``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from tests.bench.bench_hub_ingest import postgres_database
from tests.faults.cluster import PASSWORD, SHARED
from tests.integration.conftest import TONGBAN, clean_env, free_port
from tests.unit.node.conftest import matter_payload

GOAL = 0.3
TAIL_GOAL = 3.0  # p99 ≤ 3 × p50 of a case (create + accept)
CODE = "450981101"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def tongban(*args: str, cwd: Path) -> None:
    subprocess.run([TONGBAN, *args], cwd=cwd, env=clean_env(), check=True,
                   capture_output=True, timeout=120)


def client(base: str, token: str, phase: str, seconds: float, start: Any, out: Any) -> None:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    done = errors = 0
    start.wait()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        try:
            if phase == "trivial":
                ok = session.get(f"{base}/healthz", timeout=30).status_code == 200
            else:
                made = session.post(f"{base}/api/v1/cases", headers=headers, timeout=30, json={
                    "matter_code": SHARED, "applicant_name": "张三",
                    "applicant_id_number": "11010519491231002X",
                    "applicant_phone": "13800138000"})
                case = made.json()
                ok = made.status_code == 201 and session.post(
                    f"{base}/api/v1/cases/{case['id']}/accept", headers=headers, timeout=30,
                    json={"version": case["version"]}).status_code == 200
        except requests.RequestException:
            ok = False
        if ok:
            done += 1
            latencies.append(time.perf_counter() - began)
        else:
            errors += 1
    out.put((done, errors, latencies))


def run_phase(base: str, token: str, phase: str, seconds: float, clients: int) -> dict[str, Any]:
    context = mp.get_context("fork")
    start, out = context.Event(), context.Queue()
    workers = [context.Process(target=client, args=(base, token, phase, seconds, start, out))
               for _ in range(clients)]
    for process in workers:
        process.start()
    time.sleep(0.5)
    start.set()
    results = [out.get(timeout=seconds + 120) for _ in workers]
    for process in workers:
        process.join(timeout=30)
    done = sum(r[0] for r in results)
    latencies = [x for r in results for x in r[2]]
    return {"per_s": round(done / seconds, 1), "done": done,
            "errors": sum(r[1] for r in results), "latencies": latencies}


def percentiles(latencies: list[float]) -> dict[str, float | None]:
    ordered = sorted(latencies)
    if not ordered:
        return {"p50_ms": None, "p99_ms": None}
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 1)}


def summary(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """The phases of one kind over all rounds: median rate, errors, p50 and p99."""
    return {"per_s": round(statistics.median(p["per_s"] for p in phases), 1),
            "per_s_rounds": [p["per_s"] for p in phases],
            "done": sum(p["done"] for p in phases), "errors": sum(p["errors"] for p in phases),
            **percentiles([x for p in phases for x in p["latencies"]])}


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def measure(args: argparse.Namespace, database_url: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tongban-bench-node-api-") as tmp:
        work = Path(tmp)
        tongban("node", "init", "--home", "n", "--code", CODE,
                *(["--database-url", database_url] if database_url else []), cwd=work)
        tongban("node", "create-user", "--home", "n", "--username", "admin", "--role", "admin",
                "--password", PASSWORD, cwd=work)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with (work / "node.log").open("wb") as out:
            server = subprocess.Popen(
                [TONGBAN, "node", "serve", "--home", "n", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(args.workers)], cwd=work, env=clean_env(), stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((work / "node.log").read_text()[-3000:])
                time.sleep(0.2)

            def login(username: str) -> dict[str, str]:
                token = requests.post(f"{base}/api/v1/auth/login", timeout=30, json={
                    "username": username, "password": PASSWORD}).json()["token"]
                return {"Authorization": f"Bearer {token}"}

            admin = login("admin")
            for path, body in (
                ("/api/v1/departments", {"code": "SC", "name": "市场监督管理局"}),
                ("/api/v1/windows", {"code": "W01", "name": "市场监管窗口", "location": "一楼",
                                     "department_codes": ["SC"]}),
                ("/api/v1/matters", matter_payload(code=SHARED, handling_level="county")),
                ("/api/v1/users", {"username": "clerk1", "role": "clerk",
                                   "department_code": "SC", "password": PASSWORD}),
            ):
                response = requests.post(base + path, json=body, headers=admin, timeout=30)
                assert response.status_code == 201, response.text
            token = login("clerk1")["Authorization"].removeprefix("Bearer ")
            # one warm-up of each, not counted: connections, caches and imports of the workers
            run_phase(base, token, "trivial", 1.0, args.clients)
            run_phase(base, token, "cases", 1.0, args.clients)
            trivials: list[dict[str, Any]] = []
            cases_: list[dict[str, Any]] = []
            for number in range(1, args.rounds + 1):
                trivials.append(run_phase(base, token, "trivial", args.seconds, args.clients))
                cases_.append(run_phase(base, token, "cases", args.seconds, args.clients))
                log(f"round {number}/{args.rounds}: {trivials[-1]['per_s']} trivial/s, "
                    f"{cases_[-1]['per_s']} cases/s")
            rss = [peak_rss_mb(pid) for pid in children(server.pid)]
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    ratios = [c["per_s"] / t["per_s"] if t["per_s"] else 0.0
              for t, c in zip(trivials, cases_, strict=True)]
    ratio = statistics.median(ratios)
    cases, trivial = summary(cases_), summary(trivials)
    tail = cases["p99_ms"] / cases["p50_ms"] if cases["p50_ms"] else None
    return {
        "node_api_ratio": round(ratio, 3),
        "node_api_ratio_rounds": [round(r, 3) for r in ratios],
        "node_api_p50_ms": cases["p50_ms"], "node_api_p99_ms": cases["p99_ms"],
        "node_api_p99_over_p50": round(tail, 2) if tail is not None else None,
        "node_api_tail_goal_met": tail is not None and tail <= TAIL_GOAL,
        "node_api_cases_per_s": cases["per_s"],
        "node_api_trivial_per_s": trivial["per_s"],
        "node_api_goal": GOAL, "node_api_goal_met": ratio >= GOAL,
        "cases": cases, "trivial": trivial,
        "clients": args.clients, "node_workers": args.workers, "seconds": args.seconds,
        "rounds": args.rounds,
        "database": "postgresql" if database_url else "sqlite",
        "node_peak_rss_mb": round(max(rss), 1) if rss else None,
        "node_peak_rss_total_mb": round(sum(rss), 1) if rss else None,
    }


def main(argv: list[str] | None = None) -> None:
    cpus = os.cpu_count() or 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="of each phase, per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (≥ 5)")
    parser.add_argument("--clients", type=int, default=max(2, cpus))
    parser.add_argument("--workers", type=int, default=max(2, cpus))
    parser.add_argument("--pg", default=os.environ.get("TONGBAN_BENCH_PG", ""),
                        help="also on PostgreSQL: a server URL (a fresh database is created)")
    args = parser.parse_args(argv)
    if args.rounds < 5:
        parser.error("--rounds must be at least 5 (the ratio is a median of rounds)")
    document = measure(args)
    if args.pg:
        with postgres_database(args.pg) as url:
            document["postgresql"] = measure(args, url)
    for part in (document, document.get("postgresql") or {}):
        if part:
            print(f"node API ({part['database']}): {part['node_api_cases_per_s']} cases/s "
                  f"created and accepted vs {part['node_api_trivial_per_s']} trivial "
                  f"requests/s (medians of {part['rounds']} alternating rounds): ratio "
                  f"{part['node_api_ratio']} (goal {GOAL}), rounds {part['node_api_ratio_rounds']}"
                  f"; case p50 {part['node_api_p50_ms']} ms, p99 {part['node_api_p99_ms']} ms "
                  f"(p99/p50 {part['node_api_p99_over_p50']}, goal ≤ {TAIL_GOAL})")
    print(json.dumps(document, ensure_ascii=False))


if __name__ == "__main__":
    main()
