# ruff: noqa: T201 - a command-line report: print is the output
"""The calendar recompute benchmark (issue 14): a node with 100,000 open cases whose deadlines
run into 2027; the province's 2027 schedule is adopted and every open case it moves is
recomputed in the same transaction (new deadline, provisional mark, a case event and an audit
entry each) ÷ a bare SQL ``UPDATE`` writing the same new deadlines to the same rows.

    python -m tests.bench.bench_calendar [--cases N] [--rounds N] [--profile]

Both run on copies of one SQLite file built once, so each round starts from the same state;
subject and baseline alternate round by round (interleaved, on the same cores) and the ratio
is the median of the per-round ratios.  ``calendar_recompute_ratio``: goal ≤ 5.

Readable lines go to stdout, progress to stderr, and the last line of stdout is one JSON
document.  Not a test: pytest does not collect this file.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import logging
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from node.calendar.schedules import read_json_schedule
from node.calendar.service import CalendarService
from node.calendar.workdays import WorkingCalendar
from node.cases.models import Case, CaseEvent, Suspension, SuspensionKind
from node.cases.recompute import recompute_open_cases
from node.cases.states import CaseState
from node.catalog.models import Department, Matter, Window
from node.metadata import load_all_models
from node.models import Base
from schemas.runtime.database import Database
from tests.bench.interleaved import add_rounds_option, machine_line

DEMO_2027 = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "holidays-2027-demo.json"
GOAL = 5.0


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def build(path: Path, cases: int) -> None:
    """``cases`` open cases accepted from mid-November to the end of 2026, promising 5 to 30
    working days (every deadline in 2027 counted on weekends only), 2 % of them suspended."""
    load_all_models()
    db = Database(f"sqlite:///{path}")
    Base.metadata.create_all(db.engine)
    calendar = WorkingCalendar()
    rng = random.Random(14)
    with db.unit_of_work() as session:
        department = Department(code="SC", name="市场监督管理局")
        session.add(department)
        session.flush()
        window = Window(code="W01", name="窗口", location="")
        session.add(window)
        session.flush()
        matter = Matter(code="M1", name="食品经营许可", category="administrative_licence",
                        department_id=department.id, window_id=window.id,
                        handling_level="county", handling_type="promised",
                        legal_limit_days=30, promised_limit_days=20, should_enter=True,
                        entered=True, notify_and_commit=False, deemed_approval=True,
                        window_authority="")
        session.add(matter)
        session.flush()
        now = dt.datetime(2026, 12, 6, 2, tzinfo=dt.UTC)
        rows, stops = [], []
        first = dt.date(2026, 11, 16)
        for number in range(1, cases + 1):
            accepted = first + dt.timedelta(days=rng.randrange(46))
            promised = rng.choice((5, 10, 15, 20, 30))
            deadline = calendar.add_working_days(accepted, promised)
            suspended = number % 50 == 0
            rows.append({
                "id": number, "number": f"450981-2026-{number:07d}", "query_code_hash": "x",
                "matter_id": matter.id, "department_id": department.id, "window_id": window.id,
                "channel": "window", "state": (CaseState.SUSPENDED if suspended
                                               else CaseState.IN_REVIEW).value,
                "version": 1, "applicant_name": "申请人", "applicant_consent": False,
                "received_at": now, "received_on": accepted, "accepted_on": accepted,
                "deemed_accepted": False, "promised_days": promised, "extension_days": 0,
                "deadline_on": deadline, "deadline_provisional": deadline.year >= 2027,
                "deemed_approved": False, "fee_due_fen": 0, "fee_paid_fen": 0, "notes": "",
                "updated_at": now,
            })
            if suspended:
                stops.append({"case_id": number, "kind": SuspensionKind.TESTING.value,
                              "start_on": accepted + dt.timedelta(days=1), "end_on": None,
                              "reason": "检验检测", "notice_number": f"S{number}",
                              "started_by": "approver"})
        for start in range(0, len(rows), 5000):
            session.execute(insert(Case.__table__), rows[start:start + 5000])  # type: ignore[arg-type]
        if stops:
            session.execute(insert(Suspension.__table__), stops)  # type: ignore[arg-type]
    db.dispose()


class Clock:
    def __call__(self) -> dt.datetime:
        return dt.datetime(2026, 12, 6, 2, tzinfo=dt.UTC)


def subject(path: Path, profile: cProfile.Profile | None = None) -> tuple[float, int]:
    """Adopt 2027 (import: the same recompute as a publish adopted) in one transaction."""
    db = Database(f"sqlite:///{path}")
    document = read_json_schedule(DEMO_2027.read_bytes(), 2027)
    started = time.perf_counter()
    if profile is not None:
        profile.enable()
    with db.unit_of_work() as session:
        service = CalendarService(session, clock=Clock(), recompute=recompute_open_cases)
        change = service.import_schedule(document, "bench")
    if profile is not None:
        profile.disable()
    seconds = time.perf_counter() - started
    db.dispose()
    assert change.recompute is not None
    return seconds, sum(1 for m in change.recompute.moved if m.before != m.after)


def baseline(path: Path, pairs: list[dict[str, Any]]) -> float:
    """The same new deadlines written to the same rows by one bare UPDATE statement."""
    db = Database(f"sqlite:///{path}")
    statement = (update(Case.__table__)  # type: ignore[arg-type]
                 .where(Case.__table__.c.id == bindparam("case_id"))
                 .values(deadline_on=bindparam("new_deadline")))
    started = time.perf_counter()
    with db.unit_of_work() as session:
        session.connection().execute(statement, pairs)
    seconds = time.perf_counter() - started
    db.dispose()
    return seconds


def moved_pairs(path: Path, original: Path) -> list[dict[str, Any]]:
    """(case id, new deadline) of every case the subject moved, read from its result."""
    before = Database(f"sqlite:///{original}")
    after = Database(f"sqlite:///{path}")
    with before.sessions() as old, after.sessions() as new:
        was = {row.id: row.deadline_on for row in old.execute(select(Case.id, Case.deadline_on))}
        now = {row.id: row.deadline_on for row in new.execute(select(Case.id, Case.deadline_on))}
        events = new.scalar(select(CaseEvent.id).order_by(CaseEvent.id.desc()).limit(1))
    before.dispose()
    after.dispose()
    assert events, "the subject recorded no case event"
    return [{"case_id": i, "new_deadline": d} for i, d in now.items() if was[i] != d]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_calendar",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    add_rounds_option(parser, default=5)
    parser.add_argument("--profile", action="store_true",
                        help="print the subject's profile (one extra run)")
    args = parser.parse_args(argv)
    logging.getLogger("tongban.calendar").setLevel(logging.ERROR)  # 2027 unknown at build
    say(machine_line("calendar"))
    with tempfile.TemporaryDirectory(prefix="tongban-bench-calendar-") as work:
        original = Path(work) / "original.db"
        started = time.perf_counter()
        build(original, args.cases)
        build_s = time.perf_counter() - started
        say(f"built {args.cases} open cases in {build_s:.1f} s")
        copy = Path(work) / "round.db"
        shutil.copyfile(original, copy)
        warm, moved = subject(copy)
        pairs = moved_pairs(copy, original)
        say(f"warm-up: recompute {warm:.2f} s, {moved} deadlines moved")
        rounds = []
        for number in range(1, max(args.rounds, 5) + 1):
            shutil.copyfile(original, copy)
            bare = baseline(copy, pairs)
            shutil.copyfile(original, copy)
            seconds, _ = subject(copy)
            rounds.append({"round": number, "recompute_s": round(seconds, 3),
                           "bare_update_s": round(bare, 3), "ratio": round(seconds / bare, 2)})
            say(f"round {number}: recompute {seconds:.2f} s, bare UPDATE {bare:.3f} s, "
                f"ratio {seconds / bare:.2f}")
        profile_text = ""
        if args.profile:
            shutil.copyfile(original, copy)
            profiler = cProfile.Profile()
            subject(copy, profiler)
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
            profile_text = out.getvalue()
    ratio = statistics.median(r["ratio"] for r in rounds)
    print(f"calendar recompute: {args.cases} open cases, {moved} deadlines moved (each with an "
          f"event and an audit entry)")
    print(f"  recompute median {statistics.median(r['recompute_s'] for r in rounds):.2f} s, "
          f"bare UPDATE median {statistics.median(r['bare_update_s'] for r in rounds):.3f} s")
    print(f"  calendar_recompute_ratio {ratio:.2f} (goal ≤ {GOAL:g}: "
          f"{'met' if ratio <= GOAL else 'NOT met'})")
    if profile_text:
        print(profile_text)
    print(json.dumps({"calendar_recompute_ratio": ratio, "goal": GOAL, "met": ratio <= GOAL,
                      "cases": args.cases, "moved": moved, "database": "sqlite",
                      "build_s": round(build_s, 1), "rounds": rounds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
