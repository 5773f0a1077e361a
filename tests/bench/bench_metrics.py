"""The metrics benchmark (issue 4, "Speed"): a node with 1,000,000 cases; the month summary
time against a bare SQL ``GROUP BY`` over the same rows in the same run; the daily roll-up time.

    python -m tests.bench.bench_metrics [--cases N] [--repeat N] [--pg URL] [--no-sqlite]
                                        [--sqlite-file PATH] [--explain]

Absolute times on shared machines are noise, so the figures that count are ratios against a
ceiling measured in the same run on the same rows, interleaved (in every round the ceiling and
each subject run one after the other, in this process; at least five rounds; each ratio is the
median of the rounds' own ratios):

* ``summary_ratio`` = the month summary (with its daily roll-ups in place) ÷ a bare
  ``GROUP BY completed_on`` over that month's cases (goal of issue 4: at most 3);
* ``summary_raw_ratio`` = the month summary computed from the raw cases (its roll-ups
  forgotten in a transaction rolled back) ÷ the same ``GROUP BY``: what the roll-up cache saves;
* ``rollup_day_ratio`` = one day's roll-up refresh (the latest full day, 30 December) ÷ the bare
  ``GROUP BY`` of that day (goal of issue 17: at most 3).

Readable tables go to stdout, progress to stderr, and the last line of stdout is one JSON
document (keys in docs/performance.md).  Not a test: pytest does not collect this file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import math
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    Date,
    Engine,
    MetaData,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    inspect,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import node.metrics.summary as summary_module
from node.app import MIGRATIONS
from node.calendar.workdays import WorkingCalendar, national_day_status
from node.cases.models import Case, SupplementNotice, Suspension
from node.catalog.models import Department, Matter, StaffMember, Window
from node.feedback.models import Complaint, Evaluation, Rectification
from node.metrics.models import DailyFigure
from node.metrics.patterns import PatternPolicy
from node.metrics.rollup import refresh
from node.metrics.summary import NodeIdentity, summarize
from node.models import Base
from node.rollups import DailyRollup, invalidate
from schemas.periods import Period
from schemas.runtime import migrate
from schemas.runtime.database import Database, mark_writing
from tests.bench.interleaved import machine_line

YEAR = 2026
FIRST = dt.date(YEAR, 1, 1)
LAST = dt.date(YEAR, 12, 31)
MONTH = Period.month(YEAR, 6)  # the month a user asks for: one in the middle of the year
YEAR_PERIOD = Period.parse(str(YEAR))
# 12:00 on 2 January in Shanghai: every day of the year is over, so every roll-up is final
NOW = dt.datetime(YEAR + 1, 1, 2, 4, 0, tzinfo=dt.UTC)
GOAL = 3.0
ROLLUP_DAY_GOAL = 3.0
# "today" for the roll-up ratio: the latest full day of the year that is not a month's end (a
# month's last day also stores the state at its end, once a month)
DAY = dt.date(YEAR, 12, 30)
NODE = NodeIdentity("450981", "北流市政务服务中心", "county", "county_city", "450900")
POLICY = PatternPolicy(two_headed_window_days=30)
BATCH = 10_000
SHANGHAI = dt.timedelta(hours=8)  # China keeps no daylight saving time
ONE_DAY = dt.timedelta(days=1)

# The ceiling: what any month summary has to do at least, over the same rows.
GROUP_BY = text(
    "SELECT completed_on, count(*),"
    " sum(CASE WHEN completed_on <= deadline_on THEN 1 ELSE 0 END),"
    " sum(CASE WHEN completed_on = accepted_on THEN 1 ELSE 0 END)"
    " FROM cases WHERE completed_on BETWEEN :start AND :end GROUP BY completed_on"
).bindparams(bindparam("start", type_=Date()), bindparam("end", type_=Date()))


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Progress:
    """One progress line on stderr, rewritten in place at most twice a second."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total = label, total
        self.started = self.shown = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.next_percent = 25

    def update(self, done: int, *, final: bool = False) -> None:
        now = time.perf_counter()
        percent = 100 * done // max(self.total, 1)
        if self.tty and not final and now - self.shown < 0.5:
            return
        if not self.tty and not final and percent < self.next_percent:
            return  # a log file gets a line every 25 %
        self.shown, self.next_percent = now, percent // 25 * 25 + 25
        elapsed = now - self.started
        rate = done / elapsed if elapsed else 0.0
        sys.stderr.write(
            ("\r" if self.tty else "")
            + f"  {self.label}: {done:,}/{self.total:,} ({percent} %)"
            f"  {elapsed:5.1f} s  {rate:,.0f}/s   "
            + ("\n" if final or not self.tty else "")
        )
        sys.stderr.flush()


# -- the node's data ------------------------------------------------------------------------


@dataclass(frozen=True)
class MatterSpec:
    id: int
    promised: int
    fee_fen: int
    deemed_approval: bool


def _utc(day: dt.date, seconds: float) -> dt.datetime:
    """The UTC moment ``seconds`` after midnight of ``day`` in Shanghai."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - SHANGHAI + dt.timedelta(
        seconds=seconds
    )


def build_catalog(session: Session) -> list[MatterSpec]:
    """One department, one window, 50 matters (20 immediate), a dozen staff members."""
    created = dt.datetime(YEAR - 1, 12, 1, tzinfo=dt.UTC)
    _insert_batches(session, Department, iter([
        {"id": 1, "code": "450981-XZSP", "name": "北流市行政审批局", "retired_at": None,
         "created_at": created},
    ]))
    _insert_batches(session, Window, iter([
        {"id": 1, "code": "W01", "name": "综合受理窗口", "location": "一楼大厅",
         "retired_at": None, "created_at": created},
    ]))
    _insert_batches(session, "window_departments", iter([{"window_id": 1, "department_id": 1}]))
    kinds = ("civil_servant", "public_institution", "temporary")
    _insert_batches(session, StaffMember, iter([
        {"id": i, "code": f"S{i:03d}", "name": f"窗口人员{i}", "staff_type": kinds[i % 3],
         "department_id": 1, "window_id": 1, "position": "受理", "active": i != 12,
         "created_at": created}
        for i in range(1, 13)
    ]))
    categories = ("administrative_licence", "non_licence_approval", "public_service")
    promised_cycle = (0, 0, 0, 0, 1, 3, 5, 5, 10, 20)
    specs, rows = [], []
    for m in range(50):
        promised = promised_cycle[m % len(promised_cycle)]
        fee = 1000 + 500 * (m % 9) if m % 5 == 0 else 0
        deemed = promised > 0 and m % 7 == 3
        specs.append(MatterSpec(m + 1, promised, fee, deemed))
        entered = m % 10 != 9
        rows.append({
            "id": m + 1, "code": f"450981-XZSP-{m + 1:03d}", "name": f"事项{m + 1:02d}",
            "category": categories[m % 3], "department_id": 1, "window_id": 1,
            "handling_level": "county",
            "handling_type": "immediate" if promised == 0 else "promised",
            "notify_and_commit": m % 11 == 0, "deemed_approval": deemed,
            "legal_limit_days": promised * 2, "promised_limit_days": promised,
            "should_enter": m % 25 != 24, "entered": entered,
            "legal_basis": "《中华人民共和国行政许可法》", "procedure": "受理—审核—办结",
            "conditions": "", "fee_basis": "" if fee == 0 else "物价部门核定",
            "fee_standard": "" if fee == 0 else f"{fee / 100:.2f} 元/件", "fee_amount_fen": fee,
            "complaint_channel": "12345", "window_authority": "",
            "power_accept": True, "power_review": entered, "power_coordinate": m % 2 == 0,
            "power_deliver": True, "power_litigate": m % 4 == 0, "power_issue": m % 3 == 0,
            "power_approve": entered and m % 3 != 2, "retired_at": None,
            "created_at": created, "updated_at": created,
        })
    _insert_batches(session, Matter, iter(rows))
    return specs


@dataclass
class Generator:
    """Cases of one year in received order (ids rise with ``received_at``), with their
    notices, and a sample of completed cases for evaluations and complaints."""

    n: int
    matters: list[MatterSpec]
    rng: random.Random = field(default_factory=lambda: random.Random(20260601))
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    deadlines: dict[tuple[dt.date, int], dt.date] = field(default_factory=dict)
    notices: list[dict[str, Any]] = field(default_factory=list)
    suspensions: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    evaluated: list[tuple[int, dt.datetime]] = field(default_factory=list)
    recent: list[tuple[str, int, str]] = field(default_factory=list)

    def deadline(self, accepted: dt.date, promised: int) -> dt.date:
        key = (accepted, promised)
        if key not in self.deadlines:
            self.deadlines[key] = self.calendar.add_working_days(accepted, promised)
        return self.deadlines[key]

    def per_day(self) -> list[tuple[dt.date, int]]:
        """How many cases each day receives: working days 1, other days 0.12 (online)."""
        days, day = [], FIRST
        while day <= LAST:
            days.append((day, 1.0 if national_day_status(day).working else 0.12))
            day += ONE_DAY
        total = sum(w for _, w in days)
        counts = [int(self.n * w / total) for _, w in days]
        for i in range(self.n - sum(counts)):
            counts[i * 7 % len(counts)] += 1
        return [(d, c) for (d, _), c in zip(days, counts, strict=True)]

    def rows(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        weights = [1 / (rank + 1) ** 0.8 for rank in range(len(self.matters))]
        order = list(self.matters)
        rng.shuffle(order)
        cum = list(_accumulate(weights))
        case_id = 0
        for day, count in self.per_day():
            working = national_day_status(day).working
            moments = sorted(
                rng.uniform(8.5 * 3600, 17.5 * 3600) if working and rng.random() < 0.9
                else rng.uniform(0, 86400)
                for _ in range(count)
            )
            for seconds in moments:
                case_id += 1
                matter = rng.choices(order, cum_weights=cum)[0]
                yield self.case(case_id, day, seconds, working, matter)

    def case(
        self, case_id: int, day: dt.date, seconds: float, working: bool, matter: MatterSpec
    ) -> dict[str, Any]:
        rng = self.rng
        in_hours = working and 8.5 * 3600 <= seconds <= 17.5 * 3600
        if not in_hours:
            channel = "online"
        else:
            channel = rng.choices(
                ("window", "online", "village_agent", "department_office"),
                cum_weights=(55, 82, 94, 100),
            )[0]
        person = rng.randrange(max(1000, int(self.n * 0.35)))
        applicant: str | None = f"450981{person:011d}X"
        matter_id = matter.id
        if self.recent and rng.random() < 0.004:  # 两头受理: the same person, another channel
            applicant, matter_id, before = rng.choice(self.recent)
            matter = self.matters[matter_id - 1]
            channel = next(c for c in ("window", "online", "village_agent") if c != before)
        elif rng.random() < 0.03:
            applicant = None  # a firm, identified otherwise
        if applicant is not None:
            if len(self.recent) < 3000:
                self.recent.append((applicant, matter_id, channel))
            else:
                self.recent[case_id % 3000] = (applicant, matter_id, channel)
        received_at = _utc(day, seconds)
        row: dict[str, Any] = {
            "id": case_id,
            "number": f"450981-{YEAR}-{case_id:07d}",
            "query_code_hash": hashlib.sha256(f"{case_id}".encode()).hexdigest(),
            "matter_id": matter_id, "department_id": 1, "window_id": 1,
            "channel": channel, "state": "accepted", "version": 1,
            "applicant_name": f"申请人{person % 9973}", "applicant_id_number": applicant,
            "applicant_phone": f"138{person % 100_000_000:08d}",
            "agent_name": None, "agent_id_number": None, "applicant_consent": False,
            "owner_id": None, "received_at": received_at, "received_on": day,
            "accepted_on": None, "deemed_accepted": False, "promised_days": matter.promised,
            "deadline_on": None, "decided_on": None, "deemed_approved": False,
            "completed_on": None, "completed_at": None, "delivered_at": None,
            "closed_on": None, "forwarded_on": None, "origin_node_code": None,
            "origin_case_number": None, "commitment": None,
            "fee_due_fen": matter.fee_fen, "fee_waived_reason": None, "fee_paid_fen": 0,
            "fee_paid_at": None, "fee_paid_where": None, "notes": "",
            "updated_at": received_at,
        }
        if channel == "village_agent":
            row.update(agent_name="代办员", agent_id_number=f"450981{person % 997:011d}Y",
                       applicant_consent=True)
        if rng.random() < 0.01:  # forwarded in from a township below
            row.update(origin_node_code="450981101",
                       origin_case_number=f"450981101-{YEAR}-{case_id:07d}")
        roll = rng.random()
        if roll < 0.02:  # refused acceptance
            row.update(state="rejected", closed_on=day + ONE_DAY * rng.choice((0, 0, 1, 2)))
            return row
        if roll < 0.03:  # withdrawn
            row.update(state="withdrawn", closed_on=day + ONE_DAY * rng.randint(0, 3))
            return row
        if roll < 0.035 and row["origin_node_code"] is None:  # forwarded up (上报)
            forwarded = day + ONE_DAY * rng.choice((0, 0, 1))
            row.update(state="forwarded", forwarded_on=forwarded, closed_on=forwarded)
            if rng.random() < 0.5:
                row["accepted_on"] = day
                row["deadline_on"] = self.deadline(day, matter.promised)
            return row
        # accepted: on the spot, after a one-time notice, or deemed (no notice in time)
        accepted = day
        notice_roll = rng.random()
        if notice_roll < 0.08:
            accepted = day + ONE_DAY * rng.randint(1, 3)
            self.notice(case_id, received_at, 1)
            if notice_roll < 0.01:
                self.notice(case_id, received_at + ONE_DAY, 2)
        elif notice_roll < 0.083:
            row["deemed_accepted"] = True
        deadline = self.deadline(accepted, matter.promised)
        row.update(accepted_on=accepted, deadline_on=deadline)
        finish = rng.random()
        if finish < 0.70:
            completed = accepted
        elif finish < 0.95:
            completed = accepted + ONE_DAY * rng.randint(0, max(0, (deadline - accepted).days))
        else:
            completed = deadline + ONE_DAY * rng.randint(1, 10)
        # still open at the end of the year: a few stalled ones from any month, most of the
        # last two months', and those that would finish next year (about 10 % in all)
        recent = max(0.0, 1 - (LAST - accepted).days / 60)
        if rng.random() < 0.03 + 0.65 * recent or completed > LAST:
            row["state"] = rng.choices(
                ("accepted", "in_review", "suspended", "approved"), cum_weights=(40, 90, 95, 100)
            )[0]
            if row["state"] == "approved":
                row["decided_on"] = accepted
            if row["state"] == "suspended":
                self.suspension(case_id, accepted, deadline, ended=None)
            self.fee(row, accepted, 0.5)
            return row
        decided = completed
        if matter.deemed_approval and completed > deadline and rng.random() < 0.3:
            decided = deadline + ONE_DAY
            completed = max(completed, decided)
            row["deemed_approved"] = True
        completed_at = _utc(completed, rng.uniform(9 * 3600, 17.5 * 3600))
        delivered = rng.random() < 0.85
        row.update(
            state="delivered" if delivered else "completed",
            decided_on=decided, completed_on=completed, completed_at=completed_at,
            delivered_at=completed_at + dt.timedelta(minutes=rng.randint(5, 90))
            if delivered else None,
            closed_on=completed, updated_at=completed_at,
        )
        self.fee(row, accepted, 1.0)
        if matter.promised >= 5 and completed > accepted and rng.random() < 0.02:
            self.suspension(case_id, accepted, deadline, ended=completed)
        if rng.random() < 0.006:
            self.evaluated.append((case_id, completed_at))
        return row

    def fee(self, row: dict[str, Any], day: dt.date, paid_share: float) -> None:
        if row["fee_due_fen"] and self.rng.random() < paid_share:
            row.update(
                fee_paid_fen=row["fee_due_fen"],
                fee_paid_at=_utc(day, self.rng.uniform(9 * 3600, 17 * 3600)),
                fee_paid_where="elsewhere" if self.rng.random() < 0.08 else "center_bank",
            )
            self.payments.append({
                "case_id": row["id"], "amount_fen": row["fee_paid_fen"],
                "place": row["fee_paid_where"], "paid_at": row["fee_paid_at"],
                "recorded_by": "clerk",
            })

    def suspension(self, case_id: int, accepted: dt.date, deadline: dt.date,
                   ended: dt.date | None) -> None:
        """A special procedure (Art. 45); most start before the deadline, some after it."""
        last = max(accepted, ended - ONE_DAY if ended else deadline + 3 * ONE_DAY)
        start = accepted + ONE_DAY * self.rng.randint(0, (last - accepted).days)
        self.suspensions.append({
            "case_id": case_id, "kind": self.rng.choice(
                ("site_inspection", "expert_review", "testing", "hearing")),
            "start_on": start, "end_on": ended, "reason": "现场勘查",
            "notice_number": f"TZ-{YEAR}-{case_id:07d}", "started_by": "approver",
            "ended_by": "approver" if ended else None,
        })

    def notice(self, case_id: int, received_at: dt.datetime, sequence: int) -> None:
        self.notices.append({
            "number": f"BZ-{YEAR}-{case_id:07d}-{sequence}", "case_id": case_id,
            "sequence": sequence, "items": '[{"material": "身份证复印件", "note": "不清晰"}]',
            "repeat_reason": "补正材料仍不齐全" if sequence > 1 else None,
            "issued_at": received_at + dt.timedelta(minutes=20), "issued_by": "clerk",
        })


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def _insert_batches(session: Session, model: Any, rows: Iterator[dict[str, Any]],
                    progress: Progress | None = None) -> int:
    """Core ``INSERT`` executemany in batches (not the ORM: no unit of work, no RETURNING).

    The table is reflected from the database, so that the rows fit the schema the migrations
    made even while the models differ from it: keys the table lacks are dropped, and columns
    the rows do not name get the model's scalar default (e.g. a column added since).
    """
    conn = session.connection()
    name = model if isinstance(model, str) else model.__tablename__
    table = Table(name, MetaData(), autoload_with=conn)
    declared = Base.metadata.tables.get(name)
    done, batch = 0, []
    keep: set[str] | None = None
    defaults: dict[str, Any] = {}
    for row in rows:
        if keep is None:
            keep = set(row) & set(table.c.keys())
            for column in table.c:
                model_column = declared.c.get(column.name) if declared is not None else None
                default = model_column.default if model_column is not None else None
                if column.name not in row and default is not None and default.is_scalar:
                    defaults[column.name] = default.arg  # type: ignore[attr-defined]
        fitted = row if len(keep) == len(row) else {k: row[k] for k in keep}
        batch.append({**defaults, **fitted} if defaults else fitted)
        if len(batch) == BATCH:
            conn.execute(insert(table), batch)
            done += len(batch)
            batch = []
            if progress and done < progress.total:
                progress.update(done)
    if batch:
        conn.execute(insert(table), batch)
        done += len(batch)
    if progress:
        progress.update(done, final=True)
    return done


def build(db: Database, n: int) -> dict[str, int]:
    """Fill an empty node database (schema by the migrations) with a year of cases."""
    migrate.upgrade(db.engine, MIGRATIONS)
    with db.unit_of_work() as session:
        matters = build_catalog(session)
        gen = Generator(n, matters)
        cases = _insert_batches(session, Case, gen.rows(), Progress("cases", n))
        notices = _insert_batches(session, SupplementNotice, iter(gen.notices))
        suspensions = _insert_batches(session, Suspension, iter(gen.suspensions))
        # fee payments have their own table from migration 0005 on; before it, the case
        # columns above are all there is
        payments = 0
        if inspect(session.connection()).has_table("fee_payments"):
            payments = _insert_batches(session, "fee_payments", iter(gen.payments))
        rng = random.Random(7)
        levels = ("very_satisfied",) * 70 + ("satisfied",) * 20 + ("basic",) * 6 + (
            "dissatisfied",) * 3 + ("very_dissatisfied",)
        evaluations, rectifications = [], []
        for i, (case_id, completed_at) in enumerate(gen.evaluated, start=1):
            at = completed_at + dt.timedelta(hours=rng.randint(1, 48))
            level = rng.choice(levels)
            evaluations.append({"id": i, "case_id": case_id, "level": level,
                                "comment": None, "at": at, "void": rng.random() < 0.005})
            if level in ("dissatisfied", "very_dissatisfied"):
                done = rng.random() < 0.85
                closed = at + dt.timedelta(days=rng.randint(1, 9)) if done else None
                rectifications.append({
                    "evaluation_id": i, "state": "done" if done else "in_rectification",
                    "opened_at": at, "due_on": (at + SHANGHAI).date() + dt.timedelta(days=7),
                    "extended": False, "extension_days": None, "extension_reason": None,
                    "dispute_reason": None, "void_reason": None, "cannot_rectify_reason": None,
                    "note": "已电话回访并改进" if done else None, "closed_at": closed,
                    "updated_at": closed or at,
                })
        _insert_batches(session, Evaluation, iter(evaluations))
        _insert_batches(session, Rectification, iter(rectifications))
        complaints = []
        for i, (case_id, completed_at) in enumerate(gen.evaluated[::4], start=1):
            received = completed_at + dt.timedelta(hours=rng.randint(2, 200))
            resolved = rng.random() < 0.85
            complaints.append({
                "number": f"TS-{YEAR}-{i:06d}", "case_id": case_id, "window_id": 1,
                "clerk_id": None, "content": "办理时间过长", "contact_phone": "13900000000",
                "received_at": received, "due_on": (received + SHANGHAI).date() + 15 * ONE_DAY,
                "state": "resolved" if resolved else "received",
                "resolution": "已答复" if resolved else None,
                "resolved_at": received + dt.timedelta(days=rng.randint(1, 20))
                if resolved else None,
                "resolved_by": "chief" if resolved else None,
            })
        _insert_batches(session, Complaint, iter(complaints))
    return {"cases": cases, "supplement_notices": notices,
            "suspensions": suspensions, "fee_payments": payments, "evaluations": len(evaluations),
            "rectifications": len(rectifications), "complaints": len(complaints)}


# -- measuring ------------------------------------------------------------------------------


def _timed_out(exc: DBAPIError) -> bool:
    message = str(exc.orig)
    return "interrupted" in message or "statement timeout" in message


@dataclass
class Clock:
    """Times calls, each bounded by ``limit`` seconds.

    On SQLite a progress handler interrupts a call that runs past the limit; on PostgreSQL the
    connections carry ``statement_timeout`` (per statement).  A measurement that hits the limit
    is not repeated: its figure is the limit, a lower bound, and its name goes in ``hit``.
    """

    limit: float
    deadline: float = math.inf
    hit: list[str] = field(default_factory=list)

    def attach(self, db: Database) -> None:
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", self._on_connect)
            db.engine.dispose()  # every connection from now on has the handler

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_progress_handler(self._expired, 10_000)

    def _expired(self) -> int:
        return int(time.perf_counter() > self.deadline)

    def once(self, fn: Callable[[], Any]) -> float | None:
        """The seconds ``fn`` took, or None when it was stopped at the limit."""
        started = time.perf_counter()
        self.deadline = started + self.limit
        try:
            fn()
        except DBAPIError as exc:
            if not _timed_out(exc):
                raise
            return None
        finally:
            self.deadline = math.inf
        return time.perf_counter() - started

    def median(self, name: str, fn: Callable[[], Any], repeat: int,
               setup: Callable[[], Any] | None = None) -> float:
        """The median of ``repeat`` runs (``setup`` untimed before each), or the limit."""
        times = []
        for _ in range(repeat):
            if setup:
                setup()
            seconds = self.once(fn)
            if seconds is None:
                return self.stopped(name)
            times.append(seconds)
        return statistics.median(times)

    def stopped(self, name: str) -> float:
        say(f"  {name}: stopped at the limit of {self.limit:g} s (figure is a lower bound)")
        self.hit.append(name)
        return self.limit


@contextmanager
def rolled_back(db: Database) -> Iterator[Session]:
    """A write transaction that is always rolled back (to measure without roll-ups)."""
    with db.sessions() as session:
        session.begin()
        mark_writing(session)
        try:
            yield session
        finally:
            session.rollback()


def clear_rollups(db: Database) -> None:
    with db.unit_of_work() as session:
        session.execute(delete(DailyFigure))
        session.execute(delete(DailyRollup))


def read(db: Database, fn: Callable[[Session], Any]) -> Callable[[], Any]:
    """``fn`` in a read transaction of its own, as a request would run it."""
    def run() -> Any:
        with db.unit_of_work(write=False) as session:
            return fn(session)
    return run


def summary_parts(db: Database, clock: Clock, repeat: int) -> dict[str, float]:
    """For information: the median time of each query the month summary makes (ms)."""
    m = summary_module
    parts: dict[str, Callable[[Session], Any]] = {
        "period_counts": lambda s: m.period_counts(s, MONTH.start, MONTH.end, NOW),
        "state_at_end": lambda s: m.state_at_end(s, m.as_of(MONTH, NOW), NOW),
        "catalog_counts": m.catalog_counts,
        "staff_counts": m.staff_counts,
    }
    result = {}
    for name, part in parts.items():
        if clock.once(read(db, part)) is None:  # warm-up
            result[name] = 1000 * clock.stopped(f"part {name}")
        else:
            result[name] = 1000 * clock.median(f"part {name}", read(db, part), repeat)
    return result


def explain(db: Database, clock: Clock) -> None:
    """Every statement of one month summary with its time and its query plan."""
    captured: list[list[Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        captured.append([statement, parameters, time.perf_counter(), None])

    def after(*_args: Any) -> None:
        captured[-1][3] = time.perf_counter() - captured[-1][2]

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    try:
        clock.once(read(db, lambda s: summarize(s, NODE, MONTH, NOW, POLICY)))
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
    say(f"\nstatements of one month summary ({db.engine.dialect.name}):")
    with db.engine.connect() as conn:
        for statement, parameters, _, seconds in captured:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            took = f"{1000 * seconds:9.1f} ms" if seconds is not None else "stopped at the limit"
            say(f"\n-- {took}\n{statement.strip()}\n   params: {parameters}")
            for row in conn.exec_driver_sql(prefix + statement, parameters):
                say("   | " + " ".join(str(v) for v in row))


def measure(db: Database, clock: Clock, repeat: int, repeat_rollup: int, *, show_plans: bool
            ) -> dict[str, Any]:
    say(f"  measuring: median of {repeat} runs (whole-year roll-up: {repeat_rollup}), "
        f"each run stopped at {clock.limit:g} s")
    # 1. daily roll-ups: the whole year from nothing, then one month again
    def refresh_year(session: Session) -> None:
        assert refresh(session, FIRST, LAST, NOW) == 365

    def refresh_month(session: Session) -> None:
        assert refresh(session, MONTH.start, MONTH.end, NOW) == len(MONTH.days())

    def forget_month(session: Session) -> None:
        invalidate(session, MONTH.days())

    def write(fn: Callable[[Session], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with db.unit_of_work() as session:
                return fn(session)
        return run

    rollup_year = clock.median("rollup_year", write(refresh_year), repeat_rollup,
                               setup=lambda: clear_rollups(db))
    if "rollup_year" in clock.hit:  # the roll-ups must exist for what follows
        with db.unit_of_work() as session:
            refresh_year(session)
    rollup_month = clock.median("rollup_month", write(refresh_month), repeat,
                                setup=write(forget_month))

    # 2 to 4, interleaved: in every round the month's bare GROUP BY, the month summary with its
    # roll-ups, the month summary from the raw cases (roll-ups forgotten in a transaction rolled
    # back), then the day's bare GROUP BY and the day's roll-up refresh (likewise); each ratio
    # is the median of the rounds' own ratios
    results: dict[str, Any] = {}

    def month_summary(session: Session) -> None:
        results["summary"] = summarize(session, NODE, MONTH, NOW, POLICY)

    def group_by(session: Session) -> None:
        results["group_by"] = session.execute(
            GROUP_BY, {"start": MONTH.start, "end": MONTH.end}).all()

    def group_by_day(session: Session) -> None:
        results["group_by_day"] = session.execute(GROUP_BY, {"start": DAY, "end": DAY}).all()

    def raw_summary() -> float | None:
        with rolled_back(db) as session:
            forget_month(session)
            session.flush()
            return clock.once(lambda: summarize(session, NODE, MONTH, NOW, POLICY))

    def rollup_day() -> float | None:
        with rolled_back(db) as session:
            invalidate(session, [DAY])
            session.flush()
            return clock.once(lambda: refresh(session, DAY, DAY, NOW))

    times: dict[str, list[float]] = {k: [] for k in
                                     ("group_by", "summary", "raw", "group_by_day", "rollup_day")}
    stopped: set[str] = set()
    clock.once(read(db, group_by))  # warm every side alike
    clock.once(read(db, group_by_day))
    for name, first in (("summary", lambda: clock.once(read(db, month_summary))),
                        ("raw", raw_summary), ("rollup_day", rollup_day)):
        if first() is None:
            stopped.add(name)
    for _ in range(repeat):
        times["group_by"].append(clock.once(read(db, group_by)) or math.nan)
        if "summary" not in stopped:
            times["summary"].append(clock.once(read(db, month_summary)) or math.nan)
        if "raw" not in stopped:
            times["raw"].append(raw_summary() or math.nan)
        times["group_by_day"].append(clock.once(read(db, group_by_day)) or math.nan)
        if "rollup_day" not in stopped:
            times["rollup_day"].append(rollup_day() or math.nan)

    def ratio(subject: str, ceiling: str) -> float:
        if subject in stopped:  # a lower bound
            return clock.limit / statistics.median(times[ceiling])
        return statistics.median(a / b for a, b in zip(times[subject], times[ceiling],
                                                       strict=True))

    def median(name: str) -> float:
        return clock.stopped(name) if name in stopped else statistics.median(times[name])

    summary_s, group_by_s, raw_s = median("summary"), median("group_by"), median("raw")
    rollup_day_s, group_by_day_s = median("rollup_day"), median("group_by_day")
    grouped = sum(row[1] for row in results["group_by"])
    completed = results["summary"]["metrics"]["completed"]["value"] if "summary" in results \
        else None
    if completed is not None and completed != grouped:
        say(f"  note: the summary counts {completed} completed, the GROUP BY {grouped} rows")

    # 5. for information: the year with roll-ups
    year_run = read(db, lambda s: summarize(s, NODE, YEAR_PERIOD, NOW, POLICY))
    if clock.once(year_run) is None:  # warm-up
        year_s = clock.stopped("summary_year")
    else:
        year_s = clock.median("summary_year", year_run, repeat)
    parts = summary_parts(db, clock, repeat)
    if show_plans:
        explain(db, clock)

    summary_ratio = ratio("summary", "group_by")
    rollup_day_ratio = ratio("rollup_day", "group_by_day")
    return {
        "summary_ratio": round(summary_ratio, 2),
        "summary_ms": round(1000 * summary_s, 1),
        "group_by_ms": round(1000 * group_by_s, 1),
        "summary_goal": GOAL,
        "summary_goal_met": summary_ratio <= GOAL,
        "rounds": repeat,
        "interleaved": True,
        "rollup_day_ratio": round(rollup_day_ratio, 2),
        "rollup_day_ms": round(1000 * rollup_day_s, 1),
        "group_by_day_ms": round(1000 * group_by_day_s, 2),
        "rollup_day_goal": ROLLUP_DAY_GOAL,
        "rollup_day_goal_met": rollup_day_ratio <= ROLLUP_DAY_GOAL,
        "rollup_year_s": round(rollup_year, 2),
        "rollup_month_ms": round(1000 * rollup_month, 1),
        "summary_raw_ms": round(1000 * raw_s, 1),
        "summary_raw_ratio": round(ratio("raw", "group_by"), 2),
        "summary_year_ms": round(1000 * year_s, 1),
        "summary_parts_ms": {k: round(v, 1) for k, v in parts.items()},
        "completed_in_month": grouped,
        "limit_s": clock.limit,
        "stopped_at_limit": list(clock.hit),
    }


def report(name: str, built: dict[str, Any], figures: dict[str, Any]) -> None:
    stopped = set(figures["stopped_at_limit"])

    def value(key: str, shown: str) -> str:
        return (">= " + shown) if key in stopped else shown

    build_s = built["build_s"]
    say(f"\n{name}: {built['cases']:,} cases, month {MONTH.label}"
        + (f", built in {build_s} s" if build_s is not None else ", database reused"))
    goal = "goal met" if figures["summary_goal_met"] else "GOAL NOT MET"
    rows = [
        ("month summary, roll-ups in place", value("summary", f"{figures['summary_ms']:.1f} ms")),
        ("bare GROUP BY completed_on (the ceiling)", f"{figures['group_by_ms']:.1f} ms"),
        (f"summary_ratio (goal <= {GOAL:g})",
         value("summary", f"{figures['summary_ratio']:.2f}") + f"  {goal}"),
        ("daily roll-up, whole year (365 days)",
         value("rollup_year", f"{figures['rollup_year_s']:.2f} s")),
        ("daily roll-up, one month", value("rollup_month", f"{figures['rollup_month_ms']:.1f} ms")),
        ("month summary without roll-ups (raw)", value("raw",
         f"{figures['summary_raw_ms']:.1f} ms") + f"  summary_raw_ratio "
         f"{figures['summary_raw_ratio']:.2f}"),
        (f"one day's roll-up refresh ({DAY})", value("rollup_day",
         f"{figures['rollup_day_ms']:.1f} ms")),
        ("bare GROUP BY completed_on of that day", f"{figures['group_by_day_ms']:.2f} ms"),
        (f"rollup_day_ratio (goal <= {ROLLUP_DAY_GOAL:g})", value("rollup_day",
         f"{figures['rollup_day_ratio']:.2f}") + ("  goal met" if figures["rollup_day_goal_met"]
                                                  else "  GOAL NOT MET")),
        ("year summary, roll-ups in place",
         value("summary_year", f"{figures['summary_year_ms']:.1f} ms")),
        *((f"  month summary part: {k}", value(f"part {k}", f"{v:.1f} ms"))
          for k, v in figures["summary_parts_ms"].items()),
    ]
    width = max(len(label) for label, _ in rows)
    for label, shown in rows:
        say(f"  {label:<{width}}  {shown}")


# -- databases ------------------------------------------------------------------------------


def _count_cases(engine: Engine) -> int | None:
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM cases")).scalar_one())
    except Exception:  # noqa: BLE001 - no such table: an empty file
        return None


def run_sqlite(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp:
        path = Path(args.sqlite_file) if args.sqlite_file else Path(tmp) / "node.db"
        url = f"sqlite:///{path}"
        probe = create_engine(url)
        found = _count_cases(probe)
        probe.dispose()
        if args.sqlite_file and path.exists() and found not in (None, args.cases):
            raise SystemExit(f"{path} holds {found:,} cases, not {args.cases:,}: "
                             "remove it or name another --sqlite-file")
        reuse = found == args.cases
        return run_on(url, url, "sqlite", args, reuse=reuse)


def run_postgresql(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(args.pg)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in args.pg else "?"
    options = f"-csearch_path={schema}"
    limited = f"{options} -cstatement_timeout={int(1000 * args.limit)}"
    try:
        return run_on(f"{args.pg}{separator}options={quote(options)}",
                      f"{args.pg}{separator}options={quote(limited)}",
                      "postgresql", args, reuse=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_on(build_url: str, measure_url: str, name: str, args: argparse.Namespace, *,
           reuse: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    say(f"\n== {name} ==")
    if reuse:
        say(f"  reusing {args.sqlite_file} ({args.cases:,} cases)")
        built: dict[str, Any] = {"cases": args.cases, "build_s": None}
    else:
        db = Database(build_url)
        started = time.perf_counter()
        try:
            built = build(db, args.cases)
            if name == "postgresql":  # what autovacuum does shortly after a bulk load
                with db.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        finally:
            db.dispose()
        built["build_s"] = round(time.perf_counter() - started, 1)
        say(f"  built in {built['build_s']} s: "
            + ", ".join(f"{v:,} {k}" for k, v in built.items() if k != "build_s"))
    db = Database(measure_url)
    clock = Clock(args.limit)
    clock.attach(db)
    try:
        figures = measure(db, clock, args.repeat, args.repeat_rollup, show_plans=args.explain)
    finally:
        db.dispose()
    report(name, built, figures)
    return built, figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.bench_metrics", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000,
                        help="cases in the year (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=7,
                        help="runs of each measurement; the median is reported (default 7)")
    parser.add_argument("--repeat-rollup", type=int, default=3,
                        help="runs of the whole-year roll-up (default 3)")
    parser.add_argument("--pg", metavar="URL", default=os.environ.get("TONGBAN_BENCH_PG", ""),
                        help="also run on PostgreSQL (a fresh schema, dropped afterwards), e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--pg-cases", type=int, default=None,
                        help="cases on PostgreSQL (default: --cases)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--sqlite-file", metavar="PATH",
                        help="build the SQLite database there and keep it; reused when it "
                        "already holds --cases cases (roll-ups are rebuilt either way)")
    parser.add_argument("--limit", type=float, default=60.0, metavar="SECONDS",
                        help="stop any measured run after this long and report the limit as a "
                        "lower bound (default 60)")
    parser.add_argument("--explain", action="store_true",
                        help="print every statement of a month summary with its time and plan")
    args = parser.parse_args(argv)
    if args.no_sqlite and not args.pg:
        parser.error("--no-sqlite needs --pg URL")
    logging.getLogger("tongban.calendar").setLevel(logging.ERROR)  # 2027 holidays unknown
    say(machine_line("metrics"))

    documents: list[dict[str, Any]] = []
    if not args.no_sqlite:
        built, figures = run_sqlite(args)
        documents.append({"cases": built["cases"], "database": "sqlite",
                          "build_s": built["build_s"], **figures})
    if args.pg:
        pg_args = argparse.Namespace(**{**vars(args), "cases": args.pg_cases or args.cases})
        built, figures = run_postgresql(pg_args)
        documents.append({"cases": built["cases"], "database": "postgresql",
                          "build_s": built["build_s"], **figures})
    document = dict(documents[0])
    for other in documents[1:]:
        document[other["database"]] = other
    met = all(d["summary_goal_met"] for d in documents)
    say("\nsummary_ratio: " + ", ".join(f"{d['database']} {d['summary_ratio']:.2f}"
                                        for d in documents)
        + f" (goal <= {GOAL:g}: {'met' if met else 'NOT met'}); summary_raw_ratio: "
        + ", ".join(f"{d['database']} {d['summary_raw_ratio']:.2f}" for d in documents))
    met = all(d["rollup_day_goal_met"] for d in documents)
    say("rollup_day_ratio: " + ", ".join(f"{d['database']} {d['rollup_day_ratio']:.2f}"
                                         for d in documents)
        + f" (goal <= {ROLLUP_DAY_GOAL:g}: {'met' if met else 'NOT met'})")
    say(json.dumps(document, ensure_ascii=False, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
