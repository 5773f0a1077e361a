# ruff: noqa: T201, S608 - a command-line report; the bare queries are fixed text
"""The list benchmark (issue 17, item 2): every staff list on the metrics benchmark's node
(1,000,000 cases by default) through the real app, against its bare indexed query.

    python -m tests.bench.bench_lists [--cases N] [--sqlite-file PATH] [--rounds 7]
                                      [--pg URL] [--pg-cases N] [--no-sqlite]

The node is the one ``tests/bench/bench_metrics.py`` builds (the same generator and seed);
``--sqlite-file`` keeps it and reuses it, and a file bench_metrics built is reused as is (the
migrations since are applied).  Each list is asked through the node's app — its view,
authentication with a bearer token, the service, the ORM, the schema, JSON — with the Flask
test client in this process, and its *ceiling* is the same rows fetched by a hand-written SQL
on a connection of the same engine: the page's rows, newest or most urgent first, as the
index gives them.  Rounds interleave app and ceiling for every list (app, bare, app, bare …),
on the same core; ``<list>_ratio`` is the median over the rounds of app ÷ bare, and
``list_ratio`` the largest of them (the worst list).  Goal: ≤ 2, and no request over 1 s.

The staff home's colour charts (node/home.py by_colour) are measured the same way: the
approver's home page (``home_department``: the node's one department, every open case) and a
clerk's (``home_clerk``: every 100th case is made the bench clerk's), signed in through the
login form, against the bare count of the same open cases; the page's three figures must add
up to that count.  The page also shows the badge and renders its template.

What the ceiling leaves out, and the app does: the token's check, the page's total (counted up
to 1,000), the colour of each row shown (the calendar), the suspended cases' colours (Python,
node/cases/warnings.py: the warning lists' bare queries read running cases only), the rows'
matter, department, window and owner, and the JSON.  The last line of stdout is one JSON
document.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import re
import secrets
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

from tests.bench import bench_metrics as metrics
from tests.bench.interleaved import add_rounds_option, machine_line

GOAL = 2.0
REQUEST_LIMIT_S = 1.0
PER_PAGE = 20
PASSWORD = "bench-lists-pass-7"
TODAY = (metrics.NOW + metrics.SHANGHAI).date()  # 2027-01-02 in Shanghai

# the columns a list row shows, read with the names of what it refers to
ROW = ("SELECT c.*, m.code AS m_code, m.name AS m_name, d.code AS d_code, d.name AS d_name,"
       " w.code AS w_code, w.name AS w_name FROM cases c"
       " JOIN matters m ON m.id = c.matter_id JOIN departments d ON d.id = c.department_id"
       " LEFT JOIN windows w ON w.id = c.window_id")


COMPLAINT_ROW = ("SELECT t.*, c.number AS case_number FROM complaints t"
                 " LEFT JOIN cases c ON c.id = t.case_id")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def say(line: str = "") -> None:
    print(line, flush=True)


def prepare(path: Path, cases: int) -> float | None:
    """The metrics node at ``path``: built unless it already holds ``cases`` cases; brought to
    the current migrations either way.  Returns the build time (None when reused)."""
    from node.app import MIGRATIONS
    from schemas.runtime import migrate
    from schemas.runtime.database import Database

    url = f"sqlite:///{path}"
    found = metrics._count_cases(create_engine(url)) if path.exists() else None
    if found not in (None, cases):
        raise SystemExit(f"{path} holds {found:,} cases, not {cases:,}: remove it or name "
                         "another --sqlite-file")
    build_s = None
    if found is None:
        log(f"building the node: {cases:,} cases (about a minute per million)")
        started = time.perf_counter()
        db = Database(url)
        try:
            metrics.build(db, cases)
        finally:
            db.dispose()
        build_s = round(time.perf_counter() - started, 1)
    db = Database(url)
    try:
        migrate.upgrade(db.engine, MIGRATIONS)  # a file built before the list indexes
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    finally:
        db.dispose()
    path.chmod(0o600)  # the node refuses a database others may read
    return build_s


def prepare_postgresql(pg: str, cases: int) -> tuple[str, str, float]:
    """A fresh schema on ``pg`` holding the metrics node (built, then ``ANALYZE``d as
    autovacuum would shortly after): its URL, the schema's name and the build time."""
    from schemas.runtime.database import Database

    schema = f"bench_lists_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    separator = "&" if "?" in pg else "?"
    url = f"{pg}{separator}options={quote(f'-csearch_path={schema}')}"
    log(f"building the node on PostgreSQL: {cases:,} cases")
    started = time.perf_counter()
    db = Database(url)
    try:
        metrics.build(db, cases)
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    finally:
        db.dispose()
    return url, schema, round(time.perf_counter() - started, 1)


def drop_schema(pg: str, schema: str) -> None:
    admin = create_engine(pg)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def node_app(url: str, key_dir: Path) -> tuple[Any, dict[str, str]]:
    """The node's app on the database, its clock on the metrics node's day, and a
    supervisor's bearer header."""
    from node import create_app
    from node.auth.models import User
    from node.auth.permissions import Role
    from node.auth.service import hash_password
    from schemas.keys import generate_private_key, write_private_key

    key = key_dir / "node_key.pem"
    write_private_key(key, generate_private_key())
    app = create_app({"code": "450981", "name": "北流市政务服务中心", "level": "county",
                      "kind": "county_city", "parent_code": "450900",
                      "database_url": url, "secret_key": secrets.token_urlsafe(32),
                      "private_key_file": str(key)})
    app.extensions["tongban_clock"] = lambda: metrics.NOW
    db = app.extensions["tongban_db"]
    with db.unit_of_work() as session:
        user = session.query(User).filter_by(username="bench-supervisor").one_or_none()
        if user is None:
            session.add(User(username="bench-supervisor", display_name="监察员",
                             role=Role.SUPERVISOR, password_hash=hash_password(PASSWORD),
                             active=True))
        department = session.query(User.department_id).filter(
            User.department_id.is_not(None)).first()
        for username, role, name in (("bench-approver", Role.APPROVER, "审批员"),
                                     ("bench-clerk", Role.CLERK, "受理员")):
            if session.query(User).filter_by(username=username).one_or_none() is None:
                session.add(User(username=username, display_name=name, role=role,
                                 department_id=department[0] if department else 1,
                                 password_hash=hash_password(PASSWORD), active=True))
        session.flush()
        clerk = session.query(User).filter_by(username="bench-clerk").one()
        # the clerk's desk: every 100th case (the node's generator leaves cases unowned)
        session.execute(text("UPDATE cases SET owner_id = :clerk WHERE id % 100 = 0"
                             " AND owner_id IS NULL"), {"clerk": clerk.id})
    client = app.test_client()
    answer = client.post("/api/v1/auth/login",
                         json={"username": "bench-supervisor", "password": PASSWORD})
    assert answer.status_code == 200, answer.get_json()
    token = answer.get_json()["token"]
    return app, {"Authorization": f"Bearer {token}"}


def cursor_at(conn: Any, sql: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A cursor deep in a list (the key of its row at ``OFFSET``), for a deep page: the app's
    opaque cursor and the same key as the bare query's parameters."""
    from node.listing import encode_cursor

    row = conn.exec_driver_sql(sql, params).one()
    day = dt.date.fromisoformat(str(row[0]))
    return encode_cursor([day, int(row[1])]), {"k_day": day, "k_id": int(row[1])}


def lists(conn: Any, app: Any) -> list[dict[str, Any]]:
    """Each list: its request and its bare query with parameters."""
    from node.calendar.service import CalendarService
    from node.cases.warnings import (
        Warning,
        WarningBounds,
        WarningPolicy,
        furthest_deadline,
        running_condition,
    )

    deep_offset = min(400_000, _count(conn, "state = 'delivered'") // 2)
    deep_key, deep = cursor_at(conn, "SELECT received_on, id FROM cases WHERE state = 'delivered'"
                               f" ORDER BY received_on DESC, id DESC LIMIT 1 OFFSET {deep_offset}",
                               {})
    newest = f" ORDER BY c.received_on DESC, c.id DESC LIMIT {PER_PAGE + 1}"
    # the supervision list's colour condition, as the app makes it today (date bounds)
    db = app.extensions["tongban_db"]
    with db.unit_of_work(write=False) as session:
        calendar = CalendarService(session).calendar()
        settings = app.config["TONGBAN"]
        policy = WarningPolicy(settings.warning_yellow_days_left,
                               settings.warning_yellow_used_percent)
        bounds = WarningBounds(calendar, TODAY, policy, furthest_deadline(session))
        condition = running_condition(bounds, (Warning.YELLOW, Warning.RED))
        compiled = condition.compile(dialect=db.engine.dialect,
                                     compile_kwargs={"literal_binds": True})
    coloured = str(compiled).replace("cases.", "c.").replace("{", "{{").replace("}", "}}")
    # SQLite would read the red cases by deadline and sort them: keep that bound off the index
    off_index = "+" if db.engine.dialect.name == "sqlite" else ""
    return [
        {"name": "cases_by_state", "url": f"/api/v1/cases?state=delivered&per_page={PER_PAGE}",
         "sql": f"{ROW} WHERE c.state = 'delivered'{newest}", "params": {}},
        {"name": "cases_by_state_deep",
         "url": f"/api/v1/cases?state=delivered&per_page={PER_PAGE}&cursor={deep_key}",
         "sql": f"{ROW} WHERE c.state = 'delivered'"
                f" AND (c.received_on, c.id) < (:k_day, :k_id){newest}", "params": deep},
        {"name": "cases_by_date_range",
         "url": f"/api/v1/cases?received_from=2026-03-01&received_to=2026-03-31"
                f"&per_page={PER_PAGE}",
         "sql": f"{ROW} WHERE c.received_on BETWEEN '2026-03-01' AND '2026-03-31'{newest}",
         "params": {}},
        {"name": "cases_by_warning", "url": f"/api/v1/cases?warning=red&per_page={PER_PAGE}",
         "sql": per_state(f"{ROW} WHERE c.state = '{{state}}'"
                          f" AND {off_index}c.deadline_on < '{TODAY.isoformat()}'{newest}",
                          "received_on DESC, id DESC"), "params": {}},
        {"name": "supervision_warnings", "url": f"/api/v1/supervision/warnings?per_page={PER_PAGE}",
         "sql": per_state(f"{ROW} WHERE c.state = '{{state}}' AND {coloured}"
                          f" ORDER BY c.deadline_on, c.id LIMIT {PER_PAGE + 1}",
                          "deadline_on, id"), "params": {}},
        {"name": "complaints", "url": f"/api/v1/supervision/complaints?per_page={PER_PAGE}",
         "sql": f"{COMPLAINT_ROW} ORDER BY t.due_on, t.id LIMIT {PER_PAGE + 1}", "params": {}},
        {"name": "complaints_received",
         "url": f"/api/v1/supervision/complaints?state=received&per_page={PER_PAGE}",
         "sql": f"{COMPLAINT_ROW} WHERE t.state = 'received'"
                f" ORDER BY t.due_on, t.id LIMIT {PER_PAGE + 1}",
         "params": {}},
    ]


OPEN = "state IN ('accepted', 'in_review', 'suspended')"
# the chart's figures under it: 正常 g 件，黄灯预警 y 件，红灯超期 r 件
COUNTS = re.compile(r'id="(?:queue-counts|clerk-mine)">\D*(\d+)\D*(\d+)\D*(\d+)')


def homes(conn: Any, app: Any) -> list[dict[str, Any]]:
    """The staff home's colour charts (node/home.py by_colour): the approver's page (their
    department's open cases by colour: every open case of the node's one department) and the
    clerk's (their desk, every 100th case), each page through the app — signed in, the badge,
    the template — against the bare count of the same cases."""
    owner = conn.exec_driver_sql(
        "SELECT id FROM users WHERE username = 'bench-clerk'").scalar_one()
    department = conn.exec_driver_sql(
        "SELECT department_id FROM users WHERE username = 'bench-approver'").scalar_one()
    items = []
    for name, username, where in (
            ("home_department", "bench-approver", f"department_id = {int(department)}"),
            ("home_clerk", "bench-clerk", f"owner_id = {int(owner)}")):
        client = app.test_client()
        login = client.get("/staff/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', login)
        assert token, "no CSRF token on the login page"
        landed = client.post("/staff/login", data={"username": username, "password": PASSWORD,
                                                   "csrf_token": token.group(1)})
        assert landed.status_code == 302, landed.get_data(as_text=True)[:500]
        items.append({"name": name, "page": client,
                      "sql": f"SELECT count(*) FROM cases WHERE {OPEN} AND {where}",
                      "params": {}})
    return items


def per_state(query: str, order: str) -> str:
    """The best hand-written form of a list over the two running states: one index range per
    state (``{state}`` in ``query``), each a page long, merged."""
    parts = " UNION ALL ".join(f"SELECT * FROM ({query.format(state=state)}) AS {state}"
                               for state in ("accepted", "in_review"))
    return f"SELECT * FROM ({parts}) AS page ORDER BY {order} LIMIT {PER_PAGE + 1}"


def _count(conn: Any, where: str) -> int:
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM cases WHERE {where}").scalar_one())


def measure(url: str, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tongban-bench-lists-") as tmp:
        app, headers = node_app(url, Path(tmp))
        client = app.test_client()
        engine = app.extensions["tongban_db"].engine
        with engine.connect() as conn:
            measured = lists(conn, app) + homes(conn, app)
        bare_engine = create_engine(url)  # the same kind of connection

        def ask(item: dict[str, Any]) -> Callable[[], Any]:
            if "page" in item:
                def page() -> Any:
                    answer = item["page"].get("/staff/home")
                    assert answer.status_code == 200, answer.status_code
                    return answer.get_data(as_text=True)
                return page

            def run() -> Any:
                answer = client.get(item["url"], headers=headers)
                assert answer.status_code == 200, answer.get_json()
                return answer.get_json()
            return run

        def bare(item: dict[str, Any]) -> Callable[[], Any]:
            statement = text(item["sql"])

            def run() -> Any:
                with bare_engine.connect() as conn:
                    return conn.execute(statement, item["params"]).all()
            return run

        def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
            started = time.perf_counter()
            result = fn()
            return time.perf_counter() - started, result

        figures: dict[str, Any] = {}
        for item in measured:  # warm both, and check they read the same rows
            _, answer = timed(ask(item))
            _, rows = timed(bare(item))
            item["app"], item["bare"], item["ratios"] = [], [], []
            if "page" in item:  # the chart's three colours count the bare query's cases
                found = COUNTS.search(answer)
                assert found, f"{item['name']}: no counts on the page"
                shown = sum(int(n) for n in found.groups())
                if shown != rows[0][0]:
                    raise SystemExit(f"{item['name']}: the page counts {shown} cases, the "
                                     f"bare query {rows[0][0]}")
                item["rows"], item["total"] = (3, 1), (shown, True)
                continue
            shown = len(answer["items"])
            item["rows"] = (shown, min(len(rows), PER_PAGE))
            key = "number" if item["name"].startswith("complaints") else "id"
            # the warning lists' bare queries read running cases only (a suspended case's
            # colour is not a SQL condition): the app's page holds theirs plus suspended ones
            ours = [i[key] for i in answer["items"] if i.get("state") != "suspended"]
            theirs = [r._mapping[key] for r in rows[:len(ours)]]
            if ours != theirs:
                raise SystemExit(f"{item['name']}: the app and the bare query read other rows "
                                 f"({ours[:3]}… against {theirs[:3]}…)")
            item["total"] = (answer["total"], answer["total_exact"])
        for number in range(rounds):
            for item in measured:
                app_s, _ = timed(ask(item))
                bare_s, _ = timed(bare(item))
                item["app"].append(app_s)
                item["bare"].append(bare_s)
                item["ratios"].append(app_s / bare_s)
            log(f"  round {number + 1}/{rounds}")
        worst_request = 0.0
        for item in measured:
            ratio = statistics.median(item["ratios"])
            worst_request = max(worst_request, *item["app"])
            figures[item["name"]] = {
                "ratio": round(ratio, 2),
                "app_ms": round(1000 * statistics.median(item["app"]), 2),
                "bare_ms": round(1000 * statistics.median(item["bare"]), 2),
                "max_ms": round(1000 * max(item["app"]), 1),
                "rows": item["rows"][0], "bare_rows": item["rows"][1],
                "total": item["total"][0], "total_exact": item["total"][1],
            }
        bare_engine.dispose()
        app.extensions["tongban_db"].dispose()
    list_ratio = max(f["ratio"] for f in figures.values())
    return {"list_ratio": list_ratio, "list_goal": GOAL,
            "list_goal_met": list_ratio <= GOAL and worst_request <= REQUEST_LIMIT_S,
            "list_max_request_ms": round(1000 * worst_request, 1), "lists": figures}


def report(cases: int, build_s: float | None, result: dict[str, Any], rounds: int,
           database: str = "SQLite") -> None:
    say(f"\nlists on {cases:,} cases ({database}), {rounds} interleaved rounds, median of "
        "app ÷ bare" + (f", built in {build_s} s" if build_s is not None else ", database reused"))
    width = max(len(name) for name in result["lists"])
    say(f"  {'list':<{width}}  {'app ms':>9}  {'bare ms':>9}  {'ratio':>7}  {'max ms':>8}"
        "  rows  total")
    for name, f in result["lists"].items():
        total = f"{f['total']}" if f["total_exact"] else f"more than {f['total']}"
        say(f"  {name:<{width}}  {f['app_ms']:>9.2f}  {f['bare_ms']:>9.2f}  {f['ratio']:>7.2f}"
            f"  {f['max_ms']:>8.1f}  {f['rows']:>4}  {total}")
    met = "goal met" if result["list_goal_met"] else "GOAL NOT MET"
    say(f"  list_ratio (the worst list; goal <= {GOAL:g}, no request over "
        f"{REQUEST_LIMIT_S:g} s): {result['list_ratio']:.2f}, slowest request "
        f"{result['list_max_request_ms']:.1f} ms  {met}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_lists",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000,
                        help="cases in the node (default 1,000,000)")
    parser.add_argument("--sqlite-file", metavar="PATH",
                        help="build the node there and keep it; reused when it holds --cases "
                        "cases (a file bench_metrics --sqlite-file built will do)")
    parser.add_argument("--pg", metavar="URL", default=os.environ.get("TONGBAN_BENCH_PG", ""),
                        help="also on PostgreSQL: the node built in a fresh schema, dropped "
                        "afterwards")
    parser.add_argument("--pg-cases", type=int, default=None,
                        help="cases on PostgreSQL (default: --cases)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    add_rounds_option(parser)
    args = parser.parse_args(argv)
    logging.getLogger("tongban.calendar").setLevel(logging.ERROR)  # 2027 holidays unknown
    say(machine_line("list"))
    documents: list[dict[str, Any]] = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp:
            path = Path(args.sqlite_file) if args.sqlite_file else Path(tmp) / "node.db"
            build_s = prepare(path, args.cases)
            result = measure(f"sqlite:///{path}", args.rounds)
        report(args.cases, build_s, result, args.rounds)
        documents.append({"cases": args.cases, "database": "sqlite", "build_s": build_s,
                          "rounds": args.rounds, **result})
    if args.pg:
        cases = args.pg_cases or args.cases
        url, schema, build_s = prepare_postgresql(args.pg, cases)
        try:
            result = measure(url, args.rounds)
        finally:
            drop_schema(args.pg, schema)
        report(cases, build_s, result, args.rounds, "PostgreSQL")
        documents.append({"cases": cases, "database": "postgresql", "build_s": build_s,
                          "rounds": args.rounds, **result})
    if not documents:
        parser.error("nothing to measure: --no-sqlite needs --pg URL")
    document = dict(documents[0])
    for other in documents[1:]:
        document[other["database"]] = other
    # the headline is the worst database's
    document["list_ratio"] = max(d["list_ratio"] for d in documents)
    document["list_goal_met"] = all(d["list_goal_met"] for d in documents)
    say(json.dumps(document, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
