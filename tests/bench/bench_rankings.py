"""The rankings benchmark (issue 6, "Speed"): a league table over 40,000 nodes' summaries at
the hub, against the same ranking done by a bare SQL window function (``RANK() OVER``) over the
same rows in the same run, on SQLite and on PostgreSQL.

    python -m tests.bench.bench_rankings [--nodes N] [--repeat N] [--pg URL] [--no-sqlite]

The hub holds one province of ~40,000 registered nodes (20 cities, 300 counties, the rest
townships), each with a full summary (every metric) for the month and the month before, and a
second, newer version of the month's summary for one node in ten.  Measured:

* ``league``: ``RankingService.league_table`` for the province's townships on one rate —
  newest version per node, peers, competition ranks, the previous month's ranks and values
  for the change, every registered node listed — and its JSON document;
* ``bare_sql``: one statement picking the newest version per node and ranking the same nodes
  on the same value with ``RANK() OVER (ORDER BY … DESC)``, every row fetched.

``ranking_ratio`` = the median over interleaved rounds (league, bare SQL, one-month SQL in each
round, at least five, in one process: the same cores) of league ÷ bare SQL (goal ≤ 2).
Readable lines go to stderr; stdout's last line is one JSON document.  Not a test: pytest
does not collect it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from sqlalchemy import create_engine, insert, text

from hub.metadata import load_all_models
from hub.models import Base, RegisteredNode
from hub.rankings.documents import table_document
from hub.rankings.service import Principal, RankingService
from hub.relay.models import SummaryRecord
from schemas.divisions import Level
from schemas.metrics import ALL_METRICS, Unit
from schemas.periods import Period
from schemas.runtime.database import Database, utcnow
from tests.bench.interleaved import interleave

GOAL = 2.0
PERIOD, PREVIOUS = "2026-10", "2026-09"
METRIC = "on_time_rate"
PROVINCE = "450000"


def say(message: str) -> None:
    sys.stderr.write(message + "\n")


def tree(nodes: int) -> list[tuple[str, Level, str | None, str | None]]:
    """(code, level, kind, parent) of about ``nodes`` nodes under one province."""
    cities, counties_per_city = 20, 15
    towns = max(1, (nodes - 1 - cities - cities * counties_per_city)
                // (cities * counties_per_city))
    kinds = ("district", "county", "county_city")
    found: list[tuple[str, Level, str | None, str | None]] = [
        (PROVINCE, Level.PROVINCE, None, None)]
    for c in range(1, cities + 1):
        city = f"45{c:02d}00"
        found.append((city, Level.CITY, None, PROVINCE))
        for k in range(1, counties_per_city + 1):
            county = f"45{c:02d}{k:02d}"
            found.append((county, Level.COUNTY, kinds[k % 3], city))
            found.extend((f"{county}{t:03d}", Level.TOWNSHIP, None, county)
                         for t in range(1, towns + 1))
    return found


def body(code: str, level: Level, kind: str | None, parent: str | None, period: Period,
         rng: random.Random) -> str:
    metrics: dict[str, dict[str, Any]] = {}
    completed = rng.randint(0, 400)
    for key, info in ALL_METRICS.items():
        if info.unit is Unit.BASIS_POINTS:
            denominator = completed if key == METRIC else rng.randint(0, 400)
            numerator = rng.randint(0, denominator) if denominator else 0
            entry: dict[str, Any] = {"unit": "basis_points", "numerator": numerator,
                                     "denominator": denominator}
            if denominator:
                entry["value"] = (numerator * 20000 + denominator) // (denominator * 2)
            metrics[key] = entry
        elif info.unit is Unit.PER_MONTH:
            metrics[key] = {"unit": "per_month", "numerator": completed, "denominator": 1,
                            "value": completed}
        else:
            metrics[key] = {"unit": info.unit.value, "value": rng.randint(0, 5000)}
    return orjson.dumps({
        "schema": "tongban.summary", "version": 1,
        "node": {"code": code, "name": f"中心{code}", "level": level.value, "kind": kind,
                 "parent": parent},
        "period": {"kind": "month", "label": period.label, "start": period.start.isoformat(),
                   "end": period.end.isoformat()},
        "computed_at": "2026-11-02T00:00:00+00:00", "final": True, "metrics": metrics,
        "catalog": {"should_enter": 0, "entered": 0, "entered_of_should": 0, "authorized": {}},
    }).decode("utf-8")


def build(db: Database, nodes: int) -> dict[str, Any]:
    load_all_models()
    Base.metadata.create_all(db.engine)
    rng = random.Random(6)
    members = tree(nodes)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    seqs: dict[str, int] = {}

    def flush(session: Any) -> None:
        if rows:
            session.execute(insert(SummaryRecord), rows)
            rows.clear()

    with db.unit_of_work() as session:
        session.execute(insert(RegisteredNode), [
            {"code": code, "name": None, "level": level, "kind": kind, "parent_code": parent,
             "registered_at": now} for code, level, kind, parent in members])
        for label in (PREVIOUS, PERIOD, PERIOD):
            period = Period.parse(label)
            for code, level, kind, parent in members:
                if label == PERIOD and seqs.get(code, 0) >= 2 and rng.random() >= 0.1:
                    continue
                seq = seqs[code] = seqs.get(code, 0) + 1
                rows.append({"node": code, "period_label": label, "period_kind": "month",
                             "seq": seq, "envelope_id": str(uuid.uuid4()),
                             "body": body(code, level, kind, parent, period, rng),
                             "received_at": now})
                if len(rows) >= 2000:
                    flush(session)
        flush(session)
    return {"nodes": len(members), "summaries": sum(seqs.values()),
            "townships": sum(1 for m in members if m[1] is Level.TOWNSHIP)}


def bare_sql(dialect: str, periods: int) -> str:
    """``RANK() OVER`` on the newest version of each township's summary: of this month
    (``periods`` 1), or of this month and the last, each ranked apart (2: what a league
    table shows, the ranks of both months).  The value is extracted once per row."""
    if dialect == "postgresql":
        value = f"(CAST(s.body AS JSONB) #>> '{{metrics,{METRIC},value}}')::bigint"
        fence = "OFFSET 0"  # keep the subquery, so the value is extracted once
    else:
        value = f"json_extract(s.body, '$.metrics.{METRIC}.value')"
        fence = "LIMIT -1 OFFSET 0"
    labels = ":period" if periods == 1 else ":period, :previous"
    return f"""
        SELECT period_label, node, value,
               RANK() OVER (PARTITION BY period_label ORDER BY value DESC) AS rank
        FROM (SELECT s.period_label, s.node, {value} AS value
              FROM summaries s
              JOIN (SELECT period_label, node, MAX(seq) AS seq FROM summaries
                    WHERE period_label IN ({labels}) GROUP BY period_label, node) newest
                ON newest.period_label = s.period_label AND newest.node = s.node
                   AND newest.seq = s.seq
              JOIN nodes n ON n.code = s.node
              WHERE n.level = 'township' {fence}) ranked
        WHERE value IS NOT NULL
    """  # noqa: S608 - constants only


def measure(db: Database, repeat: int) -> dict[str, Any]:
    principal = Principal("node", PROVINCE, PROVINCE)
    dialect = db.engine.dialect.name
    both, single = text(bare_sql(dialect, 2)), text(bare_sql(dialect, 1))
    labels = {"period": PERIOD, "previous": PREVIOUS}

    def league() -> dict[str, Any]:
        with db.sessions() as session:
            table = RankingService(session, principal, utcnow()).league_table(
                scope=PROVINCE, period=PERIOD, metric=METRIC, level=Level.TOWNSHIP)
            return table_document(table)

    def window(statement: Any) -> Callable[[], list[Any]]:
        def run_it() -> list[Any]:
            with db.sessions() as session:
                return list(session.execute(statement, labels))
        return run_it

    # interleaved: league, both months' SQL, one month's SQL, in every round (after a warm-up
    # of each alike); the ratio is the median of the rounds' own ratios
    measured = interleave({"league": league, "both": window(both), "single": window(single)},
                          repeat)
    document, rows = measured.results["league"], measured.results["both"]
    league_s, both_s = measured.median("league"), measured.median("both")
    single_s = measured.median("single")
    rows_of = [row for g in document["groups"] for row in g["rows"]]
    ours = {(PERIOD, row["node"]): row["rank"] for row in rows_of if row["rank"] is not None}
    ours |= {(PREVIOUS, row["node"]): row["previous_rank"] for row in rows_of
             if row["previous_rank"] is not None}
    theirs = {(row[0], row[1]): row[3] for row in rows}
    if ours != theirs:
        raise SystemExit(f"the league table and RANK() OVER disagree on {dialect}")
    ratio = measured.ratio("league", "both")
    return {"league_s": round(league_s, 4), "bare_sql_s": round(both_s, 4),
            "bare_sql_one_month_s": round(single_s, 4),
            "ranked": sum(1 for row in rows_of if row["rank"] is not None),
            "listed": len(rows_of), "ranking_ratio": round(ratio, 3),
            "ratio_to_one_month_sql": round(measured.ratio("league", "single"), 3),
            "rounds": repeat, "interleaved": True, "goal_met": ratio <= GOAL}


def run_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'hub.db'}")
        try:
            return run_on(db, "sqlite", args)
        finally:
            db.dispose()


def run_postgresql(args: argparse.Namespace) -> dict[str, Any] | None:
    admin = create_engine(args.pg)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server skips PostgreSQL
        say(f"PostgreSQL skipped: cannot reach {args.pg}: {exc}".splitlines()[0])
        admin.dispose()
        return None
    separator = "&" if "?" in args.pg else "?"
    db = Database(f"{args.pg}{separator}options={quote(f'-csearch_path={schema}')}")
    try:
        return run_on(db, "postgresql", args)
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_on(db: Database, name: str, args: argparse.Namespace) -> dict[str, Any]:
    say(f"== {name} ==")
    started = time.perf_counter()
    built = build(db, args.nodes)
    if name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    built["build_s"] = round(time.perf_counter() - started, 1)
    say(f"  built in {built['build_s']} s: {built['nodes']:,} nodes, "
        f"{built['summaries']:,} summaries")
    figures = measure(db, args.repeat)
    say(f"  league table {figures['league_s'] * 1000:.0f} ms ({figures['ranked']:,} ranked of "
        f"{figures['listed']:,} listed, with last month's ranks); bare RANK() OVER of both "
        f"months {figures['bare_sql_s'] * 1000:.0f} ms: ratio {figures['ranking_ratio']:.2f} "
        f"(goal <= {GOAL:g}); of this month only {figures['bare_sql_one_month_s'] * 1000:.0f}"
        f" ms: ratio {figures['ratio_to_one_month_sql']:.2f}")
    return {"database": name, **built, **figures}


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; the JSON document (``ranking_ratio`` is the worst database's)."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_rankings",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=40_000, help="nodes (default 40,000)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="interleaved rounds (at least 5); the median counts (default 5)")
    parser.add_argument("--pg", metavar="URL",
                        default=os.environ.get("TONGBAN_BENCH_PG",
                                               "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
                        help="PostgreSQL server (a fresh schema, dropped afterwards); skipped "
                        "with a message when unreachable")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args(argv)
    say(f"rankings benchmark: {os.cpu_count()} CPUs, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    parts: dict[str, dict[str, Any]] = {}
    if not args.no_sqlite:
        parts["sqlite"] = run_sqlite(args)
    if not args.no_pg:
        found = run_postgresql(args)
        if found is not None:
            parts["postgresql"] = found
    if not parts:
        raise SystemExit("nothing was measured")
    worst = max(parts.values(), key=lambda part: part["ranking_ratio"])
    return {"ranking_ratio": worst["ranking_ratio"], "goal": GOAL,
            "goal_met": all(p["goal_met"] for p in parts.values()),
            **{f"{name}_ratio": p["ranking_ratio"] for name, p in parts.items()},
            **parts, "pg_skipped": "postgresql" not in parts and not args.no_pg}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(run(), ensure_ascii=False) + "\n")
