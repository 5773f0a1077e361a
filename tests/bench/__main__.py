# ruff: noqa: T201 - a command-line report: print is the output
"""``make bench``: run every benchmark and print one JSON document as the last line.

    .venv/bin/python -m tests.bench                                   # everything
    .venv/bin/python -m tests.bench --only hub_ingest --args hub_ingest='--nodes 200'
    TONGBAN_BENCH_PG=postgresql+psycopg://postgres@127.0.0.1:5432/postgres make bench

Each benchmark is a module ``tests/bench/bench_<name>.py`` run as its own process (so one
cannot disturb another's memory or CPU figures) whose last line of stdout is a JSON document.
Every ``bench_*.py`` found is run, in the order of ``KNOWN`` and then by name; a new module
needs nothing here unless its headline key should be lifted to the top level.  The document
printed holds each headline figure at the top (``summary_ratio``, ``hub_ingest_ratio``, …)
and each benchmark's whole document under its name, beside it.  A benchmark that fails is
reported under ``failed`` with its exit code and last lines of stderr; the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# name -> the headline keys (issues 9 and 17) each benchmark's document carries
KNOWN: dict[str, tuple[str, ...]] = {
    "metrics": ("summary_ratio", "summary_raw_ratio", "rollup_day_ratio"),
    "lists": ("list_ratio",),
    "search": ("case_search_ratio",),
    "hub_ingest": ("hub_ingest_ratio",),
    "rankings": ("ranking_ratio",),
    "node_api": ("node_api_ratio",),
    "forward": ("forward_latency_s",),
    "cli_start": ("cli_start_ratio",),
    "calendar": ("calendar_recompute_ratio",),
    "fleet": ("fleet_nodes", "fleet_ranking_p50_ms", "fleet_ranking_p99_ms",
              "fleet_forward_p50_s", "fleet_forward_p99_s", "fleet_hub_rss_mb", "fleet_errors",
              "fleet_max_nodes"),
    "registry": ("registry_nodes", "registry_request_overhead_ms", "registry_cold_start_ms",
                 "enroll_per_s", "registry_refresh_ms"),
    "request_signing": ("request_verify_ratio", "request_verify_overhead_per_envelope_us"),
    "verification": ("commitment_ratio", "audit_verify_ms", "summary_envelope_bytes"),
}


def available() -> list[str]:
    found = sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))
    return [name for name in KNOWN if name in found] + [n for n in found if n not in KNOWN]


def run_one(name: str, extra: list[str]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    command = [sys.executable, "-m", f"tests.bench.bench_{name}", *extra]
    print(f"== {name}: {shlex.join(command[1:])}", file=sys.stderr, flush=True)
    started = time.monotonic()
    process = subprocess.run(command, stdout=subprocess.PIPE, stderr=None, text=True,
                             check=False, cwd=HERE.parents[1])
    seconds = round(time.monotonic() - started, 1)
    lines = [line for line in process.stdout.splitlines() if line.strip()]
    for line in lines[:-1]:
        print(line)  # the benchmark's readable report
    try:
        document = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        document = None
    if process.returncode != 0 or not isinstance(document, dict):
        return None, {"exit": process.returncode, "seconds": seconds,
                      "last_output": lines[-5:]}
    document.setdefault("seconds", seconds)
    return document, {}


def headline(document: dict[str, Any], key: str) -> Any:
    """The key at the top of a benchmark's document (its first database's figure)."""
    return document.get(key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every benchmark (tests/bench/bench_*.py).")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help=f"run only these (repeatable): {', '.join(available())}")
    parser.add_argument("--args", action="append", default=[], metavar="NAME=ARGS",
                        help="options for one benchmark, e.g. metrics='--cases 100000'")
    options = parser.parse_args(argv)
    extra: dict[str, list[str]] = {}
    for item in options.args:
        name, _, text = item.partition("=")
        extra[name.strip()] = shlex.split(text)
    names = [n for n in available() if not options.only or n in options.only]
    unknown = set(options.only) - set(available())
    if unknown:
        parser.error(f"no benchmark named {', '.join(sorted(unknown))}")

    result: dict[str, Any] = {}
    failed: dict[str, Any] = {}
    parts: dict[str, Any] = {}
    for name in names:
        document, failure = run_one(name, extra.get(name, []))
        if document is None:
            failed[name] = failure
            continue
        for key in KNOWN.get(name, ()):
            if key in document:
                result[key] = headline(document, key)
        parts[name] = document
    result.update(parts)
    if failed:
        result["failed"] = failed
    result["machine"] = {"cpus": os.cpu_count(), "platform": sys.platform,
                         "python": sys.version.split()[0]}
    print(json.dumps(result, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
