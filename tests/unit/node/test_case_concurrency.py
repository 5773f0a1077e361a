"""Concurrency of cases with real threads against PostgreSQL.

SQLite is skipped on purpose: every writing transaction there begins with BEGIN IMMEDIATE and
so runs strictly one after another; the races below only exist on PostgreSQL (READ COMMITTED),
the production database.  Each thread has its own session and its own CaseService, as two
gunicorn workers would.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from node.audit.chain import AuditLog
from node.audit.models import AuditEntry
from node.auth.models import User
from node.auth.permissions import Role
from node.calendar.workdays import WorkingCalendar
from node.cases.actors import SYSTEM_ACTOR, Actor
from node.cases.errors import CaseStateError
from node.cases.models import Case, Channel, TaskState
from node.cases.service import Application, CaseService
from node.cases.states import CaseState
from node.cases.warnings import WarningPolicy
from node.catalog.service import CatalogService
from node.metadata import load_all_models
from node.models import Base
from schemas.errors import Conflict
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api, matter_payload, new_matter

SHANGHAI = ZoneInfo("Asia/Shanghai")
SQLITE_SKIP = (
    "concurrency races need PostgreSQL: on SQLite every write transaction takes the database "
    "lock up front (BEGIN IMMEDIATE), so two writers never overlap"
)
JOIN_TIMEOUT = 30


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip(SQLITE_SKIP)
    return database_url


class Clock:
    def __init__(self, day: dt.date) -> None:
        self.now = dt.datetime.combine(day, dt.time(10, 0), SHANGHAI)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def database(pg_url: str) -> Iterator[Database]:
    """SC and ZJ, window W01, a matter of SC, two clerks and an approver of each department."""
    load_all_models()
    db = Database(pg_url)
    Base.metadata.create_all(db.engine)
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        catalog.create_department("SC", "市场监督管理局")
        catalog.create_department("ZJ", "住房和城乡建设局")
        catalog.create_window("W01", "市场监管窗口", "", ["SC"])
        catalog.create_matter(new_matter())
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


CLOCK = Clock(dt.date(2026, 11, 2))


def case_service(session: Session) -> CaseService:
    return CaseService(
        session,
        node_code="450981",
        calendar=WorkingCalendar(),
        warning_policy=WarningPolicy(),
        clock=CLOCK,
    )


def actor_named(session: Session, username: str) -> Actor:
    return Actor.of(session.scalars(select(User).where(User.username == username)).one())


def submit(db: Database, *, by: str | None = "clerk", joint: list[str] | None = None) -> int:
    """A submitted case; ``by=None`` is an online application nobody owns yet."""
    with db.unit_of_work() as session:
        who = actor_named(session, by) if by else SYSTEM_ACTOR
        submission = case_service(session).submit(
            Application(
                matter_code="11450981MB0001",
                channel=(Channel.WINDOW if by else Channel.ONLINE).value,
                applicant_name="张三",
                joint_department_codes=joint or [],
            ),
            who,
        )
        return submission.case.id


def run_threads(targets: list[Callable[[], Any]]) -> list[Any]:
    """Run each target in its own thread; each result is its return value or its exception."""
    results: list[Any] = [None] * len(targets)

    def wrap(index: int, target: Callable[[], Any]) -> None:
        try:
            results[index] = target()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test to inspect
            results[index] = exc

    threads = [
        threading.Thread(target=wrap, args=(i, t), name=f"race-{i}") for i, t in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
        assert not thread.is_alive(), f"{thread.name} did not finish in {JOIN_TIMEOUT} s"
    return results


def audit_is_intact(db: Database) -> None:
    with db.sessions() as session:
        report = AuditLog(session).verify()
        assert report.ok, report.reason


def blocked_by(db: Database, pid: int, timeout: float = 10.0) -> bool:
    """Wait until another PostgreSQL backend waits for a lock held by backend ``pid``."""
    deadline = time.monotonic() + timeout
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            blocked = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
                ),
                {"pid": pid},
            ).scalar_one()
            if blocked:
                return True
            conn.rollback()  # pg_stat_activity is a snapshot held until the transaction ends
            time.sleep(0.02)
    return False


# -- two clerks accept the same case -------------------------------------------------------------


@pytest.mark.parametrize(
    ("owner", "clerks"),
    [("clerk", ("clerk", "clerk")), (None, ("clerk", "clerk2"))],
    ids=["owning-clerk-twice", "online-case-two-clerks"],
)
def test_two_accepts_at_once_exactly_one_wins(
    database: Database, owner: str | None, clerks: tuple[str, str]
) -> None:
    """Both threads read the submitted case, meet at a barrier and accept. The loser's UPDATE
    ... WHERE version = 1 waits for the winner's row lock and then matches no row: SQLAlchemy
    raises StaleDataError (mapped to 409 stale_version by schemas/runtime/webapp.py)."""
    for _round in range(5):
        case_id = submit(database, by=owner)
        barrier = threading.Barrier(2)

        def accept(username: str, case_id: int = case_id, barrier: threading.Barrier = barrier):
            with database.unit_of_work() as session:
                svc = case_service(session)
                case = svc.get(case_id)
                who = actor_named(session, username)
                assert case.state is CaseState.SUBMITTED
                barrier.wait(timeout=10)
                svc.accept(case, who)
                return username

        results = run_threads([lambda u=u: accept(u) for u in clerks])
        winners = [r for r in results if isinstance(r, str)]
        losers = [r for r in results if not isinstance(r, str)]
        assert len(winners) == 1, results
        assert len(losers) == 1, results
        # what actually happens: the optimistic lock (version_id_col), not the state check
        assert isinstance(losers[0], StaleDataError), repr(losers[0])
        with database.sessions() as session:
            case = session.get(Case, case_id)
            assert case is not None
            assert case.state is CaseState.ACCEPTED
            assert case.version > 1  # (accept flushes twice: state, then the clock)
            assert [e.action for e in case.events] == ["submit", "accept"]
            assert case.owner is not None
            assert case.owner.username == winners[0]
            audited = session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.subject_id == case.number)
            )
            assert audited == 2
    audit_is_intact(database)


def test_a_stale_service_call_after_the_race_is_a_state_error(database: Database) -> None:
    """A clerk who reads the case after the winner committed gets the 409 state error."""
    case_id = submit(database)
    with database.unit_of_work() as session:
        svc = case_service(session)
        svc.accept(svc.get(case_id), actor_named(session, "clerk"))
    with database.sessions() as session:
        svc = case_service(session)
        case, clerk = svc.get(case_id), actor_named(session, "clerk")
        with pytest.raises(CaseStateError) as caught:
            svc.accept(case, clerk)
    assert isinstance(caught.value, Conflict)
    assert caught.value.details["state"] == "accepted"


# -- case numbers ---------------------------------------------------------------------------------


def case_serial(number: str) -> int:
    match = re.fullmatch(r"450981-2026-(\d{7})", number)
    assert match, number
    return int(match.group(1))


def test_eight_threads_submitting_get_gap_free_distinct_numbers(database: Database) -> None:
    first = submit(database)  # the year's counter exists (see the cold-start test below)
    barrier = threading.Barrier(8)

    def desk(username: str) -> list[str]:
        barrier.wait(timeout=10)
        numbers = []
        for _ in range(10):
            with database.unit_of_work() as session:
                submission = case_service(session).submit(
                    Application(
                        matter_code="11450981MB0001",
                        channel="window",
                        applicant_name="李四",
                    ),
                    actor_named(session, username),
                )
                numbers.append(submission.case.number)
        return numbers

    results = run_threads([lambda u=u: desk(u) for u in ["clerk", "clerk2"] * 4])
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures
    numbers = [n for batch in results for n in batch]
    assert len(numbers) == 80
    assert len(set(numbers)) == 80
    with database.sessions() as session:
        first_number = session.get(Case, first).number
        stored = session.scalars(select(Case.number)).all()
        submits = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "case.submit")
        )
    assert sorted(case_serial(n) for n in [first_number, *numbers]) == list(range(1, 82))
    assert sorted(stored) == sorted([first_number, *numbers])
    assert submits == 81
    audit_is_intact(database)


def test_the_first_two_submissions_of_a_year_both_get_numbers(database: Database) -> None:
    """Was an IntegrityError (409) for B. Deterministic: A creates the year's counter row and
    holds its transaction open; B's
    SELECT ... FOR UPDATE cannot see the uncommitted row, B inserts too and waits on the key;
    then A commits."""
    a_flushed, release_a = threading.Event(), threading.Event()
    a_pid: list[int] = []

    def first() -> str:
        with database.unit_of_work() as session:
            a_pid.append(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
            number = (
                case_service(session)
                .submit(
                    Application(
                        matter_code="11450981MB0001",
                        channel="window",
                        applicant_name="甲",
                    ),
                    actor_named(session, "clerk"),
                )
                .case.number
            )
            a_flushed.set()
            assert release_a.wait(15)
            return number

    def second() -> str:
        assert a_flushed.wait(15)
        with database.unit_of_work() as session:
            return (
                case_service(session)
                .submit(
                    Application(
                        matter_code="11450981MB0001",
                        channel="window",
                        applicant_name="乙",
                    ),
                    actor_named(session, "clerk2"),
                )
                .case.number
            )

    results: list[Any] = []
    runner = threading.Thread(target=lambda: results.extend(run_threads([first, second])))
    runner.start()
    try:
        assert a_flushed.wait(15)
        # B's counter INSERT waits for A's uncommitted row (a fixed next_number waits too)
        assert blocked_by(database, a_pid[0])
    finally:
        release_a.set()
        runner.join(JOIN_TIMEOUT)
    assert not runner.is_alive()
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, f"a first submission of the year failed: {failures!r}"
    assert sorted(case_serial(n) for n in results) == [1, 2]
    audit_is_intact(database)


# -- joint approval -------------------------------------------------------------------------------


def test_two_departments_approving_at_once_approve_the_case(database: Database) -> None:
    case_id = submit(database, joint=["ZJ"])
    with database.unit_of_work() as session:
        svc = case_service(session)
        svc.accept(svc.get(case_id), actor_named(session, "clerk"))
    barrier = threading.Barrier(2)

    def approve(username: str) -> str:
        with database.unit_of_work() as session:
            svc = case_service(session)
            case = svc.get(case_id)
            who = actor_named(session, username)
            assert [t.state for t in case.tasks] == [TaskState.PENDING, TaskState.PENDING]
            barrier.wait(timeout=10)
            svc.decide(case, who, approve=True, reason=None)
            return username

    results = run_threads([lambda: approve("approver"), lambda: approve("approver_zj")])
    # Was: both committed and the case stayed 'accepted' with every task approved. Now each
    # decision bumps the case's version, so the second one is stale and is told to reload.
    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if not isinstance(r, str)]
    assert len(winners) == 1, results
    assert len(losers) == 1, results
    assert isinstance(losers[0], StaleDataError | Conflict), repr(losers[0])
    with database.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert sorted(t.state for t in case.tasks) == [TaskState.APPROVED, TaskState.PENDING]
        assert case.state is CaseState.ACCEPTED
    loser = "approver_zj" if winners[0] == "approver" else "approver"
    with database.unit_of_work() as session:  # the loser reloads and decides again
        svc = case_service(session)
        svc.decide(svc.get(case_id), actor_named(session, loser), approve=True, reason=None)
    with database.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert {t.state for t in case.tasks} == {TaskState.APPROVED}
        assert case.state is CaseState.APPROVED
    audit_is_intact(database)


# -- the same race through HTTP -------------------------------------------------------------------


@pytest.fixture
def desk(pg_url: str, catalog_base: Api, make_user) -> dict[str, Api]:
    """A matter of SC at window W01, a clerk and an approver of SC (as in test_cases_api)."""
    assert catalog_base.post("/api/v1/matters", matter_payload()).status_code == 201
    return {
        "admin": catalog_base,
        "clerk": make_user(Role.CLERK, username="clerk1", department="SC"),
        "approver": make_user(Role.APPROVER, username="approver1", department="SC"),
    }


def http_submit(clerk: Api) -> dict[str, Any]:
    response = clerk.post(
        "/api/v1/cases", {"matter_code": "11450981MB0001", "applicant_name": "张三"}
    )
    assert response.status_code == 201, response.json
    return response.json


def test_two_http_accepts_at_once_one_200_one_409(app: Flask, desk: dict[str, Api]) -> None:
    token = desk["clerk"].token
    codes_seen: set[str] = set()
    for _round in range(6):
        case = http_submit(desk["clerk"])
        barrier = threading.Barrier(2)

        def post(case: dict[str, Any] = case, barrier: threading.Barrier = barrier) -> Any:
            api = Api(app.test_client(), token)
            barrier.wait(timeout=10)
            return api.post(f"/api/v1/cases/{case['id']}/accept", {"version": case["version"]})

        responses = run_threads([post, post])
        assert not [r for r in responses if isinstance(r, BaseException)], responses
        assert sorted(r.status_code for r in responses) == [200, 409], [
            (r.status_code, r.json) for r in responses
        ]
        loser = next(r for r in responses if r.status_code == 409)
        assert set(loser.json) == {"error"}
        assert loser.json["error"]["code"] in {"stale_version", "invalid_transition"}
        codes_seen.add(loser.json["error"]["code"])
        after = desk["clerk"].get(f"/api/v1/cases/{case['id']}").json
        assert after["state"] == "accepted"
        assert after["version"] > case["version"]
        assert [e["action"] for e in after["events"]] == ["submit", "accept"]
    assert codes_seen  # which 409 the loser gets depends on when it read the case


def test_a_stale_write_through_http_is_409_stale_version(
    app: Flask, db: Database, desk: dict[str, Api]
) -> None:
    """Deterministic StaleDataError in a request: the request reads the case while another
    transaction has accepted it but not committed; its UPDATE then waits and matches no row."""
    case = http_submit(desk["clerk"])
    held, release = threading.Event(), threading.Event()
    holder_pid: list[int] = []

    def hold_an_accept() -> None:
        with db.unit_of_work() as session:
            holder_pid.append(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
            svc = case_service(session)
            svc.accept(svc.get(case["id"]), actor_named(session, "clerk1"))
            held.set()
            assert release.wait(15)

    def request() -> Any:
        assert held.wait(15)
        return Api(app.test_client(), desk["clerk"].token).post(
            f"/api/v1/cases/{case['id']}/accept", {}
        )

    results: list[Any] = []
    runner = threading.Thread(target=lambda: results.extend(run_threads([hold_an_accept, request])))
    runner.start()
    assert held.wait(15)
    try:
        assert blocked_by(db, holder_pid[0]), "the request never waited for the held accept"
    finally:
        release.set()
        runner.join(JOIN_TIMEOUT)
    holder, response = results
    assert holder is None
    assert response.status_code == 409, response.json
    assert response.json["error"]["code"] == "stale_version"
    assert set(response.json["error"]) == {"code", "message", "details"}
    after = desk["clerk"].get(f"/api/v1/cases/{case['id']}").json
    assert [e["action"] for e in after["events"]] == ["submit", "accept"]
    assert after["version"] > case["version"]
