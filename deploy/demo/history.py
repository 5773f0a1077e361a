"""Months of a center's past cases, made with the real case service on a settable clock.

Every case goes through the same steps a clerk and an approver take — submission, the
occasional one-time notice and supplement, acceptance (or refusal), review, the decision,
the fee, completion and delivery — each on its own (past) day, so the audit chain, the daily
roll-ups and the summaries are what the center would have had.  Applicants rate some of the
delivered cases (good mostly, bad more often where the center is often late); a bad rating's
rectification is carried out a few working days later, or still open when that is after
today; a few applicants complain about their case, answered in the same way
(:func:`_feedback`), so every level's satisfaction rankings and lists have figures.  A
center's profile sets its volume and how often it decides on the day or late; cases whose
decision would fall after today stay open, some of them overdue.  Each center is generated
in its own process (:func:`generate`), since each has its own database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deploy.demo.layout import DemoNode
from node.auth.models import User
from node.calendar.workdays import WorkingCalendar, to_shanghai_date
from node.cases.actors import Actor
from node.cases.models import Case, Channel, PaymentPlace
from node.cases.service import Application, CaseService, Submission
from node.catalog.models import Department, Matter
from node.composition import NodeServices
from node.config import node_settings
from node.feedback.inputs import NewComplaint
from node.feedback.models import BAD_LEVELS, EvaluationLevel
from node.feedback.service import FeedbackService
from node.feedback.states import RectificationAction
from node.metadata import load_all_models
from node.metrics.rollup import refresh
from node.settings import NodeSettings
from node.sync.keys import load_node_key
from schemas.runtime.database import Database, utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"  # noqa: E501
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅志鹏海燕"
BATCH = 200  # cases per transaction
RATED = 0.35  # share of delivered cases the applicant rates
COMPLAINED = 0.02  # share of delivered cases the applicant complains about
GOOD_LEVELS = (EvaluationLevel.VERY_SATISFIED, EvaluationLevel.SATISFIED, EvaluationLevel.BASIC)
GOOD_WEIGHTS = (70, 24, 6)
BAD_COMMENTS = ("等候时间太长", "窗口人员态度生硬", "材料要求前后说法不一", "超过承诺时限才办结")
COMPLAINTS = ("多次往返才办成，希望一次告知清楚", "超过承诺时限仍未办结", "窗口人员推诿")
SUPERVISOR = Actor("supervisor", "supervisor")
REPORT_EVERY = 10  # cases between two progress reports


class Clock:
    """The service's clock, set to each step's moment."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, day: dt.date, minutes: int) -> None:
        self.now = dt.datetime.combine(day, dt.time(8, 30), SHANGHAI) + dt.timedelta(
            minutes=minutes)


@dataclass
class Plan:
    """One case's fate, drawn before it is made."""

    day: dt.date
    matter: str  # its code
    channel: Channel
    notice: bool
    rejected: bool
    denied: bool
    decide_on: dt.date
    paid_elsewhere: bool
    collect: float = 0.0  # how often this center's applicants come for their result


def first_day(today: dt.date, months: int) -> dt.date:
    """The first day of the earliest of ``months`` calendar months ending with today's."""
    month = today.year * 12 + today.month - 1 - (months - 1)
    return dt.date(month // 12, month % 12 + 1, 1)


def working_days(calendar: WorkingCalendar, start: dt.date, end: dt.date) -> list[dt.date]:
    days, day = [], start
    while day <= end:
        if calendar.is_working_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _id_number(rng: random.Random, born: dt.date) -> str:
    """A resident ID number of Guangxi with a valid check digit (GB 11643)."""
    body = f"4509{rng.randint(0, 99):02d}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def _plan(rng: random.Random, node: DemoNode, calendar: WorkingCalendar, day: dt.date,
          matters: list[Matter]) -> Plan:
    matter = rng.choice(matters)
    profile = node.profile
    promised = matter.promised_limit_days
    accept_on = day
    if promised == 0 or rng.random() < profile.same_day:
        decide_on = accept_on
    elif rng.random() < profile.on_time:
        decide_on = calendar.add_working_days(accept_on, rng.randint(1, promised))
    else:
        decide_on = calendar.add_working_days(accept_on, promised + rng.randint(1, 4))
    roll = rng.random()
    channel = (Channel.WINDOW if roll < 0.82 else Channel.ONLINE if roll < 0.95
               else Channel.VILLAGE_AGENT)
    if channel is Channel.ONLINE and not matter.online:
        channel = Channel.WINDOW  # a matter not offered online is applied for at the window
    return Plan(
        day=day, matter=matter.code,
        channel=channel,
        notice=rng.random() < 0.04, rejected=rng.random() < 0.015,
        denied=rng.random() < 0.02, decide_on=decide_on,
        paid_elsewhere=rng.random() < 0.03,
        # the centers that decide on the day less often see their applicants come back more
        collect=0.2 + 0.6 * (1 - profile.same_day),
    )


def _make(service: CaseService, clock: Clock, rng: random.Random, plan: Plan, matter: Matter,
          clerk: Actor, approvers: dict[int, Actor], today: dt.date) -> None:
    minute = rng.randint(0, 420)
    clock.at(plan.day, minute)
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 50))
    application = Application(
        matter_code=matter.code, channel=plan.channel,
        applicant_name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
        applicant_id_number=_id_number(rng, born),
        applicant_phone=f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}",
    )
    if plan.channel is Channel.VILLAGE_AGENT:
        application = dataclasses.replace(
            application, agent_name="村级代办员" + rng.choice(SURNAMES), applicant_consent=True)
    submission = service.submit(application, clerk)
    case = submission.case
    if plan.notice and matter.materials:
        clock.at(plan.day, minute + 5)
        service.request_supplement(case, clerk, material_positions=[1], other_items=[],
                                   repeat_reason=None)
        clock.at(plan.day, minute + 60)
        service.supplement(case, clerk)
        if plan.channel is not Channel.VILLAGE_AGENT:  # the applicant brought them to the hall
            service.record_visit(case, clerk, reason="补交材料")
    clock.at(plan.day, minute + 70)
    if plan.rejected:
        service.reject(case, clerk, reason="申请事项依法不属于本中心职权范围")
        return
    service.accept(case, clerk)
    if plan.decide_on > today:
        return  # still open today (some of them overdue)
    approver = approvers[case.department_id]
    clock.at(plan.decide_on, minute + 90)
    if plan.decide_on > plan.day:
        service.start_review(case, approver)
    if plan.denied:
        service.decide(case, approver, approve=False, reason="申请材料不符合法定条件")
    else:
        service.decide(case, approver, approve=True, reason=None)
        if case.fee_due_fen:
            service.record_payment(
                case, clerk, amount_fen=case.fee_due_fen,
                where=PaymentPlace.ELSEWHERE if plan.paid_elsewhere else PaymentPlace.CENTER_BANK)
    clock.at(plan.decide_on, minute + 100)
    service.complete(case, clerk)
    late = plan.decide_on > (case.deadline_on or plan.decide_on)
    _visits(service, clock, case, plan, minute, clerk, late=late)
    clock.at(plan.decide_on, minute + 110)
    service.deliver(case, clerk)
    _feedback(service, clock, submission, plan, minute, today, late=late)


def _visits(service: CaseService, clock: Clock, case: Case, plan: Plan, minute: int,
            clerk: Actor, *, late: bool) -> None:
    """The applicant's visits to the hall after the decision (登记到厅, 最多跑一次): coming
    for the result (an online applicant less often, the result mostly sent), and once more
    in vain when the decision came late; drawn from the case's own number so that the cases'
    draws stay as they were."""
    rng = random.Random(f"tongban-demo-visits-{case.number}")  # noqa: S311
    share = plan.collect if plan.channel is Channel.WINDOW else plan.collect / 3
    if late and rng.random() < 0.5:
        clock.at(plan.decide_on, minute + 102)
        service.record_visit(case, clerk, reason="询问办理进度")
    if plan.channel is not Channel.VILLAGE_AGENT and rng.random() < share:
        clock.at(plan.decide_on, minute + 105)
        service.record_visit(case, clerk, reason="到窗口领取办理结果")


def _feedback(service: CaseService, clock: Clock, submission: Submission, plan: Plan,
              minute: int, today: dt.date, *, late: bool) -> None:
    """The applicant's rating and complaint, if any, and what the center did about them; drawn
    from the case's own number so that the cases' draws stay as they were."""
    rng = random.Random(f"tongban-demo-feedback-{submission.case.number}")  # noqa: S311
    feedback = FeedbackService(service.session, node_code=service.node_code,
                               calendar=service.calendar, clock=clock)
    number, code = submission.case.number, submission.query_code
    calendar = service.calendar
    if rng.random() < RATED:
        bad_share = 0.03 + (0.35 if late else 0.0)
        if rng.random() < bad_share:
            level = rng.choice(sorted(BAD_LEVELS))
            comment: str | None = rng.choice(BAD_COMMENTS)
        else:
            level = rng.choices(GOOD_LEVELS, GOOD_WEIGHTS)[0]
            comment = None
        clock.at(plan.decide_on, minute + 130)
        evaluation = feedback.evaluate(number, code, level=level, comment=comment)
        rectification = evaluation.rectification
        if rectification is not None:
            started = calendar.add_working_days(plan.decide_on, 1)
            done = calendar.add_working_days(plan.decide_on, rng.randint(2, 8))
            if started <= today:
                clock.at(started, 60)
                feedback.act_on_rectification(rectification, RectificationAction.START,
                                              SUPERVISOR)
            if done <= today:
                clock.at(done, 120)
                # 回访: most applicants are called back (a draw of its own, see _visits)
                called = random.Random(f"tongban-demo-followup-{number}").random() < 0.8  # noqa: S311
                feedback.act_on_rectification(
                    rectification, RectificationAction.COMPLETE, SUPERVISOR,
                    text="已约谈相关窗口人员，完善一次性告知清单并向申请人回访致歉",
                    followed_up=called)
    if rng.random() < COMPLAINED + (0.10 if late else 0.0):
        clock.at(plan.decide_on, minute + 150)
        complaint = feedback.file_complaint(NewComplaint(
            content=rng.choice(COMPLAINTS), case_number=number, code=code)).complaint
        answered = calendar.add_working_days(plan.decide_on, rng.randint(1, 6))
        if answered <= today:
            clock.at(answered, 90)
            feedback.resolve_complaint(complaint, SUPERVISOR,
                                       resolution="经核查情况属实，已责成窗口整改并向您致歉")


class _Progress(Protocol):
    def put(self, item: int) -> None: ...


def _planned(db: Database, settings: NodeSettings, key: Ed25519PrivateKey, node: DemoNode,
             months: int, scale: float, rng: random.Random,
             ) -> tuple[dt.date, dt.date, list[Plan]]:
    """Today, the first day, and the cases to make (none when the node has cases already)."""
    with db.unit_of_work(write=False) as session:
        service = NodeServices(settings, key).cases(session, Clock())
        today = to_shanghai_date(utcnow())
        first = first_day(today, months)
        if session.scalar(select(func.count(Case.id))):
            return today, first, []
        matters = list(session.scalars(select(Matter).where(
            Matter.retired_at.is_(None), Matter.entered.is_(True)).order_by(Matter.code)))
        if not matters:
            return today, first, []
        daily = node.profile.monthly * scale / 21.75
        plans: list[Plan] = []
        for day in working_days(service.calendar, first, today):
            count = int(daily) + (rng.random() < daily - int(daily))
            plans += [_plan(rng, node, service.calendar, day, matters) for _ in range(count)]
    return today, first, plans


def _rng(node: DemoNode) -> random.Random:
    return random.Random(f"tongban-demo-{node.code}")  # noqa: S311 - demo data


def planned_cases(home: str, node: DemoNode, months: int, scale: float) -> int:
    """How many cases :func:`generate` will make in the node at ``home`` (the same draw)."""
    load_all_models()
    settings = node_settings({"home": home})
    db = Database(settings.database_url)
    try:
        plans = _planned(db, settings, load_node_key(settings), node, months, scale, _rng(node))
        return len(plans[2])
    finally:
        db.dispose()


def generate(home: str, node: DemoNode, months: int, scale: float,
             progress: _Progress | None = None) -> int:
    """Make ``months`` months of cases (up to today) in the node at ``home``, then roll the
    figures up; how many cases were made (0 when the node has cases already).

    ``progress`` (a queue shared with the demo's process) gets the count of every few cases
    made, for the progress bar.
    """
    load_all_models()
    settings = node_settings({"home": home})
    key = load_node_key(settings)
    db = Database(settings.database_url)
    clock = Clock()
    rng = _rng(node)
    made = 0
    try:
        today, first, plans = _planned(db, settings, key, node, months, scale, rng)
        if not plans:
            return 0
        for start in range(0, len(plans), BATCH):
            with db.unit_of_work() as session:
                service = NodeServices(settings, key).cases(session, clock)
                clerk, approvers = _actors(session)
                matters_here = {m.code: m for m in session.scalars(select(Matter))}
                batch = plans[start:start + BATCH]
                for index, plan in enumerate(batch, 1):
                    _make(service, clock, rng, plan, matters_here[plan.matter], clerk,
                          approvers, today)
                    if progress is not None and index % REPORT_EVERY == 0:
                        progress.put(REPORT_EVERY)
                if progress is not None and len(batch) % REPORT_EVERY:
                    progress.put(len(batch) % REPORT_EVERY)
                made += len(batch)
        with db.unit_of_work() as session:
            refresh(session, first, today, utcnow())
        return made
    finally:
        db.dispose()


def _actors(session: Session) -> tuple[Actor, dict[int, Actor]]:
    """The clerk (``clerk``) and an approver for each department (the demo's approvers)."""
    clerk = session.scalar(select(User).where(User.username == "clerk"))
    assert clerk is not None  # noqa: S101 - the demo created it
    approvers = {
        department.id: Actor(f"approver-{department.code.lower()}", "approver", None,
                             department.id)
        for department in session.scalars(select(Department))
    }
    return Actor("clerk", "clerk", clerk.id, clerk.department_id), approvers
