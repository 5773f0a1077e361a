# ruff: noqa: T201 - a command-line report: print is the output
"""Fleet benchmark (issue 15): a province's nodes waiting on their mailboxes at one hub.

Real hub processes (``tongban hub serve``, gevent workers) on PostgreSQL; one load-generator
process (asyncio + aiohttp: thousands of open connections from one process) plays:

- N enrolled nodes (default 2,000: the province, its 14 cities, 140 county-level centers
  and townships), each holding a mailbox long poll the way the sync worker does
  (``GET /api/v1/mailbox?after=…&wait=20``, signed by the node's key; acknowledged when
  something arrives, then asked again);
- pushes of signed envelopes at ``--push-rate`` (default 120/s: ten times a province's peak,
  docs/scale.md), one envelope a push: every sixth a township's ``case.forward`` to its
  county, the others summaries;
- hub staff asking for the province's league table of its county-level centers, one request
  after the other.

Figures: ``fleet_ranking_p50_ms`` / ``_p99_ms`` (goal p99 ≤ 500 ms), ``fleet_forward_p50_s``
/ ``_p99_s`` (push of a forward → its county's long poll answered; goal p99 ≤ 1 s),
``fleet_hub_rss_mb`` (the largest hub process), ``fleet_errors`` (goal 0: any answer but
200, any exception, any forward never delivered), and ``fleet_max_nodes``: the most nodes
of the ramp (``--ramp``) this machine held with every goal met.

    .venv/bin/python -m tests.bench.bench_fleet
    .venv/bin/python -m tests.bench.bench_fleet --nodes 500 --seconds 20 --ramp 500,1000

PostgreSQL: ``--pg`` or ``TONGBAN_BENCH_PG`` (a fresh database is created on that server;
default the local server of .ci/run).  The last line of stdout is one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import requests

from schemas.envelope import Kind, sign_envelope
from schemas.keys import public_key_b64
from tests.bench.enrolment import (
    PROVINCE,
    Federation,
    enroll,
    forward_body,
    free_port,
    hub_processes,
    log,
    percentile,
    postgres_database,
    signed_headers,
    summary_body,
)

TONGBAN = str(Path(sys.executable).with_name("tongban"))
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "fleet-bench-Passw0rd"
RANKING_GOAL_MS = 500.0
FORWARD_GOAL_S = 1.0
WAIT_SECONDS = 20
PERIOD = "2026-11"


@dataclasses.dataclass
class Stats:
    errors: int = 0
    error_samples: list[str] = dataclasses.field(default_factory=list)
    # errors by kind ("TimeoutError", "ServerDisconnectedError", "503", …): which failure
    error_kinds: dict[str, int] = dataclasses.field(default_factory=dict)
    pushes: int = 0
    polls: int = 0
    sent: dict[str, float] = dataclasses.field(default_factory=dict)  # forward id -> pushed
    forward_latencies: list[float] = dataclasses.field(default_factory=list)
    ranking_latencies: list[float] = dataclasses.field(default_factory=list)
    waiting: int = 0

    def error(self, what: str) -> None:
        self.errors += 1
        kind = what.split(": ", 1)[-1].split("(", 1)[0].split(" ", 1)[0]
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        if len(self.error_samples) < 10:
            self.error_samples.append(what[:300])


class Fleet:
    """The simulated nodes' keys and next seqs, and the envelopes they push."""

    def __init__(self, fed: Federation, next_seq: dict[str, int], seed: int = 11) -> None:
        self.fed = fed
        self.next_seq = dict(next_seq)
        self.rand = random.Random(seed)
        self.townships = [code for code in fed.codes if len(code) == 9]

    def seq(self, code: str) -> int:
        value = self.next_seq.get(code, 1)
        self.next_seq[code] = value + 1
        return value

    def summary(self, code: str) -> dict[str, Any]:
        body = summary_body(code, self.rand)
        body["period"] = {"kind": "month", "label": PERIOD, "start": "2026-11-01",
                          "end": "2026-11-30"}
        return sign_envelope(kind=Kind.SUMMARY, sender=code, to="hub", seq=self.seq(code),
                             body=body, private_key=self.fed.keys[code]).to_wire()

    def forward(self, township: str, number: int) -> dict[str, Any]:
        return sign_envelope(kind=Kind.CASE_FORWARD, sender=township, to=township[:6],
                             seq=self.seq(township), body=forward_body(township, number),
                             private_key=self.fed.keys[township]).to_wire()

    def pushes(self, count: int, codes: list[str]) -> list[tuple[str, dict[str, Any], bool]]:
        """``count`` signed pushes of the nodes ``codes``: (sender, envelope, is_forward)."""
        townships = [code for code in codes if len(code) == 9]
        found = []
        for index in range(count):
            if index % 6 == 0 and townships:
                township = self.rand.choice(townships)
                found.append((township, self.forward(township, index), True))
            else:
                code = self.rand.choice(codes)
                found.append((code, self.summary(code), False))
        return found


# -- the simulated nodes --------------------------------------------------------------------


async def signed(session: aiohttp.ClientSession, base: str, method: str, path: str,
                 code: str, fleet: Fleet, body: bytes = b"",
                 timeout: float = 30.0) -> tuple[int, bytes]:
    headers = signed_headers(method, path, body, code, fleet.fed.keys[code])
    if body:
        headers["Content-Type"] = "application/json"
    async with session.request(method, base + path, data=body or None, headers=headers,
                               timeout=aiohttp.ClientTimeout(total=timeout)) as response:
        return response.status, await response.read()


async def long_poll(session: aiohttp.ClientSession, base: str, code: str, fleet: Fleet,
                    stats: Stats, stop: asyncio.Event) -> None:
    """One node's pull loop: a long poll, an ack when something came, again."""
    cursor = 0
    while not stop.is_set():
        path = f"/api/v1/mailbox?after={cursor}&limit=100&wait={WAIT_SECONDS}"
        stats.waiting += 1
        try:
            status, payload = await signed(session, base, "GET", path, code, fleet,
                                           timeout=WAIT_SECONDS + 30)
        except (aiohttp.ClientError, TimeoutError) as exc:
            stats.waiting -= 1
            if not stop.is_set():
                stats.error(f"poll {code}: {exc!r}")
                await asyncio.sleep(1)
            continue
        stats.waiting -= 1
        stats.polls += 1
        if status != 200:
            stats.error(f"poll {code}: {status} {payload[:200]!r}")
            await asyncio.sleep(1)
            continue
        items = orjson.loads(payload)["items"]
        arrived = time.monotonic()
        for item in items:
            pushed = stats.sent.pop(item["envelope"]["id"], None)
            if pushed is not None:
                stats.forward_latencies.append(arrived - pushed)
        if items:
            cursor = items[-1]["cursor"]
            body = orjson.dumps({"cursor": cursor})
            try:
                status, payload = await signed(session, base, "POST", "/api/v1/mailbox/ack",
                                               code, fleet, body)
            except (aiohttp.ClientError, TimeoutError) as exc:
                stats.error(f"ack {code}: {exc!r}")
                continue
            if status != 200:
                stats.error(f"ack {code}: {status} {payload[:200]!r}")


async def push(session: aiohttp.ClientSession, base: str, code: str, envelope: dict[str, Any],
               forward: bool, fleet: Fleet, stats: Stats) -> None:
    body = orjson.dumps({"envelopes": [envelope]})
    if forward:
        stats.sent[envelope["id"]] = time.monotonic()
    try:
        status, payload = await signed(session, base, "POST", "/api/v1/envelopes", code,
                                       fleet, body)
    except (aiohttp.ClientError, TimeoutError) as exc:
        stats.error(f"push {code}: {exc!r}")
        return
    stats.pushes += 1
    if status != 200:
        stats.error(f"push {code}: {status} {payload[:200]!r}")
        return
    result = orjson.loads(payload)["results"][0]
    if result["status"] != "accepted":
        stats.error(f"push {code}: {result}")


async def pusher(session: aiohttp.ClientSession, base: str, work: list[Any], rate: float,
                 fleet: Fleet, stats: Stats, seconds: float) -> None:
    """Start one push every 1/rate seconds (whatever the answers take), for ``seconds``."""
    started = time.monotonic()
    tasks = set()
    for index, (code, envelope, forward) in enumerate(work):
        due = started + index / rate
        if due - started > seconds:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        task = asyncio.create_task(push(session, base, code, envelope, forward, fleet, stats))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)


async def staff(session: aiohttp.ClientSession, base: str, token: str, stats: Stats,
                stop: asyncio.Event) -> None:
    """Hub staff reading the province's league table of its county-level centers."""
    path = f"/api/v1/rankings/league?scope={PROVINCE}&period={PERIOD}&metric=completed"
    headers = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        started = time.monotonic()
        try:
            async with session.get(base + path, headers=headers,
                                   timeout=aiohttp.ClientTimeout(total=30)) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            stats.error(f"league: {exc!r}")
            continue
        stats.ranking_latencies.append(time.monotonic() - started)
        if status != 200:
            stats.error(f"league: {status}")
        await asyncio.sleep(0.25)


def step_codes(codes: list[str], count: int) -> list[str]:
    """The ``count`` nodes of a ramp's step. The fleet lists the upper levels first (the
    province, 14 cities, 140 counties), so its first 100 hold no township and a step of them
    pushes no forward to time (its forward figures were NaN and the step failed its goals).
    A smaller step takes the first half of that order and townships under the counties it
    took, so that every forward has its county waiting."""
    if count >= len(codes):
        return list(codes)
    head = codes[:max(1, count // 2)]
    taken = set(head)
    below = [code for code in codes
             if len(code) == 9 and code[:6] in taken and code not in taken]
    chosen = head + below[:count - len(head)]
    if len(chosen) < count:  # too few townships under those counties: fill in fleet order
        picked = set(chosen)
        chosen += [code for code in codes if code not in picked][:count - len(chosen)]
    return chosen


async def run_step(base: str, token: str, fleet: Fleet, codes: list[str], seconds: float,
                   rate: float, connect_rate: float) -> dict[str, Any]:
    """N nodes waiting (connected over a few seconds, as workers start), then pushes and
    league tables for ``seconds``; the step's figures."""
    stats = Stats()
    stop = asyncio.Event()
    work = fleet.pushes(int(seconds * rate) + 1, codes)
    # aiohttp drops a connection idle 15 s, well before the hub does (serve_keepalive_seconds,
    # 75): it never sends on a connection the hub has closed (docs/scale.md)
    connector = aiohttp.TCPConnector(limit=0, force_close=False, keepalive_timeout=15)
    async with aiohttp.ClientSession(connector=connector) as session:
        pollers = []
        for index, code in enumerate(codes):  # workers start spread out, not all at once
            pollers.append(asyncio.create_task(long_poll(session, base, code, fleet, stats,
                                                         stop)))
            if index % 20 == 19:
                await asyncio.sleep(20 / connect_rate)
        deadline = time.monotonic() + 60
        while stats.waiting < len(codes) * 0.98 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # every poll has reached the hub and waits there
        waiting_at_start = stats.waiting
        reader = asyncio.create_task(staff(session, base, token, stats, stop))
        started = time.monotonic()
        await pusher(session, base, work, rate, fleet, stats, seconds)
        pushed_for = time.monotonic() - started
        # the last forwards: delivered within their goal or counted as lost
        settle = time.monotonic() + 5
        while stats.sent and time.monotonic() < settle:
            await asyncio.sleep(0.1)
        stop.set()
        lost = len(stats.sent)
        reader.cancel()
        for poller in pollers:
            poller.cancel()
        await asyncio.gather(reader, *pollers, return_exceptions=True)
    ranking = stats.ranking_latencies or [float("nan")]
    forwards = stats.forward_latencies or [float("nan")]
    errors = stats.errors + lost
    result: dict[str, Any] = {
        "nodes": len(codes),
        "waiting_at_start": waiting_at_start,
        "seconds": round(pushed_for, 1),
        "pushes": stats.pushes,
        "pushes_per_s": round(stats.pushes / pushed_for, 1),
        "forwards": len(stats.forward_latencies),
        "forwards_lost": lost,
        "forward_p50_s": round(percentile(forwards, 0.5), 3),
        "forward_p99_s": round(percentile(forwards, 0.99), 3),
        "rankings": len(stats.ranking_latencies),
        "ranking_p50_ms": round(percentile(ranking, 0.5) * 1000, 1),
        "ranking_p99_ms": round(percentile(ranking, 0.99) * 1000, 1),
        "polls_answered": stats.polls,
        "errors": errors,
        "error_samples": stats.error_samples,
        "error_kinds": stats.error_kinds,
    }
    result["goals_met"] = (errors == 0 and result["ranking_p99_ms"] <= RANKING_GOAL_MS
                           and result["forward_p99_s"] <= FORWARD_GOAL_S)
    return result


# -- setting up -----------------------------------------------------------------------------


def tongban(*args: str, cwd: Path) -> str:
    done = subprocess.run([TONGBAN, *args], cwd=cwd, check=True, capture_output=True,
                          timeout=300, text=True)
    return done.stdout


def rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def seed_summaries(base: str, fleet: Fleet, codes: list[str]) -> None:
    """One summary of the period from every node, so that league tables have rows."""
    for code in codes:
        body = orjson.dumps({"envelopes": [fleet.summary(code)]})
        headers = signed_headers("POST", "/api/v1/envelopes", body, code, fleet.fed.keys[code])
        headers["Content-Type"] = "application/json"
        response = requests.post(base + "/api/v1/envelopes", data=body, headers=headers,
                                 timeout=60)
        response.raise_for_status()


def measure(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    steps = sorted({args.nodes, *args.ramp})
    home: Any = (contextlib.nullcontext(tempfile.mkdtemp(prefix="tongban-bench-fleet-"))
                 if args.keep else tempfile.TemporaryDirectory(prefix="tongban-bench-fleet-"))
    with home as tmp:
        work = Path(tmp)
        fed = Federation(max(steps))
        tongban("hub", "init", "--home", "hub", "--database-url", database_url, cwd=work)
        tongban("hub", "trust-root", "--home", "hub", "--code", PROVINCE, "--public-key",
                public_key_b64(fed.root_key.public_key()), cwd=work)
        tongban("hub", "create-user", "--home", "hub", "--username", "bench", "--scope",
                PROVINCE, "--password", PASSWORD, cwd=work)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
        with (work / "hub.log").open("wb") as hub_log:
            hub = subprocess.Popen(
                [TONGBAN, "hub", "serve", "--home", "hub", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(args.workers)],
                cwd=work, env=env, stdout=hub_log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                if hub.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((work / "hub.log").read_text()[-3000:])
                time.sleep(0.2)
            started = time.perf_counter()
            fleet = Fleet(fed, enroll(base, fed))
            log(f"{len(fed.codes)} nodes enrolled in {time.perf_counter() - started:.1f} s")
            seed_summaries(base, fleet, [c for c in fed.codes if len(c) == 6])
            token = requests.post(base + "/api/v1/staff/login", timeout=30, json={
                "username": "bench", "password": PASSWORD}).json()["token"]
            results = []
            for nodes in steps:
                seconds = args.seconds if nodes == args.nodes else args.step_seconds
                log(f"{nodes} nodes waiting, {args.push_rate}/s pushes for {seconds} s ...")
                step = asyncio.run(run_step(base, token, fleet, step_codes(fed.codes, nodes),
                                            seconds,
                                            args.push_rate, args.connect_rate))
                pids = hub_processes(hub.pid)
                # the machine may be shared: its load beside each figure (1, 5, 15 minutes)
                step["load_average"] = [round(load, 1) for load in os.getloadavg()]
                step["hub_rss_mb"] = {str(pid): round(rss_mb(pid), 1) for pid in pids}
                log(f"  ranking p50/p99 {step['ranking_p50_ms']}/{step['ranking_p99_ms']} ms, "
                    f"forward p50/p99 {step['forward_p50_s']}/{step['forward_p99_s']} s, "
                    f"{step['pushes_per_s']} pushes/s, errors {step['errors']}, goals met: "
                    f"{step['goals_met']}, load average {step['load_average']}")
                results.append(step)
                if not step["goals_met"] and nodes >= args.nodes:
                    break
        finally:
            hub.terminate()
            try:
                hub.wait(timeout=30)
            except subprocess.TimeoutExpired:
                hub.kill()
                hub.wait()
    main = next(step for step in results if step["nodes"] == args.nodes)
    held = [step["nodes"] for step in results if step["goals_met"]]
    workers = {pid: mb for pid, mb in main["hub_rss_mb"].items() if int(pid) != hub.pid}
    return {
        "fleet_nodes": args.nodes,
        "fleet_ranking_p50_ms": main["ranking_p50_ms"],
        "fleet_ranking_p99_ms": main["ranking_p99_ms"],
        "fleet_forward_p50_s": main["forward_p50_s"],
        "fleet_forward_p99_s": main["forward_p99_s"],
        "fleet_hub_rss_mb": max(workers.values() or [0.0]),
        "fleet_errors": main["errors"],
        "fleet_load_average": main["load_average"],
        "fleet_max_nodes": max(held) if held else 0,
        "fleet_push_rate_per_s": args.push_rate,
        "fleet_hub_workers": args.workers,
        "goals": {"ranking_p99_ms": RANKING_GOAL_MS, "forward_p99_s": FORWARD_GOAL_S,
                  "errors": 0},
        "steps": results,
        "database": "postgresql",
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60, help="the main step's length")
    parser.add_argument("--ramp", type=lambda text: [int(n) for n in text.split(",") if n],
                        default=[1000, 2000, 4000, 6000],
                        help="node counts tried for fleet_max_nodes (in order, until one "
                             "misses a goal)")
    parser.add_argument("--step-seconds", type=float, default=30)
    parser.add_argument("--push-rate", type=float, default=120)
    parser.add_argument("--connect-rate", type=float, default=200,
                        help="nodes that start long-polling per second, until all wait")
    parser.add_argument("--workers", type=int, default=2, help="hub gunicorn workers")
    parser.add_argument("--keep", action="store_true", help="keep the hub's home and log")
    parser.add_argument("--pg", default=os.environ.get("TONGBAN_BENCH_PG", "") or DEFAULT_PG)
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * max(args.nodes, *args.ramp) + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # the hub inherits it too
    with postgres_database(args.pg) as url:
        document = measure(url, args)
    document["cpus"] = os.cpu_count()
    return document


def main(argv: list[str] | None = None) -> None:
    document = run(argv)
    print(f"fleet of {document['fleet_nodes']} waiting nodes: league table p50/p99 "
          f"{document['fleet_ranking_p50_ms']}/{document['fleet_ranking_p99_ms']} ms "
          f"(goal p99 {RANKING_GOAL_MS:.0f}), forward p50/p99 {document['fleet_forward_p50_s']}"
          f"/{document['fleet_forward_p99_s']} s (goal p99 {FORWARD_GOAL_S}), hub RSS "
          f"{document['fleet_hub_rss_mb']} MB per process, errors {document['fleet_errors']}; "
          f"most nodes held with every goal met: {document['fleet_max_nodes']}")
    print(json.dumps(document, ensure_ascii=False))


if __name__ == "__main__":
    main()
