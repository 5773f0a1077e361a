# ruff: noqa: T201 - a command-line report: print is the output
"""Node API throughput (issue 9, "Load and speed"): cases created and accepted per second
through gunicorn, against a trivial endpoint of the same server measured in the same run.

    .venv/bin/python -m tests.bench.bench_node_api [--seconds 10] [--clients N] [--workers N]
    .venv/bin/python -m tests.bench.bench_node_api --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres

A node (SQLite, as a center runs it by default) is served by ``tongban node serve`` with
several gunicorn workers.  Client processes, each with its own HTTP session and staff token,
first call ``GET /healthz`` (one ``SELECT 1``: the ceiling of the server and its framework)
for ``--seconds``, then create and accept cases (``POST /api/v1/cases`` then
``POST …/accept``: two requests and two transactions per case) for as long.  The ratio is
cases per second ÷ trivial requests per second; goal ≥ 0.3.  The last line of stdout is one
JSON document.  With ``--pg URL`` (or ``TONGBAN_BENCH_PG``) the same run is repeated with the
node on PostgreSQL, in a fresh database dropped afterwards, nested under ``postgresql``.
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
    latencies = sorted(x for r in results for x in r[2])
    return {"per_s": round(done / seconds, 1), "done": done,
            "errors": sum(r[1] for r in results),
            "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1)
            if latencies else None}


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
            log(f"trivial endpoint for {args.seconds} s with {args.clients} clients ...")
            trivial = run_phase(base, token, "trivial", args.seconds, args.clients)
            log(f"cases for {args.seconds} s ...")
            cases = run_phase(base, token, "cases", args.seconds, args.clients)
            rss = [peak_rss_mb(pid) for pid in children(server.pid)]
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    ratio = cases["per_s"] / trivial["per_s"] if trivial["per_s"] else 0.0
    return {
        "node_api_ratio": round(ratio, 3),
        "node_api_cases_per_s": cases["per_s"],
        "node_api_trivial_per_s": trivial["per_s"],
        "node_api_goal": GOAL, "node_api_goal_met": ratio >= GOAL,
        "cases": cases, "trivial": trivial,
        "clients": args.clients, "node_workers": args.workers, "seconds": args.seconds,
        "database": "postgresql" if database_url else "sqlite",
        "node_peak_rss_mb": round(max(rss), 1) if rss else None,
        "node_peak_rss_total_mb": round(sum(rss), 1) if rss else None,
    }


def main(argv: list[str] | None = None) -> None:
    cpus = os.cpu_count() or 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=max(2, cpus))
    parser.add_argument("--workers", type=int, default=max(2, cpus))
    parser.add_argument("--pg", default=os.environ.get("TONGBAN_BENCH_PG", ""),
                        help="also on PostgreSQL: a server URL (a fresh database is created)")
    args = parser.parse_args(argv)
    document = measure(args)
    if args.pg:
        with postgres_database(args.pg) as url:
            document["postgresql"] = measure(args, url)
    for part in (document, document.get("postgresql") or {}):
        if part:
            print(f"node API ({part['database']}): {part['node_api_cases_per_s']} cases/s "
                  f"created and accepted vs {part['node_api_trivial_per_s']} trivial "
                  f"requests/s: ratio {part['node_api_ratio']} (goal {GOAL})")
    print(json.dumps(document, ensure_ascii=False))


if __name__ == "__main__":
    main()
