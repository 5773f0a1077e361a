"""Golden figures: a small fixed data set built through the real services at fixed dates of
October to December 2026, and every metric of ``node.metrics.definitions`` for November
written down by hand (both databases).

The data set (letters name the cases; "wd" = working days; matter M1 promises 5 wd):

    A0  window, accepted 26 Oct, completed 27 Oct                 (an October case)
    A   window, ID "Y", accepted 28 Oct (due 4 Nov), completed 3 Nov: crosses the month
    B   window, accepted and completed 2 Nov (same day), delivered, rated very satisfied
    C   online, received 2 Nov, accepted 3 Nov (due 10 Nov), completed 12 Nov: late
    D   village agent, notices 4 and 5 Nov (the second a repeat), accepted 6 Nov,
        completed on its deadline 13 Nov, rated "basic" (neither good nor bad)
    E   window, received 9 Nov, no notice: deemed accepted on 17 Nov as of 9 Nov (Art. 32),
        due 16 Nov, still open: overdue at the month's end
    Y2  online, ID "Y", same matter as A eight days later: rejected; 两头受理
    G   window, rejected 10 Nov
    H   online, accepted 11 Nov, withdrawn 12 Nov
    I   window, accepted 12 Nov, forwarded up 13 Nov (CaseService has no forward method:
        state, forwarded_on and closed_on are set directly, as the sync issue will)
    J   from township 450981101, accepted 16 Nov, completed 18 Nov: returned with result
    F   DEEMED (3 wd), accepted 16 Nov (due 19 Nov), deemed approved 20 Nov, completed 20 Nov
    P   window, accepted 16 Nov (due 23 Nov), suspended 18 Nov: open, past due, not overdue
    L   department office on an entered matter (体外循环), accepted and completed 17 Nov,
        rated very dissatisfied 18 Nov, the rating found invalid 20 Nov
    M   department office on a matter not entered (not 体外循环), completed 19 Nov
    T1  window, accepted 19 Nov and sent sideways (通办代收) to 容县 450921 the same day:
        counted there, here only as 代收 (and as forwarded)
    T2  arrived sideways (通办) from 450921, accepted 24 Nov (due 1 Dec): counted here as
        received and accepted, open at the month's end
    N1  window, ID "X", completed 20 Nov;  N2 online, ID "X", 20 Nov, rejected: 两头受理
    S1  window, ID "W", rejected 24 Nov;   S2 window, ID "W", withdrawn: same channel
    O1  FEE 50 yuan paid at the center's bank 23 Nov, completed 24 Nov
    O2  FEE 50 yuan paid elsewhere 25 Nov (前厂后店), completed 25 Nov
    K   from township 450981102, accepted 25 Nov (due 2 Dec): open, not overdue
    Q   immediate matter (0 wd), accepted and completed 26 Nov
    O3  FEE, accepted and approved 30 Nov, paid at the center 1 Dec 00:30 Shanghai
        (30 Nov 16:30 UTC), completed 1 Dec

Ratings: B very satisfied (3 Nov), A dissatisfied (4 Nov; rectified 12 Nov, due 11 Nov: late),
C dissatisfied (13 Nov; rectified 18 Nov, due 20 Nov: in time), D basic (16 Nov), L very
dissatisfied (void), M satisfied (20 Nov), F very dissatisfied (23 Nov; cannot rectify 25 Nov).
Rectifications completed: A with the applicant called back (回访), C without.
Visits to the hall recorded by the window (登记到厅): B once more before delivery (3 Nov), A
after its completion (4 Nov, its completion day's figures change), C twice (5 and 12 Nov: an
online case that is no longer 全程网办), E once (open: not counted).  A receipt at a window or
a department office is the first visit, online and village agent receipts none.
Catalog: the six active matters promise 5, 5, 3, 0, 5, 5 working days of legal limits 20 each
but PUBSVC's 10; NOW is the one immediate matter (即办), NOTIN cannot be applied for online.
Complaints: K4 window 30 Oct (due 6 Nov) resolved 2 Nov; K1 case C 13 Nov (due 20 Nov)
resolved 19 Nov; K2 window 16 Nov (due 23 Nov) resolved 25 Nov; K3 clerk 27 Nov, open.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from node.auth.models import User
from node.auth.permissions import Role
from node.calendar.workdays import WorkingCalendar
from node.cases.actors import Actor
from node.cases.models import Case, PaymentPlace, SuspensionKind, TongbanRole
from node.cases.service import Application, CaseService
from node.cases.states import CaseState
from node.cases.warnings import Warning, WarningPolicy
from node.catalog.inputs import NewStaffMember
from node.catalog.models import StaffType
from node.catalog.service import CatalogService
from node.feedback.inputs import NewComplaint
from node.feedback.models import EvaluationLevel, Rectification
from node.feedback.service import FeedbackService
from node.feedback.states import RectificationAction
from node.metadata import load_all_models
from node.metrics.definitions import DAILY_KEYS
from node.metrics.models import DailyFigure
from node.metrics.patterns import Pattern, PatternPolicy, pattern_cases
from node.metrics.rollup import period_counts, refresh
from node.metrics.summary import NodeIdentity, summarize
from node.models import Base
from node.rollups import DailyRollup
from schemas.metrics import ALL_METRICS, COUNTS, POWERS, RATES, RATIO_UNITS
from schemas.periods import Period
from schemas.personal import id_check_digit
from schemas.runtime.database import Database
from schemas.summary import SummarySchema
from tests.unit.node.conftest import new_matter
from tests.unit.schemas.test_summary_schema import json_schema_errors

SHANGHAI = ZoneInfo("Asia/Shanghai")
NODE = NodeIdentity("450981", "北流市政务服务中心", "county", "county_city", "450900")
POLICY = PatternPolicy(two_headed_window_days=30)
NOVEMBER = Period.parse("2026-11")
OCTOBER = Period.parse("2026-10")
DECEMBER = Period.parse("2026-12")
FIRST_DAY = dt.date(2026, 10, 1)
# the November summaries are computed the day after the last step (O3's completion on 1 Dec)
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
NEW_YEAR = dt.datetime(2027, 1, 4, 10, 0, tzinfo=SHANGHAI)
ALL_POWERS = dict.fromkeys(POWERS, True)
NO_POWERS = dict.fromkeys(POWERS, False)


def id_number(serial: int) -> str:
    """A valid resident ID number (GB 11643 check digit) unique to ``serial``."""
    first17 = f"45098119850101{serial:03d}"
    return first17 + id_check_digit(first17)


# -- the center: catalog, staff, users ------------------------------------------------------


def set_up_center(session: Session) -> None:
    """Departments, window, six active matters and a retired one, staff records, users."""
    catalog = CatalogService(session)
    catalog.create_department("SC", "市场监督管理局")
    catalog.create_window("W01", "市场监管窗口", "一楼A区", ["SC"])
    catalog.create_matter(new_matter())  # M1: 5 wd; all powers but litigate
    catalog.create_matter(new_matter(
        code="FEE", fee_amount_fen=5000, fee_basis="收费依据", fee_standard="50元/件",
        powers={**ALL_POWERS, "litigate": False, "issue": False, "approve": False}))
    catalog.create_matter(new_matter(
        code="DEEMED", deemed_approval=True, promised_limit_days=3, powers=ALL_POWERS))
    catalog.create_matter(new_matter(
        code="NOW", handling_type="immediate", promised_limit_days=0,
        powers={**ALL_POWERS, "coordinate": False, "litigate": False, "issue": False}))
    catalog.create_matter(new_matter(code="NOTIN", entered=False, powers=NO_POWERS,
                                     online=False))
    catalog.create_matter(new_matter(
        code="PUBSVC", category="public_service", should_enter=False, legal_limit_days=10,
        powers={**NO_POWERS, "accept": True}))
    catalog.create_matter(new_matter(code="RETIRED", powers=ALL_POWERS))
    catalog.retire_matter("RETIRED")
    staff = [("S1", StaffType.CIVIL_SERVANT, True), ("S2", StaffType.CIVIL_SERVANT, True),
             ("S3", StaffType.PUBLIC_INSTITUTION, True), ("S4", StaffType.PUBLIC_INSTITUTION, True),
             ("S5", StaffType.PUBLIC_INSTITUTION, True), ("S6", StaffType.TEMPORARY, True),
             ("S7", StaffType.TEMPORARY, False)]
    for code, kind, active in staff:
        catalog.create_staff_member(NewStaffMember(
            code=code, name=f"工作人员{code}", staff_type=kind, department_code="SC",
            window_code="W01", active=active))
    for name, role in (("clerk", Role.CLERK), ("approver", Role.APPROVER)):
        session.add(User(username=name, display_name=name, role=role,
                         department=catalog.department("SC"), password_hash="x",
                         active=True))


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    load_all_models()
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    with db.unit_of_work() as session:
        set_up_center(session)
    yield db
    db.dispose()


# -- a desk that works cases at controlled dates through the real services ------------------


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 10, 26, 10, 0, tzinfo=SHANGHAI)

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Ref:
    id: int
    number: str
    code: str
    rectification_id: int | None = None


@dataclass
class Desk:
    """Works cases through CaseService and FeedbackService, one unit of work per step, with
    the clock set to the step's day; ``on_day`` runs whenever the clock moves to a new day
    (the golden roll-up test refreshes the roll-ups there, as the worker would)."""

    db: Database
    clerk: str = "clerk"
    approver: str = "approver"
    on_day: Callable[[dt.datetime], None] | None = None
    clock: Clock = field(default_factory=Clock)
    cases: dict[str, Ref] = field(default_factory=dict)
    complaints: dict[str, str] = field(default_factory=dict)
    serial: int = 0

    def at(self, day: dt.date, hour: int = 10, minute: int = 0) -> None:
        moment = dt.datetime.combine(day, dt.time(hour, minute), SHANGHAI)
        new_day = moment.date() != self.clock.now.date()
        self.clock.now = moment
        if new_day and self.on_day is not None:
            self.on_day(moment)

    def services(self, session: Session) -> tuple[CaseService, FeedbackService]:
        calendar = WorkingCalendar()
        return (
            CaseService(session, node_code="450981", calendar=calendar,
                        warning_policy=WarningPolicy(), clock=self.clock),
            FeedbackService(session, node_code="450981", calendar=calendar, clock=self.clock),
        )

    @staticmethod
    def actor(session: Session, username: str) -> Actor:
        return Actor.of(session.scalar(select(User).where(User.username == username)))

    def submit(self, key: str, channel: str = "window", matter: str = "11450981MB0001",
               id_serial: int | None = None, from_below: str | None = None) -> None:
        self.serial += 1
        data = {"matter_code": matter, "channel": channel,
                "applicant_name": f"申请人{key}号", "applicant_phone": f"139{self.serial:08d}",
                "applicant_id_number": id_number(id_serial or 100 + self.serial)}
        if channel == "village_agent":
            data |= {"agent_name": f"代办员{key}", "applicant_consent": True}
        with self.db.unit_of_work() as session:
            cases, _ = self.services(session)
            submission = cases.submit(Application(**data), self.actor(session, self.clerk))
            if from_below:
                # the sync issue will create these; the fields are what it will set
                submission.case.origin_node_code = from_below
                submission.case.origin_case_number = f"{from_below}-2026-0000001"
            self.cases[key] = Ref(submission.case.id, submission.case.number,
                                  submission.query_code)

    def act(self, key: str, step: Callable[[CaseService, Case, Session], Any]) -> None:
        with self.db.unit_of_work() as session:
            cases, _ = self.services(session)
            step(cases, cases.get(self.cases[key].id), session)

    def accept(self, key: str) -> None:
        self.act(key, lambda s, c, db: s.accept(c, self.actor(db, self.clerk)))

    def approve(self, key: str) -> None:
        self.act(key, lambda s, c, db: s.decide(c, self.actor(db, self.approver),
                                               approve=True, reason=None))

    def complete(self, key: str) -> None:
        self.act(key, lambda s, c, db: s.complete(c, self.actor(db, self.clerk)))

    def visit(self, key: str) -> None:
        self.act(key, lambda s, c, db: s.record_visit(c, self.actor(db, self.clerk)))

    def deliver(self, key: str) -> None:
        self.act(key, lambda s, c, db: s.deliver(c, self.actor(db, self.clerk)))

    def reject(self, key: str) -> None:
        self.act(key, lambda s, c, db: s.reject(c, self.actor(db, self.clerk), reason="材料虚假"))

    def withdraw(self, key: str) -> None:
        self.act(key, lambda s, c, db: s.withdraw(c, self.actor(db, self.clerk),
                                                 reason="申请人撤回"))

    def notice(self, key: str, repeat_reason: str | None = None) -> None:
        self.act(key, lambda s, c, db: s.request_supplement(
            c, self.actor(db, self.clerk), material_positions=[1], other_items=[],
            repeat_reason=repeat_reason))

    def supplement(self, key: str) -> None:
        self.act(key, lambda s, c, db: s.supplement(c, self.actor(db, self.clerk)))

    def suspend(self, key: str) -> None:
        self.act(key, lambda s, c, db: s.suspend(c, self.actor(db, self.approver),
                                                kind=SuspensionKind.SITE_INSPECTION,
                                                reason="现场勘查"))

    def pay(self, key: str, amount_fen: int, where: PaymentPlace) -> None:
        self.act(key, lambda s, c, db: s.record_payment(c, self.actor(db, self.clerk),
                                                       amount_fen=amount_fen, where=where))

    def sideways(self, key: str) -> None:
        """通办代收: the case went to the competent center 450921 (forwarding's fields)."""

        def step(cases: CaseService, case: Case, _: Session) -> None:
            case.state = CaseState.FORWARDED
            case.forwarded_on = case.closed_on = cases.today()
            case.forwarded_to = case.tongban_division = "450921"
            case.tongban_role = TongbanRole.RECEIVED

        self.act(key, step)

    def arrived_sideways(self, key: str) -> None:
        """通办: the case came from 450921, this center being competent."""

        def step(_cases: CaseService, case: Case, _: Session) -> None:
            case.origin_node_code = case.received_from = case.tongban_division = "450921"
            case.origin_case_number = "450921-2026-0000001"
            case.tongban_role = TongbanRole.ACCEPTED

        self.act(key, step)

    def forward(self, key: str) -> None:
        """上报: no CaseService method exists yet (the sync issue brings it); set what
        ``_move`` would set for the forward transition."""

        def step(cases: CaseService, case: Case, _: Session) -> None:
            case.state = CaseState.FORWARDED
            case.forwarded_on = case.closed_on = cases.today()

        self.act(key, step)

    def jobs(self) -> tuple[list[str], list[str]]:
        with self.db.unit_of_work() as session:
            cases, _ = self.services(session)
            return cases.deem_accept_overdue(), cases.deem_approve_overdue()

    def evaluate(self, key: str, level: EvaluationLevel) -> None:
        ref = self.cases[key]
        with self.db.unit_of_work() as session:
            _, feedback = self.services(session)
            evaluation = feedback.evaluate(ref.number, ref.code, level=level, comment=None)
            if evaluation.rectification is not None:
                ref.rectification_id = evaluation.rectification.id

    def rectify(self, key: str, action: RectificationAction, text: str | None = None, *,
                followed_up: bool = False) -> None:
        with self.db.unit_of_work() as session:
            _, feedback = self.services(session)
            rectification = feedback.rectification(self.cases[key].rectification_id or 0)
            feedback.act_on_rectification(rectification, action,
                                          Actor("super", Role.SUPERVISOR.value), text=text,
                                          followed_up=followed_up)

    def complain(self, key: str, **target: Any) -> None:
        with self.db.unit_of_work() as session:
            _, feedback = self.services(session)
            if "case" in target:
                ref = self.cases[target.pop("case")]
                target |= {"case_number": ref.number, "code": ref.code}
            complaint = feedback.file_complaint(NewComplaint(content="窗口推诿", **target))
            self.complaints[key] = complaint.number

    def resolve(self, key: str) -> None:
        with self.db.unit_of_work() as session:
            _, feedback = self.services(session)
            feedback.resolve_complaint(feedback.complaint(self.complaints[key]),
                                       Actor("super", Role.SUPERVISOR.value),
                                       resolution="已督促整改并答复")


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def build_golden(desk: Desk) -> Desk:
    """The data set of the module docstring, step by step in date order."""
    good, bad = EvaluationLevel.VERY_SATISFIED, EvaluationLevel.DISSATISFIED
    worst = EvaluationLevel.VERY_DISSATISFIED
    act = RectificationAction

    desk.at(d(10, 26))
    desk.submit("A0")
    desk.accept("A0")
    desk.at(d(10, 27))
    desk.approve("A0")
    desk.complete("A0")
    desk.at(d(10, 28))
    desk.submit("A", id_serial=1)  # applicant "Y"
    desk.accept("A")
    desk.at(d(10, 30))
    desk.complain("K4", window_code="W01")

    desk.at(d(11, 2))
    desk.submit("B")
    desk.accept("B")
    desk.approve("B")
    desk.complete("B")
    desk.submit("C", "online")
    desk.resolve("K4")
    desk.at(d(11, 3))
    desk.visit("B")  # came back for the result
    desk.deliver("B")
    desk.evaluate("B", good)
    desk.accept("C")
    desk.approve("A")
    desk.complete("A")
    desk.at(d(11, 4))
    desk.visit("A")  # completed yesterday: 3 Nov's figures change
    desk.evaluate("A", bad)
    desk.submit("D", "village_agent")
    desk.notice("D")
    desk.at(d(11, 5))
    desk.supplement("D")
    desk.notice("D", repeat_reason="补正后的营业执照复印件仍不清晰")
    desk.submit("Y2", "online", id_serial=1)  # applicant "Y" again, another channel
    desk.reject("Y2")
    desk.rectify("A", act.START)
    desk.visit("C")  # an online case: the originals shown at the window
    desk.at(d(11, 6))
    desk.supplement("D")
    desk.accept("D")
    desk.at(d(11, 9))
    desk.submit("E")
    desk.at(d(11, 10))
    desk.visit("E")  # open at the month's end: not counted
    desk.submit("G")
    desk.reject("G")
    desk.at(d(11, 11))
    desk.submit("H", "online")
    desk.accept("H")
    desk.at(d(11, 12))
    desk.withdraw("H")
    desk.approve("C")
    desk.complete("C")
    desk.visit("C")  # the result collected at the hall
    desk.submit("I")
    desk.accept("I")
    desk.rectify("A", act.COMPLETE, "已对窗口人员批评教育", followed_up=True)
    desk.at(d(11, 13))
    desk.forward("I")
    desk.approve("D")
    desk.complete("D")
    desk.evaluate("C", bad)
    desk.complain("K1", case="C", contact_phone="13700000001")
    desk.at(d(11, 16))
    desk.evaluate("D", EvaluationLevel.BASIC)
    desk.submit("J", from_below="450981101")
    desk.accept("J")
    desk.submit("F", matter="DEEMED")
    desk.accept("F")
    desk.submit("P")
    desk.accept("P")
    desk.complain("K2", window_code="W01")
    desk.rectify("C", act.START)
    desk.at(d(11, 17))
    accepted, approved = desk.jobs()
    assert (accepted, approved) == ([desk.cases["E"].number], [])
    desk.submit("L", "department_office")
    desk.accept("L")
    desk.approve("L")
    desk.complete("L")
    desk.at(d(11, 18))
    desk.approve("J")
    desk.complete("J")
    desk.suspend("P")
    desk.evaluate("L", worst)
    desk.submit("M", "department_office", matter="NOTIN")
    desk.accept("M")
    desk.rectify("C", act.COMPLETE, "已补发告知单并致歉")
    desk.at(d(11, 19))
    desk.approve("M")
    desk.complete("M")
    desk.submit("N1", id_serial=2)  # applicant "X"
    desk.accept("N1")
    desk.submit("T1")
    desk.accept("T1")
    desk.sideways("T1")
    desk.rectify("L", act.DISPUTE, "评价人非本案申请人")
    desk.resolve("K1")
    desk.at(d(11, 20))
    accepted, approved = desk.jobs()
    assert (accepted, approved) == ([], [desk.cases["F"].number])
    desk.complete("F")
    desk.rectify("L", act.INVALIDATE, "经核实为恶意差评")
    desk.evaluate("M", EvaluationLevel.SATISFIED)
    desk.approve("N1")
    desk.complete("N1")
    desk.submit("N2", "online", id_serial=2)  # applicant "X" again, another channel
    desk.reject("N2")
    desk.at(d(11, 23))
    desk.evaluate("F", worst)
    desk.submit("O1", matter="FEE")
    desk.accept("O1")
    desk.approve("O1")
    desk.pay("O1", 5000, PaymentPlace.CENTER_BANK)
    desk.at(d(11, 24))
    desk.complete("O1")
    desk.rectify("F", act.START)
    desk.submit("O2", "online", matter="FEE")
    desk.accept("O2")
    desk.approve("O2")
    desk.submit("S1", id_serial=3)  # applicant "W", twice at the window: not 两头受理
    desk.reject("S1")
    desk.submit("S2", id_serial=3)
    desk.withdraw("S2")
    desk.submit("T2")
    desk.arrived_sideways("T2")
    desk.accept("T2")
    desk.at(d(11, 25))
    desk.pay("O2", 5000, PaymentPlace.ELSEWHERE)
    desk.complete("O2")
    desk.rectify("F", act.CANNOT_RECTIFY, "申请人要求超出法定条件")
    desk.submit("K", from_below="450981102")
    desk.accept("K")
    desk.resolve("K2")
    desk.at(d(11, 26))
    desk.submit("Q", matter="NOW")
    desk.accept("Q")
    desk.approve("Q")
    desk.complete("Q")
    desk.at(d(11, 27))
    desk.complain("K3", staff_code="S1")
    desk.at(d(11, 30))
    desk.submit("O3", matter="FEE")
    desk.accept("O3")
    desk.approve("O3")
    desk.at(d(12, 1), 0, 30)  # 30 Nov 16:30 UTC: a December payment in Shanghai
    desk.pay("O3", 5000, PaymentPlace.CENTER_BANK)
    desk.at(d(12, 1))
    desk.complete("O3")
    return desk


@pytest.fixture
def golden(database: Database) -> Desk:
    return build_golden(Desk(database))


# -- the figures, by hand -------------------------------------------------------------------

# November 2026.  Counts: the value.  Rates: (numerator, denominator, value or None).
EXPECTED_NOVEMBER: dict[str, Any] = {
    # received here in November: B C D E Y2 G H I F P L M N1 N2 S1 S2 O1 O2 Q O3 T2
    # (J and K came from below and are counted by their origin; T1 by 450921)
    "received": 21,
    "received_window": 13,  # B E G I F P N1 S1 S2 O1 Q O3 T2
    "received_online": 5,  # C Y2 H N2 O2
    "received_village_agent": 1,  # D
    "received_department_office": 2,  # L M
    # accepted here: B C D E(deemed, dated back to 9 Nov) H I F P L M N1 O1 O2 Q O3 T2; A
    # was accepted in October, J and K were accepted by their origin, T1 counts at 450921
    "accepted": 16,
    "deemed_accepted": 1,  # E
    # completed and decided here: A(crosses the month) B C D J F L M N1 O1 O2 Q; O3 in December
    "completed": 12,
    "completed_on_time": 10,  # A B D(on its deadline) J L M N1 O1 O2 Q
    "completed_late": 2,  # C (due 10 Nov, 12 Nov), F (due 19 Nov, deemed approved 20 Nov)
    "completed_same_day": 3,  # B L Q
    "deemed_approved": 1,  # F
    "rejected": 4,  # Y2 G N2 S1
    "withdrawn": 2,  # H S2
    "supplement_notices": 2,  # D's two notices
    "repeat_notices": 1,  # D's second notice
    "forwarded_up": 2,  # I, and T1 sideways
    "received_from_below": 2,  # J K
    "returned_with_result": 1,  # J
    "tongban_received": 1,  # T1
    "tongban_accepted": 1,  # T2
    "outside_center": 1,  # L (M's matter is not entered)
    "fees_center_fen": 5000,  # O1; O3 paid on 1 Dec in Shanghai (still 30 Nov in UTC)
    "fees_elsewhere_fen": 5000,  # O2
    "fees_elsewhere_cases": 1,  # O2
    "evaluations": 6,  # B A C D M F; L's rating was found invalid
    "evaluations_good": 2,  # B (very satisfied), M (satisfied)
    "evaluations_bad": 3,  # A C F
    "rectifications_closed": 3,  # A (done), C (done), F (cannot rectify); L's is void
    "rectified_in_time": 1,  # C (done 18 Nov, due 20 Nov); A was a day late
    "complaints_received": 3,  # K1 K2 K3 (K4 came in October)
    "complaints_resolved": 3,  # K4 K1 K2
    "complaints_resolved_in_time": 2,  # K4 K1 (K2 due 23 Nov, resolved 25 Nov)
    "two_headed": 2,  # Y2 (A eight days before), N2 (N1 the day before); S1/S2 share a channel
    "overdue_open": 1,  # E (due 16 Nov); P is past due but suspended
    "open_at_end": 5,  # E P K O3 (O3 approved, not completed until 1 Dec) T2
    "staff_civil_servant": 2,  # S1 S2
    "staff_public_institution": 3,  # S3 S4 S5
    "staff_temporary": 1,  # S6 (S7 is inactive)
    "matters_should_enter": 5,  # M1 FEE DEEMED NOW NOTIN (PUBSVC need not; RETIRED retired)
    "matters_entered": 5,  # M1 FEE DEEMED NOW PUBSVC
    "matters_entered_of_should": 4,  # M1 FEE DEEMED NOW
    "authorized_accept": 5,  # every entered matter
    "authorized_review": 4,  # all but PUBSVC
    "authorized_coordinate": 3,  # M1 FEE DEEMED
    "authorized_deliver": 4,  # all but PUBSVC
    "authorized_litigate": 1,  # DEEMED
    "authorized_issue": 2,  # M1 DEEMED
    "authorized_approve": 3,  # M1 DEEMED NOW
    "on_time_rate": (10, 12, 8333),  # 83.33 %
    "on_time_rate_strict": (10, 13, 7692),  # 12 completed + E overdue
    "same_day_rate": (3, 12, 2500),
    "entry_rate": (4, 5, 8000),
    "authorization_rate_accept": (5, 5, 10000),
    "authorization_rate_review": (4, 5, 8000),
    "authorization_rate_coordinate": (3, 5, 6000),
    "authorization_rate_deliver": (4, 5, 8000),
    "authorization_rate_litigate": (1, 5, 2000),
    "authorization_rate_issue": (2, 5, 4000),
    "authorization_rate_approve": (3, 5, 6000),
    "satisfaction_rate": (2, 6, 3333),
    "rectified_in_time_rate": (1, 3, 3333),
    "complaints_resolved_in_time_rate": (2, 3, 6667),
    "outside_center_rate": (1, 21, 476),
    # no 一件事 bundle in this data set (tests/unit/node/test_bundles.py has their figures)
    "bundles_received": 0,
    "bundles_completed": 0,
    "bundle_used_days": 0,
    "bundle_promised_days": 0,
    "bundle_time_rate": (0, 0, None),
    "completed_monthly_average": (12, 1, 12),
    # today's national indicators
    "matters_offered": 6,  # M1 FEE DEEMED NOW NOTIN PUBSVC (RETIRED retired)
    "matters_legal_days": 110,  # 20 × 5 + PUBSVC's 10
    "matters_promised_days": 23,  # 5 + 5 + 3 + 0 + 5 + 5
    "matters_days_saved": 87,  # 110 − 23
    "matters_immediate": 1,  # NOW
    "matters_online": 5,  # all but NOTIN
    # received and completed here: A B C D F L M N1 O1 O2 Q (J came from below)
    "completed_here": 11,
    # A 2 (window + 4 Nov), B 2 (window + 3 Nov), C 2 (online + 5 and 12 Nov), D 0 (village
    # agent), F L M N1 O1 Q 1 each (window or department office), O2 0 (online)
    "visits": 12,
    "visited_at_most_once": 8,  # D F L M N1 O1 O2 Q
    "fully_online": 1,  # O2 (C came to the hall twice)
    "completed_rated": 6,  # of the 12 completed: A B C D F M (L's rating is void)
    "evaluations_bad_rectified": 2,  # A C (F cannot be rectified)
    "evaluations_bad_named": 3,  # A C F: every case names its applicant's ID number
    "evaluations_bad_named_followed_up": 1,  # A (C was rectified without a call back)
    "limit_compression_rate": (87, 110, 7909),  # 1 − 23 ÷ 110 = 79.09 %
    "immediate_share": (1, 6, 1667),  # 16.67 %
    "online_available_rate": (5, 6, 8333),
    "fully_online_rate": (1, 11, 909),  # 9.09 %
    "at_most_once_rate": (8, 11, 7273),  # 72.73 %
    "average_visits": (12, 11, 109),  # 1.09 visits per case
    "active_evaluation_rate": (6, 12, 5000),
    "bad_rectified_rate": (2, 3, 6667),
    "named_bad_followed_up_rate": (1, 3, 3333),
}

CASE_STATE_KEYS = ("overdue_open", "open_at_end", "two_headed")
CATALOG_KEYS = tuple(
    m.key for m in COUNTS if m.key.startswith(("matters_", "authorized_", "staff_"))
)


def flat(summary: dict[str, Any]) -> dict[str, Any]:
    """Counts as their value; rates and averages as (numerator, denominator, value)."""
    out: dict[str, Any] = {}
    for key, entry in summary["metrics"].items():
        if entry["unit"] in RATIO_UNITS:
            out[key] = (entry["numerator"], entry["denominator"], entry.get("value"))
        else:
            out[key] = entry["value"]
    return out


def summary_of(db: Database, period: Period, now: dt.datetime = NOW,
               policy: PatternPolicy = POLICY) -> dict[str, Any]:
    with db.unit_of_work(write=False) as session:
        return summarize(session, NODE, period, now, policy)


def rollup_rows(db: Database) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(DailyRollup)) or 0


def test_expected_values_cover_every_metric() -> None:
    assert set(EXPECTED_NOVEMBER) == set(ALL_METRICS)


def test_november_golden_figures(golden: Desk) -> None:
    summary = summary_of(golden.db, NOVEMBER)
    assert flat(summary) == EXPECTED_NOVEMBER
    assert summary["period"] == {"kind": "month", "label": "2026-11",
                                 "start": "2026-11-01", "end": "2026-11-30"}
    assert summary["node"] == {"code": "450981", "name": "北流市政务服务中心",
                               "level": "county", "kind": "county_city", "parent": "450900"}
    assert summary["final"] is True
    assert summary["computed_at"] == "2026-12-02T02:00:00+00:00"
    assert summary["catalog"] == {
        "should_enter": 5, "entered": 5, "entered_of_should": 4,
        "authorized": {p: EXPECTED_NOVEMBER[f"authorized_{p}"] for p in POWERS},
    }
    for key, entry in summary["metrics"].items():
        assert entry["unit"] == ALL_METRICS[key].unit.value
    assert rollup_rows(golden.db) == 0  # reading never writes
    # the service's own in-time rule agrees with the SQL one for every rectification
    with golden.db.sessions() as session:
        in_time = [FeedbackService.rectified_in_time(r)
                   for r in session.scalars(select(Rectification))]
    assert sorted(map(str, in_time)) == ["False", "False", "None", "True"]  # A F | L | C


def test_summary_is_valid_and_carries_no_personal_data(golden: Desk) -> None:
    summary = summary_of(golden.db, NOVEMBER)
    assert SummarySchema().validate(summary) == {}
    # jsonschema is not installed in the venv: the body is checked against the published
    # SUMMARY_JSON_SCHEMA with the small validator of tests/unit/schemas/test_summary_schema.py
    assert json_schema_errors(summary) == []
    text = json.dumps(summary, ensure_ascii=False)
    with golden.db.sessions() as session:
        personal = session.execute(
            select(Case.applicant_name, Case.applicant_id_number, Case.applicant_phone,
                   Case.agent_name)
        ).all()
    values = {v for row in personal for v in row if v} | {"13700000001"}
    # 26 names, 26 phones, 23 ID numbers (Y, X and W applied twice), 1 agent, 1 complainant
    assert len(values) == 77
    assert [v for v in values if v in text] == []
    assert "申请人" not in text
    assert "4509811985" not in text  # no ID number prefix either


def test_empty_period_has_zero_counts_and_rates_without_value(golden: Desk) -> None:
    summary = summary_of(golden.db, Period.parse("2026-03"))
    assert SummarySchema().validate(summary) == {}
    metrics = summary["metrics"]
    for key in (*DAILY_KEYS, *CASE_STATE_KEYS):
        assert metrics[key]["value"] == 0, key
    case_rates = [r.key for r in RATES  # the catalog's rates are the center as it is now
                  if r.denominator not in ("matters_should_enter", "matters_entered",
                                           "matters_offered", "matters_legal_days")]
    for key in case_rates:
        assert metrics[key]["denominator"] == 0, key
        assert "value" not in metrics[key], key  # absent, not 0
    # the catalog and the staff are the center as it is now, whatever the period
    assert metrics["entry_rate"]["value"] == 8000
    assert metrics["staff_public_institution"]["value"] == 3
    assert metrics["completed_monthly_average"] == {
        "unit": "per_month", "numerator": 0, "denominator": 1, "value": 0}


def test_empty_center_has_no_rate_at_all(database_url: str) -> None:
    load_all_models()
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    try:
        summary = summary_of(db, Period.parse("2026"))
    finally:
        db.dispose()
    assert SummarySchema().validate(summary) == {}
    for metric in COUNTS:
        assert summary["metrics"][metric.key]["value"] == 0
    for rate in RATES:
        assert "value" not in summary["metrics"][rate.key], rate.key
    assert summary["metrics"]["completed_monthly_average"]["value"] == 0
    assert summary["catalog"]["authorized"] == dict.fromkeys(POWERS, 0)


def test_cases_crossing_period_boundaries_and_single_days(golden: Desk) -> None:
    october = flat(summary_of(golden.db, OCTOBER))
    november = flat(summary_of(golden.db, NOVEMBER))
    december = flat(summary_of(golden.db, DECEMBER))
    # A: received and accepted in October, completed in November
    assert (october["received"], october["accepted"], october["completed"]) == (2, 2, 1)
    assert october["completed_on_time"] == 1  # A0 only
    assert october["open_at_end"] == 1  # A, open on 31 Oct, not yet due (4 Nov)
    assert october["overdue_open"] == 0
    assert october["complaints_received"] == 1  # K4, resolved in November
    assert october["complaints_resolved"] == 0
    assert october["on_time_rate"] == (1, 1, 10000)
    assert october["same_day_rate"] == (0, 1, 0)  # a denominator: the value 0 is present
    assert october["satisfaction_rate"] == (0, 0, None)
    assert october["two_headed"] == 0
    assert november["completed"] == 12  # A is among them
    # O3: accepted 30 Nov, paid 1 Dec 00:30 Shanghai, completed 1 Dec
    assert december["completed"] == 1
    assert december["completed_on_time"] == 1
    assert december["completed_same_day"] == 0
    assert december["fees_center_fen"] == 5000
    assert december["received"] == december["accepted"] == 0
    assert summary_of(golden.db, DECEMBER)["final"] is False  # 2 Dec: still running
    # single days
    nov_9 = flat(summary_of(golden.db, Period.parse("2026-11-09")))
    assert (nov_9["received"], nov_9["received_window"]) == (1, 1)  # E
    assert nov_9["accepted"] == nov_9["deemed_accepted"] == 1  # E, dated back from 17 Nov
    nov_17 = flat(summary_of(golden.db, Period.parse("2026-11-17")))
    assert nov_17["accepted"] == 1  # L only: E counts on 9 Nov, the day it is accepted from
    assert nov_17["outside_center"] == nov_17["completed_same_day"] == 1  # L
    # open at the end of 17 Nov: E (due 16 Nov: overdue), J, F, P (L closed that day)
    assert (nov_17["open_at_end"], nov_17["overdue_open"]) == (4, 1)
    assert nov_17["completed_monthly_average"] == (1, 1, 1)  # a day counts as one month
    # 两头受理 pairs a November case with an earlier one, in October too (Y2 with A)
    with golden.db.sessions() as session:
        def two_headed(days: int) -> int:
            policy = PatternPolicy(two_headed_window_days=days)
            return pattern_cases(session, Pattern.TWO_HEADED, NOVEMBER.start, NOVEMBER.end,
                                 policy, per_page=1).total

        assert two_headed(30) == 2
        assert two_headed(8) == 2  # Y2 came eight days after A
        assert two_headed(7) == 1  # N2 only
        assert two_headed(0) == 0  # N2 came the day after N1


def test_quarter_and_year(golden: Desk) -> None:
    october = summary_of(golden.db, OCTOBER, NEW_YEAR)
    november = summary_of(golden.db, NOVEMBER, NEW_YEAR)
    december = summary_of(golden.db, DECEMBER, NEW_YEAR)
    quarter = summary_of(golden.db, Period.parse("2026-Q4"), NEW_YEAR)
    year = summary_of(golden.db, Period.parse("2026"), NEW_YEAR)
    q, y = flat(quarter), flat(year)
    for key in DAILY_KEYS:  # counts add up over the months
        months = sum(s["metrics"][key]["value"] for s in (october, november, december))
        assert q[key] == y[key] == months, key
    assert q["received"] == 23  # A0 A + November's 21
    assert q["accepted"] == 18  # A0 A + November's 16
    assert q["completed"] == 14  # A0 + November's 12 + O3
    assert q["completed_on_time"] == 12
    assert q["fees_center_fen"] == 10000  # O1 O3
    assert q["complaints_received"] == 4  # K4 K1 K2 K3
    assert q["two_headed"] == y["two_headed"] == 2  # Y2 N2
    # at the end of 31 Dec: E (overdue), P (suspended), K (due 2 Dec: overdue), T2 (due 1 Dec:
    # overdue)
    assert (q["open_at_end"], q["overdue_open"]) == (4, 3)
    assert q["on_time_rate"] == (12, 14, 8571)
    assert q["on_time_rate_strict"] == (12, 17, 7059)
    assert q["same_day_rate"] == (3, 14, 2143)
    assert q["completed_monthly_average"] == (14, 3, 5)  # 4.67 rounded half up
    assert y["completed_monthly_average"] == (14, 12, 1)  # 1.17
    assert quarter["period"] == {"kind": "quarter", "label": "2026-Q4",
                                 "start": "2026-10-01", "end": "2026-12-31"}
    assert year["period"]["label"] == "2026"
    assert quarter["final"] is year["final"] is True
    assert SummarySchema().validate(quarter) == {}


def test_rollups_give_the_same_figures_and_are_read(golden: Desk) -> None:
    periods = [OCTOBER, NOVEMBER, DECEMBER, Period.parse("2026-Q4"), Period.parse("2026-11-17")]
    before = [summary_of(golden.db, p) for p in periods]
    with golden.db.unit_of_work() as session:
        # 1 Oct to 2 Dec (today); days after today are never rolled up
        assert refresh(session, FIRST_DAY, d(12, 31), NOW) == 63
    with golden.db.sessions() as session:
        final = session.scalars(
            select(DailyRollup.day).where(DailyRollup.day < d(12, 2))
        ).all()
        assert len(final) == 62
        stored = dict(session.execute(
            select(DailyFigure.key, DailyFigure.value).where(DailyFigure.day == d(11, 2))
        ).all())
    assert stored["received"] == 2  # B C
    assert 0 not in stored.values()  # zeros are not stored
    after = [summary_of(golden.db, p) for p in periods]
    assert after == before
    assert flat(after[1]) == EXPECTED_NOVEMBER
    with golden.db.unit_of_work() as session:
        assert refresh(session, FIRST_DAY, d(12, 31), NOW) == 1  # only today, not final
        # the month is summed from the stored days, not rescanned: a stored figure shows
        session.execute(update(DailyFigure).where(DailyFigure.day == d(11, 2),
                                                  DailyFigure.key == "received")
                        .values(value=102))
    assert flat(summary_of(golden.db, NOVEMBER))["received"] == 121


def test_rollups_refreshed_every_day_with_invalidations(database: Database) -> None:
    """The worker refreshes the roll-ups each day while the center works; a deemed acceptance
    dated back (E) and a rating found invalid (L) change days already final."""
    seen: dict[dt.date, set[dt.date]] = {}

    def worker(moment: dt.datetime) -> None:
        with database.unit_of_work() as session:
            refresh(session, FIRST_DAY, moment.date(), moment)
            seen[moment.date()] = set(session.scalars(select(DailyRollup.day)))

    desk = build_golden(Desk(database, on_day=worker))
    assert d(11, 9) in seen[d(11, 17)]  # 9 Nov was final before E was deemed accepted
    with database.sessions() as session:
        assert session.scalar(select(DailyFigure.value).where(
            DailyFigure.day == d(11, 9), DailyFigure.key == "accepted")) == 1
        assert session.scalar(select(DailyFigure.value).where(
            DailyFigure.day == d(11, 18), DailyFigure.key == "evaluations")) is None
    assert flat(summary_of(desk.db, NOVEMBER)) == EXPECTED_NOVEMBER
    with database.unit_of_work() as session:
        refresh(session, FIRST_DAY, d(12, 31), NOW)
    assert flat(summary_of(desk.db, NOVEMBER)) == EXPECTED_NOVEMBER


def test_invalidated_days_are_recomputed(database: Database) -> None:
    desk = Desk(database)
    desk.at(d(11, 2))
    desk.submit("B")
    desk.accept("B")
    desk.approve("B")
    desk.complete("B")
    desk.at(d(11, 3))
    desk.evaluate("B", EvaluationLevel.VERY_DISSATISFIED)
    desk.at(d(11, 9))
    desk.submit("E")  # deemed accepted by the job
    desk.submit("E2")  # accepted late by the clerk, dated back to receipt
    desk.at(d(11, 16))
    with database.unit_of_work() as session:
        assert refresh(session, FIRST_DAY, d(11, 15), desk.clock.now) == 46
    nov = Period.parse("2026-11")

    def counts() -> dict[str, int]:
        with database.sessions() as session:
            return period_counts(session, nov.start, nov.end, desk.clock.now)

    assert (counts()["accepted"], counts()["evaluations_bad"]) == (1, 1)
    desk.rectify("B", RectificationAction.DISPUTE, "评价人非申请人")
    desk.rectify("B", RectificationAction.INVALIDATE, "恶意差评")
    desk.at(d(11, 17))
    desk.accept("E2")
    desk.jobs()
    with database.sessions() as session:
        rolled = set(session.scalars(select(DailyRollup.day)))
    assert d(11, 3) not in rolled  # the rating left that day
    assert d(11, 2) not in rolled  # and B's completion day (已评价办结件)
    assert d(11, 9) not in rolled  # two acceptances arrived on that day
    assert d(11, 8) in rolled
    assert (counts()["accepted"], counts()["deemed_accepted"]) == (3, 2)
    assert (counts()["evaluations"], counts()["evaluations_bad"]) == (0, 0)
    assert counts()["completed_rated"] == 0
    with database.unit_of_work() as session:
        # 2, 3, 9, 16, 17 Nov
        assert refresh(session, FIRST_DAY, d(11, 30), desk.clock.now) == 5
    assert (counts()["accepted"], counts()["deemed_accepted"]) == (3, 2)
    assert counts()["evaluations"] == 0


def test_case_suspended_after_its_deadline_stays_overdue(database: Database) -> None:
    desk = Desk(database)
    desk.at(d(11, 2))
    desk.submit("X")
    desk.accept("X")  # due 9 Nov
    desk.at(d(11, 12))
    desk.suspend("X")  # three days late, the department orders a site inspection
    desk.at(d(11, 30))
    with database.sessions() as session:
        cases, _ = desk.services(session)
        case = cases.get(desk.cases["X"].id)
        assert case.state is CaseState.SUSPENDED
        assert case.deadline_on == d(11, 9)
        assert cases.warning(case) is Warning.RED  # supervision sees it overdue
    figures = flat(summary_of(database, NOVEMBER))
    assert figures["open_at_end"] == 1
    assert figures["overdue_open"] == 1  # fails: 0, the suspension hides it
    assert figures["on_time_rate_strict"] == (0, 1, 0)


def test_fee_paid_in_two_parts(database: Database) -> None:
    desk = Desk(database)
    desk.at(d(11, 23))
    desk.submit("O", matter="FEE")
    desk.accept("O")
    desk.approve("O")
    desk.pay("O", 2000, PaymentPlace.CENTER_BANK)
    desk.at(d(11, 24))
    with database.unit_of_work() as session:
        refresh(session, FIRST_DAY, d(11, 24), desk.clock.now)  # 23 Nov is final: 2000
    desk.pay("O", 3000, PaymentPlace.CENTER_BANK)
    desk.complete("O")
    with database.sessions() as session:
        raw = session.scalar(select(Case.fee_paid_fen))
    assert raw == 5000
    assert flat(summary_of(database, NOVEMBER))["fees_center_fen"] == 5000  # fails: 7000


def test_fees_are_money_in_fen(golden: Desk) -> None:
    metrics = summary_of(golden.db, NOVEMBER)["metrics"]
    assert metrics["fees_elsewhere_cases"] == {"unit": "count", "value": 1}
    assert metrics["fees_center_fen"] == {"unit": "fen", "value": 5000}
    assert metrics["fees_elsewhere_fen"] == {"unit": "fen", "value": 5000}
