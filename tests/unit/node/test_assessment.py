"""Monthly window and clerk assessment (窗口考核 / 人员考核) and the model-window rule (红旗窗口),
on both databases: figures computed by hand for a fixed month, the rule with its thresholds
and ties, the workbook, and the API with its roles.

The month is November 2026 (no public holiday; 2 November is a Monday).  Matters MA (window
W01) and MB (W02) promise 5 working days, NOW (W01) is immediate.  Clerks alice, bob and carol
own the cases they took (首问负责); dave is an idle clerk, erin an inactive one.

=====  =====  =====  ==========  ==========  ========  ====================================
case   clerk  where  accepted    completed   deadline  rating (day) / what else
=====  =====  =====  ==========  ==========  ========  ====================================
c1     alice  W01    11-02       11-06       11-09     very_satisfied (11-06)
c2     alice  W01    11-02       11-10 late  11-09     dissatisfied (11-10), rectified 11-12
                                                       (due 11-17: in time)
c3     alice  W01    11-03 NOW   11-03 same  11-03     satisfied (11-04)
c4     bob    W01    11-04       11-04 same  11-11     basic (11-05)
c5     bob    W01    10-28       11-02       11-04     satisfied (12-01: December's)
c6     alice  W01    10-26       10-30       11-02     satisfied (11-02: November's)
c7     bob    W01    11-25       open        12-02
c8     alice  W01    11-26       12-01       12-03
c9     carol  W02    11-09       11-09 same  11-16     very_dissatisfied (11-09), rectified
                                                       11-20 (due 11-16: late)
c10    carol  W02    11-09       11-13       11-16     satisfied (11-13)
c11    bob    W02    11-16       11-24 late  11-23     very_dissatisfied (11-24), found void
c12    carol  W02    11-10       11-10       11-17     forwarded away: not decided here
=====  =====  =====  ==========  ==========  ========  ====================================

Complaints: W02 (11-11); clerk alice (11-12); case c11 (11-25: W02 and bob); case c1 naming
clerk bob (11-18: W01 and bob, not alice); W08 (11-05, a window retired since); W01 on
10-30 and on 12-01 (other months).  W03 is idle; W09 is retired and idle.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from node import create_app
from node.auth.models import User
from node.auth.permissions import Role
from node.calendar.workdays import WorkingCalendar
from node.cases.actors import Actor
from node.cases.models import Case
from node.cases.service import Application, CaseService
from node.cases.warnings import WarningPolicy
from node.catalog.inputs import NewStaffMember, WindowChanges
from node.catalog.models import StaffType
from node.catalog.service import CatalogService
from node.config import DEFAULTS
from node.feedback.inputs import NewComplaint
from node.feedback.models import Evaluation, EvaluationLevel
from node.feedback.service import FeedbackService
from node.feedback.states import RectificationAction
from node.metadata import load_all_models
from node.metrics.assessment import (
    Assessment,
    Designation,
    Figures,
    ModelWindowRule,
    Threshold,
    assess,
    judge,
    setting_key,
)
from node.metrics.assessment_workbook import write_assessment_workbook
from node.models import Base
from node.settings import NodeSettings
from schemas.errors import ValidationFailed
from schemas.periods import Period
from schemas.runtime.database import Database
from schemas.runtime.settings import SettingsError
from schemas.runtime.spreadsheet import XLSX_MEDIA_TYPE
from tests.apps import AppCache, config_key
from tests.conftest import node_config
from tests.unit.node.conftest import Api, new_matter

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = Period.month(2026, 11)
NODE_CODE = "450981"
ASSESSMENT = "/api/v1/metrics/assessment"
SUPERVISOR = Actor("supervisor", Role.SUPERVISOR.value)
# the rule under which the golden month has a 红旗窗口 and a 末位
LAX = {"min_cases": 3, "min_on_time_bp": 6000, "max_complaints": 2, "top": 1, "flag_bottom": 1}


def day(month: int, number: int) -> dt.date:
    return dt.date(2026, month, number)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 10, 1, 10, tzinfo=SHANGHAI)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, on: dt.date) -> None:
        self.now = dt.datetime.combine(on, dt.time(10, 0), SHANGHAI)


@dataclass(frozen=True)
class Filed:
    id: int
    number: str
    code: str
    clerk: str


class Month:
    """Builds the golden month into a database through the case and feedback services."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.clock = Clock()

    def cases(self, session: Session) -> CaseService:
        return CaseService(session, node_code=NODE_CODE, calendar=WorkingCalendar(),
                           warning_policy=WarningPolicy(), clock=self.clock)

    def feedback(self, session: Session) -> FeedbackService:
        return FeedbackService(session, node_code=NODE_CODE, calendar=WorkingCalendar(),
                               clock=self.clock)

    @staticmethod
    def actor(session: Session, username: str) -> Actor:
        return Actor.of(session.scalars(select(User).where(User.username == username)).one())

    def catalog(self) -> None:
        with self.db.unit_of_work() as session:
            catalog = CatalogService(session)
            catalog.create_department("SC", "市场监督管理局")
            for code, name in (("W01", "市场监管窗口"), ("W02", "综合窗口"), ("W03", "税务窗口"),
                               ("W08", "旧登记窗口"), ("W09", "撤销窗口")):
                catalog.create_window(code, name, "", ["SC"])
            catalog.create_matter(new_matter(code="MA"))
            catalog.create_matter(new_matter(code="MB", window_code="W02"))
            catalog.create_matter(
                new_matter(code="NOW", handling_type="immediate", promised_limit_days=0)
            )
            member = catalog.create_staff_member(NewStaffMember(
                code="S001", name="王丽", staff_type=StaffType.CIVIL_SERVANT,
                department_code="SC", window_code="W01"))
            other = catalog.create_staff_member(NewStaffMember(
                code="S002", name="李强", staff_type=StaffType.PUBLIC_INSTITUTION,
                department_code="SC", window_code="W01"))
            department = catalog.department("SC")
            for username, name, role, active in (
                ("alice", "王丽", Role.CLERK, True), ("bob", "李强", Role.CLERK, True),
                ("carol", "陈静", Role.CLERK, True), ("dave", "赵明", Role.CLERK, True),
                ("erin", "周敏", Role.CLERK, False), ("ann", "孙审", Role.APPROVER, True),
            ):
                session.add(User(
                    username=username, display_name=name, role=role, department=department,
                    staff_member={"alice": member, "bob": other}.get(username),
                    password_hash="x", active=active,
                ))

    def handle(
        self, clerk: str, matter: str, accepted: dt.date, completed: dt.date | None
    ) -> Filed:
        """A case received and accepted on ``accepted`` and completed on ``completed``."""
        self.clock.set(accepted)
        with self.db.unit_of_work() as session:
            service = self.cases(session)
            submission = service.submit(
                Application(matter_code=matter, channel="window", applicant_name="张三"),
                self.actor(session, clerk),
            )
            service.accept(submission.case, self.actor(session, clerk))
            filed = Filed(submission.case.id, submission.case.number, submission.query_code,
                          clerk)
        if completed is not None:
            self.clock.set(completed)
            with self.db.unit_of_work() as session:
                service = self.cases(session)
                case = service.get(filed.id)
                service.decide(case, self.actor(session, clerk), approve=True, reason=None)
                service.complete(case, self.actor(session, clerk))
        return filed

    def rate(self, case: Filed, level: str, on: dt.date) -> int:
        self.clock.set(on)
        with self.db.unit_of_work() as session:
            evaluation = self.feedback(session).evaluate(
                case.number, case.code, level=EvaluationLevel(level), comment=None
            )
            return evaluation.rectification.id if evaluation.rectification else 0

    def rectify(self, rectification_id: int, *steps: tuple[RectificationAction, dt.date]) -> None:
        for action, on in steps:
            self.clock.set(on)
            with self.db.unit_of_work() as session:
                feedback = self.feedback(session)
                feedback.act_on_rectification(
                    feedback.rectification(rectification_id), action, SUPERVISOR,
                    text="已联系申请人并整改",
                )

    def complain(self, on: dt.date, case: Filed | None = None, **target: str) -> None:
        self.clock.set(on)
        with self.db.unit_of_work() as session:
            self.feedback(session).file_complaint(NewComplaint(
                content="办事效率低", case_number=case.number if case else None,
                code=case.code if case else None, **target,
            ))

    def build(self) -> dict[str, Filed]:
        self.catalog()
        c: dict[str, Filed] = {}
        c["c1"] = self.handle("alice", "MA", day(11, 2), day(11, 6))
        c["c2"] = self.handle("alice", "MA", day(11, 2), day(11, 10))
        c["c3"] = self.handle("alice", "NOW", day(11, 3), day(11, 3))
        c["c4"] = self.handle("bob", "MA", day(11, 4), day(11, 4))
        c["c5"] = self.handle("bob", "MA", day(10, 28), day(11, 2))
        c["c6"] = self.handle("alice", "MA", day(10, 26), day(10, 30))
        c["c7"] = self.handle("bob", "MA", day(11, 25), None)
        c["c8"] = self.handle("alice", "MA", day(11, 26), day(12, 1))
        c["c9"] = self.handle("carol", "MB", day(11, 9), day(11, 9))
        c["c10"] = self.handle("carol", "MB", day(11, 9), day(11, 13))
        c["c11"] = self.handle("bob", "MB", day(11, 16), day(11, 24))
        c["c12"] = self.handle("carol", "MB", day(11, 10), day(11, 10))
        with self.db.unit_of_work() as session:  # the forwarding transport is another issue's
            session.execute(update(Case).where(Case.id == c["c12"].id)
                            .values(forwarded_on=day(11, 10)))

        self.rate(c["c1"], "very_satisfied", day(11, 6))
        late = self.rate(c["c2"], "dissatisfied", day(11, 10))
        self.rectify(late, (RectificationAction.START, day(11, 11)),
                     (RectificationAction.COMPLETE, day(11, 12)))
        self.rate(c["c3"], "satisfied", day(11, 4))
        self.rate(c["c4"], "basic", day(11, 5))
        self.rate(c["c5"], "satisfied", day(12, 1))
        self.rate(c["c6"], "satisfied", day(11, 2))
        same_day = self.rate(c["c9"], "very_dissatisfied", day(11, 9))
        self.rectify(same_day, (RectificationAction.START, day(11, 10)),
                     (RectificationAction.COMPLETE, day(11, 20)))
        self.rate(c["c10"], "satisfied", day(11, 13))
        void = self.rate(c["c11"], "very_dissatisfied", day(11, 24))
        self.rectify(void, (RectificationAction.DISPUTE, day(11, 25)),
                     (RectificationAction.INVALIDATE, day(11, 26)))

        self.complain(day(11, 11), window_code="W02")
        self.complain(day(11, 12), staff_code="S001")
        self.complain(day(11, 25), c["c11"])
        self.complain(day(11, 18), c["c1"], staff_code="S002")
        self.complain(day(11, 5), window_code="W08")
        self.complain(day(10, 30), window_code="W01")
        self.complain(day(12, 1), window_code="W01")
        with self.db.unit_of_work() as session:
            catalog = CatalogService(session)
            catalog.retire_window("W08")
            catalog.retire_window("W09")
        return c


def figures(**values: int) -> Figures:
    return Figures(**values)


GOLDEN_WINDOWS = {
    "W01": figures(handled=5, on_time=4, same_day=2, ratings=5, ratings_good=3, ratings_bad=1,
                   complaints=1, rectifications_closed=1, rectified_in_time=1),
    "W02": figures(handled=3, on_time=2, same_day=1, ratings=2, ratings_good=1, ratings_bad=1,
                   complaints=2, rectifications_closed=1, rectified_in_time=0),
    "W03": figures(),
    "W08": figures(complaints=1),
}
GOLDEN_CLERKS = {
    "alice": figures(handled=3, on_time=2, same_day=1, ratings=4, ratings_good=3, ratings_bad=1,
                     complaints=1, rectifications_closed=1, rectified_in_time=1),
    "bob": figures(handled=3, on_time=2, same_day=1, ratings=1, complaints=2),
    "carol": figures(handled=2, on_time=2, same_day=1, ratings=2, ratings_good=1,
                     ratings_bad=1, rectifications_closed=1),
    "dave": figures(),
}
# (50 × on-time + 30 × same-day + 20 × satisfaction) ÷ 100, rates in basis points
GOLDEN_SCORES = {"W01": 6400, "W02": 5333, "W03": None, "W08": None,
                 "alice": 5833, "bob": 4333, "carol": 7500, "dave": None}


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    load_all_models()
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def month(database: Database) -> Database:
    Month(database).build()
    return database


def assessed(db: Database, rule: ModelWindowRule | None = None) -> Assessment:
    with db.unit_of_work(write=False) as session:
        return assess(session, NOVEMBER, rule or ModelWindowRule())


# -- golden figures ----------------------------------------------------------------------------


def test_the_golden_month_per_window_and_clerk(month: Database) -> None:
    result = assessed(month)
    assert {w.code: w.figures for w in result.windows} == GOLDEN_WINDOWS
    assert {c.username: c.figures for c in result.clerks} == GOLDEN_CLERKS
    scores = {w.code: w.standing.score for w in result.windows}
    scores.update({c.username: c.score for c in result.clerks})
    assert scores == GOLDEN_SCORES

    w01, w02 = result.windows[0].as_dict(), result.windows[1].as_dict()
    assert w01["on_time_rate"] == {"numerator": 4, "denominator": 5, "value": 8000}
    assert w01["same_day_rate"] == {"numerator": 2, "denominator": 5, "value": 4000}
    assert w01["satisfaction_rate"] == {"numerator": 3, "denominator": 5, "value": 6000}
    assert w01["rectified_in_time_rate"] == {"numerator": 1, "denominator": 1, "value": 10000}
    assert w02["on_time_rate"] == {"numerator": 2, "denominator": 3, "value": 6667}
    assert w02["same_day_rate"] == {"numerator": 1, "denominator": 3, "value": 3333}
    assert w02["rectified_in_time_rate"] == {"numerator": 0, "denominator": 1, "value": 0}


def test_idle_windows_and_clerks_have_zeros_and_no_rate_values(month: Database) -> None:
    result = assessed(month)
    w03 = next(w for w in result.windows if w.code == "W03").as_dict()
    assert w03["handled"] == w03["ratings"] == w03["complaints"] == 0
    for key in ("on_time_rate", "same_day_rate", "satisfaction_rate", "rectified_in_time_rate"):
        assert w03[key] == {"numerator": 0, "denominator": 0}  # no value, not 0
    assert (w03["score"], w03["rank"], w03["designation"]) == (None, None, None)
    dave = next(c for c in result.clerks if c.username == "dave").as_dict()
    assert dave["on_time_rate"] == {"numerator": 0, "denominator": 0}
    assert dave["score"] is None


def test_who_appears(month: Database) -> None:
    """Active windows and clerks always; retired windows and inactive or non-clerk users only
    with figures; windows without an assessed rank by code, clerks by username."""
    result = assessed(month)
    assert [w.code for w in result.windows] == ["W01", "W02", "W03", "W08"]
    assert [w.retired for w in result.windows] == [False, False, False, True]
    assert [c.username for c in result.clerks] == ["alice", "bob", "carol", "dave"]
    alice = result.clerks[0]
    assert (alice.name, alice.staff_code, alice.window_code, alice.department_code) == (
        "王丽", "S001", "W01", "SC"
    )
    assert (alice.window_name, alice.department_name) == ("市场监管窗口", "市场监督管理局")
    assert (alice.window_label, alice.department_label) == ("市场监管窗口（W01）",
                                                            "市场监督管理局（SC）")
    assert result.clerks[1].staff_code == "S002"  # complaints name bob by it
    assert result.clerks[2].staff_code is None


def test_an_inactive_clerk_with_figures_still_appears(month: Database) -> None:
    with month.unit_of_work() as session:
        session.execute(update(User).where(User.username == "carol").values(active=False))
        session.execute(update(User).where(User.username == "dave").values(active=False))
    clerks = {c.username: c for c in assessed(month).clerks}
    assert set(clerks) == {"alice", "bob", "carol"}
    assert clerks["carol"].active is False
    assert clerks["carol"].figures == GOLDEN_CLERKS["carol"]


def test_other_months_see_other_figures(month: Database) -> None:
    with month.unit_of_work(write=False) as session:
        october = assess(session, Period.month(2026, 10), ModelWindowRule())
        december = assess(session, Period.month(2026, 12), ModelWindowRule())
    oct_w01 = next(w for w in october.windows if w.code == "W01").figures
    assert oct_w01 == figures(handled=1, on_time=1, complaints=1)  # c6; the complaint of 10-30
    dec_w01 = next(w for w in december.windows if w.code == "W01").figures
    assert dec_w01 == figures(handled=1, on_time=1, ratings=1, ratings_good=1, complaints=1)
    assert [w.code for w in december.windows] == ["W01", "W02", "W03"]  # W08 idle, retired


def test_a_void_rating_and_its_closed_rectification_do_not_count(month: Database) -> None:
    with month.unit_of_work() as session:
        session.execute(update(Evaluation).values(void=False))
    bob = next(c for c in assessed(month).clerks if c.username == "bob").figures
    assert (bob.ratings, bob.ratings_bad) == (2, 1)  # c11's rating, once valid again
    assert bob.rectifications_closed == 0  # its rectification was closed as rating_void


def test_only_a_month_is_assessed(month: Database) -> None:
    with month.unit_of_work(write=False) as session:
        for label in ("2026-Q4", "2026", "2026-11-05"):
            with pytest.raises(ValidationFailed) as refused:
                assess(session, Period.parse(label), ModelWindowRule())
            assert set(refused.value.details["fields"]) == {"period"}


# -- the rule ----------------------------------------------------------------------------------


def test_the_golden_month_has_no_model_window_under_the_default_rule(month: Database) -> None:
    result = assessed(month)
    assert result.designated(Designation.MODEL) == ()
    assert result.designated(Designation.FLAGGED) == ()
    w01 = result.windows[0]
    assert w01.standing.unmet == (Threshold.MIN_CASES, Threshold.MIN_ON_TIME,
                                  Threshold.MAX_COMPLAINTS)
    assert (w01.standing.assessed, w01.standing.eligible, w01.standing.rank) == (
        False, False, None
    )


def test_the_golden_month_under_a_lax_rule(month: Database) -> None:
    result = assessed(month, ModelWindowRule(**LAX))
    assert result.designated(Designation.MODEL) == ("W01",)
    assert result.designated(Designation.FLAGGED) == ("W02",)
    w01, w02 = result.windows[0].standing, result.windows[1].standing
    assert (w01.rank, w01.eligible, w02.rank, w02.eligible) == (1, True, 2, True)


def window(handled: int, on_time: int, same_day: int, ratings: int = 0, good: int = 0,
           complaints: int = 0) -> Figures:
    return Figures(handled=handled, on_time=on_time, same_day=same_day, ratings=ratings,
                   ratings_good=good, complaints=complaints)


def test_the_rule_picks_by_score_among_the_eligible_and_flags_the_lowest_assessed() -> None:
    rule = ModelWindowRule(top=2)
    standings = judge(
        [
            ("A", window(20, 20, 20)),  # exactly min_cases; no ratings: (50+30) weights only
            ("B", window(40, 40, 0, 10, 10, complaints=1)),  # a complaint: not eligible
            ("C", window(50, 49, 25, 4, 2)),  # on-time exactly 98.00 %
            ("D", window(30, 29, 30)),  # on-time 96.67 %: below the threshold
            ("E", window(19, 19, 19)),  # one case short: not assessed
            ("F", window(0, 0, 0)),  # idle
        ],
        rule,
    )
    scores = {code: s.score for code, s in standings.items()}
    assert scores == {"A": 10000, "B": 7000, "C": 7400, "D": 9792, "E": 10000, "F": None}
    assert {code: s.rank for code, s in standings.items()} == {
        "A": 1, "D": 2, "C": 3, "B": 4, "E": None, "F": None
    }
    assert {code: s.designation for code, s in standings.items() if s.designation} == {
        "A": Designation.MODEL, "C": Designation.MODEL, "B": Designation.FLAGGED
    }
    assert standings["B"].unmet == (Threshold.MAX_COMPLAINTS,)
    assert standings["D"].unmet == (Threshold.MIN_ON_TIME,)
    assert standings["E"].unmet == (Threshold.MIN_CASES,)
    assert standings["F"].unmet == (Threshold.MIN_CASES, Threshold.MIN_ON_TIME)
    assert [code for code, s in standings.items() if s.eligible] == ["A", "C"]


def test_ties_share_the_rank_and_are_broken_by_code() -> None:
    rule = ModelWindowRule(min_cases=1, top=1, flag_bottom=1)
    strong, weak = window(10, 10, 8), window(10, 10, 0)
    standings = judge(
        [("W02", strong), ("W05", weak), ("W01", strong), ("W04", weak), ("W03", strong)], rule
    )
    assert {code: s.rank for code, s in standings.items()} == {
        "W01": 1, "W02": 1, "W03": 1, "W04": 4, "W05": 4
    }
    assert standings["W01"].designation is Designation.MODEL
    assert standings["W05"].designation is Designation.FLAGGED
    assert [s.designation for c, s in standings.items() if c in ("W02", "W03", "W04")] == [
        None, None, None
    ]


def test_a_model_window_is_never_flagged_and_zero_places_pick_none() -> None:
    pair = [("W01", window(30, 30, 30)), ("W02", window(30, 30, 0))]
    standings = judge(pair, ModelWindowRule(top=3, flag_bottom=1))
    assert [s.designation for s in standings.values()] == [Designation.MODEL] * 2
    standings = judge(pair, ModelWindowRule(top=0, flag_bottom=0))
    assert [s.designation for s in standings.values()] == [None, None]
    standings = judge(pair, ModelWindowRule(top=0, flag_bottom=5))
    assert [s.designation for s in standings.values()] == [Designation.FLAGGED] * 2


def test_weights_and_a_missing_satisfaction_rate() -> None:
    figures_ = window(4, 3, 1, ratings=2, good=1)  # 7500, 2500, 5000
    assert ModelWindowRule().score(figures_) == (50 * 7500 + 30 * 2500 + 20 * 5000) // 100
    assert ModelWindowRule(weight_on_time=1, weight_same_day=0,
                           weight_satisfaction=0).score(figures_) == 7500
    only_ratings = ModelWindowRule(weight_on_time=0, weight_same_day=0, weight_satisfaction=1)
    assert only_ratings.score(figures_) == 5000
    assert only_ratings.score(window(4, 3, 1)) is None  # no ratings, nothing left to weigh
    assert ModelWindowRule().score(window(3, 2, 1)) == (50 * 6667 + 30 * 3333 + 40) // 80


def test_the_rule_comes_from_the_settings_and_is_checked() -> None:
    assert ModelWindowRule.from_settings(NodeSettings()) == ModelWindowRule()
    assert {setting_key(k) for k in ModelWindowRule().as_dict()} <= set(DEFAULTS)
    rule = ModelWindowRule.from_settings(NodeSettings(model_window_top=5))
    assert rule.top == 5
    for bad in ({"model_window_min_on_time_bp": 10001}, {"model_window_top": -1},
                {"model_window_min_cases": "20"},
                {"model_window_weight_on_time": 0, "model_window_weight_same_day": 0,
                 "model_window_weight_satisfaction": 0}):
        with pytest.raises(SettingsError, match="model_window_"):
            ModelWindowRule.from_settings(NodeSettings(**bad))


# -- the workbook ------------------------------------------------------------------------------


WINDOW_HEADINGS = ["排名", "窗口编码", "窗口名称", "办件数", "按时办结", "按时办结率", "当日办结",
                   "日结率", "评价数", "好评", "差评", "满意率", "投诉", "差评整改办结",
                   "按时整改", "得分", "评定", "未达条件"]
CLERK_HEADINGS = ["用户名", "姓名", "人员编码", "所在窗口", "所属部门", "办件数", "按时办结",
                  "按时办结率", "当日办结", "日结率", "评价数", "好评", "差评", "满意率", "投诉",
                  "差评整改办结", "按时整改", "得分"]


def sheet_rows(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_workbook_has_the_sheets_headings_and_values(month: Database) -> None:
    content = write_assessment_workbook(assessed(month, ModelWindowRule(**LAX)), NODE_CODE,
                                        "北流市政务服务中心")
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["窗口考核", "人员考核", "考核规则"]

    windows = workbook["窗口考核"]
    rows = sheet_rows(windows)
    assert rows[0] == WINDOW_HEADINGS
    assert rows[1] == [1, "W01", "市场监管窗口", 5, 4, 0.8, 2, 0.4, 5, 3, 1, 0.6, 1, 1, 1, 64.0,
                       "红旗窗口", None]
    assert rows[2] == [2, "W02", "综合窗口", 3, 2, 0.6667, 1, 0.3333, 2, 1, 1, 0.5, 2, 1, 0,
                       53.33, "末位", None]
    assert rows[3] == [None, "W03", "税务窗口", 0, 0, None, 0, None, 0, 0, 0, None, 0, 0, 0,
                       None, None, "办件数少于3件；按时办结率低于60.00%"]
    assert rows[4][1:3] == ["W08", "旧登记窗口（已撤销）"]
    assert rows[4][-1] == "办件数少于3件；按时办结率低于60.00%"
    assert windows.freeze_panes == "A2"
    assert windows["F2"].number_format == "0.00%"
    assert windows["H3"].number_format == "0.00%"
    assert windows["P2"].number_format == "0.00"
    assert windows["A1"].font.bold
    assert windows.column_dimensions["C"].width == 24

    clerks = workbook["人员考核"]
    rows = sheet_rows(clerks)
    assert rows[0] == CLERK_HEADINGS
    assert rows[1] == ["alice", "王丽", "S001", "市场监管窗口（W01）", "市场监督管理局（SC）", 3, 2,
                       0.6667, 1, 0.3333, 4, 3, 1, 0.75, 1, 1, 1, 58.33]
    assert [row[0] for row in rows[1:]] == ["alice", "bob", "carol", "dave"]
    assert rows[4][5:] == [0, 0, None, 0, None, 0, 0, 0, None, 0, 0, 0, None]
    assert clerks.freeze_panes == "A2"

    rule = dict(sheet_rows(workbook["考核规则"])[1:])
    assert rule["中心"] == f"北流市政务服务中心（{NODE_CODE}）"  # by name, the code beside
    assert rule["中心代码"] == NODE_CODE
    assert rule["考核期间"].startswith("2026-11（2026-11-01 至 2026-11-30）")
    assert (rule["参评最低办件数"], rule["红旗窗口最低按时办结率"], rule["红旗窗口名额"]) == (
        3, "60.00%", 1
    )


def test_a_name_that_looks_like_a_formula_stays_text(month: Database) -> None:
    with month.unit_of_work() as session:
        CatalogService(session).update_window("W03", WindowChanges(name="=HYPERLINK(\"x\")"))
    workbook = load_workbook(io.BytesIO(write_assessment_workbook(assessed(month), NODE_CODE,
                                                                  None)))
    cell = next(r for r in workbook["窗口考核"].iter_rows() if r[1].value == "W03")[2]
    assert (cell.value, cell.data_type) == ("=HYPERLINK(\"x\")", "s")


# -- the API -----------------------------------------------------------------------------------


@pytest.fixture
def app(database_url: str, shared_apps: AppCache) -> Iterator[Flask]:
    """The node app with the lax rule in its settings (overrides the conftest fixture); like
    it, built once per process and lent to each test on its database, which holds the node's
    tables already (tests/apps.py, tests/conftest.py)."""
    config = node_config(database_url, **{setting_key(k): v for k, v in LAX.items()})
    shared = shared_apps.get(("node", config_key(config, "database_url", "secret_key")),
                             lambda: create_app(config))
    with shared.lent(database_url) as lent:
        yield lent


@pytest.fixture
def staff(app: Flask, make_user: Callable[..., Api]) -> dict[Role, Api]:
    Month(app.extensions["tongban_db"]).build()
    return {role: make_user(role) for role in Role}


def test_the_api_answers_the_golden_month_under_the_configured_rule(staff) -> None:
    response = staff[Role.SUPERVISOR].get(f"{ASSESSMENT}?period=2026-11")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["period"] == {"label": "2026-11", "start": "2026-11-01", "end": "2026-11-30"}
    assert body["rule"] == ModelWindowRule(**LAX).as_dict()
    assert [w["code"] for w in body["windows"]] == ["W01", "W02", "W03", "W08"]
    w01 = body["windows"][0]
    assert {k: w01[k] for k in ("handled", "on_time", "same_day", "ratings", "ratings_good",
                                "ratings_bad", "complaints", "rectifications_closed",
                                "rectified_in_time")} == {
        "handled": 5, "on_time": 4, "same_day": 2, "ratings": 5, "ratings_good": 3,
        "ratings_bad": 1, "complaints": 1, "rectifications_closed": 1, "rectified_in_time": 1,
    }
    assert w01["on_time_rate"] == {"numerator": 4, "denominator": 5, "value": 8000}
    assert (w01["score"], w01["rank"], w01["designation"], w01["eligible"]) == (
        6400, 1, "model", True
    )
    assert body["windows"][1]["designation"] == "flagged"
    w03 = body["windows"][2]
    assert w03["on_time_rate"] == {"numerator": 0, "denominator": 0}
    assert (w03["score"], w03["rank"], w03["unmet"]) == (None, None, ["min_cases", "min_on_time"])
    clerks = {c["username"]: c for c in body["clerks"]}
    assert clerks["carol"]["score"] == 7500
    assert clerks["alice"]["staff_code"] == "S001"
    # make_user's clerk, idle, is listed with zeros
    assert {c["handled"] for name, c in clerks.items() if name not in GOLDEN_CLERKS} == {0}


def test_the_api_exports_the_workbook(staff) -> None:
    response = staff[Role.VIEWER].get(f"{ASSESSMENT}/export?period=2026-11")
    assert response.status_code == 200
    assert response.mimetype == XLSX_MEDIA_TYPE
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="assessment-450981-2026-11.xlsx"'
    )
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["窗口考核", "人员考核", "考核规则"]
    assert sheet_rows(workbook["窗口考核"])[1][1:3] == ["W01", "市场监管窗口"]
    assert sheet_rows(workbook["窗口考核"])[1][16] == "红旗窗口"


@pytest.mark.parametrize("path", [f"{ASSESSMENT}?period=2026-11",
                                  f"{ASSESSMENT}/export?period=2026-11"])
def test_the_api_by_role(staff, anonymous: Api, path: str) -> None:
    for role in (Role.SUPERVISOR, Role.VIEWER, Role.ADMIN):
        assert staff[role].get(path).status_code == 200, role
    for role in (Role.CLERK, Role.APPROVER):
        refused = staff[role].get(path)
        assert refused.status_code == 403, role
        assert refused.json["error"]["code"] == "forbidden"
    refused = anonymous.get(path)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("endpoint", [ASSESSMENT, f"{ASSESSMENT}/export"])
@pytest.mark.parametrize("query", ["?period=2026-Q4", "?period=2026", "?period=2026-11-05",
                                   "?period=2026-13", "?period=soon", "?period=2026-11-05-x", ""])
def test_a_period_that_is_not_a_month_is_422(make_user, endpoint: str, query: str) -> None:
    response = make_user(Role.SUPERVISOR).get(f"{endpoint}{query}")
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert set(error["details"]["fields"]) == {"period"}


def test_the_assessment_is_documented(anonymous: Api) -> None:
    paths = anonymous.get("/api/v1/openapi.json").json["paths"]
    for path in (ASSESSMENT, f"{ASSESSMENT}/export"):
        operation = paths[path]["get"]
        assert operation["x-permission"] == "supervision.read"
        assert operation["summary"]
    export = paths[f"{ASSESSMENT}/export"]["get"]["responses"]["200"]["content"]
    assert XLSX_MEDIA_TYPE in export
