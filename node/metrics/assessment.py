"""Monthly assessment of windows and clerks (窗口考核 / 人员考核) and the model-window rule
(红旗窗口).

The reports describe centers that assess every window each month, name the best ones
红旗窗口 and press the lowest-ranked to rectify (高山乡: "在考核中排名靠前，被政务中心评为
红旗窗口 … 对考核排名落后、工作责任不落实的，要督促限期整改").  This module computes the
figures of one calendar month (Asia/Shanghai) and applies a configurable rule to them.

Figures, per window (the case's window, ``Case.window_id``) and per clerk (the case's owner:
first-inquiry responsibility, 首问负责制):

- ``handled`` 办件数: cases completed in the month and decided here (``forwarded_on`` is
  null): the summary's ``completed``, split by window and by owner;
- ``on_time`` 按时办结: of those, completed on or before their deadline; ``same_day`` 当日办结:
  completed on the day they were accepted; both rates are taken over ``handled``;
- ``ratings`` 评价数, ``ratings_good`` 好评 (非常满意, 满意), ``ratings_bad`` 差评 (不满意,
  非常不满意): valid (not void) ratings given in the month, by the rating's date, of cases of
  that window / owner; the satisfaction rate 满意率 is good ÷ ratings;
- ``complaints`` 投诉: complaints received in the month that name the window (the clerk), or
  that name none but are against a case of that window (owned by that clerk).  A complaint
  counts once for at most one window and once for at most one clerk, the named one first;
  a complaint naming only a clerk counts for no window;
- ``rectifications_closed`` 整改办结 and ``rectified_in_time`` 按时整改: rectifications of bad
  ratings of those cases closed in the month (done, or found impossible to rectify), and of
  them those done by their deadline (the summary's definitions).

Rates are basis points (10000 = 100 %) with numerator and denominator; a rate whose
denominator is 0 has no value.  Every active window and every active clerk has a row, with
zeros when idle; a retired window, or a user no longer an active clerk, appears only when the
month has figures for it.  Cases without a window (without an owner) count for no window
(no clerk).

The model-window rule (:class:`ModelWindowRule`; node settings ``model_window_*``):

1. **Score** 得分, in basis points: the weighted mean of the on-time rate, the same-day rate and
   the satisfaction rate (``model_window_weight_on_time`` / ``_weight_same_day`` /
   ``_weight_satisfaction``, default 50 / 30 / 20), rounded half up.  A rate without a value
   (a window without ratings) leaves the mean together with its weight; a window that handled
   no case has no score.
2. **Assessed** 参评: at least ``model_window_min_cases`` (default 20) cases handled, and a score.
3. **Eligible** for 红旗窗口: assessed, an on-time rate of at least
   ``model_window_min_on_time_bp`` (default 9800 = 98.00 %, the provincial target) and at most
   ``model_window_max_complaints`` (default 0) complaints.
4. Assessed windows are ordered by score, highest first, ties broken by window code
   (ascending); ``rank`` is the competition rank of the score (equal scores share it: 1, 2, 2, 4).
5. The first ``model_window_top`` (default 3) eligible windows in that order are 红旗窗口.  The
   last ``model_window_flag_bottom`` (default 1) assessed windows in that order that are not
   红旗窗口 are flagged 末位, whether eligible or not: a window that misses a threshold is no
   less behind.  Windows with too few cases are neither picked nor flagged.

Clerks get the same figures and score, and no designation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from node.auth.models import User
from node.auth.permissions import Role
from node.cases.models import Case
from node.catalog.models import Department, StaffMember, Window
from node.feedback.models import (
    BAD_LEVELS,
    Complaint,
    Evaluation,
    EvaluationLevel,
    Rectification,
    RectificationState,
)
from node.settings import NodeSettings
from schemas.errors import ValidationFailed
from schemas.i18n import _
from schemas.metrics import rate_basis_points
from schemas.periods import Period, PeriodKind
from schemas.runtime.database import shanghai_date
from schemas.runtime.settings import SettingsError

SHANGHAI = ZoneInfo("Asia/Shanghai")
GOOD_LEVELS = frozenset({EvaluationLevel.VERY_SATISFIED, EvaluationLevel.SATISFIED})
CLOSED_RECTIFICATION_STATES = (RectificationState.DONE, RectificationState.CANNOT_RECTIFY)
FULL_BASIS_POINTS = 10000


class Designation(enum.StrEnum):
    MODEL = "model"  # 红旗窗口
    FLAGGED = "flagged"  # 末位


class Threshold(enum.StrEnum):
    """A condition of the model-window rule a window may miss."""

    MIN_CASES = "min_cases"
    MIN_ON_TIME = "min_on_time"
    MAX_COMPLAINTS = "max_complaints"


DESIGNATION_LABELS: dict[Designation, str] = {
    Designation.MODEL: "红旗窗口",
    Designation.FLAGGED: "末位",
}


# -- figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A rate as its numerator and denominator; the value is absent when the denominator is 0."""

    numerator: int
    denominator: int

    @property
    def value(self) -> int | None:
        return rate_basis_points(self.numerator, self.denominator)

    def as_dict(self) -> dict[str, int]:
        entry = {"numerator": self.numerator, "denominator": self.denominator}
        if self.value is not None:
            entry["value"] = self.value
        return entry


@dataclass(frozen=True)
class Figures:
    """One window's or one clerk's counts for the month."""

    handled: int = 0
    on_time: int = 0
    same_day: int = 0
    ratings: int = 0
    ratings_good: int = 0
    ratings_bad: int = 0
    complaints: int = 0
    rectifications_closed: int = 0
    rectified_in_time: int = 0

    @classmethod
    def of(cls, values: Mapping[str, int]) -> Figures:
        return cls(**{f.name: int(values.get(f.name, 0)) for f in dataclasses.fields(cls)})

    @property
    def on_time_rate(self) -> Rate:
        return Rate(self.on_time, self.handled)

    @property
    def same_day_rate(self) -> Rate:
        return Rate(self.same_day, self.handled)

    @property
    def satisfaction_rate(self) -> Rate:
        return Rate(self.ratings_good, self.ratings)

    @property
    def rectified_in_time_rate(self) -> Rate:
        return Rate(self.rectified_in_time, self.rectifications_closed)

    @property
    def idle(self) -> bool:
        return not any(dataclasses.astuple(self))

    def as_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "on_time_rate": self.on_time_rate.as_dict(),
            "same_day_rate": self.same_day_rate.as_dict(),
            "satisfaction_rate": self.satisfaction_rate.as_dict(),
            "rectified_in_time_rate": self.rectified_in_time_rate.as_dict(),
        }


# -- the rule ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelWindowRule:
    """Which windows are the month's 红旗窗口 and which are flagged 末位 (module docstring)."""

    min_cases: int = 20
    min_on_time_bp: int = 9800
    max_complaints: int = 0
    top: int = 3
    flag_bottom: int = 1
    weight_on_time: int = 50
    weight_same_day: int = 30
    weight_satisfaction: int = 20

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{setting_key(field.name)} must be a whole number, at least 0")
        if self.min_on_time_bp > FULL_BASIS_POINTS:
            raise ValueError(f"{setting_key('min_on_time_bp')} is at most 10000 (100 %)")
        if not self.weight_on_time + self.weight_same_day + self.weight_satisfaction:
            raise ValueError("one of the model_window_weight_* settings must be above 0")

    @classmethod
    def from_settings(cls, settings: NodeSettings) -> ModelWindowRule:
        """The rule of the node settings ``model_window_<field>``."""
        values = {f.name: getattr(settings, setting_key(f.name)) for f in dataclasses.fields(cls)}
        try:
            return cls(**values)
        except ValueError as exc:
            raise SettingsError(str(exc)) from exc

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def score(self, figures: Figures) -> int | None:
        """The weighted mean of the rates that have a value, in basis points, rounded half up."""
        if not figures.handled:
            return None
        parts = [
            (weight, rate.value)
            for weight, rate in (
                (self.weight_on_time, figures.on_time_rate),
                (self.weight_same_day, figures.same_day_rate),
                (self.weight_satisfaction, figures.satisfaction_rate),
            )
            if weight and rate.value is not None
        ]
        weights = sum(weight for weight, _ in parts)
        if not weights:
            return None
        total = sum(weight * value for weight, value in parts)
        return (total * 2 + weights) // (weights * 2)

    def unmet(self, figures: Figures) -> tuple[Threshold, ...]:
        """The thresholds ``figures`` miss, in the rule's order."""
        on_time = figures.on_time_rate.value
        missed = (
            (Threshold.MIN_CASES, figures.handled < self.min_cases),
            (Threshold.MIN_ON_TIME, on_time is None or on_time < self.min_on_time_bp),
            (Threshold.MAX_COMPLAINTS, figures.complaints > self.max_complaints),
        )
        return tuple(threshold for threshold, failed in missed if failed)


def setting_key(field: str) -> str:
    """The node setting that holds a field of :class:`ModelWindowRule`."""
    return f"model_window_{field}"


@dataclass(frozen=True)
class Standing:
    """A window's place under the rule: its score, the thresholds it missed, its rank among
    the assessed windows (None: not assessed) and its designation."""

    score: int | None
    unmet: tuple[Threshold, ...]
    rank: int | None = None
    designation: Designation | None = None

    @property
    def assessed(self) -> bool:
        return self.rank is not None

    @property
    def eligible(self) -> bool:
        return self.assessed and not self.unmet


def judge(windows: Sequence[tuple[str, Figures]], rule: ModelWindowRule) -> dict[str, Standing]:
    """Apply ``rule`` to each window's figures (by window code): score, rank, designation."""
    scores = {code: rule.score(figures) for code, figures in windows}
    unmet = {code: rule.unmet(figures) for code, figures in windows}
    ordered = sorted(
        (
            code
            for code, _ in windows
            if scores[code] is not None and Threshold.MIN_CASES not in unmet[code]
        ),
        key=lambda code: (-(scores[code] or 0), code),
    )
    model = [code for code in ordered if not unmet[code]][: rule.top]
    others = [code for code in ordered if code not in model]
    flagged = others[len(others) - rule.flag_bottom :] if rule.flag_bottom else []
    designations = {
        **dict.fromkeys(model, Designation.MODEL),
        **dict.fromkeys(flagged, Designation.FLAGGED),
    }
    assessed_scores = {code: scores[code] or 0 for code in ordered}
    standings = {}
    for code, _window in windows:
        rank = None
        if code in assessed_scores:
            # competition rank: one more than the number of strictly higher scores
            mine = assessed_scores[code]
            rank = 1 + sum(1 for score in assessed_scores.values() if score > mine)
        standings[code] = Standing(scores[code], unmet[code], rank, designations.get(code))
    return standings


# -- the assessment ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowAssessment:
    code: str
    name: str
    retired: bool
    figures: Figures
    standing: Standing

    def as_dict(self) -> dict[str, Any]:
        standing = self.standing
        return {
            "code": self.code,
            "name": self.name,
            "retired": self.retired,
            **self.figures.as_dict(),
            "score": standing.score,
            "assessed": standing.assessed,
            "eligible": standing.eligible,
            "unmet": [threshold.value for threshold in standing.unmet],
            "rank": standing.rank,
            "designation": standing.designation.value if standing.designation else None,
        }


def _named(name: str | None, code: str | None) -> str:
    """``名称（代码）``, the code alone only when there is no name, "" for neither."""
    if name and code:
        return f"{name}（{code}）"
    return name or code or ""


@dataclass(frozen=True)
class ClerkAssessment:
    username: str
    name: str
    active: bool
    staff_code: str | None
    window_code: str | None
    department_code: str | None
    figures: Figures
    score: int | None
    window_name: str | None = None
    department_name: str | None = None

    @property
    def window_label(self) -> str:
        """The window as people read it: 名称（代码）."""
        return _named(self.window_name, self.window_code)

    @property
    def department_label(self) -> str:
        return _named(self.department_name, self.department_code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "name": self.name,
            "active": self.active,
            "staff_code": self.staff_code,
            "window_code": self.window_code,
            "window_name": self.window_name,
            "department_code": self.department_code,
            "department_name": self.department_name,
            **self.figures.as_dict(),
            "score": self.score,
        }


@dataclass(frozen=True)
class Assessment:
    """A month's assessment: windows in rank order (then the unassessed by code), clerks by
    username."""

    period: Period
    rule: ModelWindowRule
    windows: tuple[WindowAssessment, ...]
    clerks: tuple[ClerkAssessment, ...]

    def designated(self, designation: Designation) -> tuple[str, ...]:
        """Codes of the windows with ``designation``, in rank order."""
        return tuple(w.code for w in self.windows if w.standing.designation is designation)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "rule": self.rule.as_dict(),
            "windows": [window.as_dict() for window in self.windows],
            "clerks": [clerk.as_dict() for clerk in self.clerks],
        }


def assess(session: Session, period: Period, rule: ModelWindowRule) -> Assessment:
    """Every window's and clerk's figures for the month ``period``, judged by ``rule``."""
    if period.kind is not PeriodKind.MONTH:
        raise ValidationFailed(
            {"period": [_("the assessment is monthly: give a month such as 2026-11, "
                          "not %(label)s", label=repr(period.label))]}
        )
    by_window = _figures(
        session, period, Case.window_id, func.coalesce(Complaint.window_id, Case.window_id)
    )
    by_clerk = _figures(
        session, period, Case.owner_id, func.coalesce(Complaint.clerk_id, Case.owner_id)
    )
    return Assessment(
        period, rule, _window_rows(session, by_window, rule), _clerk_rows(session, by_clerk, rule)
    )


def _figures(
    session: Session, period: Period, case_key: Any, complaint_key: Any
) -> dict[int, Figures]:
    """The month's figures grouped by ``case_key`` (a column of Case: the window or the owner);
    complaints are grouped by ``complaint_key``.  Four ``GROUP BY`` queries."""
    since = dt.datetime.combine(period.start, dt.time(), SHANGHAI)
    until = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), SHANGHAI)
    found: dict[int, dict[str, int]] = defaultdict(dict)

    def gather(query: Select[Any]) -> None:
        for row in session.execute(query).mappings():
            values = found[row["key"]]
            values.update({name: int(value) for name, value in row.items() if name != "key"})

    gather(
        select(
            case_key.label("key"),
            func.count(Case.id).label("handled"),
            func.count(Case.id).filter(Case.completed_on <= Case.deadline_on).label("on_time"),
            func.count(Case.id).filter(Case.completed_on == Case.accepted_on).label("same_day"),
        )
        .where(
            Case.completed_on >= period.start,
            Case.completed_on <= period.end,
            Case.forwarded_on.is_(None),  # the deciding node counts the decision
            case_key.is_not(None),
        )
        .group_by(case_key)
    )
    gather(
        select(
            case_key.label("key"),
            func.count(Evaluation.id).label("ratings"),
            func.count(Evaluation.id)
            .filter(Evaluation.level.in_(GOOD_LEVELS))
            .label("ratings_good"),
            func.count(Evaluation.id).filter(Evaluation.level.in_(BAD_LEVELS)).label("ratings_bad"),
        )
        .select_from(Evaluation)
        .join(Case, Case.id == Evaluation.case_id)
        .where(
            Evaluation.void.is_(False),
            Evaluation.at >= since,
            Evaluation.at < until,
            case_key.is_not(None),
        )
        .group_by(case_key)
    )
    closed_on = shanghai_date(Rectification.closed_at)
    gather(
        select(
            case_key.label("key"),
            func.count(Rectification.id)
            .filter(Rectification.state.in_(CLOSED_RECTIFICATION_STATES))
            .label("rectifications_closed"),
            func.count(Rectification.id)
            .filter(
                and_(
                    Rectification.state == RectificationState.DONE,
                    closed_on <= Rectification.due_on,
                )
            )
            .label("rectified_in_time"),
        )
        .select_from(Rectification)
        .join(Evaluation, Evaluation.id == Rectification.evaluation_id)
        .join(Case, Case.id == Evaluation.case_id)
        .where(
            Rectification.closed_at >= since,
            Rectification.closed_at < until,
            case_key.is_not(None),
        )
        .group_by(case_key)
    )
    gather(
        select(complaint_key.label("key"), func.count(Complaint.id).label("complaints"))
        .select_from(Complaint)
        .outerjoin(Case, Case.id == Complaint.case_id)
        .where(
            Complaint.received_at >= since,
            Complaint.received_at < until,
            Complaint.sent_to.is_(None),  # counted at the center that handled its case
            complaint_key.is_not(None),
        )
        .group_by(complaint_key)
    )
    return {key: Figures.of(values) for key, values in found.items()}


def _window_rows(
    session: Session, figures: Mapping[int, Figures], rule: ModelWindowRule
) -> tuple[WindowAssessment, ...]:
    rows = [
        (code, name, retired_at is not None, figures.get(window_id, Figures()))
        for window_id, code, name, retired_at in session.execute(
            select(Window.id, Window.code, Window.name, Window.retired_at).order_by(Window.code)
        )
        if retired_at is None or not figures.get(window_id, Figures()).idle
    ]
    standings = judge([(code, f) for code, _, _, f in rows], rule)
    windows = [
        WindowAssessment(code, name, retired, f, standings[code]) for code, name, retired, f in rows
    ]
    windows.sort(
        key=lambda w: (0, -(w.standing.score or 0), w.code)
        if w.standing.assessed
        else (1, 0, w.code)
    )
    return tuple(windows)


def _clerk_rows(
    session: Session, figures: Mapping[int, Figures], rule: ModelWindowRule
) -> tuple[ClerkAssessment, ...]:
    busy = [user_id for user_id, f in figures.items() if not f.idle]
    query = (
        select(
            User.id, User.username, User.display_name, User.active,
            StaffMember.code, Window.code, Department.code, Window.name, Department.name,
        )
        .outerjoin(StaffMember, StaffMember.id == User.staff_member_id)
        .outerjoin(Window, Window.id == StaffMember.window_id)
        .outerjoin(Department, Department.id == User.department_id)
        .where(or_(and_(User.role == Role.CLERK, User.active.is_(True)), User.id.in_(busy)))
        .order_by(User.username)
    )
    clerks = []
    for (user_id, username, name, active, staff_code, window_code, department_code,
         window_name, department_name) in session.execute(query):
        found = figures.get(user_id, Figures())
        clerks.append(
            ClerkAssessment(
                username, name, active, staff_code, window_code, department_code,
                found, rule.score(found), window_name, department_name,
            )
        )
    return tuple(clerks)
