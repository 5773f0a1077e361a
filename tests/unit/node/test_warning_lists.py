"""The warning colour in SQL equals the colour rule in Python (hypothesis, both databases).

For random open and closed cases around a random "today" — weekends, the Spring Festival and
National Day holidays with their 调休 working days, local closures and local working days,
deadlines of 0 to 30 working days, extensions, closed and open suspensions — and random
policies (days left, share used), ``CaseService.search(warnings=…)`` (date bounds in SQL for
running cases, node/cases/warnings.py) returns exactly the cases whose colour
``warning_for`` gives, and walking every page by cursor returns each exactly once, in order;
the home page's counts by colour (node/home.py by_colour, counted in SQL) are each
department's numbers of cases of each colour.

Rows are inserted directly (not through the services) to keep each example fast; running
cases get the deadline the services would store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.orm import Session

from node.calendar.workdays import LocalOverride, Suspension, WorkingCalendar
from node.cases.models import Case, Channel, SuspensionKind
from node.cases.models import Suspension as Stop
from node.cases.reading import ListOrder
from node.cases.service import CaseService
from node.cases.states import CaseState
from node.cases.warnings import Warning, WarningPolicy, warning_for
from node.catalog.service import CatalogService
from node.home import by_colour
from node.listing import COUNT_CAP
from node.metadata import load_all_models
from node.models import Base
from schemas.errors import ValidationFailed
from schemas.runtime.database import Database
from tests.conftest import examples
from tests.unit.node.conftest import new_matter

SHANGHAI_NOON = dt.time(4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
PROPERTY_SETTINGS = settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# days next to the calendar's turns in 2026: holidays, 调休 working days, weekends
EDGE_DAYS = [dt.date(2026, 2, d) for d in (12, 13, 14, 15, 16, 20, 22, 23, 24, 27, 28)] + [
    dt.date(2026, 9, d) for d in (18, 19, 20, 24, 25, 26, 30)] + [
    dt.date(2026, 10, d) for d in (1, 4, 7, 8, 9, 10, 11)] + [
    dt.date(2026, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 1, 4), dt.date(2026, 5, 9)]
STATES = [CaseState.ACCEPTED, CaseState.IN_REVIEW, CaseState.SUSPENDED, CaseState.SUBMITTED,
          CaseState.COMPLETED]


@dataclass(frozen=True)
class Drawn:
    state: CaseState
    accepted_back: int  # days before today
    promised: int
    extension: int | None
    closed_stop: tuple[int, int] | None  # (start after acceptance, length) of a closed one
    open_back: int  # the open suspension of a suspended case started this many days ago


drawn_cases = st.builds(
    Drawn,
    state=st.sampled_from(STATES),
    accepted_back=st.integers(min_value=-2, max_value=30),
    promised=st.sampled_from([0, 1, 2, 3, 4, 5, 7, 10, 15, 20, 30]),
    extension=st.sampled_from([None, 0, 2, 5, 10]),
    closed_stop=st.none() | st.tuples(st.integers(0, 10), st.integers(1, 8)),
    open_back=st.integers(min_value=0, max_value=20),
)
policies = st.builds(WarningPolicy, yellow_days_left=st.integers(0, 3),
                     yellow_used_percent=st.sampled_from([0, 30, 50, 80, 99, 100]))


@dataclass
class World:
    db: Database
    matter: int
    department: int
    other: int  # a second department: the home's counts are a department's


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    load_all_models()
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        department = catalog.create_department("SC", "市场监督管理局")
        other = catalog.create_department("RS", "人力资源和社会保障局")
        catalog.create_window("W01", "市场监管窗口", "", ["SC"])
        matter = catalog.create_matter(new_matter())
        ids = World(db, matter.id, department.id, other.id)
    yield ids
    db.dispose()


def insert(session: Session, world: World, today: dt.date, calendar: WorkingCalendar,
           drawn: list[Drawn], prefix: str = "W") -> list[Case]:
    cases = []
    for i, d in enumerate(drawn):
        accepted = today - dt.timedelta(days=d.accepted_back)
        received = accepted - dt.timedelta(days=i % 3)
        stops = []
        if d.closed_stop is not None:
            start = accepted + dt.timedelta(days=d.closed_stop[0])
            end = start + dt.timedelta(days=d.closed_stop[1])
            if end <= today:
                stops.append(Stop(kind=SuspensionKind.TESTING, start_on=start, end_on=end,
                                  reason="检测", notice_number=f"{prefix}S-{i}-1", started_by="a"))
        if d.state is CaseState.SUSPENDED:
            start = max(accepted, today - dt.timedelta(days=d.open_back))
            if not stops or start >= stops[0].end_on:
                stops.append(Stop(kind=SuspensionKind.HEARING, start_on=start, end_on=None,
                                  reason="听证", notice_number=f"{prefix}S-{i}-2", started_by="a"))
        counted = d.promised + (d.extension or 0)
        closed = [Suspension(s.start_on, s.end_on, s.kind.value) for s in stops if s.end_on]
        # what the services store: the deadline over the closed suspensions
        deadline = calendar.deadline(accepted, counted, closed, today=today)
        clocked = d.state is not CaseState.SUBMITTED
        case = Case(
            number=f"{prefix}-{i}", query_code_hash="0" * 64, matter_id=world.matter,
            department_id=world.department if i % 3 else world.other, window_id=None,
            channel=Channel.WINDOW,
            state=d.state, applicant_name="测试", applicant_consent=False,
            received_at=dt.datetime.combine(received, SHANGHAI_NOON), received_on=received,
            accepted_on=accepted if clocked else None, promised_days=d.promised,
            extension_days=d.extension, deadline_on=deadline if clocked else None,
            fee_due_fen=0, fee_paid_fen=0, notes="", suspensions=stops,
        )
        session.add(case)
        cases.append(case)
    session.flush()
    return cases


def walk(service: CaseService, per_page: int, **filters: Any) -> list[int]:
    """Every page by cursor, then back from the last to the first by ``before`` (上一页),
    each page back the one read forward; the ids in the order given."""
    pages: list[list[int]] = []
    cursor = None
    for _ in range(100):
        page = service.search(cursor=cursor, per_page=per_page, **filters)
        pages.append([c.id for c in page.items])
        assert len(page.items) <= per_page
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    else:
        raise AssertionError("the pages never end")
    before = page.prev_cursor
    for expected in reversed(pages[:-1]):
        assert before is not None
        page = service.search(before=before, per_page=per_page, **filters)
        assert [c.id for c in page.items] == expected
        before = page.prev_cursor
    assert before is None  # back at the first page
    return [i for p in pages for i in p]


@PROPERTY_SETTINGS
@given(
    today=st.sampled_from(EDGE_DAYS) | st.dates(dt.date(2026, 1, 5), dt.date(2026, 12, 20)),
    closed_back=st.none() | st.integers(-10, 10),
    open_ahead=st.none() | st.integers(-10, 10),
    policy=policies,
    drawn=st.lists(drawn_cases, min_size=10, max_size=40),
)
def test_sql_colours_equal_the_colour_rule(
    world: World, today: dt.date, closed_back: int | None, open_ahead: int | None,
    policy: WarningPolicy, drawn: list[Drawn],
) -> None:
    overrides = {}
    if closed_back is not None:  # a local closure (本中心休息) near today
        overrides[today + dt.timedelta(days=closed_back)] = LocalOverride(False, "本地休息")
    if open_ahead is not None:  # a local working day near today
        overrides[today + dt.timedelta(days=open_ahead)] = LocalOverride(True, "本地上班")
    calendar = WorkingCalendar(overrides)
    now = dt.datetime.combine(today, SHANGHAI_NOON)
    with Session(world.db.engine) as session:
        cases = insert(session, world, today, calendar, drawn)
        service = CaseService(session, node_code="450981", calendar=calendar,
                              warning_policy=policy, clock=lambda: now)
        expected = {c.id: warning_for(c, calendar, today, policy,
                                      [Suspension(s.start_on, s.end_on, s.kind.value)
                                       for s in c.suspensions]) for c in cases}
        colours = service.colours()  # a list's rows: the same colours, many at once
        assert {c.id: colours.of_case(c) for c in cases} == expected
        # the home's charts (node/home.py): each department's open cases by colour, counted
        for department in (world.department, world.other):
            counted = {w.value: sum(1 for c in cases if c.department_id == department
                                    and expected[c.id] is w) for w in Warning}
            assert by_colour(service, Case.department_id == department) == counted, (
                department, today, policy)
        for wanted in ({Warning.RED}, {Warning.YELLOW}, {Warning.GREEN},
                       {Warning.RED, Warning.YELLOW}):
            matching = {i for i, colour in expected.items() if colour in wanted}
            page = service.search(warnings=wanted, per_page=100)
            assert {c.id for c in page.items} == matching, (wanted, today, policy)
            assert (page.total, page.total_exact) == (len(matching), True)
            # every page by cursor, newest first and by deadline: each case once, in order
            newest = walk(service, 3, warnings=wanted)
            by_id = {c.id: c for c in cases}
            assert newest == sorted(matching, key=lambda i: (by_id[i].received_on, i),
                                    reverse=True)
            urgent = walk(service, 2, warnings=wanted, order=ListOrder.DEADLINE)
            assert urgent == sorted(matching, key=lambda i: (by_id[i].deadline_on, i))
            for state in (CaseState.ACCEPTED, CaseState.SUSPENDED):
                only = service.search(warnings=wanted, states=[state], per_page=100)
                assert {c.id for c in only.items} == {
                    i for i in matching if by_id[i].state is state}
        session.rollback()


def test_cursor_pages_and_capped_totals(world: World) -> None:
    """1,205 cases: the total stops at the cap (超过 1000 件), the pages by state and by date
    range walk every case once, and a cursor that is not one of ours is refused by name."""
    today = dt.date(2026, 11, 18)
    calendar = WorkingCalendar()
    drawn = [Drawn(CaseState.ACCEPTED if i % 4 else CaseState.COMPLETED, i % 40, 5, None, None,
                   0) for i in range(COUNT_CAP + 205)]
    now = dt.datetime.combine(today, SHANGHAI_NOON)
    with Session(world.db.engine) as session:
        cases = insert(session, world, today, calendar, drawn)
        service = CaseService(session, node_code="450981", calendar=calendar,
                              warning_policy=WarningPolicy(), clock=lambda: now)
        everything = service.search(per_page=100)
        assert (everything.total, everything.total_exact) == (COUNT_CAP, False)
        assert len(walk(service, 100)) == len(cases)
        accepted = service.search(states=[CaseState.ACCEPTED], per_page=5)
        expected_accepted = sum(1 for d in drawn if d.state is CaseState.ACCEPTED)
        assert expected_accepted < COUNT_CAP
        assert (accepted.total, accepted.total_exact) == (expected_accepted, True)
        both = walk(service, 50, states=[CaseState.ACCEPTED, CaseState.COMPLETED])
        assert sorted(both) == sorted(c.id for c in cases)
        start, end = today - dt.timedelta(days=20), today - dt.timedelta(days=10)
        in_range = walk(service, 7, received_from=start, received_to=end)
        assert in_range == [c.id for c in sorted(
            (c for c in cases if start <= c.received_on <= end),
            key=lambda c: (c.received_on, c.id), reverse=True)]
        for bad in ("x", "bm90IGpzb24", "WzEsMiwzXQ", "WyIyMDI2LTEzLTAxIiwxXQ", "A" * 300):
            with pytest.raises(ValidationFailed) as refused:
                service.search(cursor=bad)
            assert refused.value.details["fields"] == {
                "cursor": ["不是本列表给出的游标：请去掉游标重新开始"]}
        session.rollback()


@pytest.mark.parametrize("policy", [WarningPolicy(), WarningPolicy(3, 0)])
def test_a_same_day_case_is_green_through_its_due_day_then_red(
        world: World, policy: WarningPolicy) -> None:
    """A 即办件 (0 working days) is green on its due day, never yellow, and red from the day
    after — in the rule, in the colours of a list's rows and in SQL — while a one-day case
    accepted the same day is yellow; accepted on a Saturday it is due (and green) until Monday."""
    calendar = WorkingCalendar()
    for today, drawn, colours in [
        (dt.date(2026, 11, 18), [  # a Wednesday
            Drawn(CaseState.ACCEPTED, 0, 0, None, None, 0),
            Drawn(CaseState.IN_REVIEW, 0, 0, 0, None, 0),
            Drawn(CaseState.SUSPENDED, 0, 0, None, None, 0),
            Drawn(CaseState.ACCEPTED, 1, 0, None, None, 0),
            Drawn(CaseState.ACCEPTED, 0, 1, None, None, 0),
        ], [Warning.GREEN, Warning.GREEN, Warning.GREEN, Warning.RED, Warning.YELLOW]),
        (dt.date(2026, 11, 21), [  # a Saturday: due on Monday 11-23
            Drawn(CaseState.ACCEPTED, 0, 0, None, None, 0),
            Drawn(CaseState.ACCEPTED, 1, 0, None, None, 0),
        ], [Warning.GREEN, Warning.RED]),
    ]:
        with Session(world.db.engine) as session:
            cases = insert(session, world, today, calendar, drawn)
            service = CaseService(session, node_code="450981", calendar=calendar,
                                  warning_policy=policy,
                                  clock=partial(dt.datetime.combine, today, SHANGHAI_NOON))
            rule = [warning_for(c, calendar, today, policy,
                                [Suspension(s.start_on, s.end_on, s.kind.value)
                                 for s in c.suspensions]) for c in cases]
            assert rule == colours, today
            assert [service.colours().of_case(c) for c in cases] == colours
            for wanted in Warning:
                page = service.search(warnings={wanted}, per_page=100)
                assert {c.id for c in page.items} == {
                    c.id for c, colour in zip(cases, colours, strict=True) if colour is wanted}
            session.rollback()


def test_the_home_counts_colours_without_loading_the_cases(world: World) -> None:
    """The home's charts (node/home.py by_colour) load no case and send as many statements for
    90 open cases as for 30: the running ones are counted in SQL (a department of a large
    center holds thousands), the suspended ones read as plain rows."""
    today = dt.date(2026, 11, 18)
    calendar, policy = WorkingCalendar(), WarningPolicy()
    now = dt.datetime.combine(today, SHANGHAI_NOON)
    open_states = (CaseState.ACCEPTED, CaseState.IN_REVIEW, CaseState.SUSPENDED)
    loaded: list[Any] = []
    statements: list[str] = []

    def on_load(target: Any, context: Any) -> None:
        loaded.append(target)

    def on_statement(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    everyone: list[Case] = []
    sent: list[int] = []
    with Session(world.db.engine) as session:
        service = CaseService(session, node_code="450981", calendar=calendar,
                              warning_policy=policy, clock=lambda: now)
        for batch in ("A", "B", "C"):
            # each department's cases of every open state, some with a closed suspension
            drawn = [Drawn(open_states[(i // 3) % 3], i % 25, (0, 1, 5, 10)[i % 4],
                           (None, 5)[i % 2], (i % 5, 2) if i % 4 else None, i % 7)
                     for i in range(30)]
            everyone += insert(session, world, today, calendar, drawn, prefix=batch)
            expected = {w.value: sum(1 for c in everyone if c.department_id == world.department
                                     and warning_for(c, calendar, today, policy, [
                                         Suspension(s.start_on, s.end_on, s.kind.value)
                                         for s in c.suspensions]) is w) for w in Warning}
            session.expunge_all()  # what the counts read comes from the database
            event.listen(Case, "load", on_load)
            event.listen(world.db.engine, "before_cursor_execute", on_statement)
            try:
                counts = by_colour(service, Case.department_id == world.department)
            finally:
                event.remove(Case, "load", on_load)
                event.remove(world.db.engine, "before_cursor_execute", on_statement)
            assert counts == expected
            assert loaded == []
            sent.append(len(statements))
            statements.clear()
        assert sum(expected.values()) == 60  # 90 cases, two in three of this department open
        assert sent[0] == sent[1] == sent[2] <= 4, sent
        session.rollback()
