# ruff: noqa: T201 - a command-line report: print is the output
"""RFC 9421 request verification at the hub (issue 16, item 11): what the hub spends on one
signed push — ``read_signed_headers`` + ``check_signed_request`` (structured fields parsed,
the signature base rebuilt by ``http-message-signatures``, Ed25519, the Content-Digest) — ÷
the bare cryptographic floor of the same request: SHA-256 of the same body plus one Ed25519
verification of a signature base of the same length, with ``cryptography`` directly.

Both run alternately in every round on the same core (``--rounds``, default 7), each over
``--requests`` requests; every figure is the median over rounds.  The body is a push of
``--batch`` (default 10) summary-sized envelopes, as the hub ingest benchmark sends.

    .venv/bin/python -m tests.bench.bench_request_signing [--rounds 7] [--requests 300]

``request_verify_ratio`` = median (verify ÷ floor): how much the profile and the library add
to the work no implementation can skip; ``request_verify_overhead_per_envelope_us`` = the
difference spread over the batch's envelopes, to compare with the hub's per-envelope time
(``hub_ingest_*_ms``).  The last line of stdout is one JSON document.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import statistics
import sys
import time
from typing import Any

ENVELOPE_BYTES = 4630  # the median summary envelope of bench_hub_ingest


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(rounds: int, requests: int, batch: int) -> dict[str, Any]:
    from schemas.keys import generate_private_key
    from schemas.request_signing import check_signed_request, read_signed_headers, sign_request

    key = generate_private_key()
    public = key.public_key()
    body = os.urandom(batch * ENVELOPE_BYTES // 2).hex().encode("ascii")
    path = "/api/v1/envelopes"
    now = dt.datetime.now(dt.UTC)
    signed = [sign_request(method="POST", path=path, body=body, node="450981",
                           private_key=key, now=now) for _ in range(requests)]
    base = b"x" * 300  # about the length of the signature base of such a request
    signature = key.sign(base)

    def verify() -> float:
        started = time.perf_counter()
        for headers in signed:
            check_signed_request(read_signed_headers(headers), method="POST", path=path,
                                 body=body, headers=headers, public_key=public, now=now)
        return (time.perf_counter() - started) / requests

    def floor() -> float:
        started = time.perf_counter()
        for _ in signed:
            hashlib.sha256(body).digest()
            public.verify(signature, base)
        return (time.perf_counter() - started) / requests

    verify(), floor()  # warm up
    samples: list[tuple[float, float]] = []
    for number in range(1, rounds + 1):
        if number % 2:  # alternate which goes first
            subject = verify()
            bare = floor()
        else:
            bare = floor()
            subject = verify()
        samples.append((subject, bare))
        log(f"round {number}: verify {subject * 1e6:.0f} us, floor {bare * 1e6:.0f} us, "
            f"ratio {subject / bare:.2f}")
    verify_s = statistics.median(v for v, _ in samples)
    floor_s = statistics.median(f for _, f in samples)
    ratio = statistics.median(v / f for v, f in samples)
    return {
        "request_verify_ratio": round(ratio, 2),
        "request_verify_us": round(verify_s * 1e6, 1),
        "request_floor_us": round(floor_s * 1e6, 1),
        "request_verify_overhead_per_envelope_us": round((verify_s - floor_s) * 1e6 / batch, 1),
        "body_bytes": len(body),
        "batch": batch,
        "rounds": rounds,
        "requests_per_round": requests,
        "ceiling": "SHA-256 of the same body + one Ed25519 verification, with cryptography "
                   "directly, alternating with the subject in every round on the same core",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--batch", type=int, default=10, help="envelopes per push")
    args = parser.parse_args()
    result = measure(args.rounds, args.requests, args.batch)
    print(f"RFC 9421 verification of one push of {result['batch']} envelopes "
          f"({result['body_bytes']} bytes): {result['request_verify_us']} us against a floor "
          f"of {result['request_floor_us']} us (SHA-256 + Ed25519): ratio "
          f"{result['request_verify_ratio']}; "
          f"{result['request_verify_overhead_per_envelope_us']} us more per envelope")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
