"""Reporting periods in Asia/Shanghai dates: a day, a month, a quarter or a year.

A period is written as ``2026-11-29``, ``2026-11``, ``2026-Q4`` or ``2026``; summaries, roll-ups
and rankings all name periods this way.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

ONE_DAY = dt.timedelta(days=1)


class PeriodKind(enum.StrEnum):
    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class PeriodError(ValueError):
    pass


_PATTERNS = (
    (PeriodKind.DAY, re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    (PeriodKind.MONTH, re.compile(r"^(\d{4})-(\d{2})$")),
    (PeriodKind.QUARTER, re.compile(r"^(\d{4})-Q([1-4])$")),
    (PeriodKind.YEAR, re.compile(r"^(\d{4})$")),
)


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    kind: PeriodKind

    @classmethod
    def parse(cls, label: str) -> Period:
        """``2026-11-29`` / ``2026-11`` / ``2026-Q4`` / ``2026``."""
        for kind, pattern in _PATTERNS:
            match = pattern.match(label.strip())
            if not match:
                continue
            numbers = [int(g) for g in match.groups()]
            try:
                return cls._build(kind, numbers)
            except ValueError as exc:
                raise PeriodError(f"{label!r} is not a valid {kind.value}: {exc}") from exc
        raise PeriodError(
            f"{label!r} is not a period: use 2026-11-29, 2026-11, 2026-Q4 or 2026"
        )

    @classmethod
    def _build(cls, kind: PeriodKind, numbers: list[int]) -> Period:
        year = numbers[0]
        if not 2000 <= year <= 2199:
            raise ValueError("the year must be between 2000 and 2199")
        if kind is PeriodKind.DAY:
            day = dt.date(year, numbers[1], numbers[2])
            return cls(day, day, kind)
        if kind is PeriodKind.MONTH:
            return cls.month(year, numbers[1])
        if kind is PeriodKind.QUARTER:
            first = dt.date(year, 3 * numbers[1] - 2, 1)
            last = cls.month(year, 3 * numbers[1]).end
            return cls(first, last, kind)
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), kind)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = dt.date(year, month, 1)
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        return cls(first, following - ONE_DAY, PeriodKind.MONTH)

    @classmethod
    def day(cls, day: dt.date) -> Period:
        return cls(day, day, PeriodKind.DAY)

    @property
    def label(self) -> str:
        match self.kind:
            case PeriodKind.DAY:
                return self.start.isoformat()
            case PeriodKind.MONTH:
                return f"{self.start.year}-{self.start.month:02d}"
            case PeriodKind.QUARTER:
                return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
            case PeriodKind.YEAR:
                return str(self.start.year)

    @property
    def months(self) -> int:
        """Calendar months covered (a day counts as one, for monthly averages)."""
        if self.kind is PeriodKind.DAY:
            return 1
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        before = self.start - ONE_DAY
        match self.kind:
            case PeriodKind.DAY:
                return Period.day(before)
            case PeriodKind.MONTH:
                return Period.month(before.year, before.month)
            case PeriodKind.QUARTER:
                first = dt.date(before.year, before.month - 2, 1)
                return Period(first, before, PeriodKind.QUARTER)
            case PeriodKind.YEAR:
                return Period(dt.date(before.year, 1, 1), before, PeriodKind.YEAR)

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return self.label


# A period's final summaries are due by the end of this many days after its last day
# (Asia/Shanghai); the hub's completeness table uses it as its default deadline.
REPORTS_LATE_AFTER_DAYS = 5


def reports_overdue_from(period: Period, late_after_days: int = REPORTS_LATE_AFTER_DAYS) -> dt.date:
    """The first day on which ``period``'s reports are late: the day after the
    ``late_after_days``-th day after its last day (Asia/Shanghai)."""
    return period.end + dt.timedelta(days=late_after_days + 1)


def last_month_due(day: dt.date, late_after_days: int = REPORTS_LATE_AFTER_DAYS) -> Period:
    """The last month whose reports were due by ``day``: on 6 December (5 days' grace) that is
    November; on 5 December still October."""
    month = Period.month(day.year, day.month)
    while reports_overdue_from(month, late_after_days) > day:
        month = month.previous()
    return month


def running_as_of(period: Period, day: dt.date) -> dt.date | None:
    """``day`` when ``period`` is still running on it (its figures cover only the days up to
    ``day``), else None."""
    return day if period.start <= day <= period.end else None


def chinese_month_day(day: dt.date) -> str:
    """``12月6日``: a day within a period, as the pages write "截至 12月6日"."""
    return f"{day.month}月{day.day}日"

