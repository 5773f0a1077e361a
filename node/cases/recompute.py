"""Open cases follow the calendar: their stored deadlines recomputed when it changes.

A case's ``deadline_on`` is stored when its clock starts, and read by deemed approval, the
on-time figures, the lists and the public lookup.  When the calendar changes under it — a
year's national schedule adopted or replaced, an administrator's "weekends only"
confirmation, a local override added or removed — every open case the change can affect is
recomputed in the same transaction as the change (:func:`recompute_open_cases`):

* its deadline and its provisional mark (暂定, node/calendar/workdays.py), counted by the one
  computation every deadline uses (:meth:`WorkingCalendar.explain`: the promise, the Art. 42
  extension, every suspension — open ones as if resumed today);
* its warning colour and deemed-approval date follow from the stored deadline (both are read
  from it); a submitted case's Art. 32 notice window (five working days from receipt) is
  counted again, and a case whose window moved says so;
* each case whose deadline or window moved, or whose deadline stopped being provisional, gets
  a public case event and an audit entry, in Chinese (期限因节假日安排调整由 2027-01-01 改为
  2027-01-04); closed cases keep their dates.

Written for a province's hundred thousand open cases (``make bench``:
``calendar_recompute_ratio``): plain rows instead of ORM objects, one deadline computation per
distinct (accepted day, working days) among cases without suspensions, and multi-row writes.
Plain Python; flushes, never commits.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from node.audit.chain import AuditLog, AuditRecord
from node.calendar.workdays import Suspension as ClockStop
from node.calendar.workdays import WorkingCalendar, to_shanghai_date
from node.cases.models import Case, CaseEvent, Suspension
from node.cases.states import CaseState
from node.rollups import invalidate
from schemas.runtime.database import insert_many, utcnow

NOTICE_WINDOW_DAYS = 5  # Art. 32 (node/cases/service.py counts the same window)
EVENT_ACTION = "deadline_recomputed"
NOTICE_EVENT_ACTION = "notice_window_moved"
BATCH = 1000
# A notice window of five working days spans at most this many calendar days, even across
# the Spring Festival: the submitted cases a changed day can reach were received within it.
NOTICE_REACH = dt.timedelta(days=31)


@dataclass(frozen=True)
class Moved:
    number: str
    before: dt.date | None
    after: dt.date
    provisional_before: bool
    provisional_after: bool


@dataclass
class RecomputeReport:
    """What a calendar change did to the open cases."""

    examined: int = 0
    moved: list[Moved] = field(default_factory=list)  # deadline or provisional mark changed
    notices_moved: list[Moved] = field(default_factory=list)  # Art. 32 windows

    @property
    def released(self) -> int:
        """Cases whose deadline stopped being provisional."""
        return sum(1 for m in self.moved if m.provisional_before and not m.provisional_after)

    def as_dict(self) -> dict[str, Any]:
        return {
            "examined": self.examined,
            "moved": sum(1 for m in self.moved if m.before != m.after),
            "released": self.released,
            "notice_windows_moved": len(self.notices_moved),
        }


def deadline_reason(cause: str, before: dt.date | None, after: dt.date, *,
                    provisional_before: bool, provisional_after: bool) -> str:
    """The Chinese sentence of a case event: what moved, from what to what, and why."""
    if before != after:
        text = f"期限因{cause}由 {before} 改为 {after}"
    else:
        text = f"期限 {after} 经{cause}复核未变"
    if provisional_before and not provisional_after:
        text += "，不再为暂定"
    elif provisional_after:
        text += "（暂定：所跨年度尚无国家节假日安排）"
    return text


def _affected(changed: Sequence[dt.date] | None) -> Any:
    """Open cases with a running or stored deadline that ``changed`` can reach (all of them
    when ``changed`` is None), and every case whose deadline is provisional."""
    base = and_(Case.accepted_on.is_not(None), Case.closed_on.is_(None),
                Case.deadline_on.is_not(None))
    if changed is None:
        return base
    if not changed:  # nothing moved a working day: only provisional marks may change
        return and_(base, Case.deadline_provisional.is_(True))
    first, last = min(changed), max(changed)
    # a day after the deadline or before the acceptance cannot move it (module docstring of
    # node/calendar/workdays.py); a suspended case's deadline grows daily, so it is included
    reach = or_(
        and_(Case.deadline_on >= first, Case.accepted_on <= last),
        Case.state == CaseState.SUSPENDED,
        Case.deadline_provisional.is_(True),
    )
    return and_(base, reach)


def recompute_open_cases(
    session: Session,
    calendar: WorkingCalendar,
    *,
    changed: Sequence[dt.date] | None,
    cause: str,
    actor: str,
    role: str,
    data: dict[str, Any],
    before: WorkingCalendar | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> RecomputeReport:
    """Recompute the deadline of every open case ``changed`` days can affect, on
    ``calendar`` (the calendar after the change); see the module docstring.

    ``cause`` completes the Chinese sentence (节假日安排调整, 本中心工作日调整, …); ``data``
    goes into each audit entry.  ``before`` (the calendar before the change) is needed to tell
    which Art. 32 notice windows moved.
    """
    now = clock()
    today = to_shanghai_date(now)
    report = RecomputeReport()
    condition = _affected(changed)
    rows = session.execute(
        select(Case.id, Case.number, Case.state, Case.accepted_on, Case.promised_days,
               Case.extension_days, Case.deadline_on, Case.deadline_provisional)
        .where(condition).order_by(Case.id)).all()
    report.examined = len(rows)
    stops: dict[int, list[ClockStop]] = defaultdict(list)
    for case_id, start, end, kind in session.execute(
            select(Suspension.case_id, Suspension.start_on, Suspension.end_on, Suspension.kind)
            .join(Case, Case.id == Suspension.case_id).where(condition)
            .order_by(Suspension.id)):
        stops[case_id].append(ClockStop(start, end, kind.value))

    # one computation per distinct (accepted day, promise, extension, suspensions)
    plain: dict[tuple[Any, ...], tuple[dt.date, bool]] = {}
    updates: list[dict[str, Any]] = []
    states: dict[int, str] = {}
    for row in rows:
        case_stops = stops.get(row.id)
        key = (row.accepted_on, row.promised_days, row.extension_days or 0,
               *((s.start, s.end) for s in case_stops or ()))
        result = plain.get(key)
        if result is None and case_stops:
            explained = calendar.explain(row.accepted_on, row.promised_days, case_stops,
                                         today=today, extension_days=row.extension_days or 0)
            result = plain[key] = (explained.deadline_on, explained.provisional)
        elif result is None:
            # without a suspension, explain() walks the same days as add_working_days()
            deadline = calendar.add_working_days(row.accepted_on, key[1] + key[2])
            result = plain[key] = (
                deadline, bool(calendar.years_without_data(row.accepted_on, deadline)))
        deadline_on, provisional = result
        if deadline_on == row.deadline_on and provisional == bool(row.deadline_provisional):
            continue
        report.moved.append(Moved(row.number, row.deadline_on, deadline_on,
                                  bool(row.deadline_provisional), provisional))
        updates.append({"case_id": row.id, "new_deadline": deadline_on,
                        "new_provisional": provisional})
        states[row.id] = row.state.value
    if updates:
        _write(session, updates, now)
        reasons = [deadline_reason(cause, m.before, m.after,
                                   provisional_before=m.provisional_before,
                                   provisional_after=m.provisional_after) for m in report.moved]
        _record(session, [(u["case_id"], states[u["case_id"]]) for u in updates],
                [m.number for m in report.moved], reasons, EVENT_ACTION,
                [{"deadline_before": str(m.before), "deadline_after": str(m.after),
                  "provisional": m.provisional_after} for m in report.moved],
                actor=actor, role=role, data=data, now=now, clock=clock)
        _invalidate_past(session, report.moved, today)
    if before is not None and (changed is None or changed):
        _notice_windows(session, before, calendar, changed, cause, report,
                        actor=actor, role=role, data=data, now=now, clock=clock)
    # objects of these cases already in the session would carry the old version
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Case):
            session.expire(instance)
    return report


def _write(session: Session, updates: list[dict[str, Any]], now: dt.datetime) -> None:
    """One UPDATE per case, sent in batches; the version moves, so a client acting on the case
    as it read it before gets a 409."""
    statement = (
        update(Case.__table__)  # type: ignore[arg-type]
        .where(Case.__table__.c.id == bindparam("case_id"))
        .values(deadline_on=bindparam("new_deadline", type_=Date()),
                deadline_provisional=bindparam("new_provisional"),
                version=Case.__table__.c.version + 1, updated_at=now)
    )
    connection = session.connection()
    for start in range(0, len(updates), BATCH):
        connection.execute(statement, updates[start:start + BATCH])


def _record(
    session: Session, cases: list[tuple[int, str]], numbers: list[str], reasons: list[str],
    action: str, details: list[dict[str, Any]], *, actor: str, role: str,
    data: dict[str, Any], now: dt.datetime, clock: Callable[[], dt.datetime],
) -> None:
    events = [
        {"case_id": case_id, "at": now, "actor": actor, "role": role, "action": action,
         "from_state": state, "to_state": state, "reason": reason, "public": True}
        for (case_id, state), reason in zip(cases, reasons, strict=True)
    ]
    insert_many(session.connection(), CaseEvent.__table__, events, BATCH)  # type: ignore[arg-type]
    AuditLog(session, clock=clock).append_many([
        AuditRecord(actor=actor, role=role, action=f"case.{action}", subject_type="case",
                    subject_id=number, data={"reason": reason, **detail, **data})
        for number, reason, detail in zip(numbers, reasons, details, strict=True)
    ])


def _invalidate_past(session: Session, moved: Iterable[Moved], today: dt.date) -> None:
    """A deadline that moved across past days changes those days' overdue counts."""
    days: set[dt.date] = set()
    for m in moved:
        if m.before is None or m.before == m.after:
            continue
        low, high = sorted((m.before, m.after))
        day = low
        while day <= high and day < today:
            days.add(day)
            day += dt.timedelta(days=1)
    invalidate(session, sorted(days))


def _notice_windows(
    session: Session, before: WorkingCalendar, after: WorkingCalendar,
    changed: Sequence[dt.date] | None, cause: str, report: RecomputeReport, *,
    actor: str, role: str, data: dict[str, Any], now: dt.datetime,
    clock: Callable[[], dt.datetime],
) -> None:
    query = select(Case.id, Case.number, Case.state, Case.received_on).where(
        Case.state == CaseState.SUBMITTED, Case.accepted_on.is_(None))
    if changed is not None:
        query = query.where(Case.received_on >= min(changed) - NOTICE_REACH,
                            Case.received_on <= max(changed))
    moved_cases: list[tuple[int, str]] = []
    for row in session.execute(query.order_by(Case.id)):
        old = before.add_working_days(row.received_on, NOTICE_WINDOW_DAYS)
        new = after.add_working_days(row.received_on, NOTICE_WINDOW_DAYS)
        if old != new:
            report.notices_moved.append(Moved(row.number, old, new, False, False))
            moved_cases.append((row.id, row.state.value))
    if moved_cases:
        _record(session, moved_cases, [m.number for m in report.notices_moved],
                [f"一次性告知期限因{cause}由 {m.before} 改为 {m.after}"
                 for m in report.notices_moved],
                NOTICE_EVENT_ACTION,
                [{"notice_due_before": str(m.before), "notice_due_after": str(m.after)}
                 for m in report.notices_moved],
                actor=actor, role=role, data=data, now=now, clock=clock)


__all__ = [
    "EVENT_ACTION",
    "NOTICE_EVENT_ACTION",
    "Moved",
    "RecomputeReport",
    "deadline_reason",
    "recompute_open_cases",
]
