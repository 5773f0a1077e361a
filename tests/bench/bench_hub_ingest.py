# ruff: noqa: T201 - a command-line report: print is the output
"""Hub ingest benchmark (issues 9 and 15): envelopes verified and stored per second by a real
hub (``tongban hub serve``, gunicorn with several workers) while 1,000 enrolled nodes push
batches of signed summaries from several client processes, against the ceiling issue 9
defined: bare Ed25519 verification of the same envelopes, by as many processes on the same
cores, measured interleaved with the load (load and ceiling phases alternate for
``--rounds`` rounds; each figure is the median).  The hub's own Server-Timing header says
how a push's time divides into parse (shape, body schema), verify (key, signature) and the
database (statements and commit): reported per envelope.

    .venv/bin/python -m tests.bench.bench_hub_ingest                    # SQLite
    .venv/bin/python -m tests.bench.bench_hub_ingest --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Progress goes to stderr, a readable report to stdout, and the last line of stdout is one JSON
document (``hub_ingest_ratio`` of the first database, further databases nested by name).
"""

from __future__ import annotations

import argparse
import http.client
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
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import create_engine, text

from schemas.envelope import parse_envelope, verify_envelope
from schemas.keys import b64url_decode, public_key_b64
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


# -- the ceiling: bare Ed25519 verification of the same envelopes -------------------------------


def bare_verifier(items: list[tuple[bytes, bytes, bytes]], seconds: float, out: Any) -> None:
    """Verify (raw public key, signed bytes, signature) items round and round for
    ``seconds``; put (verifications, elapsed).  Nothing but Ed25519: the ceiling."""
    keys = {raw: Ed25519PublicKey.from_public_bytes(raw) for raw, _, _ in items}
    prepared = [(keys[raw], message, signature) for raw, message, signature in items]
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for key, message, signature in prepared[:200]:
            key.verify(signature, message)
        count += min(200, len(prepared))
        prepared = prepared[200:] + prepared[:200]
    out.put((count, time.perf_counter() - started))


def bare_items(wires: list[dict[str, Any]], fed: Federation) -> list[tuple[bytes, bytes, bytes]]:
    public = {code: key.public_key().public_bytes_raw() for code, key in fed.keys.items()}
    items = []
    for wire in wires:
        envelope = parse_envelope(wire)
        items.append((public[envelope.sender], envelope.unsigned_bytes(),
                      b64url_decode(envelope.sig)))
    return items


def ceiling_phase(items: list[tuple[bytes, bytes, bytes]], processes: int,
                  seconds: float) -> float:
    """Verifications per second of ``processes`` verifiers at once (the cores the hub used)."""
    context = mp.get_context("fork")
    out = context.Queue()
    workers = [context.Process(target=bare_verifier, args=(items[i::processes], seconds, out))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    reports = [out.get(timeout=seconds + 60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    return sum(count for count, _ in reports) / max(elapsed for _, elapsed in reports)


def pipeline_rate(wires: list[dict[str, Any]], fed: Federation) -> dict[str, float]:
    """One process: ms per envelope of tongban's own parse (shape, body schema) and verify."""
    public = {code: key.public_key() for code, key in fed.keys.items()}
    sample = wires[:500]
    started = time.perf_counter()
    envelopes = [parse_envelope(orjson.loads(orjson.dumps(wire))) for wire in sample]
    parsed = time.perf_counter()
    for envelope in envelopes:
        verify_envelope(envelope, public[envelope.sender])
    verified = time.perf_counter()
    return {"parse_ms": round((parsed - started) / len(sample) * 1000, 3),
            "verify_ms": round((verified - parsed) / len(sample) * 1000, 3)}


# -- the load -------------------------------------------------------------------------------------


def client(base: str, jobs: list[tuple[str, bytes, bytes]], out: Any) -> None:
    """Push ``jobs`` (node, private key, batch body) in order over one keep-alive connection;
    put (envelopes accepted, latencies, first, last, errors, timings) where timings sums the
    hub's Server-Timing (parse, verify, db: ms) over the batches."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                            timeout=120)
    keys = {node: Ed25519PrivateKey.from_private_bytes(raw) for node, raw, _ in jobs}
    latencies: list[float] = []
    timings = {"parse": 0.0, "verify": 0.0, "db": 0.0}
    accepted = errors = 0
    first = time.perf_counter()
    for node, _, body in jobs:
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
        for part in (response.getheader("Server-Timing") or "").split(","):
            name, _, duration = part.strip().partition(";dur=")
            if name in timings:
                timings[name] += float(duration)
        results = orjson.loads(payload)["results"]
        accepted += sum(1 for r in results if r["status"] == "accepted")
        errors += sum(1 for r in results if r["status"] != "accepted")
    out.put((accepted, latencies, first, time.perf_counter(), errors, timings))
    connection.close()


def load_phase(base: str, jobs: list[list[tuple[str, bytes, bytes]]]) -> list[Any]:
    context = mp.get_context("fork")
    out = context.Queue()
    workers = [context.Process(target=client, args=(base, job, out)) for job in jobs if job]
    for worker in workers:
        worker.start()
    reports = [out.get(timeout=1800) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return reports


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
            items = bare_items(wires, fed)
            result: dict[str, Any] = {"database": label,
                                      "one_process": pipeline_rate(wires, fed)}
            # batches in push order (every node's first batch, then every node's second …),
            # cut into rounds; within a round a node's batches go to one client, in order
            batches = [(code, index, orjson.dumps({"envelopes": workload[code][i:i + args.batch]}))
                       for index, i in enumerate(range(0, args.per_node, args.batch))
                       for code in fed.codes]
            per_round = -(-len(batches) // args.rounds)
            rounds: list[dict[str, Any]] = []
            reports = []
            for number in range(args.rounds):
                chunk = batches[number * per_round:(number + 1) * per_round]
                jobs: list[list[tuple[str, bytes, bytes]]] = [[] for _ in range(args.clients)]
                for code, _, body in chunk:
                    jobs[fed.codes.index(code) % args.clients].append(
                        (code, fed.keys[code].private_bytes_raw(), body))
                load = load_phase(base, jobs)
                reports += load
                envelopes = sum(r[0] + r[4] for r in load)
                elapsed = max(r[3] for r in load) - min(r[2] for r in load)
                hub_rate = sum(r[0] for r in load) / elapsed
                bare_rate = ceiling_phase(items, args.clients, min(max(elapsed, 2.0), 10.0))
                rounds.append({"hub_per_s": round(hub_rate, 1),
                               "bare_verify_per_s": round(bare_rate, 1),
                               "ratio": round(hub_rate / bare_rate, 3),
                               "envelopes": envelopes, "seconds": round(elapsed, 2)})
                log(f"[{label}] round {number + 1}: hub {hub_rate:.0f}/s, bare Ed25519 "
                    f"{bare_rate:.0f}/s: ratio {hub_rate / bare_rate:.3f}")
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
        timings = {name: sum(r[5][name] for r in reports) for name in ("parse", "verify", "db")}
        stored = _stored(database_url or f"sqlite:///{work / 'hub' / 'hub.db'}")
        ratio = statistics.median(r["ratio"] for r in rounds)
        rate = statistics.median(r["hub_per_s"] for r in rounds)
        ceiling_rate = statistics.median(r["bare_verify_per_s"] for r in rounds)
        result.update({
            "hub_ingest_ratio": round(ratio, 3),
            "hub_ingest_envelopes_per_s": round(rate, 1),
            "ceiling_envelopes_per_s": round(ceiling_rate, 1),
            "ceiling": (f"bare Ed25519 verification of the same envelopes by {args.clients} "
                        f"processes on the same cores, interleaved with the load "
                        f"({args.rounds} rounds, medians)"),
            "rounds": rounds,
            "hub_ingest_goal": GOAL,
            "hub_ingest_goal_met": ratio >= GOAL,
            "hub_ingest_parse_ms": round(timings["parse"] / max(accepted, 1), 3),
            "hub_ingest_verify_ms": round(timings["verify"] / max(accepted, 1), 3),
            "hub_ingest_db_ms": round(timings["db"] / max(accepted, 1), 3),
            "envelopes": len(wires), "accepted": accepted, "not_accepted": errors,
            "stored_summaries": stored,
            "requests": len(latencies), "batch": args.batch, "nodes": len(fed.codes),
            "clients": args.clients, "hub_workers": args.workers,
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
    parser.add_argument("--rounds", type=int, default=5,
                        help="load and ceiling phases, alternating (medians)")
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
