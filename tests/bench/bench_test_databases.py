# ruff: noqa: T201 - a command-line report: print is the output
"""Issue 17, "Tests in half the time": the cheapest way to give a test its own database with
the node's tables, measured (tests/databases.py uses the winner of each kind).

SQLite: ``create_all`` on a new file ÷ copying a template file. PostgreSQL (``--pg URL`` or
``TONGBAN_BENCH_PG``): on a new schema, ``create_all`` / the DDL that ``create_all`` emits
replayed as one script; a new database cloned from a template database
(``CREATE DATABASE … TEMPLATE``, both strategies); and the last test's schema emptied with one
``TRUNCATE`` and lent again (tests/databases.py; its "drop" is the truncation). Each way is
timed making the database and dropping it again, the ways alternating round by round
(``--rounds``, default 7, at least 5); medians are reported.

    .venv/bin/python -m tests.bench.bench_test_databases [--pg URL] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, text

from schemas.runtime.database import make_engine
from tests.databases import Templates, metadata_of

Way = Callable[[], tuple[float, float]]  # seconds to make, seconds to drop


def sqlite_ways(folder: Path, templates: Templates) -> dict[str, Way]:
    metadata = metadata_of("node")

    def create_all() -> tuple[float, float]:
        path = folder / f"{uuid.uuid4().hex}.db"
        started = time.perf_counter()
        engine = make_engine(f"sqlite:///{path}")
        metadata.create_all(engine)
        engine.dispose()
        made = time.perf_counter()
        path.unlink()
        return made - started, time.perf_counter() - made

    def copy() -> tuple[float, float]:
        path = folder / f"{uuid.uuid4().hex}.db"
        templates.sqlite_file("node")
        started = time.perf_counter()
        templates.copy_sqlite("node", path)
        made = time.perf_counter()
        path.unlink()
        return made - started, time.perf_counter() - made

    return {"sqlite_create_all": create_all, "sqlite_copy_template": copy}


def postgresql_ways(url: str, templates: Templates) -> tuple[dict[str, Way], Callable[[], None]]:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    metadata = metadata_of("node")
    template = f"tmpl_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{template}"'))
    base = url.rsplit("/", 1)[0]
    engine = create_engine(f"{base}/{template}")
    metadata.create_all(engine)
    engine.dispose()
    separator = "&" if "?" in url else "?"

    def in_schema(fill: Callable[[str], None]) -> tuple[float, float]:
        schema = f"t_{uuid.uuid4().hex[:16]}"
        started = time.perf_counter()
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        fill(f"{url}{separator}options={quote(f'-csearch_path={schema}')}")
        made = time.perf_counter()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        return made - started, time.perf_counter() - made

    def create_all(schema_url: str) -> None:
        engine = create_engine(schema_url)
        metadata.create_all(engine)
        engine.dispose()

    def clone(strategy: str) -> tuple[float, float]:
        name = f"t_{uuid.uuid4().hex[:16]}"
        started = time.perf_counter()
        with admin.connect() as connection:
            connection.execute(text(
                f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY {strategy}'))
        made = time.perf_counter()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}"'))
        return made - started, time.perf_counter() - made

    def reuse() -> tuple[float, float]:
        started = time.perf_counter()
        with templates.postgresql_schema(url, "node"):
            made = time.perf_counter()
        return made - started, time.perf_counter() - made

    def cleanup() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{template}"'))
        admin.dispose()

    return {
        "pg_schema_create_all": lambda: in_schema(create_all),
        "pg_schema_replay_ddl": lambda: in_schema(lambda u: templates.fill_postgresql("node", u)),
        "pg_database_clone_wal_log": lambda: clone("WAL_LOG"),
        "pg_database_clone_file_copy": lambda: clone("FILE_COPY"),
        "pg_schema_emptied_and_reused": reuse,
    }, cleanup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--pg", default=os.environ.get("TONGBAN_BENCH_PG", ""))
    options = parser.parse_args(argv)
    rounds = max(5, options.rounds)
    folder = Path(tempfile.mkdtemp(prefix="tongban-bench-dbs-"))
    templates = Templates()
    ways = sqlite_ways(folder, templates)
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if options.pg:
        pg_ways, cleanup = postgresql_ways(options.pg, templates)
        ways.update(pg_ways)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    try:
        for _ in range(rounds):
            for name, way in ways.items():
                times[name].append(way())
    finally:
        cleanup()
        templates.cleanup()
        shutil.rmtree(folder, ignore_errors=True)
    result: dict[str, Any] = {"rounds": rounds}
    for name, samples in times.items():
        make = statistics.median(s[0] for s in samples)
        drop = statistics.median(s[1] for s in samples)
        result[name] = {"make_ms": round(make * 1000, 1), "drop_ms": round(drop * 1000, 1),
                        "total_ms": round((make + drop) * 1000, 1)}
        print(f"{name:<30} make {make * 1000:8.1f} ms   drop {drop * 1000:8.1f} ms")
    for kind in ("sqlite", "pg"):
        candidates = {n: v["total_ms"] for n, v in result.items()
                      if n.startswith(kind) and isinstance(v, dict)}
        if candidates:
            result[f"{kind}_fastest"] = min(candidates, key=candidates.__getitem__)
            print(f"fastest ({kind}): {result[f'{kind}_fastest']}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
