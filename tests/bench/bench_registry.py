# ruff: noqa: T201 - a command-line report: print is the output
"""Registry benchmark (issue 15): what a registry of 40,000 nodes costs.

A real hub (``tongban hub serve``) on PostgreSQL enrolls ``--nodes`` nodes (default 40,000:
the province, 14 cities, 140 county-level centers, townships), each certificate pushed by
the subject's parent in batches, as enrolment runs; then:

- ``enroll_per_s``: certificates accepted per second over the whole enrolment (each one
  verified once by the hub process that received it, and added by the others' stores);
- ``registry_request_overhead_ms``: what the registry costs one signed request at that size
  — reading the version, the view of the process's store, and finding the caller's key
  (``hub.api.auth.request_store`` + ``key_for``), in-process against the same database, in
  the request's transaction once it is open, median of ``--requests`` (goal ≤ 1 ms); beside
  it ``registry_request_transaction_ms``, what opening that transaction costs (a session, a
  pooled connection and its pre-ping, a first statement), which every request pays for its
  nonce whatever the registry — the figure before 2026-12-06 20:00 counted both;
- ``registry_cold_start_ms``: a hub process started after the enrolment (it stored none of
  the registry) answering its first signed request — a node's mailbox read, over HTTP, its
  trust store built from the database on the way (``registry_warm_request_ms``: the same
  process's next one);
- ``registry_refresh_ms``: a county's node refreshing its registry after one township of
  its own was enrolled: the part that changed fetched over HTTP (``GET /api/v1/registry?
  node=…&certificates_after=…``) and verified (node.sync.registry), median of 5; beside it
  ``registry_first_fetch_ms`` (the county's whole part, the first time) and
  ``registry_full_bytes`` (every document, as a node that asked for all would get).

PostgreSQL: ``--pg`` or ``TONGBAN_BENCH_PG`` (default the local server of .ci/run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import g
from sqlalchemy import text

from hub import create_app
from hub.api.auth import request_store
from node.sync.client import HttpHubTransport
from node.sync.registry import refresh_registry
from schemas.certificates import issue_certificate
from schemas.envelope import Kind, sign_envelope
from schemas.keys import key_id, public_key_b64
from schemas.runtime.webapp import current_session
from tests.bench.enrolment import (
    PROVINCE,
    Federation,
    enroll,
    free_port,
    log,
    postgres_database,
)

TONGBAN = str(Path(sys.executable).with_name("tongban"))
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
OVERHEAD_GOAL_MS = 1.0


def tongban(*args: str, cwd: Path) -> None:
    subprocess.run([TONGBAN, *args], cwd=cwd, check=True, capture_output=True, timeout=300)


def request_overhead(home: Path, fed: Federation, count: int) -> dict[str, Any]:
    """The registry's share of a signed request, in-process: ms per request (median)."""
    app = create_app({"home": str(home)})
    now = dt.datetime.now(dt.UTC)
    codes = fed.codes[:: max(1, len(fed.codes) // count)][:count]
    times, opening = [], []
    db = app.extensions["tongban_db"]
    with app.test_request_context("/api/v1/mailbox"):
        g.tongban_db = db
        started = time.perf_counter()
        request_store()  # the process's first request builds its store (once)
        build_ms = (time.perf_counter() - started) * 1000
        g.pop("db_session").close()
        for code in codes:
            # each request: its own session and transaction, as the hub's requests have
            started = time.perf_counter()
            current_session().execute(text("SELECT 1"))  # the request's transaction, open
            opened = time.perf_counter()
            store = request_store()
            store.key_for(code, key_id(fed.keys[code].public_key()), now)
            times.append((time.perf_counter() - opened) * 1000)
            opening.append((opened - started) * 1000)
            g.pop("db_session").close()
    app.extensions["tongban_db"].dispose()
    return {"registry_request_overhead_ms": round(statistics.median(times), 3),
            "registry_request_overhead_p99_ms": round(sorted(times)[int(0.99 * len(times))], 3),
            "registry_request_transaction_ms": round(statistics.median(opening), 3),
            "registry_store_build_ms": round(build_ms, 1)}


def start_hub(work: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """``tongban hub serve`` on a free port, answering ``/healthz``: the process and its URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    with (work / f"hub-{port}.log").open("wb") as hub_log:
        hub = subprocess.Popen(
            [TONGBAN, "hub", "serve", "--home", "hub", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers)],
            cwd=work, env=env, stdout=hub_log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                return hub, base
        except requests.RequestException:
            pass
        if hub.poll() is not None or time.monotonic() > deadline:
            stop_hub(hub)
            raise RuntimeError((work / f"hub-{port}.log").read_text()[-3000:])
        time.sleep(0.2)


def stop_hub(hub: subprocess.Popen[bytes]) -> None:
    hub.terminate()
    try:
        hub.wait(timeout=30)
    except subprocess.TimeoutExpired:
        hub.kill()
        hub.wait()


def cold_start(work: Path, fed: Federation) -> dict[str, Any]:
    """A fresh hub process (one worker) on the enrolled registry: its first signed request."""
    hub, base = start_hub(work, workers=1)
    township = fed.codes[-1]
    transport = HttpHubTransport(base, township, fed.keys[township], timeout=(5.0, 900.0))
    try:
        started = time.perf_counter()
        transport.fetch_mailbox(0, 10)
        first_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        transport.fetch_mailbox(0, 10)
        warm_ms = (time.perf_counter() - started) * 1000
    finally:
        transport.close()
        stop_hub(hub)
    return {"registry_cold_start_ms": round(first_ms, 1),
            "registry_warm_request_ms": round(warm_ms, 1)}


def node_refresh(base: str, fed: Federation, next_seq: dict[str, int]) -> dict[str, Any]:
    """A county's node: its whole part once, then after each new township only the change."""
    county = next(code for code in fed.codes if len(code) == 6 and code[4:] != "00")
    transport = HttpHubTransport(base, county, fed.keys[county])
    root = public_key_b64(fed.root_key.public_key())

    def refresh(cached: Any, store: Any) -> Any:
        return refresh_registry(transport, code=county, root_code=PROVINCE,
                                root_key=lambda _offered: root, cached=cached, store=store)

    started = time.perf_counter()
    current = refresh(None, None)
    first_ms = (time.perf_counter() - started) * 1000
    part_size = current.added
    times = []
    for number in range(5):
        township = f"{county}{900 + number:03d}"
        key = Ed25519PrivateKey.generate()
        fed.keys[township] = key
        now = dt.datetime.now(dt.UTC)
        certificate = issue_certificate(
            issuer_code=county, issuer_key=fed.keys[county], subject=township,
            level="township", kind=None, parent=county,
            public_key_b64=public_key_b64(key.public_key()),
            not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=365),
            serial=10_000_000 + number)
        seq = next_seq.get(county, 1)
        next_seq[county] = seq + 1
        results = transport.post_envelopes([sign_envelope(
            kind=Kind.CERT, sender=county, to="hub", seq=seq, body={"certificate": certificate},
            private_key=fed.keys[county]).to_wire()])
        if [r["status"] for r in results] != ["accepted"]:
            raise RuntimeError(f"enrolment refused: {results}")
        started = time.perf_counter()
        current = refresh(current.document, current.store)
        times.append((time.perf_counter() - started) * 1000)
        if current.added != 1:
            raise RuntimeError(f"a refresh added {current.added} documents, not 1")
    transport.close()
    return {"registry_refresh_ms": round(statistics.median(times), 1),
            "registry_refresh_runs_ms": [round(t, 1) for t in times],
            "registry_first_fetch_ms": round(first_ms, 1),
            "registry_county_part_documents": part_size}


def measure(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tongban-bench-registry-") as tmp:
        work = Path(tmp)
        fed = Federation(args.nodes)
        tongban("hub", "init", "--home", "hub", "--database-url", database_url, cwd=work)
        tongban("hub", "trust-root", "--home", "hub", "--code", PROVINCE, "--public-key",
                public_key_b64(fed.root_key.public_key()), cwd=work)
        hub, base = start_hub(work, args.workers)
        try:
            log(f"enrolling {len(fed.codes)} nodes ...")
            started = time.perf_counter()
            next_seq = enroll(base, fed)
            enrol_seconds = time.perf_counter() - started
            log(f"{len(fed.codes)} enrolled in {enrol_seconds:.1f} s")
            result: dict[str, Any] = {
                "registry_nodes": len(fed.codes),
                "enroll_per_s": round(len(fed.codes) / enrol_seconds, 1),
                "enroll_seconds": round(enrol_seconds, 1),
            }
            result.update(request_overhead(work / "hub", fed, args.requests))
            result.update(cold_start(work, fed))
            result["registry_request_overhead_goal_ms"] = OVERHEAD_GOAL_MS
            result["registry_request_overhead_goal_met"] = (
                result["registry_request_overhead_ms"] <= OVERHEAD_GOAL_MS)
            result.update(node_refresh(base, fed, next_seq))
            full = requests.get(base + "/api/v1/registry", timeout=300)
            full.raise_for_status()
            result["registry_full_bytes"] = len(full.content)
        finally:
            stop_hub(hub)
    return result


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=40_000)
    parser.add_argument("--requests", type=int, default=2000,
                        help="signed requests' registry lookups timed (median)")
    parser.add_argument("--workers", type=int, default=2, help="hub gunicorn workers")
    parser.add_argument("--pg", default=os.environ.get("TONGBAN_BENCH_PG", "") or DEFAULT_PG)
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    with postgres_database(args.pg) as url:
        document = measure(url, args)
    document["database"] = "postgresql"
    document["cpus"] = os.cpu_count()
    # the machine may be shared: its load at the end (1, 5, 15 minutes)
    document["load_average"] = [round(load, 1) for load in os.getloadavg()]
    return document


def main(argv: list[str] | None = None) -> None:
    document = run(argv)
    print(f"registry of {document['registry_nodes']} nodes: enrolment "
          f"{document['enroll_per_s']}/s; per signed request "
          f"{document['registry_request_overhead_ms']} ms (goal ≤ {OVERHEAD_GOAL_MS}); a "
          f"county's refresh after one new township {document['registry_refresh_ms']} ms "
          f"(its first fetch {document['registry_first_fetch_ms']} ms); a fresh hub process's "
          f"first signed request {document['registry_cold_start_ms']} ms; the whole registry "
          f"{document['registry_full_bytes'] / 1e6:.1f} MB")
    print(json.dumps(document, ensure_ascii=False))


if __name__ == "__main__":
    main()
