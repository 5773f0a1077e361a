"""The Chinese working-day calendar and deadline arithmetic (plain Python: no Flask, no database).

National public holidays and adjusted working days (调休) come from ``chinese_calendar``; a center
may add local overrides (closed for a local holiday, open on a day it would be closed), which win
over the national calendar. Every date is a calendar date in Asia/Shanghai.

Deadline conventions (DOMAIN.md, "A case", step 3; 行政许可法 Art. 45):

* The acceptance date is day 0 and is never counted: a promise of ``n`` working days is due on the
  ``n``-th working day strictly after the acceptance date.
* A case accepted on a non-working day (a weekend, a public holiday, a local closure) starts
  counting with the first working day after it.
* ``n == 0`` (an immediate matter, 即办件) is due on the acceptance date itself; accepted on a
  non-working day it is due on the next working day, the first day the center can act on it.
* A suspension from ``start`` to ``end`` (the resume date) stops the clock on the working days in
  ``[start, end)``; only those the clock would otherwise have counted push the deadline, so
  overlapping suspensions count each day once, and a suspension beginning after the deadline has
  passed does not revive the clock (an overdue case stays overdue). An open suspension is
  counted as if it resumed today, so the deadline only ever moves later as time passes.
* A year's national schedule comes from, in order: the one this node holds (published by the
  province and adopted, or imported from the State Council's notice; see
  :mod:`node.calendar.schedules`), else ``chinese_calendar``'s data.  A year with neither falls
  back to weekends only, with a warning logged once per year: a deadline counted over such a
  year is **provisional** (暂定) until the year's schedule is loaded or an administrator confirms
  "weekends only" for it, and nothing is deemed on it (DOMAIN.md, step 3).
* An Art. 42 extension adds ``extension_days`` working days to the promise; the explanation
  keeps the two apart.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger("tongban.calendar")

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONE_DAY = dt.timedelta(days=1)
SATURDAY = 5

__all__ = [
    "SHANGHAI",
    "DayReason",
    "DayStatus",
    "DeadlineExplanation",
    "HolidayName",
    "LocalOverride",
    "SkippedDay",
    "Suspension",
    "SuspensionAccount",
    "WorkingCalendar",
    "YearSchedule",
    "holiday_data_covers",
    "holiday_data_years",
    "shanghai_today",
    "to_shanghai_date",
]


class DayReason(enum.StrEnum):
    """Why a day is, or is not, a working day."""

    WORKDAY = "workday"  # an ordinary Monday to Friday
    WEEKEND = "weekend"
    PUBLIC_HOLIDAY = "public_holiday"  # 法定节假日 (including the days moved into it)
    ADJUSTED_WORKDAY = "adjusted_workday"  # 调休上班: a weekend day worked to lengthen a holiday
    LOCAL_CLOSURE = "local_closure"  # the center is closed by a local decision
    LOCAL_WORKDAY = "local_workday"  # the center is open by a local decision
    UNKNOWN_YEAR_WEEKEND = "unknown_year_weekend"  # no holiday data: a weekend day
    UNKNOWN_YEAR_WORKDAY = "unknown_year_workday"  # no holiday data: assumed a working day


@dataclass(frozen=True)
class HolidayName:
    """A national holiday's name, as ``chinese_calendar`` gives it and as users read it."""

    english: str
    chinese: str

    @classmethod
    def from_library(cls, english: str) -> HolidayName:
        try:
            chinese = chinese_calendar.Holiday(english).chinese
        except ValueError:  # a name a newer data release added: keep the English one
            chinese = english
        return cls(english=english, chinese=chinese)

    @classmethod
    def from_chinese(cls, chinese: str) -> HolidayName:
        """The name of a schedule's day as the notice writes it (元旦, 春节, …)."""
        english = _ENGLISH_OF.get(chinese, chinese)
        return cls(english=english, chinese=chinese)

    def __str__(self) -> str:
        return f"{self.chinese} {self.english}"


_ENGLISH_OF = {holiday.chinese: holiday.value for holiday in chinese_calendar.Holiday}


@dataclass(frozen=True)
class YearSchedule:
    """A year's national schedule held by the node: public holidays and 调休 working days,
    each with its holiday's Chinese name.  ``weekends_only`` is an administrator's confirmation
    that the year has no such days to load (its days are then plain weekends and workdays)."""

    year: int
    holidays: Mapping[dt.date, str]
    workdays: Mapping[dt.date, str]
    weekends_only: bool = False

    def day_status(self, day: dt.date) -> DayStatus:
        name = self.holidays.get(day)
        if name is not None:
            return DayStatus(day, working=False, reason=DayReason.PUBLIC_HOLIDAY,
                             holiday=HolidayName.from_chinese(name))
        name = self.workdays.get(day)
        if name is not None:
            return DayStatus(day, working=True, reason=DayReason.ADJUSTED_WORKDAY,
                             holiday=HolidayName.from_chinese(name))
        if day.weekday() >= SATURDAY:
            return DayStatus(day, working=False, reason=DayReason.WEEKEND)
        return DayStatus(day, working=True, reason=DayReason.WORKDAY)


@dataclass(frozen=True)
class LocalOverride:
    """A center's own decision about one date: open (``working``) or closed, and why."""

    working: bool
    reason: str


@dataclass(frozen=True)
class DayStatus:
    """Whether a date is a working day, the reason, and the holiday or local note behind it."""

    date: dt.date
    working: bool
    reason: DayReason
    holiday: HolidayName | None = None  # the national holiday the day belongs or is worked for
    note: str = ""  # a local override's reason

    @property
    def description(self) -> str:
        """One line for people: what kind of day this is."""
        match self.reason:
            case DayReason.WORKDAY:
                return "working day"
            case DayReason.WEEKEND:
                return "weekend"
            case DayReason.PUBLIC_HOLIDAY:
                return f"public holiday: {self.holiday}"
            case DayReason.ADJUSTED_WORKDAY:
                return f"adjusted working day (调休) for {self.holiday}"
            case DayReason.LOCAL_CLOSURE:
                return f"closed locally: {self.note}"
            case DayReason.LOCAL_WORKDAY:
                return f"open locally: {self.note}"
            case DayReason.UNKNOWN_YEAR_WEEKEND:
                return f"weekend (no holiday data for {self.date.year})"
            case DayReason.UNKNOWN_YEAR_WORKDAY:
                return f"working day assumed (no holiday data for {self.date.year})"


@dataclass(frozen=True)
class Suspension:
    """A stop of the clock (Art. 45) from ``start`` to ``end``, the resume date.

    ``end`` is ``None`` while the case is still suspended. ``kind`` names the special procedure
    (for cases, a ``SuspensionKind`` value such as ``"site_inspection"``).
    """

    start: dt.date
    end: dt.date | None = None
    kind: str = ""

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(
                f"a suspension cannot end ({self.end}) before it starts ({self.start})"
            )


@dataclass(frozen=True)
class SkippedDay:
    """A day between the acceptance and the deadline that the clock did not count."""

    status: DayStatus
    suspension: Suspension | None = None  # set when a working day was skipped for a suspension

    @property
    def date(self) -> dt.date:
        return self.status.date

    @property
    def reason(self) -> str:
        """The day's :class:`DayReason`, or ``"suspended"`` for a suspended working day."""
        return "suspended" if self.suspension is not None else self.status.reason.value

    @property
    def description(self) -> str:
        if self.suspension is not None:
            kind = f" ({self.suspension.kind})" if self.suspension.kind else ""
            return f"clock stopped by a suspension{kind}"
        return self.status.description


@dataclass(frozen=True)
class SuspensionAccount:
    """One suspension in a deadline explanation.

    ``working_days`` are the working days in the span that could stop the clock (after the
    acceptance date); ``pushed_days`` are those that actually moved the deadline.
    """

    suspension: Suspension
    counted_until: dt.date  # the resume date, or today for an open suspension
    working_days: int
    pushed_days: int


@dataclass(frozen=True)
class DeadlineExplanation:
    """How a deadline was reached, day by day."""

    accepted_on: dt.date
    accepted_on_status: DayStatus
    promised_working_days: int
    deadline_on: dt.date
    counted_days: tuple[dt.date, ...]
    skipped_days: tuple[SkippedDay, ...]
    suspensions: tuple[SuspensionAccount, ...]
    suspended_working_days: int
    warnings: tuple[str, ...] = field(default=())
    extension_days: int = 0  # Art. 42: granted working days counted after the promise
    # years the count crossed that have no national schedule: the deadline is provisional
    provisional_years: tuple[int, ...] = field(default=())

    @property
    def provisional(self) -> bool:
        """暂定: counted over a year without national holiday data (weekends only)."""
        return bool(self.provisional_years)

    @property
    def counted_working_days(self) -> int:
        """The working days the clock allows: the promise plus the extension."""
        return self.promised_working_days + self.extension_days

    @property
    def base_date(self) -> dt.date:
        """The date the count starts from (the acceptance date, day 0)."""
        return self.accepted_on


# -- the national calendar ----------------------------------------------------------------------

_warned_years: set[int] = set()
_warned_lock = threading.Lock()


@functools.cache
def holiday_data_years() -> tuple[int, int]:
    """The first and last year ``chinese_calendar`` has holiday data for."""
    years = {day.year for day in chinese_calendar.holidays}
    return min(years), max(years)


@functools.cache
def holiday_data_covers(year: int) -> bool:
    """Whether ``chinese_calendar`` knows the public holidays of ``year`` (outside its data
    years the library refuses to answer, so the range is checked before asking it)."""
    first, last = holiday_data_years()
    return first <= year <= last


def unknown_year_warning(year: int) -> str:
    first, last = holiday_data_years()
    return (
        f"{year} has no national holiday schedule (none published or imported, and "
        f"chinese_calendar holds {first}-{last}): weekends only, public holidays and adjusted "
        "working days are not known; deadlines over it are provisional"
    )


def _log_unknown_year_once(year: int) -> None:
    with _warned_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    log.warning("%s", unknown_year_warning(year))


@functools.lru_cache(maxsize=16384)
def national_day_status(day: dt.date) -> DayStatus:
    """The national status of ``day``: weekend, workday, public holiday or adjusted workday."""
    weekend = day.weekday() >= SATURDAY
    if not holiday_data_covers(day.year):
        _log_unknown_year_once(day.year)
        if weekend:
            return DayStatus(day, working=False, reason=DayReason.UNKNOWN_YEAR_WEEKEND)
        return DayStatus(day, working=True, reason=DayReason.UNKNOWN_YEAR_WORKDAY)
    is_holiday, name = chinese_calendar.get_holiday_detail(day)
    holiday = HolidayName.from_library(name) if name else None
    if is_holiday:
        if holiday is None:
            return DayStatus(day, working=False, reason=DayReason.WEEKEND)
        return DayStatus(day, working=False, reason=DayReason.PUBLIC_HOLIDAY, holiday=holiday)
    if weekend:  # a weekend day the library marks as worked: 调休上班
        return DayStatus(day, working=True, reason=DayReason.ADJUSTED_WORKDAY, holiday=holiday)
    return DayStatus(day, working=True, reason=DayReason.WORKDAY)


# -- time zone ----------------------------------------------------------------------------------


def to_shanghai_date(moment: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an aware datetime (naive ones are refused)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime has no date in Asia/Shanghai; pass an aware one")
    return moment.astimezone(SHANGHAI).date()


def shanghai_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Asia/Shanghai (of ``now`` when given, which must be aware)."""
    return to_shanghai_date(now if now is not None else dt.datetime.now(SHANGHAI))


# -- the working calendar -----------------------------------------------------------------------


def _days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day < end:
        yield day
        day += ONE_DAY


class WorkingCalendar:
    """The national calendar (the node's schedules, else the package's data) with one center's
    local overrides on top.

    The package's part is cached per date across instances; schedules and overrides are
    dictionary lookups, so adding a few dozen working days costs microseconds.
    """

    def __init__(
        self,
        overrides: Mapping[dt.date, LocalOverride] | None = None,
        schedules: Mapping[int, YearSchedule] | None = None,
    ) -> None:
        self.overrides: dict[dt.date, LocalOverride] = dict(overrides or {})
        self.schedules: dict[int, YearSchedule] = dict(schedules or {})

    # -- years -------------------------------------------------------------------------------

    def has_data(self, year: int) -> bool:
        """Whether ``year``'s public holidays and 调休 days are known here (a schedule held,
        an administrator's "weekends only" confirmation, or the package's data)."""
        return year in self.schedules or holiday_data_covers(year)

    def years_without_data(self, start: dt.date, end: dt.date) -> tuple[int, ...]:
        """The years of ``[start, end]`` without national data, in order."""
        return tuple(y for y in range(start.year, end.year + 1) if not self.has_data(y))

    def national_status(self, day: dt.date) -> DayStatus:
        """The national status of ``day``, before local overrides."""
        schedule = self.schedules.get(day.year)
        if schedule is not None:
            return schedule.day_status(day)
        return national_day_status(day)

    # -- single days -------------------------------------------------------------------------

    def day_status(self, day: dt.date) -> DayStatus:
        """The status of ``day``; a local override wins over the national calendar."""
        national = self.national_status(day)
        override = self.overrides.get(day)
        if override is None:
            return national
        return DayStatus(
            day,
            working=override.working,
            reason=DayReason.LOCAL_WORKDAY if override.working else DayReason.LOCAL_CLOSURE,
            holiday=national.holiday,
            note=override.reason,
        )

    def is_working_day(self, day: dt.date) -> bool:
        """Whether the center is open for business on ``day``."""
        return self.day_status(day).working

    def days(self, start: dt.date, end: dt.date) -> list[DayStatus]:
        """The status of every date in ``[start, end)``."""
        return [self.day_status(day) for day in _days(start, end)]

    # -- counting ----------------------------------------------------------------------------

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The deadline of ``n`` working days promised on ``start`` (the acceptance date).

        The ``n``-th working day strictly after ``start``; ``n == 0`` is ``start`` itself when
        it is a working day, otherwise the next working day (an immediate matter accepted on a
        holiday is due on the first day the center is open).
        """
        return self._walk(start, n, self.is_working_day, on_day=None)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """The number of working days ``d`` with ``start <= d < end`` (0 when ``end <= start``)."""
        return sum(1 for day in _days(start, end) if self.is_working_day(day))

    def working_days_left(self, deadline_on: dt.date, today: dt.date) -> int:
        """Working days left until ``deadline_on``, seen on ``today``; negative when overdue.

        0 means due today (or due on the next working day when today is closed); ``k > 0``
        means ``k`` working days after today up to and including the deadline. Once
        ``today`` is past the deadline the result is minus the working days passed since it,
        and at least -1: a case due on Friday is one day overdue on Saturday.
        """
        if today <= deadline_on:
            return self.working_days_between(today + ONE_DAY, deadline_on + ONE_DAY)
        return -max(1, self.working_days_between(deadline_on + ONE_DAY, today + ONE_DAY))

    def deadline(
        self,
        accepted_on: dt.date,
        promised_days: int,
        suspensions: Sequence[Suspension] = (),
        today: dt.date | None = None,
    ) -> dt.date:
        """The deadline of a case: promised working days after acceptance plus suspended ones.

        ``today`` closes open suspensions (as if resumed today); it defaults to today in
        Asia/Shanghai. Adding a suspension never moves the deadline earlier.
        """
        return self.explain(accepted_on, promised_days, suspensions, today=today).deadline_on

    def explain(
        self,
        accepted_on: dt.date,
        promised_days: int,
        suspensions: Sequence[Suspension] = (),
        today: dt.date | None = None,
        extension_days: int = 0,
    ) -> DeadlineExplanation:
        """The deadline with its reasoning: days counted, days skipped and why, suspensions.

        ``extension_days`` (Art. 42) are counted after the promise.  This is the one
        computation behind a case's stored deadline, its explanation and the calendar's
        deadline endpoint.
        """
        if extension_days < 0:
            raise ValueError(f"an extension cannot be negative: {extension_days}")
        promise = promised_days
        promised_days = promise + extension_days
        if today is None and any(s.end is None for s in suspensions):
            today = shanghai_today()
        # An open suspension counts as if it resumed today; one starting after today has not
        # stopped any day yet.
        spans = [
            (s, s.end if s.end is not None else max(s.start, today or s.start))
            for s in suspensions
        ]

        def suspension_on(day: dt.date) -> Suspension | None:
            return next((s for s, until in spans if s.start <= day < until), None)

        def clock_runs(day: dt.date) -> bool:
            return self.is_working_day(day) and suspension_on(day) is None

        skipped: list[SkippedDay] = []
        counted: list[dt.date] = []

        def record(day: dt.date, counts: bool) -> None:
            if counts:
                counted.append(day)
                return
            status = self.day_status(day)
            # A closed day is skipped for being closed, suspended or not: only working days
            # stopped by a suspension push the deadline.
            skipped.append(SkippedDay(status, suspension_on(day) if status.working else None))

        deadline_on = self._walk(accepted_on, promised_days, clock_runs, on_day=record)
        if promised_days == 0:
            counted.clear()  # the due day of an immediate matter is not a counted day

        pushed: dict[int, int] = {}  # by identity: two equal suspensions are still two
        for day in skipped:
            if day.suspension is not None:
                pushed[id(day.suspension)] = pushed.get(id(day.suspension), 0) + 1
        first_counted = accepted_on if promised_days == 0 else accepted_on + ONE_DAY
        accounts = tuple(
            SuspensionAccount(
                suspension=s,
                counted_until=until,
                working_days=self.working_days_between(max(s.start, first_counted), until),
                pushed_days=pushed.get(id(s), 0),
            )
            for s, until in spans
        )

        provisional_years = self.years_without_data(accepted_on, deadline_on)
        warnings = [unknown_year_warning(year) for year in provisional_years]
        warnings.extend(
            f"the {s.kind or 'suspension'} from {s.start} is still open: "
            f"counted as if it resumed on {until}, the deadline moves later while it lasts"
            for s, until in spans
            if s.end is None
        )
        return DeadlineExplanation(
            accepted_on=accepted_on,
            accepted_on_status=self.day_status(accepted_on),
            promised_working_days=promise,
            deadline_on=deadline_on,
            counted_days=tuple(counted),
            skipped_days=tuple(skipped),
            suspensions=accounts,
            suspended_working_days=sum(pushed.values()),
            warnings=tuple(warnings),
            extension_days=extension_days,
            provisional_years=provisional_years,
        )

    @staticmethod
    def _walk(
        start: dt.date,
        n: int,
        counts: Callable[[dt.date], bool],
        on_day: Callable[[dt.date, bool], None] | None,
    ) -> dt.date:
        """The ``n``-th day after ``start`` for which ``counts`` holds (see the module rules).

        ``on_day(day, counted)`` sees every day examined, so an explanation can list them.
        """
        if n < 0:
            raise ValueError(f"a number of working days cannot be negative: {n}")
        day = start if n == 0 else start + ONE_DAY
        remaining = max(n, 1)
        while True:
            counted = counts(day)
            if on_day is not None:
                on_day(day, counted)
            if counted:
                remaining -= 1
                if remaining == 0:
                    return day
            day += ONE_DAY

