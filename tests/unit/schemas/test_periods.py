"""Reporting periods (schemas/periods.py): every written form, bad labels, the previous
period across year boundaries, and what a period covers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.periods import Period, PeriodError, PeriodKind
from tests.conftest import examples

D = dt.date


@pytest.mark.parametrize(
    ("label", "start", "end", "kind", "months"),
    [
        ("2026-11-29", D(2026, 11, 29), D(2026, 11, 29), PeriodKind.DAY, 1),
        ("2028-02-29", D(2028, 2, 29), D(2028, 2, 29), PeriodKind.DAY, 1),  # leap day
        ("2026-11", D(2026, 11, 1), D(2026, 11, 30), PeriodKind.MONTH, 1),
        ("2026-02", D(2026, 2, 1), D(2026, 2, 28), PeriodKind.MONTH, 1),
        ("2028-02", D(2028, 2, 1), D(2028, 2, 29), PeriodKind.MONTH, 1),
        ("2026-12", D(2026, 12, 1), D(2026, 12, 31), PeriodKind.MONTH, 1),
        ("2026-01", D(2026, 1, 1), D(2026, 1, 31), PeriodKind.MONTH, 1),
        ("2026-Q1", D(2026, 1, 1), D(2026, 3, 31), PeriodKind.QUARTER, 3),
        ("2026-Q2", D(2026, 4, 1), D(2026, 6, 30), PeriodKind.QUARTER, 3),
        ("2026-Q3", D(2026, 7, 1), D(2026, 9, 30), PeriodKind.QUARTER, 3),
        ("2026-Q4", D(2026, 10, 1), D(2026, 12, 31), PeriodKind.QUARTER, 3),
        ("2026", D(2026, 1, 1), D(2026, 12, 31), PeriodKind.YEAR, 12),
        ("2000", D(2000, 1, 1), D(2000, 12, 31), PeriodKind.YEAR, 12),
        ("2199", D(2199, 1, 1), D(2199, 12, 31), PeriodKind.YEAR, 12),
    ],
)
def test_parse_every_form(
    label: str, start: dt.date, end: dt.date, kind: PeriodKind, months: int
) -> None:
    period = Period.parse(label)
    assert (period.start, period.end, period.kind, period.months) == (start, end, kind, months)
    assert period.label == str(period) == label
    assert Period.parse(period.label) == period
    assert period.days()[0] == start
    assert period.days()[-1] == end
    assert len(period.days()) == (end - start).days + 1


def test_surrounding_whitespace_is_ignored() -> None:
    assert Period.parse(" 2026-11\n") == Period.month(2026, 11)


@pytest.mark.parametrize(
    "label",
    [
        "", " ", "abc", "2026-13", "2026-00", "2026-11-31", "2026-02-29", "2026-11-00",
        "2026-Q0", "2026-Q5", "2026-q4", "2026Q4", "2026-1", "2026-011", "26-11", "202611",
        "2026/11", "2026-11-1", "1999", "1999-12", "2200", "2200-Q1", "11-2026", "2026-W48",
        "2026-11-29T00:00", "-2026",
    ],
)
def test_bad_labels(label: str) -> None:
    with pytest.raises(PeriodError):
        Period.parse(label)


def test_bad_label_messages_name_the_label_and_the_forms() -> None:
    with pytest.raises(PeriodError, match=r"'abc' is not a period: use 2026-11-29, 2026-11"):
        Period.parse("abc")
    with pytest.raises(PeriodError, match=r"'2026-13' is not a valid month"):
        Period.parse("2026-13")
    with pytest.raises(PeriodError, match=r"between 2000 and 2199"):
        Period.parse("1999")
    assert issubclass(PeriodError, ValueError)


@pytest.mark.parametrize(
    ("label", "previous"),
    [
        ("2026-11-29", "2026-11-28"),
        ("2026-03-01", "2026-02-28"),
        ("2028-03-01", "2028-02-29"),
        ("2027-01-01", "2026-12-31"),
        ("2026-11", "2026-10"),
        ("2026-03", "2026-02"),
        ("2027-01", "2026-12"),
        ("2026-Q4", "2026-Q3"),
        ("2026-Q2", "2026-Q1"),
        ("2027-Q1", "2026-Q4"),
        ("2027", "2026"),
        ("2199", "2198"),
    ],
)
def test_previous(label: str, previous: str) -> None:
    before = Period.parse(label).previous()
    assert before == Period.parse(previous)
    assert before.kind is Period.parse(label).kind
    assert before.end + dt.timedelta(days=1) == Period.parse(label).start


@pytest.mark.parametrize("label", ["2000", "2000-Q1"])
def test_previous_of_the_first_year(label: str) -> None:
    before = Period.parse(label).previous()
    assert before.end == dt.date(1999, 12, 31)


def test_previous_of_the_first_month_and_day_is_in_1999() -> None:
    assert Period.parse("2000-01").previous().label == "1999-12"
    assert Period.parse("2000-01-01").previous().label == "1999-12-31"


def test_constructors_and_membership() -> None:
    november = Period.month(2026, 11)
    assert november == Period.parse("2026-11")
    assert Period.day(D(2026, 11, 29)) == Period.parse("2026-11-29")
    assert D(2026, 11, 1) in november
    assert D(2026, 11, 30) in november
    assert D(2026, 12, 1) not in november
    assert D(2026, 10, 31) not in november
    assert "2026-11-15" not in november  # only dates are members
    assert Period.parse("2026-Q3") < Period.parse("2026-Q4")  # ordered by start


@settings(max_examples=examples(200), deadline=None)
@given(st.dates(min_value=D(2001, 1, 1), max_value=D(2199, 12, 31)),
       st.sampled_from(list(PeriodKind)))
def test_every_day_lies_in_one_period_of_each_kind(day: dt.date, kind: PeriodKind) -> None:
    label = {
        PeriodKind.DAY: day.isoformat(),
        PeriodKind.MONTH: f"{day.year}-{day.month:02d}",
        PeriodKind.QUARTER: f"{day.year}-Q{(day.month - 1) // 3 + 1}",
        PeriodKind.YEAR: str(day.year),
    }[kind]
    period = Period.parse(label)
    assert day in period
    assert day not in period.previous()
    assert period.previous().end == period.start - dt.timedelta(days=1)
    assert period.previous().label < period.label  # labels sort like periods


def test_the_last_month_whose_reports_are_due() -> None:
    from schemas.periods import last_month_due, reports_overdue_from

    november = Period.month(2026, 11)
    # final summaries are due by the end of the 5th day after the month: late from the 6th
    assert reports_overdue_from(november) == dt.date(2026, 12, 6)
    assert last_month_due(dt.date(2026, 12, 6)) == november
    assert last_month_due(dt.date(2026, 12, 5)) == Period.month(2026, 10)
    assert last_month_due(dt.date(2026, 12, 31)) == november
    assert last_month_due(dt.date(2027, 1, 3)) == november
    assert last_month_due(dt.date(2027, 1, 6)) == Period.month(2026, 12)
    assert last_month_due(dt.date(2026, 12, 2), late_after_days=0) == november
    assert last_month_due(dt.date(2026, 12, 1), late_after_days=0) == november
    assert last_month_due(dt.date(2026, 11, 30), late_after_days=0) == Period.month(2026, 10)


def test_a_running_period_and_a_day_as_the_pages_write_it() -> None:
    from schemas.periods import chinese_month_day, running_as_of

    december = Period.month(2026, 12)
    assert running_as_of(december, dt.date(2026, 12, 6)) == dt.date(2026, 12, 6)
    assert running_as_of(december, dt.date(2027, 1, 1)) is None
    assert running_as_of(december, dt.date(2026, 11, 30)) is None
    assert chinese_month_day(dt.date(2026, 12, 6)) == "12月6日"
