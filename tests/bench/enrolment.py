# ruff: noqa: T201 - progress of a command-line benchmark goes to stderr
"""A province of enrolled nodes for the benchmarks and the hub's scale tests: division codes,
keys, certificates pushed by each parent (the province's under the root key), summary and
forward bodies, and the measuring helpers the benchmarks share.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import sys
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

from node.metrics.summary import metric_entries
from schemas.certificates import issue_certificate
from schemas.divisions import level_of, parent_of
from schemas.envelope import Kind, sign_envelope
from schemas.keys import public_key_b64
from schemas.metrics import COUNTS, RATES
from schemas.request_signing import sign_request

PROVINCE = "450000"
POWERS = ("accept", "review", "coordinate", "deliver", "litigate", "issue", "approve")


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
    """A summary shaped exactly like the one node.metrics.jobs.send_summaries signs: every
    metric of node.metrics.summary.summarize(), and the audit head."""
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
        # the audit head every summary carries (issue 16): the hub stores an anchor for each
        "audit": {"entries": rand.randint(0, 10**6), "head": rand.randbytes(32).hex(),
                  "restore": None},
    }


def small_province(townships: int, counties: int = 4) -> list[str]:
    """The province, one city, ``counties`` county-level centers under it and ``townships``
    townships dealt out among them: parents before children."""
    counties_codes = [f"4509{k:02d}" for k in range(1, counties + 1)]
    return [PROVINCE, "450900", *counties_codes,
            *(f"{counties_codes[t % counties]}{101 + t // counties:03d}"
              for t in range(townships))]


class Federation:
    def __init__(self, count: int, seed: int = 7, codes: list[str] | None = None) -> None:
        self.codes = codes if codes is not None else division_codes(count)
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
    headers = signed_headers("POST", path, body, node, key)
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




def forward_body(origin: str, number: int) -> dict[str, Any]:
    """A ``case.forward`` body of a case of ``origin`` (a township), without attachments."""
    return {
        "origin": {"node": origin, "case_number": f"{origin}-20261206-{number:04d}"},
        "chain": [origin],
        "matter": {"code": "GX-SP-001", "name": "食品经营许可", "standard_code": None},
        "applicant": {"name": "北流市某某食品有限公司", "id_number": None, "phone": None,
                      "kind": "organisation"},
        "channel": "window",
        "received_on": "2026-12-06",
        "accepted_on": "2026-12-06",
        "promised_days": 10,
        "deadline_on": "2026-12-18",
        "notes": "",
        "attachments": [],
        "forwarded_at": "2026-12-06T10:00:00+08:00",
    }


def signed_forward(fed: Federation, origin: str, to: str, seq: int, number: int) -> dict[str, Any]:
    """A signed ``case.forward`` from ``origin`` to ``to``."""
    return sign_envelope(kind=Kind.CASE_FORWARD, sender=origin, to=to, seq=seq,
                         body=forward_body(origin, number),
                         private_key=fed.keys[origin]).to_wire()


def signed_headers(method: str, path: str, body: bytes, node: str,
                   key: Ed25519PrivateKey) -> dict[str, str]:
    """The headers of a request signed by ``node`` as its sync worker signs them."""
    return sign_request(method=method, path=path, body=body, node=node, private_key=key,
                        now=dt.datetime.now(dt.UTC))
