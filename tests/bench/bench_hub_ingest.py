# ruff: noqa: T201 - a command-line report: print is the output
"""Hub ingest benchmark (issue 9, "Load and speed"): envelopes verified and stored per second
by a real hub (``tongban hub serve``, gunicorn with several workers) while 1,000 enrolled
nodes push batches of signed summaries from several client processes, against the ceiling
measured in the same run: parsing (canonical JSON) and verifying the same envelopes in one
process pinned to one core, with nothing else running.

    .venv/bin/python -m tests.bench.bench_hub_ingest                    # SQLite
    .venv/bin/python -m tests.bench.bench_hub_ingest --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Progress goes to stderr, a readable report to stdout, and the last line of stdout is one JSON
document (``hub_ingest_ratio`` of the first database, further databases nested by name).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from node.metrics.definitions import COUNTS, RATES
from node.metrics.summary import metric_entries
from schemas.certificates import issue_certificate
from schemas.divisions import level_of, parent_of
from schemas.envelope import Kind, parse_envelope, sign_envelope, verify_envelope
from schemas.keys import public_key_b64
from schemas.request_signing import sign_request

TONGBAN = str(Path(sys.executable).with_name("tongban"))
PROVINCE = "450000"
POWERS = ("accept", "review", "coordinate", "deliver", "litigate", "issue", "approve")
GOAL = 0.5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the federation -----------------------------------------------------------------------------


def division_codes(count: int) -> list[str]:
    """``count`` nodes of one province, parents before children: cities, their county-level
    centers, then townships under the counties."""
    codes = [PROVINCE]
    cities = [f"45{c:02d}00" for c in range(1, 15)]
    counties = [f"{city[:4]}{k:02d}" for city in cities for k in range(1, 11)]
    codes += cities + counties
    townships = (f"{county}{t:03d}" for t in range(1, 1000) for county in counties)
    while len(codes) < count:
        codes.append(next(townships))
    return codes[:count]


def identity(code: str) -> tuple[str, str | None]:
    level = level_of(code).value
    return level, ("district" if level == "county" else None)


def summary_body(code: str, rand: random.Random) -> dict[str, Any]:
    """A summary shaped exactly like node.metrics.summary.summarize()'s (every metric)."""
    names = {m.key for m in COUNTS} | {r.numerator for r in RATES if r.numerator} \
        | {r.denominator for r in RATES if r.denominator}
    counts = {name: rand.randint(0, 5000) for name in names}
    counts["completed_or_overdue"] = 0
    level, kind = identity(code)
    return {
        "schema": "tongban.summary", "version": 1,
        "node": {"code": code, "name": f"{code} 政务服务中心", "level": level, "kind": kind,
                 "parent": parent_of(code)},
        "period": {"kind": "month", "label": "2026-11", "start": "2026-11-01",
                   "end": "2026-11-30"},
        "computed_at": "2026-11-29T02:00:00+00:00", "final": False,
        "metrics": metric_entries(counts, 1),
        "catalog": {"should_enter": 650, "entered": 499, "entered_of_should": 480,
                    "authorized": {p: rand.randint(0, 480) for p in POWERS}},
    }


class Federation:
    def __init__(self, count: int, seed: int = 7) -> None:
        self.codes = division_codes(count)
        rand = random.Random(seed)
        self.keys = {code: Ed25519PrivateKey.from_private_bytes(rand.randbytes(32))
                     for code in self.codes}
        self.root_key = Ed25519PrivateKey.from_private_bytes(rand.randbytes(32))
        self.rand = rand

    def certificate(self, code: str, serial: int) -> dict[str, Any]:
        issuer = parent_of(code) or code
        issuer_key = self.root_key if code == PROVINCE else self.keys[issuer]
        level, kind = identity(code)
        now = dt.datetime.now(dt.UTC)
        return issue_certificate(
            issuer_code=issuer, issuer_key=issuer_key, subject=code, level=level, kind=kind,
            parent=parent_of(code), public_key_b64=public_key_b64(self.keys[code].public_key()),
            not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=365),
            serial=serial)

    def workload(self, per_node: int, first_seq: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
        """``per_node`` signed summaries per node (newer versions of one month)."""
        return {
            code: [sign_envelope(kind=Kind.SUMMARY, sender=code, to="hub",
                                 seq=first_seq.get(code, 1) + i,
                                 body=summary_body(code, self.rand),
                                 private_key=self.keys[code]).to_wire()
                   for i in range(per_node)]
            for code in self.codes
        }


def post(base: str, node: str, key: Ed25519PrivateKey, envelopes: list[dict[str, Any]]) -> Any:
    body = orjson.dumps({"envelopes": envelopes})
    path = "/api/v1/envelopes"
    headers = sign_request(method="POST", path=path, body=body, node=node, private_key=key,
                           now=dt.datetime.now(dt.UTC))
    headers["Content-Type"] = "application/json"
    response = requests.post(base + path, data=body, headers=headers, timeout=120)
    response.raise_for_status()
    results = response.json()["results"]
    bad = [r for r in results if r["status"] != "accepted"]
    if bad:
        raise RuntimeError(f"enrolment refused: {bad[:3]}")
    return results


def enroll(base: str, fed: Federation) -> dict[str, int]:
    """Every node's certificate, pushed by its parent (the province's under the root key);
    returns the next seq of each sender."""
    serials = itertools.count(1)
    seqs: dict[str, int] = {}

    def envelope(sender: str, certificate: dict[str, Any], key: Ed25519PrivateKey) -> Any:
        seqs[sender] = seqs.get(sender, 0) + 1
        return sign_envelope(kind=Kind.CERT, sender=sender, to="hub", seq=seqs[sender],
                             body={"certificate": certificate}, private_key=key).to_wire()

    post(base, PROVINCE, fed.root_key,
         [envelope(PROVINCE, fed.certificate(PROVINCE, next(serials)), fed.root_key)])
    children: dict[str, list[str]] = {}
    for code in fed.codes[1:]:
        children.setdefault(parent_of(code) or PROVINCE, []).append(code)
    for parent in fed.codes:  # parents come before their children in fed.codes
        for start in range(0, len(children.get(parent, [])), 400):
            batch = [envelope(parent, fed.certificate(child, next(serials)), fed.keys[parent])
                     for child in children[parent][start:start + 400]]
            post(base, parent, fed.keys[parent], batch)
    return {code: seq + 1 for code, seq in seqs.items()}


# -- the ceiling ----------------------------------------------------------------------------------


def ceiling(wires: list[dict[str, Any]], fed: Federation, repeat: int) -> dict[str, Any]:
    """Envelopes per second that one process on one core parses (canonical JSON, schema) and
    verifies: the hub's verification path with nothing else."""
    public = {code: key.public_key() for code, key in fed.keys.items()}
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(previous)})
    rates = []
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            for wire in wires:
                envelope = parse_envelope(wire)
                verify_envelope(envelope, public[envelope.sender])
            rates.append(len(wires) / (time.perf_counter() - started))
    finally:
        os.sched_setaffinity(0, previous)
    return {"ceiling_envelopes_per_s": round(statistics.median(rates), 1),
            "ceiling_runs": [round(r, 1) for r in rates]}


# -- the load -------------------------------------------------------------------------------------


def client(base: str, jobs: list[tuple[str, bytes, list[bytes]]], start: Any, out: Any) -> None:
    """Push every batch of ``jobs`` (node, private key, batch bodies) over one keep-alive
    connection, nodes interleaved; put (envelopes accepted, latencies, first, last, errors)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                            timeout=120)
    keys = {node: Ed25519PrivateKey.from_private_bytes(raw) for node, raw, _ in jobs}
    order = [(node, body) for batch in itertools.zip_longest(
        *[[(node, body) for body in bodies] for node, _, bodies in jobs]) for node, body in
        (pair for pair in batch if pair is not None)]
    latencies: list[float] = []
    accepted = errors = 0
    start.wait()
    first = time.perf_counter()
    for node, body in order:
        headers = sign_request(method="POST", path="/api/v1/envelopes", body=body, node=node,
                               private_key=keys[node], now=dt.datetime.now(dt.UTC))
        headers["Content-Type"] = "application/json"
        sent = time.perf_counter()
        connection.request("POST", "/api/v1/envelopes", body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - sent)
        if response.status != 200:
            errors += 1
            continue
        results = orjson.loads(payload)["results"]
        accepted += sum(1 for r in results if r["status"] == "accepted")
        errors += sum(1 for r in results if r["status"] != "accepted")
    out.put((accepted, latencies, first, time.perf_counter(), errors))
    connection.close()


def hub_processes(master: int) -> list[int]:
    found = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == master:
                    found.append(int(entry.name))
    return found


def peak_rss_mb(pid: int) -> float:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    """A fresh database on the server of ``url``, dropped afterwards."""
    name = f"tongban_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    parts = urlsplit(url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with admin.connect() as connection:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tongban(*args: str, cwd: Path) -> None:
    subprocess.run([TONGBAN, *args], cwd=cwd, check=True, capture_output=True, timeout=300)


def measure(database_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    label = "postgresql" if database_url else "sqlite"
    with tempfile.TemporaryDirectory(prefix="tongban-bench-hub-") as tmp:
        work = Path(tmp)
        fed = Federation(args.nodes)
        init = ["hub", "init", "--home", "hub"]
        if database_url:
            init += ["--database-url", database_url]
        tongban(*init, cwd=work)
        tongban("hub", "trust-root", "--home", "hub", "--code", PROVINCE, "--public-key",
                public_key_b64(fed.root_key.public_key()), cwd=work)
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
                with suppress(requests.RequestException):
                    if requests.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                if hub.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((work / "hub.log").read_text()[-3000:])
                time.sleep(0.2)
            started = time.perf_counter()
            first_seq = enroll(base, fed)
            log(f"[{label}] {len(fed.codes)} nodes enrolled in "
                f"{time.perf_counter() - started:.1f} s")
            workload = fed.workload(args.per_node, first_seq)
            wires = [w for per_node in workload.values() for w in per_node]
            sizes = sorted(len(orjson.dumps(w)) for w in wires)
            log(f"[{label}] {len(wires)} summaries signed; ceiling ...")
            result: dict[str, Any] = {"database": label, **ceiling(wires, fed, args.repeat)}

            # the load: batches per node, nodes dealt out to the client processes
            jobs: list[list[tuple[str, bytes, list[bytes]]]] = [[] for _ in range(args.clients)]
            for index, code in enumerate(fed.codes):
                envelopes = workload[code]
                bodies = [orjson.dumps({"envelopes": envelopes[i:i + args.batch]})
                          for i in range(0, len(envelopes), args.batch)]
                jobs[index % args.clients].append(
                    (code, fed.keys[code].private_bytes_raw(), bodies))
            context = mp.get_context("fork")
            start, out = context.Event(), context.Queue()
            workers = [context.Process(target=client, args=(base, job, start, out))
                       for job in jobs]
            for process in workers:
                process.start()
            time.sleep(1.0)
            log(f"[{label}] pushing with {args.clients} clients to {args.workers} workers ...")
            start.set()
            reports = [out.get(timeout=1800) for _ in workers]
            for process in workers:
                process.join(timeout=60)
            pids = hub_processes(hub.pid)
            rss = {pid: round(peak_rss_mb(pid), 1) for pid in pids}
        finally:
            hub.terminate()
            try:
                hub.wait(timeout=30)
            except subprocess.TimeoutExpired:
                hub.kill()
                hub.wait()
        accepted = sum(r[0] for r in reports)
        errors = sum(r[4] for r in reports)
        latencies = [x for r in reports for x in r[1]]
        elapsed = max(r[3] for r in reports) - min(r[2] for r in reports)
        stored = _stored(database_url or f"sqlite:///{work / 'hub' / 'hub.db'}")
        rate = accepted / elapsed
        result.update({
            "hub_ingest_ratio": round(rate / result["ceiling_envelopes_per_s"], 3),
            "hub_ingest_envelopes_per_s": round(rate, 1),
            "hub_ingest_goal": GOAL,
            "hub_ingest_goal_met": rate / result["ceiling_envelopes_per_s"] >= GOAL,
            "envelopes": len(wires), "accepted": accepted, "not_accepted": errors,
            "stored_summaries": stored,
            "requests": len(latencies), "batch": args.batch, "nodes": len(fed.codes),
            "clients": args.clients, "hub_workers": args.workers,
            "elapsed_s": round(elapsed, 2),
            "push_batch_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "push_batch_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "hub_peak_rss_mb": max(rss.values()),
            "hub_peak_rss_total_mb": round(sum(rss.values()), 1),
            "summary_envelope_bytes_median": sizes[len(sizes) // 2],
            "summary_envelope_bytes_max": sizes[-1],
        })
        log(f"[{label}] {rate:.0f} envelopes/s through HTTP vs ceiling "
            f"{result['ceiling_envelopes_per_s']:.0f}/s: ratio {result['hub_ingest_ratio']}")
        return result


def _stored(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM summaries")).scalar_one())
    finally:
        engine.dispose()


def parse(argv: list[str] | None) -> argparse.Namespace:
    cpus = os.cpu_count() or 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--per-node", type=int, default=20, help="summaries each node pushes")
    parser.add_argument("--batch", type=int, default=10, help="envelopes per push request")
    parser.add_argument("--workers", type=int, default=max(2, cpus), help="hub gunicorn workers")
    parser.add_argument("--clients", type=int, default=max(2, cpus), help="client processes")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the ceiling (median)")
    parser.add_argument("--pg", default=os.environ.get("TONGBAN_BENCH_PG", ""),
                        help="also on PostgreSQL: a server URL (a fresh database is created)")
    parser.add_argument("--no-sqlite", action="store_true")
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; the JSON document (also the runner's part)."""
    args = parse(argv)
    document: dict[str, Any] = {}
    if not args.no_sqlite:
        document = measure(None, args)
    if args.pg:
        with postgres_database(args.pg) as url:
            measured = measure(url, args)
        document = measured if not document else {**document, "postgresql": measured}
    document["cpus"] = os.cpu_count()
    return document


def main(argv: list[str] | None = None) -> None:
    document = run(argv)
    for part in (document, document.get("postgresql") or {}):
        if part:
            print(f"{part['database']}: {part['hub_ingest_envelopes_per_s']} envelopes/s, "
                  f"ceiling {part['ceiling_envelopes_per_s']}/s, ratio "
                  f"{part['hub_ingest_ratio']} (goal {GOAL}); push p50 "
                  f"{part['push_batch_p50_ms']} ms, p99 {part['push_batch_p99_ms']} ms; hub "
                  f"peak RSS {part['hub_peak_rss_mb']} MB per process")
    print(json.dumps(document, ensure_ascii=False))


if __name__ == "__main__":
    main()
