"""Property tests of the figures (hypothesis, both databases): for random cases, notices,
fees, ratings, rectifications and complaints around November 2026, every daily count of the
month equals the sum of its thirty single days, equals a plain-Python count of the generated
rows, and stays the same when the roll-ups are stored (all days or only some).

Rows are inserted directly (not through the services) to keep each example fast; every
column the metrics read is set consistently with the case's state.  Timestamps favour the
minutes around Shanghai midnight (00:00, 23:59) and UTC midnight (08:00 Shanghai).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session

from node.calendar.workdays import WorkingCalendar
from node.cases.history import remote_events
from node.cases.models import (
    Case,
    CaseEvent,
    Channel,
    FeePayment,
    PaymentPlace,
    SupplementNotice,
    TongbanRole,
)
from node.cases.states import CaseState
from node.catalog.service import CatalogService
from node.feedback.models import (
    BAD_LEVELS,
    Complaint,
    ComplaintState,
    Evaluation,
    EvaluationLevel,
    Rectification,
    RectificationState,
)
from node.metadata import load_all_models
from node.metrics.daily import daily_counts
from node.metrics.definitions import DAILY_KEYS
from node.metrics.models import DailyFigure
from node.metrics.patterns import PatternPolicy
from node.metrics.rollup import period_counts, refresh
from node.metrics.summary import NodeIdentity, summarize
from node.models import Base
from node.rollups import DailyRollup
from node.verification.models import CommitmentCache, CommitmentLeaf
from schemas.periods import Period
from schemas.runtime.database import Database
from tests.conftest import examples
from tests.unit.node.conftest import matter_payload, new_matter

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTH = Period.parse("2026-11")
AFTER = dt.datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI)
CALENDAR = WorkingCalendar()
NODE = NodeIdentity("450981", "北流市政务服务中心", "county", "county_city", "450900")
GOOD = {EvaluationLevel.VERY_SATISFIED, EvaluationLevel.SATISFIED}
PROPERTY_SETTINGS = settings(
    max_examples=examples(20),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

days = st.dates(min_value=dt.date(2026, 10, 29), max_value=dt.date(2026, 12, 2))
minutes = st.one_of(
    st.sampled_from([0, 1, 479, 480, 481, 1438, 1439]), st.integers(min_value=0, max_value=1439)
)
later = st.integers(min_value=0, max_value=4)


def at(day: dt.date, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), SHANGHAI)


def local_day(moment: dt.datetime | None) -> dt.date | None:
    return moment.astimezone(SHANGHAI).date() if moment else None


@dataclass
class Generated:
    """One case with what hangs off it, as plain values (the model and the rows)."""

    case: dict[str, Any]
    entered: bool
    notices: list[dt.datetime] = field(default_factory=list)
    evaluation: dict[str, Any] | None = None
    rectification: dict[str, Any] | None = None
    visits: int = 0  # the visits the window recorded (登记到厅), beside the receipt
    # a case from another center: the visits its window recorded there before sending it (the
    # steps of the history it came with)
    remote_visits: int = 0
    named: bool = False  # the applicant gave an ID number (its own: no 两头受理 pair)


@st.composite
def generated_cases(draw: st.DrawFn) -> Generated:
    received_on = draw(days)
    # 450921 sends a 通办 case sideways: this center is competent for it
    from_below = draw(st.sampled_from([None, None, None, "450981101", "450921"]))
    outcome = draw(st.sampled_from(
        ["submitted", "rejected", "withdrawn", "open", "suspended", "approved", "completed",
         "completed", "forwarded"]))
    role = None
    if from_below == "450921":
        role = TongbanRole.ACCEPTED
        if draw(st.booleans()):  # sent back (退回) to the receiving center
            outcome = "returned"
    elif from_below is None and outcome == "forwarded" and draw(st.booleans()):
        role = TongbanRole.RECEIVED  # 通办代收: sent sideways to the competent center
    case: dict[str, Any] = {
        "channel": draw(st.sampled_from(list(Channel))),
        "received_at": at(received_on, draw(minutes)),
        "received_on": received_on,
        "origin_node_code": from_below,
        "accepted_on": None, "deemed_accepted": False, "deadline_on": None,
        "decided_on": None, "deemed_approved": False, "completed_on": None,
        "closed_on": None, "forwarded_on": None, "tongban_role": role,
        "fee_paid_fen": 0, "fee_paid_at": None, "fee_paid_where": None,
    }
    state = {"submitted": CaseState.SUBMITTED, "rejected": CaseState.REJECTED,
             "withdrawn": CaseState.WITHDRAWN, "open": CaseState.ACCEPTED,
             "suspended": CaseState.SUSPENDED, "approved": CaseState.APPROVED,
             "completed": draw(st.sampled_from([CaseState.COMPLETED, CaseState.DELIVERED])),
             "forwarded": CaseState.FORWARDED, "returned": CaseState.RETURNED}[outcome]
    accepted = outcome in ("open", "suspended", "approved", "completed") or (
        outcome in ("withdrawn", "forwarded", "returned") and draw(st.booleans()))
    last = received_on
    if accepted:
        deemed = draw(st.booleans())
        accepted_on = received_on if deemed else received_on + dt.timedelta(days=draw(later))
        promised = draw(st.integers(min_value=0, max_value=5))
        case |= {"accepted_on": accepted_on, "deemed_accepted": deemed,
                 "deadline_on": CALENDAR.add_working_days(accepted_on, promised),
                 "promised_days": promised}
        last = accepted_on
        if outcome in ("approved", "completed"):
            decided_on = last + dt.timedelta(days=draw(st.sampled_from([0, 0, 1, 2, 6])))
            case |= {"decided_on": decided_on, "deemed_approved": draw(st.booleans())}
            last = decided_on
            fee_where = draw(st.sampled_from([None, *PaymentPlace]))
            if fee_where is not None:
                case |= {"fee_paid_where": fee_where,
                         "fee_paid_fen": draw(st.integers(1, 100_000)),
                         "fee_paid_at": at(last + dt.timedelta(days=draw(st.integers(0, 2))),
                                           draw(minutes))}
        if outcome == "completed":
            case["completed_on"] = last + dt.timedelta(days=draw(st.sampled_from([0, 0, 1])))
            last = case["completed_on"]
    if outcome in ("rejected", "withdrawn", "forwarded", "completed", "returned"):
        case["closed_on"] = max(last, case["completed_on"] or last) + dt.timedelta(
            days=0 if outcome == "completed" else draw(later))
    if outcome == "forwarded":
        case["forwarded_on"] = case["closed_on"]
    case["state"] = state
    case.setdefault("promised_days", 5)
    generated = Generated(case, entered=draw(st.booleans()),
                          visits=draw(st.sampled_from([0, 0, 1, 2])), named=draw(st.booleans()),
                          remote_visits=draw(st.sampled_from([0, 1, 2])) if from_below else 0)
    notices = draw(st.integers(min_value=0, max_value=3))
    generated.notices = [at(received_on + dt.timedelta(days=draw(later)), draw(minutes))
                         for _ in range(notices)]
    if state in (CaseState.COMPLETED, CaseState.DELIVERED) and draw(
            st.sampled_from([True, True, False])):
        level = draw(st.sampled_from(list(EvaluationLevel)))
        rated = at(case["completed_on"] + dt.timedelta(days=draw(later)), draw(minutes))
        generated.evaluation = {"level": level, "at": rated, "void": False}
        if level in BAD_LEVELS:
            rect_state = draw(st.sampled_from(list(RectificationState)))
            due_on = rated.date() + dt.timedelta(days=draw(st.integers(0, 7)))
            closed = rect_state in (RectificationState.DONE, RectificationState.CANNOT_RECTIFY,
                                    RectificationState.RATING_VOID)
            closed_at = (at(rated.date() + dt.timedelta(days=draw(st.integers(0, 9))),
                            draw(minutes)) if closed else None)
            called = rect_state is RectificationState.DONE and draw(st.booleans())
            generated.rectification = {"state": rect_state, "due_on": due_on,
                                       "closed_at": closed_at, "opened_at": rated,
                                       "followed_up_at": closed_at if called else None}
            generated.evaluation["void"] = rect_state is RectificationState.RATING_VOID
    return generated


@st.composite
def generated_complaints(draw: st.DrawFn) -> dict[str, Any]:
    received = at(draw(days), draw(minutes))
    resolved = draw(st.booleans())
    resolved_at = (at(received.date() + dt.timedelta(days=draw(st.integers(0, 9))),
                      draw(minutes)) if resolved else None)
    return {"received_at": received,
            "due_on": received.date() + dt.timedelta(days=draw(st.integers(0, 7))),
            "state": ComplaintState.RESOLVED if resolved else ComplaintState.RECEIVED,
            "resolved_at": resolved_at}


worlds = st.tuples(
    st.lists(generated_cases(), min_size=4, max_size=25),
    st.lists(generated_complaints(), min_size=1, max_size=6),
)


# -- the plain-Python model -------------------------------------------------------------------


def model_counts(cases: list[Generated], complaints: list[dict[str, Any]],
                 period: Period) -> dict[str, int]:
    """Every daily count of ``period``, counted row by row from the definitions."""
    n = dict.fromkeys(DAILY_KEYS, 0)

    def inside(day: dt.date | None) -> bool:
        return day is not None and day in period

    for g in cases:
        c = g.case
        role = c["tongban_role"]
        # 通办 counts once, at the competent center (unless it sent the case back)
        sideways_in = role is TongbanRole.ACCEPTED and c["state"] is not CaseState.RETURNED
        here = (c["origin_node_code"] is None and role is not TongbanRole.RECEIVED) or sideways_in
        from_below = c["origin_node_code"] is not None and role is None
        if inside(c["received_on"]):
            if here:
                n["received"] += 1
                n[f"received_{c['channel'].value}"] += 1
                if c["channel"] is Channel.DEPARTMENT_OFFICE and g.entered:
                    n["outside_center"] += 1
            elif from_below:
                n["received_from_below"] += 1
        if here and inside(c["accepted_on"]):
            n["accepted"] += 1
            n["deemed_accepted"] += c["deemed_accepted"]
            n["tongban_accepted"] += sideways_in
        if inside(c["completed_on"]) and c["forwarded_on"] is None:
            n["completed"] += 1
            n["completed_on_time"] += c["completed_on"] <= c["deadline_on"]
            n["completed_late"] += c["completed_on"] > c["deadline_on"]
            n["completed_same_day"] += c["completed_on"] == c["accepted_on"]
            n["returned_with_result"] += from_below
            e = g.evaluation
            n["completed_rated"] += bool(e and not e["void"])
            # the visits: the receipt in person, then each one recorded; a 通办 case decided
            # here counts here once, with the visits to the receiving center's hall it came
            # with (a case from below was decided here, but received in person below: neither)
            if c["origin_node_code"] is None or sideways_in:
                visits = ((c["channel"] in (Channel.WINDOW, Channel.DEPARTMENT_OFFICE))
                          + g.visits + g.remote_visits)
                n["completed_here"] += 1
                n["visits"] += visits
                n["visited_at_most_once"] += visits <= 1
                n["fully_online"] += c["channel"] is Channel.ONLINE and visits == 0
        if inside(c["decided_on"]):
            n["deemed_approved"] += c["deemed_approved"]
        if inside(c["closed_on"]):
            n["rejected"] += c["state"] is CaseState.REJECTED
            n["withdrawn"] += c["state"] is CaseState.WITHDRAWN
        n["forwarded_up"] += inside(c["forwarded_on"])
        n["tongban_received"] += role is TongbanRole.RECEIVED and inside(c["forwarded_on"])
        if inside(local_day(c["fee_paid_at"])):
            if c["fee_paid_where"] is PaymentPlace.CENTER_BANK:
                n["fees_center_fen"] += c["fee_paid_fen"]
            else:
                n["fees_elsewhere_fen"] += c["fee_paid_fen"]
                n["fees_elsewhere_cases"] += 1
        for sequence, issued in enumerate(g.notices, start=1):
            if inside(local_day(issued)):
                n["supplement_notices"] += 1
                n["repeat_notices"] += sequence > 1
        e = g.evaluation
        if e and not e["void"] and inside(local_day(e["at"])):
            n["evaluations"] += 1
            n["evaluations_good"] += e["level"] in GOOD
            n["evaluations_bad"] += e["level"] in BAD_LEVELS
            if e["level"] in BAD_LEVELS:
                r = g.rectification
                done = r is not None and r["state"] is RectificationState.DONE
                named = g.named
                n["evaluations_bad_rectified"] += done
                n["evaluations_bad_named"] += named
                n["evaluations_bad_named_followed_up"] += (
                    named and done and r is not None and r["followed_up_at"] is not None)
        r = g.rectification
        closed_on = local_day(r["closed_at"]) if r else None
        if r and inside(closed_on):
            done = r["state"] is RectificationState.DONE
            n["rectifications_closed"] += done or r["state"] is RectificationState.CANNOT_RECTIFY
            n["rectified_in_time"] += done and closed_on <= r["due_on"]
    for complaint in complaints:
        n["complaints_received"] += inside(local_day(complaint["received_at"]))
        resolved_on = local_day(complaint["resolved_at"])
        if inside(resolved_on):
            n["complaints_resolved"] += 1
            n["complaints_resolved_in_time"] += resolved_on <= complaint["due_on"]
    return n


# -- the database ---------------------------------------------------------------------------


@dataclass
class World:
    db: Database
    entered_matter: int
    other_matter: int
    department: int


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    load_all_models()
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        department = catalog.create_department("SC", "市场监督管理局")
        catalog.create_window("W01", "市场监管窗口", "", ["SC"])
        entered = catalog.create_matter(new_matter())
        other = catalog.create_matter(new_matter(
            code="NOTIN", entered=False, powers=dict.fromkeys(matter_payload()["powers"], False)))
        ids = World(db, entered.id, other.id, department.id)
    yield ids
    db.dispose()


def insert(session: Session, world: World, cases: list[Generated],
           complaints: list[dict[str, Any]]) -> None:
    for i, g in enumerate(cases):
        case = Case(number=f"P-{i}", query_code_hash="0" * 64,
                    matter_id=world.entered_matter if g.entered else world.other_matter,
                    department_id=world.department, window_id=None,
                    applicant_name="测试", applicant_consent=False,
                    applicant_id_number=f"4509811985{i:08d}" if g.named else None,
                    origin_case_number=f"{g.case['origin_node_code']}-2026-1"
                    if g.case["origin_node_code"] else None,
                    notes="", **g.case)
        # the window's visits, and a step of another kind that is no visit
        case.events = [CaseEvent(at=g.case["received_at"], actor="clerk", role="clerk",
                                 action=action, from_state="submitted", to_state="submitted",
                                 public=True)
                       for action in ["visit"] * g.visits + ["hand_over"]]
        # the steps another center sent with the case: its visits, and a step of another kind
        # whose note says visit
        case.events += remote_events(
            [{"at": g.case["received_at"].isoformat(), "center": g.case["origin_node_code"],
              "action": action, "by": "张敏（窗口工作人员）", "note": note}
             for action, note in [("visit", None)] * g.remote_visits + [("attach", "visit")]
             if g.case["origin_node_code"]], "submitted")
        case.notices = [SupplementNotice(number=f"N-{i}-{s}", sequence=s, items="[]",
                                         issued_at=issued, issued_by="clerk")
                        for s, issued in enumerate(g.notices, start=1)]
        if g.case["fee_paid_at"] is not None:  # one payment of the whole fee
            case.payments = [FeePayment(amount_fen=g.case["fee_paid_fen"],
                                        place=g.case["fee_paid_where"],
                                        paid_at=g.case["fee_paid_at"], recorded_by="clerk")]
        session.add(case)
        if g.evaluation:
            evaluation = Evaluation(case=case, comment=None, **g.evaluation)
            if g.rectification:
                evaluation.rectification = Rectification(extended=False, **g.rectification)
            session.add(evaluation)
    for i, complaint in enumerate(complaints):
        session.add(Complaint(number=f"T-{i}", content="投诉", resolution=None, **complaint))
    session.flush()


def clear(db: Database) -> None:
    with db.unit_of_work() as session:
        for model in (Rectification, Evaluation, Complaint, SupplementNotice, FeePayment,
                      CaseEvent, Case, DailyFigure, DailyRollup, CommitmentCache,
                      CommitmentLeaf):
            session.execute(delete(model))


def day_by_day(session: Session, period: Period) -> dict[str, int]:
    """Each day of ``period`` computed on its own, added up."""
    totals = dict.fromkeys(DAILY_KEYS, 0)
    for day in period.days():
        single = daily_counts(session, day, day)
        assert list(single) == [day]
        for key, value in single[day].items():
            totals[key] += value
    return totals


def summary_counts(session: Session, period: Period) -> dict[str, int]:
    summary = summarize(session, NODE, period, AFTER, PatternPolicy())
    return {key: summary["metrics"][key]["value"] for key in DAILY_KEYS}


@PROPERTY_SETTINGS
@given(data=worlds)
def test_month_is_the_sum_of_its_days(
    world: World, data: tuple[list[Generated], list[dict[str, Any]]]
) -> None:
    cases, complaints = data
    try:
        with world.db.unit_of_work() as session:
            insert(session, world, cases, complaints)
        expected = model_counts(cases, complaints, MONTH)
        with world.db.sessions() as session:
            assert day_by_day(session, MONTH) == expected
            assert period_counts(session, MONTH.start, MONTH.end, AFTER) == expected
            assert summary_counts(session, MONTH) == expected
            whole = daily_counts(session, MONTH.start, MONTH.end)
            assert {k: sum(v[k] for v in whole.values()) for k in DAILY_KEYS} == expected
    finally:
        clear(world.db)


@PROPERTY_SETTINGS
@given(data=worlds, split=st.dates(min_value=dt.date(2026, 10, 31),
                                   max_value=dt.date(2026, 12, 1)))
def test_month_is_the_same_from_rollups(
    world: World, data: tuple[list[Generated], list[dict[str, Any]]], split: dt.date
) -> None:
    """Roll-ups stored for the days before ``split`` (as the worker would have on that
    morning), then for every day: the month figure does not move."""
    cases, complaints = data
    try:
        with world.db.unit_of_work() as session:
            insert(session, world, cases, complaints)
        expected = model_counts(cases, complaints, MONTH)
        morning = at(split, 8 * 60)
        with world.db.unit_of_work() as session:
            refresh(session, dt.date(2026, 10, 1), split, morning)
        with world.db.sessions() as session:
            assert period_counts(session, MONTH.start, MONTH.end, AFTER) == expected
        with world.db.unit_of_work() as session:
            computed = refresh(session, dt.date(2026, 10, 1), dt.date(2026, 12, 31), AFTER)
            assert computed == (AFTER.date() - split).days + 1  # split (not final) onwards
        with world.db.sessions() as session:
            assert period_counts(session, MONTH.start, MONTH.end, AFTER) == expected
            assert summary_counts(session, MONTH) == expected
            assert day_by_day(session, MONTH) == expected
    finally:
        clear(world.db)
