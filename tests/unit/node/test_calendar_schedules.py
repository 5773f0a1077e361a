"""National schedules as node data: import (JSON and XLSX, every validation error), the
source order, provisional deadlines, and open cases recomputed on every calendar change —
on both databases, with the suite's clock (never the machine's date)."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.audit.chain import AuditLog
from node.auth.models import User
from node.auth.permissions import Role
from node.calendar.models import CalendarSchedule, ScheduleSource
from node.calendar.schedules import ScheduleImportError, read_json_schedule, read_schedule
from node.calendar.service import CalendarService
from node.calendar.workdays import DayReason
from node.cases.actors import Actor
from node.cases.models import Case, CaseEvent, SuspensionKind
from node.cases.recompute import recompute_open_cases
from node.cases.service import Application, CaseService
from node.cases.states import CaseState
from node.cases.warnings import WarningPolicy
from node.catalog.service import CatalogService
from node.metadata import load_all_models
from node.models import Base
from schemas.runtime.database import Database, utcnow
from tests.unit.node.conftest import Clock, new_matter

DEMO_2027 = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "holidays-2027-demo.json"
D = dt.date


def changing(session: Session, clock: Callable[[], dt.datetime] = utcnow) -> CalendarService:
    """A calendar service that may change the calendar, as the composition root builds it
    (NodeServices.calendar): the open cases' deadlines follow (node/cases/recompute.py)."""
    return CalendarService(session, clock=clock, recompute=recompute_open_cases)


def schedule_2027(**changes: Any) -> dict[str, Any]:
    document = json.loads(DEMO_2027.read_text(encoding="utf-8"))
    document["source"] = "国办发明电〔2026〕测试号"
    document.update(changes)
    return document


def as_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def xlsx(rows: list[tuple[Any, ...]], heading: tuple[str, ...] = ("日期", "类型", "节日")) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(heading)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    load_all_models()
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        catalog.create_department("SC", "市场监督管理局")
        catalog.create_window("W01", "市场监管窗口", "", ["SC"])
        catalog.create_matter(new_matter(code="M20", promised_limit_days=20,
                                             legal_limit_days=20, deemed_approval=True))
        session.add(User(username="clerk", display_name="clerk", role=Role.CLERK,
                         department=catalog.department("SC"), password_hash="x", active=True))
    yield db
    db.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(D(2026, 12, 6))  # the day the issue was written: a Sunday


def cases(session: Session, clock: Clock) -> CaseService:
    return CaseService(session, node_code="450981",
                       calendar=CalendarService(session, clock=clock).calendar(),
                       warning_policy=WarningPolicy(), clock=clock)


def clerk(session: Session) -> Actor:
    return Actor.of(session.scalar(select(User).where(User.username == "clerk")))


def accepted_case(db: Database, clock: Clock) -> str:
    with db.unit_of_work() as session:
        service = cases(session, clock)
        case = service.submit(Application(
            matter_code="M20",
            channel="window",
            applicant_name="张三",
        ), clerk(session)).case
        service.accept(case, clerk(session))
        return case.number


def case_row(db: Database, number: str) -> Case:
    with db.sessions() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        session.expunge(case)
        return case


def events(db: Database, number: str) -> list[CaseEvent]:
    with db.sessions() as session:
        return list(session.scalars(select(CaseEvent).join(Case).where(Case.number == number)
                                    .order_by(CaseEvent.id)))


def import_2027(db: Database, clock: Clock, document: dict[str, Any] | None = None) -> Any:
    with db.unit_of_work() as session:
        return changing(session, clock).import_schedule(
            read_json_schedule(as_bytes(document or schedule_2027()), 2027), "admin")


# -- reading a schedule ----------------------------------------------------------------------


def test_the_demo_file_is_a_valid_2027_schedule_marked_as_demo_data() -> None:
    document = read_json_schedule(DEMO_2027.read_bytes(), 2027)
    assert document.holidays[D(2027, 1, 1)] == "元旦"
    assert document.workdays[D(2027, 2, 20)] == "春节"
    assert "演示数据" in document.reference


@pytest.mark.parametrize(
    ("change", "row", "field", "words"),
    [
        (lambda d: d["days"].append({"date": "2028-01-01", "kind": "holiday", "name": "元旦"}),
         39, "date", "not in 2027"),
        (lambda d: d["days"].append(dict(d["days"][0])), 39, "date", "listed twice"),
        (lambda d: d["days"].append({"date": "2027-03-03", "kind": "workday", "name": "春节"}),
         39, "kind", "weekday"),
        (lambda d: d["days"].append({"date": "2027-03-06", "kind": "holiday", "name": " "}),
         39, "name", "name"),
        (lambda d: d["days"].append({"date": "2027-03-06", "kind": "off", "name": "x"}),
         39, "kind", "holiday"),
        (lambda d: d["days"].append({"date": "2027/03/06", "kind": "holiday", "name": "x"}),
         39, "date", "YYYY-MM-DD"),
        (lambda d: d["days"].append({"date": "2027-02-30", "kind": "holiday", "name": "x"}),
         39, "date", "not a date"),
        (lambda d: d["days"].append({"date": "2027-03-06", "kind": "holiday", "name": "x",
                                     "extra": 1}), 39, "extra", "unknown"),
        (lambda d: d.update(year=2028), None, "year", "not 2027"),
        (lambda d: d.update(days=[]), None, "days", "at least one"),
    ],
)
def test_every_bad_row_is_named_and_nothing_is_imported(
    database: Database, clock: Clock, change: Any, row: int | None, field: str, words: str
) -> None:
    document = schedule_2027()
    change(document)
    with pytest.raises(ScheduleImportError) as refused:
        import_2027(database, clock, document)
    assert refused.value.code == "validation_failed"
    problems = refused.value.details["rows"]
    assert any(p["row"] == row and p["field"] == field and words in p["reason"]
               for p in problems), problems
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CalendarSchedule)) == 0


def test_several_problems_are_answered_at_once() -> None:
    document = schedule_2027()
    document["days"][0]["name"] = ""
    document["days"][1]["date"] = "2026-12-31"
    with pytest.raises(ScheduleImportError) as refused:
        read_json_schedule(as_bytes(document), 2027)
    assert {(p["row"], p["field"]) for p in refused.value.details["rows"]} == {
        (1, "name"), (2, "date")}


def test_an_xlsx_schedule_reads_like_the_json_one() -> None:
    # a spreadsheet's date cell reads back as a naive midnight
    workbook = xlsx([(dt.datetime(2027, 1, 1), "休", "元旦"),  # noqa: DTZ001
                     ("2027-02-20", "班", "春节")])
    document = read_schedule(workbook, 2027, filename="2027.xlsx", reference="国办发明电")
    assert document.holidays == {D(2027, 1, 1): "元旦"}
    assert document.workdays == {D(2027, 2, 20): "春节"}
    assert document.reference == "国办发明电"


def test_an_xlsx_schedule_names_its_bad_rows_by_worksheet_row() -> None:
    workbook = xlsx([(dt.datetime(2027, 1, 1), "休", "元旦"),  # noqa: DTZ001
                     ("2027-03-03", "班", "春节"),  # a Wednesday is no 调休 day
                     ("2027-01-01", "休", "元旦"),  # twice
                     ("2027-05-01", "休", None),
                     ("2027-05-02", "放假", "劳动节")])
    with pytest.raises(ScheduleImportError) as refused:
        read_schedule(workbook, 2027)
    found = {(p["row"], p["field"]) for p in refused.value.details["rows"]}
    assert found == {(3, "kind"), (4, "date"), (5, "name"), (6, "kind")}


def test_an_xlsx_without_the_columns_or_not_a_workbook_is_refused() -> None:
    with pytest.raises(ScheduleImportError) as refused:
        read_schedule(xlsx([("2027-01-01", "休")], heading=("日期", "类型")), 2027)
    assert "节日" in refused.value.details["rows"][0]["reason"]
    with pytest.raises(ScheduleImportError) as broken:
        read_schedule(b"PK\x03\x04 not really a zip", 2027)
    assert broken.value.details["rows"][0]["field"] == "file"


# -- the schedule in force -------------------------------------------------------------------


def test_an_imported_year_reads_like_the_packages_data(database: Database, clock: Clock) -> None:
    with database.sessions() as session:
        before = CalendarService(session, clock=clock)
        assert before.calendar().day_status(D(2027, 1, 1)).reason is DayReason.UNKNOWN_YEAR_WORKDAY
        assert before.missing_years() == [2027]
        assert {y.year: y.source for y in before.years()}[2027] is ScheduleSource.NONE
    change = import_2027(database, clock)
    assert change.changed
    assert change.version == 1
    with database.sessions() as session:
        service = CalendarService(session, clock=clock)
        calendar = service.calendar()
        new_year = calendar.day_status(D(2027, 1, 1))
        assert new_year.reason is DayReason.PUBLIC_HOLIDAY
        assert new_year.holiday is not None
        assert new_year.holiday.chinese == "元旦"
        assert new_year.holiday.english == "New Year's Day"
        assert calendar.day_status(D(2027, 2, 20)).reason is DayReason.ADJUSTED_WORKDAY
        assert calendar.explain(D(2026, 12, 30), 5).warnings == ()
        assert service.missing_years() == []
        years = {y.year: y for y in service.years()}
        assert years[2027].source is ScheduleSource.IMPORTED
        assert (years[2027].holidays, years[2027].worked_weekend_days) == (33, 5)
        assert years[2026].source is ScheduleSource.PACKAGE
        assert years[2026].holidays > 0


def test_importing_the_same_file_twice_changes_nothing(database: Database, clock: Clock) -> None:
    import_2027(database, clock)
    with database.sessions() as session:
        head = AuditLog(session).head().seq
    again = import_2027(database, clock)
    assert not again.changed
    with database.sessions() as session:
        assert AuditLog(session).head().seq == head
        schedule = session.get(CalendarSchedule, 2027)
        assert schedule is not None
        assert schedule.version == 1


def test_a_local_override_still_wins_over_an_imported_year(
    database: Database, clock: Clock
) -> None:
    import_2027(database, clock)
    with database.unit_of_work() as session:
        changing(session, clock).set_override(
            D(2027, 2, 20), False, "本地不调休", "admin")
    with database.sessions() as session:
        status = CalendarService(session, clock=clock).calendar().day_status(D(2027, 2, 20))
    assert status.reason is DayReason.LOCAL_CLOSURE
    assert status.holiday is not None
    assert status.holiday.chinese == "春节"


# -- open cases follow the calendar ----------------------------------------------------------


def test_the_issues_case_moves_from_new_years_day_when_2027_is_imported(
    database: Database, clock: Clock
) -> None:
    number = accepted_case(database, clock)
    case = case_row(database, number)
    assert (case.accepted_on, case.deadline_on) == (D(2026, 12, 6), D(2027, 1, 1))
    assert case.deadline_provisional is True

    change = import_2027(database, clock)

    assert change.recompute is not None
    assert change.recompute.as_dict()["moved"] == 1
    assert change.recompute.released == 1
    case = case_row(database, number)
    assert case.deadline_on == D(2027, 1, 4)
    assert case.deadline_provisional is False
    event = events(database, number)[-1]
    assert event.action == "deadline_recomputed"
    assert event.reason == "期限因节假日安排调整由 2027-01-01 改为 2027-01-04，不再为暂定"
    assert event.public is True
    with database.sessions() as session:
        entry = AuditLog(session).entries("case", number)[-1]
        assert entry.action == "case.deadline_recomputed"
        assert json.loads(entry.data)["deadline_after"] == "2027-01-04"
        assert AuditLog(session).verify().ok


def test_closed_cases_keep_their_dates(database: Database, clock: Clock) -> None:
    number = accepted_case(database, clock)
    with database.unit_of_work() as session:
        service = cases(session, clock)
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        service.withdraw(case, clerk(session), reason="申请人撤回")
    import_2027(database, clock)
    assert case_row(database, number).deadline_on == D(2027, 1, 1)
    assert [e.action for e in events(database, number)][-1] == "withdraw"


def test_a_suspended_case_is_recomputed_too(database: Database, clock: Clock) -> None:
    number = accepted_case(database, clock)
    with database.unit_of_work() as session:
        service = cases(session, clock)
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        approver = Actor("approver", Role.APPROVER.value, None, case.department_id)
        service.suspend(case, approver, kind=SuspensionKind.SITE_INSPECTION, reason="现场勘查")
    clock.set(D(2026, 12, 8))  # suspended since Sunday 6 Dec: Monday 7 Dec is stopped
    import_2027(database, clock)
    case = case_row(database, number)
    assert case.state is CaseState.SUSPENDED
    # 20 working days from 7 Dec with 7 Dec stopped: 5 Jan 2027 once 1 Jan is a holiday
    assert case.deadline_on == D(2027, 1, 5)
    assert case.deadline_provisional is False


def test_an_override_moves_the_cases_it_reaches_and_back(database: Database, clock: Clock) -> None:
    number = accepted_case(database, clock)
    import_2027(database, clock)
    with database.unit_of_work() as session:
        changing(session, clock).set_override(
            D(2026, 12, 21), False, "停电停止办公", "admin")
    assert case_row(database, number).deadline_on == D(2027, 1, 5)
    last = events(database, number)[-1]
    assert last.reason == "期限因本中心工作日调整由 2027-01-04 改为 2027-01-05"
    with database.unit_of_work() as session:
        changing(session, clock).remove_override(D(2026, 12, 21), "admin")
    assert case_row(database, number).deadline_on == D(2027, 1, 4)
    with database.sessions() as session:
        actions = [e.action for e in AuditLog(session).entries("calendar")]
    assert actions == ["calendar.import", "calendar.override", "calendar.override"]


def test_a_calendar_service_without_the_recompute_changes_nothing(
    database: Database, clock: Clock
) -> None:
    """The calendar never imports the cases: a service built without the recompute the
    composition root hands in (NodeServices.calendar) only reads, and refuses every change
    before it touches a row, so no open case can be left with a stale deadline."""
    number = accepted_case(database, clock)
    import_2027(database, clock)
    with database.unit_of_work() as session:
        changing(session, clock).set_override(D(2026, 12, 21), False, "停电停止办公", "admin")
    fewer_days = schedule_2027(days=schedule_2027()["days"][:-1])  # not the days held
    document = read_json_schedule(as_bytes(fewer_days), 2027)
    attempts: list[Callable[[CalendarService], object]] = [
        lambda service: service.set_override(D(2026, 12, 22), False, "停电", "admin"),
        lambda service: service.remove_override(D(2026, 12, 21), "admin"),
        lambda service: service.import_schedule(document, "admin"),
        lambda service: service.confirm_weekends_only(2030, "admin", "无数据"),
    ]
    for attempt in attempts:
        with database.unit_of_work() as session, pytest.raises(RuntimeError, match="only reads"):
            attempt(CalendarService(session, clock=clock))
    with database.sessions() as session:
        assert [o.day for o in CalendarService(session).list_overrides()] == [D(2026, 12, 21)]
        assert session.scalar(select(func.count()).select_from(CalendarSchedule)) == 1
    assert case_row(database, number).deadline_on == D(2027, 1, 5)


def test_an_override_after_the_deadline_moves_nothing(database: Database, clock: Clock) -> None:
    number = accepted_case(database, clock)
    import_2027(database, clock)
    before = len(events(database, number))
    with database.unit_of_work() as session:
        changing(session, clock).set_override(
            D(2027, 3, 1), False, "远期停止办公", "admin")
    assert case_row(database, number).deadline_on == D(2027, 1, 4)
    assert len(events(database, number)) == before


def test_a_submitted_cases_notice_window_follows_an_override(
    database: Database, clock: Clock
) -> None:
    clock.set(D(2026, 11, 2))
    with database.unit_of_work() as session:
        number = cases(session, clock).submit(
            Application(matter_code="M20", channel="window", applicant_name="李四"),
            clerk(session)).case.number
    with database.unit_of_work() as session:
        changing(session, clock).set_override(
            D(2026, 11, 4), False, "台风停止办公", "admin")
    event = events(database, number)[-1]
    assert event.action == "notice_window_moved"
    assert event.reason == "一次性告知期限因本中心工作日调整由 2026-11-09 改为 2026-11-10"


# -- provisional deadlines hold back what is deemed -------------------------------------------


def test_deemed_approval_waits_for_the_year_and_an_admins_confirmation_releases_it(
    database: Database, clock: Clock
) -> None:
    number = accepted_case(database, clock)
    clock.set(D(2027, 1, 5))  # past the provisional deadline of 1 Jan 2027
    with database.unit_of_work() as session:
        assert cases(session, clock).deem_approve_overdue() == []
    assert case_row(database, number).state is CaseState.ACCEPTED

    with database.unit_of_work() as session:
        change = changing(session, clock).confirm_weekends_only(
            2027, "admin", "国务院通知延迟，经中心主任批准暂按周末计算")
    assert change.recompute is not None
    assert change.recompute.released == 1
    case = case_row(database, number)
    assert (case.deadline_on, case.deadline_provisional) == (D(2027, 1, 1), False)
    assert events(database, number)[-1].reason == (
        "期限 2027-01-01 经节假日安排调整复核未变，不再为暂定")
    with database.sessions() as session:
        confirmed = AuditLog(session).entries("calendar", "2027")
        assert [e.action for e in confirmed] == ["calendar.confirm_weekends_only"]
        assert confirmed[0].actor == "admin"
    with database.unit_of_work() as session:
        assert cases(session, clock).deem_approve_overdue() == [number]


def test_deemed_acceptance_waits_on_a_provisional_notice_window(
    database: Database, clock: Clock
) -> None:
    clock.set(D(2026, 12, 28))
    with database.unit_of_work() as session:
        number = cases(session, clock).submit(
            Application(matter_code="M20", channel="window", applicant_name="王五"),
            clerk(session)).case.number
    clock.set(D(2027, 1, 8))  # five weekdays later: the window ran into 2027
    with database.unit_of_work() as session:
        assert cases(session, clock).deem_accept_overdue() == []
    import_2027(database, clock)
    with database.unit_of_work() as session:
        assert cases(session, clock).deem_accept_overdue() == [number]


def test_a_year_with_data_cannot_be_confirmed_weekends_only(
    database: Database, clock: Clock
) -> None:
    from schemas.errors import Conflict, ValidationFailed

    with database.unit_of_work() as session, pytest.raises(Conflict):
        changing(session, clock).confirm_weekends_only(2026, "admin", "误操作")
    with database.unit_of_work() as session, pytest.raises(ValidationFailed):
        changing(session, clock).confirm_weekends_only(2027, "admin", " ")


# -- the daily warning ---------------------------------------------------------------------


def test_the_calendar_check_warns_of_a_year_without_data_from_sixty_days_before(
    database: Database, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    from node.calendar.jobs import check_calendar as check
    from node.sync.reports import calendar_warned

    def check_calendar(database: Database, clock: Clock) -> list[int]:
        return check(database, calendar_warned, clock)

    clock.set(D(2026, 11, 1))
    with caplog.at_level(logging.WARNING, logger="tongban.sync.worker"):
        assert check_calendar(database, clock) == []
        assert not caplog.records
        clock.set(D(2026, 11, 2))
        assert check_calendar(database, clock) == [2027]
        assert "no national holiday schedule for 2027" in caplog.records[-1].getMessage()
        # once a day: checked again the same day (a cron's run-jobs, a restarted worker), the
        # years are still answered but the log stays quiet; the next day it warns again
        assert len(caplog.records) == 1
        assert check_calendar(database, clock) == [2027]
        assert len(caplog.records) == 1
        clock.set(D(2026, 11, 3))
        assert check_calendar(database, clock) == [2027]
        assert len(caplog.records) == 2
    import_2027(database, clock)
    assert check_calendar(database, clock) == []
