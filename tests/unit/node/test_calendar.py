"""The working-day calendar and deadline arithmetic (pure: no database, no Flask)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.calendar.workdays import (
    DayReason,
    HolidayName,
    LocalOverride,
    Suspension,
    WorkingCalendar,
    holiday_data_covers,
    holiday_data_years,
    shanghai_today,
    to_shanghai_date,
)
from tests.conftest import examples

D = dt.date
ONE_DAY = dt.timedelta(days=1)
NATIONAL = WorkingCalendar()


def span(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# -- the national calendar as chinese_calendar has it --------------------------------------------

HOLIDAYS = [
    # (first day off, last day off, Chinese names seen, adjusted working days 调休)
    pytest.param(D(2025, 1, 28), D(2025, 2, 4), {"春节"}, [D(2025, 1, 26), D(2025, 2, 8)],
                 id="2025-spring-festival"),
    pytest.param(D(2025, 10, 1), D(2025, 10, 8), {"国庆节", "中秋"},
                 [D(2025, 9, 28), D(2025, 10, 11)], id="2025-national-day"),
    pytest.param(D(2026, 2, 15), D(2026, 2, 23), {"春节"}, [D(2026, 2, 14), D(2026, 2, 28)],
                 id="2026-spring-festival"),
    pytest.param(D(2026, 10, 1), D(2026, 10, 7), {"国庆节"}, [D(2026, 9, 20), D(2026, 10, 10)],
                 id="2026-national-day"),
]


@pytest.mark.parametrize(("first", "last", "names", "adjusted"), HOLIDAYS)
def test_national_holidays_and_adjusted_working_days(
    first: dt.date, last: dt.date, names: set[str], adjusted: list[dt.date]
) -> None:
    seen: set[str] = set()
    for day in span(first, last):
        status = NATIONAL.day_status(day)
        assert not status.working, day
        assert status.reason is DayReason.PUBLIC_HOLIDAY, day
        assert status.holiday is not None
        seen.add(status.holiday.chinese)
    assert seen == names
    # the days around the holiday are ordinary working days or weekends, not holidays
    assert NATIONAL.day_status(first - ONE_DAY).reason is not DayReason.PUBLIC_HOLIDAY
    assert NATIONAL.day_status(last + ONE_DAY).reason is not DayReason.PUBLIC_HOLIDAY
    for day in adjusted:
        status = NATIONAL.day_status(day)
        assert day.weekday() >= 5, "调休 days are weekend days worked"
        assert status.working
        assert status.reason is DayReason.ADJUSTED_WORKDAY
        assert status.holiday is not None
        assert "调休" in status.description


def test_2025_national_day_includes_mid_autumn_by_name() -> None:
    status = NATIONAL.day_status(D(2025, 10, 6))
    assert status.holiday is not None
    assert (status.holiday.chinese, status.holiday.english) == ("中秋", "Mid-autumn Festival")
    assert NATIONAL.day_status(D(2025, 10, 1)).description == "public holiday: 国庆节 National Day"


def test_2026_mid_autumn_is_separate_from_national_day() -> None:
    for day in span(D(2026, 9, 25), D(2026, 9, 27)):
        assert NATIONAL.day_status(day).holiday == HolidayName("Mid-autumn Festival", "中秋")
    assert NATIONAL.is_working_day(D(2026, 9, 28))
    assert NATIONAL.is_working_day(D(2026, 9, 30))


def test_ordinary_days() -> None:
    assert NATIONAL.day_status(D(2025, 3, 3)).reason is DayReason.WORKDAY  # a Monday
    saturday = NATIONAL.day_status(D(2025, 3, 8))
    assert (saturday.working, saturday.reason) == (False, DayReason.WEEKEND)


def test_library_coverage() -> None:
    first, last = holiday_data_years()
    assert first <= 2025
    assert last >= 2026
    assert holiday_data_covers(2025)
    assert holiday_data_covers(2026)
    assert not holiday_data_covers(2035)


# -- counting working days -----------------------------------------------------------------------


def test_deadline_across_national_day() -> None:
    # Tue 30 Sep 2025 + 3: the holiday is skipped, Sat 11 Oct is a 调休 working day
    assert NATIONAL.add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)
    # Fri 24 Jan 2025 + 5: Sun 26 Jan (调休), Mon 27 Jan, then 5, 6, 7 Feb
    assert NATIONAL.add_working_days(D(2025, 1, 24), 5) == D(2025, 2, 7)


def test_deadline_across_2026_spring_festival() -> None:
    # Fri 13 Feb 2026 + 2: Sat 14 Feb (调休), then Tue 24 Feb after the nine days off
    assert NATIONAL.add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)


def test_case_accepted_on_a_holiday_counts_from_the_first_working_day_after() -> None:
    assert NATIONAL.add_working_days(D(2025, 10, 3), 1) == D(2025, 10, 9)
    assert NATIONAL.add_working_days(D(2025, 10, 3), 2) == D(2025, 10, 10)
    assert NATIONAL.add_working_days(D(2025, 3, 8), 1) == D(2025, 3, 10)  # a Saturday


def test_immediate_matter_is_due_the_same_day_or_the_next_working_day() -> None:
    """n == 0: due on the acceptance date; accepted on a closed day, on the next working day."""
    assert NATIONAL.add_working_days(D(2025, 9, 30), 0) == D(2025, 9, 30)
    assert NATIONAL.add_working_days(D(2025, 9, 28), 0) == D(2025, 9, 28)  # 调休 Sunday
    assert NATIONAL.add_working_days(D(2025, 10, 3), 0) == D(2025, 10, 9)
    assert NATIONAL.add_working_days(D(2025, 3, 8), 0) == D(2025, 3, 10)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        NATIONAL.add_working_days(D(2025, 3, 3), -1)


def test_working_days_between_is_half_open() -> None:
    assert NATIONAL.working_days_between(D(2025, 9, 29), D(2025, 10, 13)) == 5  # 29, 30, 9, 10, 11
    assert NATIONAL.working_days_between(D(2025, 10, 1), D(2025, 10, 9)) == 0
    assert NATIONAL.working_days_between(D(2025, 3, 10), D(2025, 3, 3)) == 0


def test_working_days_left_and_overdue() -> None:
    deadline = D(2025, 10, 9)
    assert NATIONAL.working_days_left(deadline, D(2025, 9, 29)) == 2  # 30 Sep, 9 Oct
    assert NATIONAL.working_days_left(deadline, D(2025, 10, 3)) == 1
    assert NATIONAL.working_days_left(deadline, deadline) == 0
    assert NATIONAL.working_days_left(deadline, D(2025, 10, 10)) == -1
    assert NATIONAL.working_days_left(deadline, D(2025, 10, 13)) == -3  # 10, 11 (调休), 13
    friday = D(2025, 3, 7)
    assert NATIONAL.working_days_left(friday, D(2025, 3, 8)) == -1  # overdue on Saturday
    assert NATIONAL.working_days_left(friday, D(2025, 3, 10)) == -1
    assert NATIONAL.working_days_left(friday, D(2025, 3, 11)) == -2


# -- suspensions ---------------------------------------------------------------------------------


def test_suspension_spanning_a_holiday_counts_only_its_working_days() -> None:
    accepted = D(2025, 9, 26)  # Fri
    assert NATIONAL.deadline(accepted, 5) == D(2025, 10, 10)
    testing = Suspension(D(2025, 9, 30), D(2025, 10, 10), "testing")
    explanation = NATIONAL.explain(accepted, 5, [testing])
    # 30 Sep and 9 Oct are the only working days in [30 Sep, 10 Oct): the deadline moves by 2
    assert explanation.suspended_working_days == 2
    assert explanation.deadline_on == D(2025, 10, 13)
    assert explanation.counted_days == (
        D(2025, 9, 28), D(2025, 9, 29), D(2025, 10, 10), D(2025, 10, 11), D(2025, 10, 13)
    )
    (account,) = explanation.suspensions
    assert (account.working_days, account.pushed_days) == (2, 2)
    reasons = {day.date: day.reason for day in explanation.skipped_days}
    assert reasons[D(2025, 9, 30)] == "suspended"
    assert reasons[D(2025, 10, 9)] == "suspended"
    assert reasons[D(2025, 10, 1)] == "public_holiday"
    assert reasons[D(2025, 10, 12)] == "weekend"
    assert NATIONAL.deadline(accepted, 5, [testing]) == D(2025, 10, 13)


def test_open_suspension_counts_until_today_and_only_moves_later() -> None:
    accepted = D(2025, 3, 3)  # Mon; 5 working days: due Mon 10 Mar
    inspection = Suspension(D(2025, 3, 5), None, "site_inspection")
    assert NATIONAL.deadline(accepted, 5, [inspection], today=D(2025, 3, 5)) == D(2025, 3, 10)
    assert NATIONAL.deadline(accepted, 5, [inspection], today=D(2025, 3, 7)) == D(2025, 3, 12)
    on_monday = NATIONAL.explain(accepted, 5, [inspection], today=D(2025, 3, 10))
    assert on_monday.deadline_on == D(2025, 3, 13)
    assert on_monday.suspensions[0].counted_until == D(2025, 3, 10)
    assert any("still open" in warning for warning in on_monday.warnings)
    # resuming on Monday gives the deadline the open suspension showed on Monday
    resumed = Suspension(D(2025, 3, 5), D(2025, 3, 10), "site_inspection")
    assert NATIONAL.deadline(accepted, 5, [resumed]) == D(2025, 3, 13)


def test_open_suspension_without_today_uses_the_shanghai_date() -> None:
    today = shanghai_today()
    open_since_today = Suspension(today, None, "hearing")
    explanation = NATIONAL.explain(today, 3, [open_since_today])
    assert explanation.suspensions[0].counted_until >= today
    assert explanation.deadline_on >= NATIONAL.add_working_days(today, 3)


def test_overlapping_suspensions_count_each_day_once() -> None:
    accepted = D(2025, 3, 3)
    first = Suspension(D(2025, 3, 4), D(2025, 3, 7), "testing")  # 4, 5, 6
    second = Suspension(D(2025, 3, 5), D(2025, 3, 8), "expert_review")  # 5, 6, 7
    explanation = NATIONAL.explain(accepted, 2, [first, second])
    assert explanation.suspended_working_days == 4  # 4, 5, 6, 7
    assert explanation.deadline_on == D(2025, 3, 11)  # counted: 10, 11
    assert [a.pushed_days for a in explanation.suspensions] == [3, 1]


def test_suspension_after_the_deadline_does_not_revive_the_clock() -> None:
    late = Suspension(D(2025, 3, 12), D(2025, 3, 20), "hearing")
    assert NATIONAL.deadline(D(2025, 3, 3), 5, [late]) == D(2025, 3, 10)


def test_suspension_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Suspension(D(2025, 3, 5), D(2025, 3, 4))


# -- local overrides -----------------------------------------------------------------------------


def test_local_closure_pushes_the_deadline() -> None:
    typhoon = WorkingCalendar({D(2025, 3, 5): LocalOverride(working=False, reason="台风停止办公")})
    status = typhoon.day_status(D(2025, 3, 5))
    assert (status.working, status.reason, status.note) == (
        False, DayReason.LOCAL_CLOSURE, "台风停止办公"
    )
    assert typhoon.add_working_days(D(2025, 3, 3), 5) == D(2025, 3, 11)
    skipped = typhoon.explain(D(2025, 3, 3), 5).skipped_days
    assert [(d.date, d.reason) for d in skipped] == [
        (D(2025, 3, 5), "local_closure"), (D(2025, 3, 8), "weekend"), (D(2025, 3, 9), "weekend")
    ]


def test_local_workday_shortens_the_wait() -> None:
    open_saturday = WorkingCalendar({D(2025, 3, 8): LocalOverride(True, "周六延时服务")})
    assert open_saturday.day_status(D(2025, 3, 8)).reason is DayReason.LOCAL_WORKDAY
    assert open_saturday.add_working_days(D(2025, 3, 3), 5) == D(2025, 3, 8)


def test_local_override_wins_over_a_national_holiday_and_keeps_its_name() -> None:
    calendar = WorkingCalendar({D(2025, 10, 8): LocalOverride(True, "节后提前开门")})
    status = calendar.day_status(D(2025, 10, 8))
    assert status.working
    assert status.holiday is not None
    assert status.holiday.chinese == "国庆节"
    assert calendar.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 8)


# -- years without holiday data ------------------------------------------------------------------


def test_unknown_year_falls_back_to_weekends_with_a_warning() -> None:
    monday = D(2035, 1, 1)  # New Year's Day, unknown to the library: counted as a working day
    assert NATIONAL.day_status(monday).reason is DayReason.UNKNOWN_YEAR_WORKDAY
    assert NATIONAL.day_status(D(2035, 1, 6)).reason is DayReason.UNKNOWN_YEAR_WEEKEND
    explanation = NATIONAL.explain(monday, 5)
    assert explanation.deadline_on == D(2035, 1, 8)
    assert len(explanation.warnings) == 1
    assert "2035" in explanation.warnings[0]
    assert "weekends only" in explanation.warnings[0]


def test_deadline_running_into_an_unknown_year() -> None:
    explanation = NATIONAL.explain(D(2026, 12, 30), 5)
    # 31 Dec 2026, then 1 Jan 2027 (unknown: a Friday counted as working), 4, 5, 6 Jan
    assert explanation.deadline_on == D(2027, 1, 6)
    assert [w.split(" ")[0] for w in explanation.warnings] == ["2027"]
    assert NATIONAL.explain(D(2026, 3, 2), 5).warnings == ()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def calendar_log() -> Iterator[_Records]:
    # Attached to the logger itself: the "tongban" logger may not propagate to pytest's handler.
    logger = logging.getLogger("tongban.calendar")
    handler, level = _Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_unknown_year_is_logged_once_per_year(calendar_log: _Records) -> None:
    for start in (D(2047, 3, 1), D(2047, 6, 1), D(2047, 9, 1)):  # a year no other test touches
        NATIONAL.add_working_days(start, 20)
    messages = [r.getMessage() for r in calendar_log.records]
    assert len([m for m in messages if m.startswith("2047 ")]) == 1
    assert all(r.levelno == logging.WARNING for r in calendar_log.records)


# -- explanations --------------------------------------------------------------------------------


def test_explain_lists_counted_and_skipped_days_with_reasons() -> None:
    explanation = NATIONAL.explain(D(2025, 9, 30), 1)
    assert explanation.base_date == D(2025, 9, 30)
    assert explanation.accepted_on_status.reason is DayReason.WORKDAY
    assert explanation.counted_days == (D(2025, 10, 9),)
    assert explanation.deadline_on == D(2025, 10, 9)
    assert [d.date for d in explanation.skipped_days] == span(D(2025, 10, 1), D(2025, 10, 8))
    assert {d.reason for d in explanation.skipped_days} == {"public_holiday"}
    assert explanation.skipped_days[0].description == "public holiday: 国庆节 National Day"
    assert explanation.suspended_working_days == 0
    assert explanation.warnings == ()


def test_explain_immediate_matter_accepted_on_a_holiday() -> None:
    explanation = NATIONAL.explain(D(2025, 10, 7), 0)
    assert explanation.deadline_on == D(2025, 10, 9)
    assert explanation.counted_days == ()
    assert [d.date for d in explanation.skipped_days] == [D(2025, 10, 7), D(2025, 10, 8)]
    assert explanation.accepted_on_status.reason is DayReason.PUBLIC_HOLIDAY


# -- time zone -----------------------------------------------------------------------------------


def test_shanghai_dates() -> None:
    late_utc = dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC)  # 00:30 on 1 Jan in Shanghai
    assert to_shanghai_date(late_utc) == D(2026, 1, 1)
    assert shanghai_today(late_utc) == D(2026, 1, 1)
    assert shanghai_today(dt.datetime(2025, 12, 31, 15, 59, tzinfo=dt.UTC)) == D(2025, 12, 31)
    with pytest.raises(ValueError, match="naive"):
        to_shanghai_date(dt.datetime(2025, 1, 1, 12, 0))  # noqa: DTZ001 - the point of the test


# -- properties ----------------------------------------------------------------------------------

dates = st.dates(min_value=D(2024, 1, 1), max_value=D(2027, 12, 31))
overrides = st.dictionaries(
    dates, st.builds(LocalOverride, st.booleans(), st.just("local")), max_size=8
)


@st.composite
def suspensions(draw: st.DrawFn, around: dt.date) -> Suspension:
    start = around + dt.timedelta(days=draw(st.integers(-5, 90)))
    length = draw(st.none() | st.integers(0, 40))
    end = None if length is None else start + dt.timedelta(days=length)
    return Suspension(start, end, draw(st.sampled_from(["site_inspection", "testing", ""])))


@settings(max_examples=examples(300), deadline=None)
@given(start=dates, n=st.integers(0, 60), local=overrides)
def test_add_working_days_lands_on_the_nth_working_day(
    start: dt.date, n: int, local: dict[dt.date, LocalOverride]
) -> None:
    calendar = WorkingCalendar(local)
    result = calendar.add_working_days(start, n)
    assert result >= start
    assert calendar.is_working_day(result)
    if n > 0:
        assert result > start
        assert calendar.working_days_between(start + ONE_DAY, result + ONE_DAY) == n
    else:
        assert calendar.working_days_between(start, result) == 0
    assert calendar.deadline(start, n) == result
    # seen on the acceptance date, every counted day is still ahead
    expected_left = n if n > 0 or calendar.is_working_day(start) else 1
    assert calendar.working_days_left(result, start) == expected_left


@settings(max_examples=examples(300), deadline=None)
@given(data=st.data(), accepted=dates, n=st.integers(0, 40), local=overrides)
def test_adding_a_suspension_never_moves_the_deadline_earlier(
    data: st.DataObject, accepted: dt.date, n: int, local: dict[dt.date, LocalOverride]
) -> None:
    calendar = WorkingCalendar(local)
    today = accepted + dt.timedelta(days=data.draw(st.integers(0, 120)))
    existing = data.draw(st.lists(suspensions(accepted), max_size=3))
    extra = data.draw(suspensions(accepted))
    before = calendar.explain(accepted, n, existing, today=today)
    after = calendar.explain(accepted, n, [*existing, extra], today=today)
    assert after.deadline_on >= before.deadline_on
    assert before.deadline_on >= calendar.add_working_days(accepted, n)
    assert after.suspended_working_days >= before.suspended_working_days
    if n > 0:
        assert len(after.counted_days) == n
        assert calendar.add_working_days(accepted, n + after.suspended_working_days) == (
            after.deadline_on
        )


@settings(max_examples=examples(200), deadline=None)
@given(data=st.data(), accepted=dates, n=st.integers(0, 40))
def test_open_suspension_deadline_never_moves_earlier_as_days_pass(
    data: st.DataObject, accepted: dt.date, n: int
) -> None:
    suspension = data.draw(suspensions(accepted))
    today = accepted + dt.timedelta(days=data.draw(st.integers(0, 100)))
    later = today + dt.timedelta(days=data.draw(st.integers(0, 30)))
    assert NATIONAL.deadline(accepted, n, [suspension], today=later) >= NATIONAL.deadline(
        accepted, n, [suspension], today=today
    )
