"""Case rules on the service level with a controllable clock: deadlines on the Chinese
working-day calendar, deemed acceptance (Art. 32), deemed approval, warnings, suspensions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from node.auth.models import User
from node.auth.permissions import Role
from node.calendar.workdays import WorkingCalendar
from node.cases.actors import SYSTEM_ACTOR, Actor
from node.cases.models import Case, SuspensionKind
from node.cases.service import Application, CaseService
from node.cases.states import CaseState
from node.cases.warnings import Warning, WarningPolicy
from node.catalog.service import CatalogService
from node.metadata import load_all_models
from node.models import Base
from schemas.runtime.database import Database
from tests.unit.node.conftest import Clock, new_matter

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    load_all_models()
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        catalog.create_department("SC", "市场监督管理局")
        catalog.create_window("W01", "市场监管窗口", "", ["SC"])
        catalog.create_matter(new_matter())  # 5 promised working days
        catalog.create_matter(
            new_matter(code="DEEMED", deemed_approval=True, promised_limit_days=3)
        )
        catalog.create_matter(
            new_matter(code="NOW", handling_type="immediate", promised_limit_days=0)
        )
        for name, role in (("clerk", Role.CLERK), ("approver", Role.APPROVER)):
            session.add(
                User(
                    username=name,
                    display_name=name,
                    role=role,
                    department=catalog.department("SC"),
                    password_hash="x",
                    active=True,
                )
            )
    yield db
    db.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.date(2026, 9, 21))  # a Monday


def service(session: Session, clock: Clock) -> CaseService:
    return CaseService(
        session,
        node_code="450981",
        calendar=WorkingCalendar(),
        warning_policy=WarningPolicy(),
        clock=clock,
    )


def actor(session: Session, username: str) -> Actor:
    from sqlalchemy import select

    return Actor.of(session.scalar(select(User).where(User.username == username)))


def new_case(db: Database, clock: Clock, matter: str = "11450981MB0001") -> int:
    with db.unit_of_work() as session:
        submission = service(session, clock).submit(
            Application(matter_code=matter, channel="window", applicant_name="张三"),
            actor(session, "clerk"),
        )
        return submission.case.id


def test_deadline_spans_national_day(database: Database, clock: Clock) -> None:
    clock.set(dt.date(2026, 9, 29))  # Tuesday before the National Day holiday
    case_id = new_case(database, clock)
    with database.unit_of_work() as session:
        svc = service(session, clock)
        case = svc.accept(svc.get(case_id), actor(session, "clerk"))
        calendar = WorkingCalendar()
        expected = calendar.add_working_days(dt.date(2026, 9, 29), 5)
        assert case.deadline_on == expected
        assert expected > dt.date(2026, 10, 8)  # the Golden Week does not count
        explanation = svc.explain_deadline(case)
        assert explanation is not None
        assert len(explanation.counted_days) == 5
        assert any(d.reason == "public_holiday" for d in explanation.skipped_days)


def test_accepted_on_a_holiday_counts_from_the_next_working_day(
    database: Database, clock: Clock
) -> None:
    clock.set(dt.date(2026, 10, 2))  # National Day holiday: the center happens to accept
    case_id = new_case(database, clock)
    with database.unit_of_work() as session:
        svc = service(session, clock)
        case = svc.accept(svc.get(case_id), actor(session, "clerk"))
        assert case.accepted_on == dt.date(2026, 10, 2)
        first_working = WorkingCalendar().add_working_days(dt.date(2026, 10, 2), 1)
        assert first_working == dt.date(2026, 10, 8)  # 1-7 October are the holiday
        assert case.deadline_on == WorkingCalendar().add_working_days(dt.date(2026, 10, 2), 5)


def test_no_notice_within_five_working_days_counts_as_accepted_on_receipt(
    database: Database, clock: Clock
) -> None:
    clock.set(dt.date(2026, 11, 2))  # Monday
    case_id = new_case(database, clock)
    clock.set(dt.date(2026, 11, 9))  # five working days later: still in time
    with database.unit_of_work() as session:
        assert service(session, clock).deem_accept_overdue() == []
    clock.set(dt.date(2026, 11, 10))
    with database.unit_of_work() as session:
        svc = service(session, clock)
        done = svc.deem_accept_overdue()
        case = svc.get(case_id)
        assert done == [case.number]
        assert case.state is CaseState.ACCEPTED
        assert case.deemed_accepted is True
        assert case.accepted_on == dt.date(2026, 11, 2)
        assert case.events[-1].role == "system"
        # and a notice is now too late
    other = new_case(database, clock)
    clock.set(dt.date(2026, 11, 20))
    with database.unit_of_work() as session:
        svc = service(session, clock)
        from schemas.errors import Conflict

        with pytest.raises(Conflict, match="第三十二条"):
            svc.request_supplement(
                svc.get(other),
                actor(session, "clerk"),
                material_positions=[1],
                other_items=[],
                repeat_reason=None,
            )


def test_late_acceptance_without_notice_dates_back_to_receipt(
    database: Database, clock: Clock
) -> None:
    clock.set(dt.date(2026, 11, 2))
    case_id = new_case(database, clock)
    clock.set(dt.date(2026, 11, 16))
    with database.unit_of_work() as session:
        svc = service(session, clock)
        case = svc.accept(svc.get(case_id), actor(session, "clerk"))
        assert case.accepted_on == dt.date(2026, 11, 2)
        assert case.deemed_accepted


def test_deemed_approval_after_the_deadline(database: Database, clock: Clock) -> None:
    clock.set(dt.date(2026, 11, 2))
    deemed = new_case(database, clock, "DEEMED")
    ordinary = new_case(database, clock)
    with database.unit_of_work() as session:
        svc = service(session, clock)
        for case_id in (deemed, ordinary):
            svc.accept(svc.get(case_id), actor(session, "clerk"))
        assert svc.get(deemed).deadline_on == dt.date(2026, 11, 5)
    clock.set(dt.date(2026, 11, 5))  # the deadline day itself: not yet
    with database.unit_of_work() as session:
        assert service(session, clock).deem_approve_overdue() == []
    clock.set(dt.date(2026, 11, 6))
    with database.unit_of_work() as session:
        svc = service(session, clock)
        assert svc.deem_approve_overdue() == [svc.get(deemed).number]
        case = svc.get(deemed)
        assert case.state is CaseState.APPROVED
        assert case.deemed_approved
        assert svc.get(ordinary).state is CaseState.ACCEPTED  # matter does not allow it


def test_warning_colours_over_time(database: Database, clock: Clock) -> None:
    clock.set(dt.date(2026, 11, 2))  # Monday; 5 working days → due Monday 9 Nov
    case_id = new_case(database, clock)
    with database.unit_of_work() as session:
        svc = service(session, clock)
        svc.accept(svc.get(case_id), actor(session, "clerk"))
    expected = {
        dt.date(2026, 11, 2): Warning.GREEN,
        dt.date(2026, 11, 5): Warning.GREEN,  # two working days left, 60 % used
        dt.date(2026, 11, 6): Warning.YELLOW,  # one working day left
        dt.date(2026, 11, 9): Warning.YELLOW,  # due today
        dt.date(2026, 11, 10): Warning.RED,
    }
    for day, colour in expected.items():
        clock.set(day)
        with database.sessions() as session:
            svc = service(session, clock)
            assert (day, svc.warning(svc.get(case_id))) == (day, colour)


def test_immediate_matter_is_due_the_same_day(database: Database, clock: Clock) -> None:
    case_id = new_case(database, clock, "NOW")
    with database.unit_of_work() as session:
        svc = service(session, clock)
        case = svc.accept(svc.get(case_id), actor(session, "clerk"))
        assert case.deadline_on == case.accepted_on == dt.date(2026, 9, 21)


def test_suspension_spanning_a_holiday_pushes_by_working_days_only(
    database: Database, clock: Clock
) -> None:
    clock.set(dt.date(2026, 9, 28))  # Monday
    case_id = new_case(database, clock)
    with database.unit_of_work() as session:
        svc = service(session, clock)
        case = svc.accept(svc.get(case_id), actor(session, "clerk"))
        before = case.deadline_on
    clock.set(dt.date(2026, 9, 30))
    with database.unit_of_work() as session:
        svc = service(session, clock)
        svc.suspend(
            svc.get(case_id),
            actor(session, "approver"),
            kind=SuspensionKind.SITE_INSPECTION,
            reason="现场勘查",
        )
    clock.set(dt.date(2026, 10, 12))  # resumes after the Golden Week
    with database.unit_of_work() as session:
        svc = service(session, clock)
        case = svc.resume(svc.get(case_id), actor(session, "approver"))
        calendar = WorkingCalendar()
        suspended = calendar.working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 12))
        assert suspended < 12  # holidays inside the suspension do not count twice
        assert case.deadline_on == calendar.add_working_days(dt.date(2026, 9, 28), 5 + suspended)
        assert case.deadline_on > before


def test_history_records_actor_role_time_and_audit_chain(database: Database, clock: Clock) -> None:
    from node.audit.chain import AuditLog

    case_id = new_case(database, clock)
    with database.unit_of_work() as session:
        svc = service(session, clock)
        svc.reject(svc.get(case_id), actor(session, "clerk"), reason="材料虚假")
    with database.sessions() as session:
        case = session.get(Case, case_id)
        assert [(e.action, e.actor, e.role) for e in case.events] == [
            ("submit", "clerk", "clerk"),
            ("reject", "clerk", "clerk"),
        ]
        assert case.events[-1].at == clock()
        report = AuditLog(session).verify()
        assert report.ok
        assert report.checked == 2
    assert SYSTEM_ACTOR.role == "system"


def test_yellow_by_share_of_days_used() -> None:
    from node.cases.warnings import colour

    policy = WarningPolicy(yellow_days_left=1, yellow_used_percent=80)
    assert colour(3, 10, policy) is Warning.GREEN  # 70 % used
    assert colour(2, 10, policy) is Warning.YELLOW  # 80 % used
    assert colour(1, 20, policy) is Warning.YELLOW  # one day left
    assert colour(-1, 20, policy) is Warning.RED
    strict = WarningPolicy(yellow_days_left=3, yellow_used_percent=50)
    assert colour(3, 20, strict) is Warning.YELLOW
