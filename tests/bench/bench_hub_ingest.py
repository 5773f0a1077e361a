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
import http.client
import itertools
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from schemas.envelope import parse_envelope, verify_envelope
from schemas.keys import public_key_b64
from tests.bench.enrolment import (
    PROVINCE,
    Federation,
    enroll,
    free_port,
    hub_processes,
    log,
    peak_rss_mb,
    percentile,
    postgres_database,
    signed_headers,
)

TONGBAN = str(Path(sys.executable).with_name("tongban"))
GOAL = 0.5


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
        headers = signed_headers("POST", "/api/v1/envelopes", body, node, keys[node])
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
