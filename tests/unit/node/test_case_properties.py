"""Property tests of cases (hypothesis): the pure state machine, random service histories on a
real database (SQLite and PostgreSQL), and deadlines that never move earlier.

The service property builds one database per test function and a new case per example; each
step is its own unit of work, as a request or a job would be.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.audit.chain import AuditLog
from node.audit.models import AuditEntry
from node.auth.models import User
from node.auth.permissions import Role
from node.calendar.workdays import Suspension, WorkingCalendar
from node.cases.actors import Actor
from node.cases.models import Case, PaymentPlace, SuspensionKind, TaskState
from node.cases.service import Application, CaseService
from node.cases.states import (
    CLOCK_STATES,
    FINAL_STATES,
    TRANSITIONS,
    Action,
    CaseState,
    SystemRole,
    Transition,
    TransitionRefused,
    allowed_actions,
    plan,
)
from node.cases.warnings import WarningPolicy
from node.catalog.service import CatalogService
from node.metadata import load_all_models
from node.models import Base
from schemas.errors import TongbanError
from schemas.runtime.database import Database
from tests.conftest import examples
from tests.unit.node.conftest import Clock, new_matter

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROLES = [*(r.value for r in Role), SystemRole.SYSTEM.value]
REASONS = [None, "", "   ", "\t\n", "材料不符合法定形式"]
# Steps that are recorded without changing the state (from_state == to_state).
NOTE_ACTIONS = {"fee_paid", "fee_waived", "hand_over"}


def reachable_states() -> set[CaseState]:
    """Every state the transition table reaches from submitted."""
    seen = {CaseState.SUBMITTED}
    frontier = [CaseState.SUBMITTED]
    while frontier:
        state = frontier.pop()
        for transition in TRANSITIONS.values():
            if state in transition.sources and transition.target not in seen:
                seen.add(transition.target)
                frontier.append(transition.target)
    return seen


REACHABLE = reachable_states()


# -- the pure state machine ----------------------------------------------------------------------


def plan_or_refusal(
    state: CaseState, action: Action, role: str, reason: str | None
) -> Transition | TransitionRefused | PermissionError | ValueError:
    """What plan() answers: the transition, or the refusal it raised."""
    try:
        return plan(state, action, role, reason)
    except (TransitionRefused, PermissionError, ValueError) as exc:
        return exc


def accepted_by_plan(state: CaseState, action: Action, role: str, reason: str | None) -> bool:
    return isinstance(plan_or_refusal(state, action, role, reason), Transition)


@st.composite
def machine_step(draw: st.DrawFn, state: CaseState) -> tuple[Action, str, str | None]:
    """Mostly an action some role could take from ``state`` (read from the table, so that
    walks get deep), else anything at all."""
    possible = [t for t in TRANSITIONS.values() if state in t.sources]
    if possible and draw(st.integers(0, 3)) > 0:
        transition = draw(st.sampled_from(possible))
        action, role = transition.action, draw(st.sampled_from(sorted(transition.roles)))
    else:
        action, role = draw(st.sampled_from(Action)), draw(st.sampled_from(ROLES))
    return action, role, draw(st.sampled_from(REASONS))


@settings(max_examples=examples(500), deadline=None)
@given(st.integers(0, 30), st.data())
def test_random_transition_sequences_stay_inside_the_machine(
    length: int, data: st.DataObject
) -> None:
    state = CaseState.SUBMITTED
    for _ in range(length):
        action, role, reason = data.draw(machine_step(state), label="step")
        transition = TRANSITIONS[action]
        before = state  # plan() is pure: a refused step leaves ``state`` as it was
        outcome = plan_or_refusal(state, action, role, reason)
        match outcome:
            case TransitionRefused():
                assert state not in transition.sources
                assert outcome.state is state
                assert outcome.allowed == allowed_actions(state)
                assert action.value not in outcome.allowed
            case PermissionError():
                assert state in transition.sources
                assert role not in transition.roles
            case ValueError():
                assert state in transition.sources
                assert role in transition.roles
                assert transition.needs_reason
                assert not (reason and reason.strip())
            case _:
                assert outcome is transition
                assert state in transition.sources
                assert role in transition.roles
                assert not transition.needs_reason or (reason and reason.strip())
                assert state not in FINAL_STATES, f"{action} left the final state {state}"
                state = outcome.target
        assert isinstance(state, CaseState)
        assert state in REACHABLE
        if before in FINAL_STATES:
            assert state is before


@settings(max_examples=examples(100), deadline=None)
@given(st.sampled_from(CaseState), st.sampled_from([None, *ROLES]))
def test_allowed_actions_are_exactly_what_plan_accepts(state: CaseState, role: str | None) -> None:
    roles = ROLES if role is None else [role]
    accepted = [
        action.value
        for action in Action
        if any(accepted_by_plan(state, action, r, "书面理由") for r in roles)
    ]
    assert sorted(allowed_actions(state, role)) == sorted(accepted)
    if state in FINAL_STATES:
        assert allowed_actions(state) == []


@settings(max_examples=examples(200), deadline=None)
@given(
    st.sampled_from([t for t in TRANSITIONS.values() if t.needs_reason]),
    st.data(),
    st.sampled_from([None, "", " ", "\u3000\t", "\n"]),
)
def test_actions_needing_a_reason_are_refused_without_one(
    transition, data: st.DataObject, blank: str | None
) -> None:
    state = data.draw(st.sampled_from(sorted(transition.sources)))
    role = data.draw(st.sampled_from(sorted(transition.roles)))
    with pytest.raises(ValueError, match="书面理由"):
        plan(state, transition.action, role, blank)
    assert plan(state, transition.action, role, "理由").target is transition.target


@settings(max_examples=examples(200), deadline=None)
@given(
    st.sampled_from(sorted(FINAL_STATES)),
    st.sampled_from(Action),
    st.sampled_from(ROLES),
    st.sampled_from(REASONS),
)
def test_nothing_leaves_a_final_state(
    state: CaseState, action: Action, role: str, reason: str | None
) -> None:
    assert isinstance(plan_or_refusal(state, action, role, reason), TransitionRefused)


def test_reason_rules_match_the_issue() -> None:
    needing = {a.value for a, t in TRANSITIONS.items() if t.needs_reason}
    assert needing == {"reject", "deny", "suspend", "withdraw", "return"}
    assert {s.value for s in REACHABLE} == {s.value for s in CaseState}


# -- the service on a real database ----------------------------------------------------------------


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """Departments SC and ZJ, window W01, four matters and the staff who act in the steps."""
    load_all_models()
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        catalog.create_department("SC", "市场监督管理局")
        catalog.create_department("ZJ", "住房和城乡建设局")
        catalog.create_window("W01", "市场监管窗口", "", ["SC"])
        catalog.create_matter(new_matter())  # 5 promised working days
        catalog.create_matter(
            new_matter(code="DEEMED", deemed_approval=True, promised_limit_days=3)
        )
        catalog.create_matter(
            new_matter(code="NOW", handling_type="immediate", promised_limit_days=0)
        )
        catalog.create_matter(
            new_matter(code="NC1", notify_and_commit=True, fee_amount_fen=5000)
        )
        for name, role, department in (
            ("clerk", Role.CLERK, "SC"),
            ("clerk2", Role.CLERK, "SC"),
            ("approver", Role.APPROVER, "SC"),
            ("approver_zj", Role.APPROVER, "ZJ"),
        ):
            session.add(
                User(
                    username=name,
                    display_name=name,
                    role=role,
                    department=catalog.department(department),
                    password_hash="x",
                    active=True,
                )
            )
    yield db
    db.dispose()


def case_service(session: Session, clock: Clock) -> CaseService:
    return CaseService(
        session,
        node_code="450981",
        calendar=WorkingCalendar(),
        warning_policy=WarningPolicy(),
        clock=clock,
    )


def actor_named(session: Session, username: str) -> Actor:
    return Actor.of(session.scalars(select(User).where(User.username == username)).one())


SERVICE_OPS = [
    "accept",
    "request_supplement",
    "supplement",
    "reject",
    "start_review",
    "suspend",
    "resume",
    "approve",
    "deny",
    "complete",
    "deliver",
    "withdraw",
    "commit",
    "payment",
    "waive_fee",
    "deem_accept_overdue",
    "deem_approve_overdue",
]
STAFF = ["clerk", "clerk2", "approver", "approver_zj"]


@dataclass(frozen=True)
class Step:
    op: str
    who: str
    days: int
    reason: str
    version: str  # "none", "current" or "stale"


S = CaseState
# What a real desk would try next from each state (drawn most of the time, so that histories
# reach deep states); the rest of the time any operation by anyone is tried.
LIKELY_OPS: dict[CaseState, list[str]] = {
    S.SUBMITTED: ["accept", "accept", "request_supplement", "commit", "deem_accept_overdue"],
    S.SUPPLEMENT_REQUESTED: ["supplement", "supplement", "accept", "request_supplement"],
    S.ACCEPTED: [
        "start_review",
        "approve",
        "start_review",
        "suspend",
        "approve",
        "deny",
        "payment",
        "deem_approve_overdue",
    ],
    S.IN_REVIEW: [
        "approve",
        "suspend",
        "approve",
        "deem_approve_overdue",
        "deny",
        "waive_fee",
        "deem_approve_overdue",
    ],
    S.SUSPENDED: ["resume", "resume", "resume", "withdraw"],
    S.APPROVED: ["complete", "payment", "waive_fee", "complete"],
    S.DENIED: ["complete"],
    S.COMPLETED: ["deliver"],
}
APPROVER_OPS = {"start_review", "suspend", "resume"}
DECISIONS = {"approve", "deny"}


@st.composite
def next_step(draw: st.DrawFn, state: CaseState) -> Step:
    days = draw(st.integers(0, 5))
    if state in LIKELY_OPS and draw(st.integers(0, 9)) < 8:
        op = draw(st.sampled_from(LIKELY_OPS[state]))
        if op in APPROVER_OPS:
            who = draw(st.sampled_from(["approver", "approver", "approver_zj"]))
        elif op in DECISIONS:
            who = draw(st.sampled_from(["approver", "approver_zj", "clerk"]))
        else:
            who = "clerk"
        reason = draw(st.sampled_from(["需现场勘查", "需现场勘查", "需现场勘查", "  "]))
        version = draw(st.sampled_from(["none", "current", "current", "stale"]))
        return Step(op, who, days, reason, version)
    return Step(
        draw(st.sampled_from(SERVICE_OPS)),
        draw(st.sampled_from(STAFF)),
        days,
        draw(st.sampled_from(["需现场勘查", "", "  "])),
        draw(st.sampled_from(["none", "current", "stale"])),
    )


@dataclass(frozen=True)
class Snapshot:
    state: CaseState
    version: int
    events: int
    notices: int
    suspensions: int
    accepted_on: dt.date | None
    deadline_on: dt.date | None
    pending_tasks: int


def snapshot(case: Case) -> Snapshot:
    return Snapshot(
        case.state,
        case.version,
        len(case.events),
        len(case.notices),
        len(case.suspensions),
        case.accepted_on,
        case.deadline_on,
        sum(1 for t in case.tasks if t.state is TaskState.PENDING),
    )


def run_step(svc: CaseService, session: Session, case: Case, step: Step) -> list[str] | None:
    """Call one service operation; jobs return the numbers of the cases they moved."""
    who = actor_named(session, step.who)
    version = {"none": None, "current": case.version, "stale": case.version - 1}[step.version]
    reason = step.reason
    match step.op:
        case "accept":
            svc.accept(case, who, version=version)
        case "request_supplement":
            svc.request_supplement(
                case,
                who,
                material_positions=[1],
                other_items=["加盖公章"],
                repeat_reason=reason or None,
                version=version,
            )
        case "supplement":
            svc.supplement(case, who, version=version)
        case "reject":
            svc.reject(case, who, reason=reason, version=version)
        case "start_review":
            svc.start_review(case, who, version=version)
        case "suspend":
            svc.suspend(
                case, who, kind=SuspensionKind.SITE_INSPECTION, reason=reason, version=version
            )
        case "resume":
            svc.resume(case, who, version=version)
        case "approve":
            svc.decide(case, who, approve=True, reason=None, version=version)
        case "deny":
            svc.decide(case, who, approve=False, reason=reason, version=version)
        case "complete":
            svc.complete(case, who, version=version)
        case "deliver":
            svc.deliver(case, who, version=version)
        case "withdraw":
            svc.withdraw(case, who, reason=reason, version=version)
        case "commit":
            svc.commit(case, who, commitment=reason or "本人承诺", version=version)
        case "payment":
            owed = max(case.fee_due_fen - case.fee_paid_fen, 1)
            svc.record_payment(
                case, who, amount_fen=owed, where=PaymentPlace.CENTER_BANK, version=version
            )
        case "waive_fee":
            svc.waive_fee(case, who, reason=reason, version=version)
        case "deem_accept_overdue":
            return svc.deem_accept_overdue()
        case "deem_approve_overdue":
            return svc.deem_approve_overdue()
        case _:  # pragma: no cover - the strategy only draws the names above
            raise AssertionError(step.op)
    return None


def check_event_chain(case: Case) -> None:
    """Each event starts where the previous one ended; each state change is in the table."""
    events = case.events
    assert events, "a case always has its submission event"
    assert (events[0].action, events[0].from_state, events[0].to_state) == (
        "submit",
        None,
        CaseState.SUBMITTED.value,
    )
    for previous, step in itertools.pairwise(events):
        assert step.from_state == previous.to_state, (previous.action, step.action)
        if step.action in NOTE_ACTIONS:
            assert step.from_state == step.to_state
            continue
        transition = TRANSITIONS[Action(step.action)]
        if step.action == Action.APPROVE.value and step.from_state == step.to_state:
            continue  # one department of a joint case approved; others are pending
        assert CaseState(step.from_state) in transition.sources, step.action
        assert step.to_state == transition.target.value, step.action
        assert step.role in transition.roles, (step.action, step.role)
        if transition.needs_reason:
            assert step.reason is not None
            assert step.reason.strip()
    assert events[-1].to_state == case.state.value


def check_case(session: Session, case: Case) -> None:
    assert case.state in REACHABLE
    check_event_chain(case)
    open_stops = [s for s in case.suspensions if s.end_on is None]
    assert len(open_stops) <= 1, "a case never has two open suspensions"
    if case.state is CaseState.SUSPENDED:
        assert len(open_stops) == 1
    else:
        assert not open_stops, f"a {case.state} case has an open suspension"
    if case.state in CLOCK_STATES:
        assert case.accepted_on is not None
        assert case.deadline_on is not None
    if case.deadline_on is not None:
        assert case.accepted_on is not None
        assert case.deadline_on >= case.accepted_on
    audited = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.subject_id == case.number)
    )
    assert audited == len(case.events), "every recorded step is in the audit chain"


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start=st.dates(dt.date(2025, 1, 1), dt.date(2026, 10, 31)),
    matter=st.sampled_from(["11450981MB0001", "DEEMED", "NOW", "NC1", "DEEMED"]),
    joint=st.booleans(),
    length=st.integers(0, 12),
    data=st.data(),
)
def test_random_service_histories_keep_every_invariant(
    database: Database,
    start: dt.date,
    matter: str,
    joint: bool,
    length: int,
    data: st.DataObject,
) -> None:
    clock = Clock(start)
    with database.unit_of_work() as session:
        submission = case_service(session, clock).submit(
            Application(
                matter_code=matter,
                channel="window",
                applicant_name="张三",
                joint_department_codes=["ZJ"] if joint else [],
            ),
            actor_named(session, "clerk"),
        )
        case_id, number = submission.case.id, submission.case.number
    first_accepted_on: dt.date | None = None
    last_deadline: dt.date | None = None
    state = CaseState.SUBMITTED
    for _ in range(length):
        step = data.draw(next_step(state), label="step")
        clock.advance(step.days)
        clock.now += dt.timedelta(seconds=1)  # two requests never share an instant (see below)
        before: Snapshot | None = None
        moved: list[str] | None = None
        failure: TongbanError | None = None
        try:
            with database.unit_of_work() as session:
                svc = case_service(session, clock)
                case = svc.get(case_id)
                before = snapshot(case)
                moved = run_step(svc, session, case, step)
        except TongbanError as exc:  # domain refusals are fine; anything else fails the test
            failure = exc
        outcome = f"refused {type(failure).__name__}" if failure else "ok"
        if moved is not None:
            outcome = "moved this case" if number in moved else "left this case"
        event(f"{step.op}: {outcome}")
        assert before is not None
        with database.sessions() as session:
            case = session.get(Case, case_id)
            assert case is not None
            after = snapshot(case)
            check_case(session, case)
            report = AuditLog(session).verify()
            assert report.ok, report.reason
            if failure is not None or (moved is not None and number not in moved):
                assert after == before, f"{step} failed or did nothing yet changed the case"
            elif step.op == "approve" and after.pending_tasks > 0:
                assert after.state is before.state  # a joint case waits for the others
                assert after.events == before.events + 1
                assert after.version > before.version, "every recorded step bumps the version"
            else:
                assert after.version > before.version, step
                assert after.events > before.events, step
                if step.op in {"payment", "waive_fee"}:
                    assert after.state is before.state
                elif step.op == "deem_accept_overdue":
                    assert after.state is CaseState.ACCEPTED
                    assert case.deemed_accepted
                    assert case.accepted_on == case.received_on
                elif step.op == "deem_approve_overdue":
                    assert after.state is CaseState.APPROVED
                    assert case.deemed_approved
                else:
                    assert after.state is TRANSITIONS[Action(step.op)].target, step
            if first_accepted_on is not None:
                assert case.accepted_on == first_accepted_on, "the acceptance date never changes"
            first_accepted_on = case.accepted_on
            if last_deadline is not None:
                assert case.deadline_on is not None
                assert case.deadline_on >= last_deadline, "a deadline never moves earlier"
            last_deadline = case.deadline_on
            state = case.state
    with database.sessions() as session:
        event(f"final state {session.get(Case, case_id).state}")
    with database.sessions() as session:  # the jobs may have moved cases of earlier examples
        for other in session.scalars(select(Case)):
            check_case(session, other)


def test_withdrawal_closes_an_open_suspension(database: Database) -> None:
    """Was left open, so the withdrawn case's deadline kept moving later every day."""
    clock = Clock(dt.date(2026, 11, 2))
    with database.unit_of_work() as session:
        svc = case_service(session, clock)
        case = svc.submit(
            Application(matter_code="11450981MB0001", channel="window", applicant_name="张三"),
            actor_named(session, "clerk"),
        ).case
        svc.accept(case, actor_named(session, "clerk"))
        svc.suspend(
            case, actor_named(session, "approver"), kind=SuspensionKind.TESTING, reason="检验检测"
        )
        case_id = case.id
    clock.advance(2)
    with database.unit_of_work() as session:
        svc = case_service(session, clock)
        case = svc.withdraw(svc.get(case_id), actor_named(session, "clerk"), reason="申请人撤回")
        explained = svc.explain_deadline(case)
        assert explained is not None
        deadline_at_withdrawal = explained.deadline_on
    clock.advance(30)
    with database.sessions() as session:
        svc = case_service(session, clock)
        case = svc.get(case_id)
        assert case.state is CaseState.WITHDRAWN
        explained = svc.explain_deadline(case)
        assert explained is not None
        assert explained.deadline_on == deadline_at_withdrawal
        assert [s.end_on for s in case.suspensions] == [dt.date(2026, 11, 4)]


def test_a_step_at_the_same_instant_still_bumps_the_version(database: Database) -> None:
    clock = Clock(dt.date(2026, 11, 2))
    with database.unit_of_work() as session:
        svc = case_service(session, clock)
        case = svc.submit(
            Application(matter_code="NC1", channel="window", applicant_name="张三"),
            actor_named(session, "clerk"),
        ).case
        svc.commit(case, actor_named(session, "clerk"), commitment="本人承诺")
        svc.waive_fee(case, actor_named(session, "clerk"), reason="困难群众减免")
        case_id = case.id
    versions = []
    for _ in range(2):
        with database.unit_of_work() as session:
            svc = case_service(session, clock)
            case = svc.waive_fee(svc.get(case_id), actor_named(session, "clerk"), reason="复核")
        with database.sessions() as session:
            case = session.get(Case, case_id)
            assert case is not None
            versions.append((len(case.events), case.version))
    (events_1, version_1), (events_2, version_2) = versions
    assert events_2 == events_1 + 1
    assert version_2 > version_1


# -- deadlines ------------------------------------------------------------------------------------


@st.composite
def suspensions(draw: st.DrawFn, accepted_on: dt.date) -> Suspension:
    start = accepted_on + dt.timedelta(days=draw(st.integers(-3, 45)))
    length = draw(st.one_of(st.none(), st.integers(0, 25)))
    end = None if length is None else start + dt.timedelta(days=length)
    return Suspension(start, end, draw(st.sampled_from(list(SuspensionKind))).value)


@st.composite
def deadline_cases(draw: st.DrawFn) -> tuple[dt.date, int, list[Suspension], Suspension, dt.date]:
    accepted_on = draw(st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31)))
    promised = draw(st.integers(0, 30))
    stops = draw(st.lists(suspensions(accepted_on), max_size=3))
    extra = draw(suspensions(accepted_on))
    today = accepted_on + dt.timedelta(days=draw(st.integers(0, 90)))
    return accepted_on, promised, stops, extra, today


CALENDAR = WorkingCalendar()


@settings(max_examples=examples(300), deadline=None)
@given(deadline_cases(), st.integers(0, 30))
def test_suspensions_never_move_a_deadline_earlier(
    drawn: tuple[dt.date, int, list[Suspension], Suspension, dt.date], later: int
) -> None:
    accepted_on, promised, stops, extra, today = drawn
    plain = CALENDAR.deadline(accepted_on, promised, [], today=today)
    assert plain == CALENDAR.add_working_days(accepted_on, promised)
    suspended = CALENDAR.deadline(accepted_on, promised, stops, today=today)
    assert suspended >= plain
    one_more = CALENDAR.deadline(accepted_on, promised, [*stops, extra], today=today)
    assert one_more >= suspended
    # an open suspension counts until today: as days pass, the deadline only moves later
    tomorrow = today + dt.timedelta(days=later)
    assert CALENDAR.deadline(accepted_on, promised, stops, today=tomorrow) >= suspended
    explanation = CALENDAR.explain(accepted_on, promised, stops, today=today)
    assert explanation.deadline_on == suspended
    if promised > 0:
        assert len(explanation.counted_days) == promised
        assert all(accepted_on < day <= suspended for day in explanation.counted_days)
    for day in explanation.counted_days:
        assert CALENDAR.is_working_day(day)
    pushed = sum(account.pushed_days for account in explanation.suspensions)
    assert pushed == explanation.suspended_working_days
