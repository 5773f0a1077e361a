"""Daily counts straight from the raw tables: one SQL ``GROUP BY`` per source over a date
range, never a Python loop over cases.  The roll-up stores these; tests compare against them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from node.bundles.models import BundleCase
from node.cases.history import REMOTE_STEP, remote_reason_prefix
from node.cases.models import (
    Case,
    CaseEvent,
    Channel,
    FeePayment,
    PaymentPlace,
    SupplementNotice,
    TongbanRole,
)
from node.cases.states import CaseState
from node.catalog.models import Matter
from node.feedback.models import (
    BAD_LEVELS,
    Complaint,
    ComplaintState,
    Evaluation,
    EvaluationLevel,
    Rectification,
    RectificationState,
)
from node.metrics.definitions import DAILY_KEYS
from node.metrics.patterns import PatternPolicy, two_headed
from schemas.runtime.database import shanghai_date

SHANGHAI = ZoneInfo("Asia/Shanghai")
VISIT = "visit"  # the case event the window records for each further visit to the hall
# a receipt in person is the first visit; online and through a village agent, none
IN_PERSON = (Channel.WINDOW, Channel.DEPARTMENT_OFFICE)
GOOD_LEVELS = (EvaluationLevel.VERY_SATISFIED, EvaluationLevel.SATISFIED)
DailyCounts = dict[dt.date, dict[str, int]]


def _n(condition: ColumnElement[bool] | Any) -> Any:
    """Count the rows matching ``condition``."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _amount(condition: ColumnElement[bool], value: Any) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def daily_counts(
    session: Session,
    start: dt.date,
    end: dt.date,
    window_days: int = PatternPolicy.two_headed_window_days,
) -> DailyCounts:
    """Every daily count for each day of ``[start, end]`` (days without activity: zeros);
    ``window_days`` is the 两头受理 window."""
    counts: DailyCounts = defaultdict(lambda: dict.fromkeys(DAILY_KEYS, 0))
    for day, values in _sources(session, start, end, window_days):
        counts[day].update({k: int(v) for k, v in values.items()})
    result = {}
    day = start
    while day <= end:
        result[day] = counts[day] if day in counts else dict.fromkeys(DAILY_KEYS, 0)
        day += dt.timedelta(days=1)
    return result


def _grouped(
    day_column: Any, columns: dict[str, Any], *where: Any, join: Any = None
) -> Select[Any]:
    query = select(day_column.label("day"), *(c.label(k) for k, c in columns.items()))
    if join is not None:
        query = query.join(*join)
    return query.where(*where).group_by(day_column)


def _sources(
    session: Session, start: dt.date, end: dt.date, window_days: int
) -> Sequence[tuple[dt.date, dict[str, Any]]]:
    # timestamps: select by UTC bounds (indexable), group by the Shanghai date
    since = dt.datetime.combine(start, dt.time(), SHANGHAI)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), SHANGHAI)
    bounds = {"start": start, "end": end, "since": since, "until": until}
    rows: list[tuple[dt.date, dict[str, Any]]] = []
    for statement in _statements(window_days):
        keys = [str(c.key) for c in statement.selected_columns][1:]  # each one labelled
        rows.extend((_as_date(row[0]), dict(zip(keys, row[1:], strict=True)))
                    for row in session.execute(statement, bounds))
    return rows


@functools.cache
def _statements(window_days: int) -> tuple[Select[Any], ...]:
    """The roll-up's statements, built once per process (and 两头受理 window): a day's refresh
    then costs its queries, not the building of fifteen SELECTs of CASEs on every call."""
    # 通办: counted once, at the competent center; the receiving center counts it as 代收
    sideways_in = and_(Case.tongban_role == TongbanRole.ACCEPTED,
                       Case.state != CaseState.RETURNED)
    here = or_(and_(Case.origin_node_code.is_(None),
                    or_(Case.tongban_role.is_(None), Case.tongban_role != TongbanRole.RECEIVED)),
               sideways_in)
    from_below = and_(Case.origin_node_code.is_not(None), Case.tongban_role.is_(None))
    rows: list[Select[Any]] = []
    start: BindParameter[Any] = bindparam("start")
    end: BindParameter[Any] = bindparam("end")
    since: BindParameter[Any] = bindparam("since")  # each takes its column's type
    until: BindParameter[Any] = bindparam("until")

    def in_range(column: Any) -> ColumnElement[bool]:
        return and_(column >= start, column <= end)

    def in_time(column: Any) -> ColumnElement[bool]:
        return and_(column >= since, column < until)

    rows.append(_grouped(
        Case.received_on,
        {
            "received": _n(here),
            "received_window": _n(and_(here, Case.channel == Channel.WINDOW)),
            "received_online": _n(and_(here, Case.channel == Channel.ONLINE)),
            "received_village_agent": _n(and_(here, Case.channel == Channel.VILLAGE_AGENT)),
            "received_department_office": _n(
                and_(here, Case.channel == Channel.DEPARTMENT_OFFICE)
            ),
            "outside_center": _n(
                and_(here, Case.channel == Channel.DEPARTMENT_OFFICE, Matter.entered.is_(True))
            ),
            "received_from_below": _n(from_below),
        },
        in_range(Case.received_on),
        join=(Matter, Matter.id == Case.matter_id),
    ))
    rows.append(_grouped(
        Case.received_on, {"two_headed": _n(two_headed(window_days))},
        in_range(Case.received_on), Case.applicant_id_number.is_not(None),
    ))
    rows.append(_grouped(
        Case.accepted_on,
        {"accepted": _n(here), "deemed_accepted": _n(and_(here, Case.deemed_accepted)),
         "tongban_accepted": _n(sideways_in)},
        in_range(Case.accepted_on),
    ))
    # the deciding node counts the decision: cases forwarded away are not completed here
    rows.append(_grouped(
        Case.completed_on,
        {
            "completed": func.count(Case.id),
            "completed_on_time": _n(Case.completed_on <= Case.deadline_on),
            "completed_late": _n(Case.completed_on > Case.deadline_on),
            "completed_same_day": _n(Case.completed_on == Case.accepted_on),
            "returned_with_result": _n(from_below),
            "completed_rated": _n(
                select(Evaluation.id)
                .where(Evaluation.case_id == Case.id, Evaluation.void.is_(False))
                .exists()
            ),
        },
        in_range(Case.completed_on), Case.forwarded_on.is_(None),
    ))
    rows.append(_visits(in_range, sideways_in))
    rows.append(_grouped(
        Case.decided_on, {"deemed_approved": _n(Case.deemed_approved)},
        in_range(Case.decided_on),
    ))
    rows.append(_grouped(
        Case.closed_on,
        {"rejected": _n(Case.state == CaseState.REJECTED),
         "withdrawn": _n(Case.state == CaseState.WITHDRAWN)},
        in_range(Case.closed_on),
    ))
    rows.append(_grouped(
        Case.forwarded_on,
        {"forwarded_up": func.count(Case.id),  # up, or sideways (通办) …
         "tongban_received": _n(Case.tongban_role == TongbanRole.RECEIVED)},  # … of which 通办
        in_range(Case.forwarded_on),
    ))
    rows.append(_grouped(
        BundleCase.received_on, {"bundles_received": func.count(BundleCase.id)},
        in_range(BundleCase.received_on),
    ))
    rows.append(_grouped(
        BundleCase.ended_on,
        {"bundles_completed": func.count(BundleCase.id),
         "bundle_used_days": func.coalesce(func.sum(BundleCase.used_days), 0),
         "bundle_promised_days": func.coalesce(func.sum(BundleCase.promised_days), 0)},
        in_range(BundleCase.ended_on),
    ))
    paid_on = shanghai_date(FeePayment.paid_at)
    rows.append(_grouped(
        paid_on,
        {
            "fees_center_fen": _amount(FeePayment.place == PaymentPlace.CENTER_BANK,
                                       FeePayment.amount_fen),
            "fees_elsewhere_fen": _amount(FeePayment.place == PaymentPlace.ELSEWHERE,
                                          FeePayment.amount_fen),
            # a case paying elsewhere twice in a day is one case
            "fees_elsewhere_cases": func.count(func.distinct(
                case((FeePayment.place == PaymentPlace.ELSEWHERE, FeePayment.case_id))
            )),
        },
        in_time(FeePayment.paid_at),
    ))
    issued_on = shanghai_date(SupplementNotice.issued_at)
    rows.append(_grouped(
        issued_on,
        {"supplement_notices": func.count(SupplementNotice.id),
         "repeat_notices": _n(SupplementNotice.sequence > 1)},
        in_time(SupplementNotice.issued_at),
    ))
    rated_on = shanghai_date(Evaluation.at)
    rows.append(_grouped(
        rated_on,
        {"evaluations": func.count(Evaluation.id),
         "evaluations_good": _n(Evaluation.level.in_(GOOD_LEVELS)),
         "evaluations_bad": _n(Evaluation.level.in_(BAD_LEVELS))},
        in_time(Evaluation.at), Evaluation.void.is_(False),
    ))
    closed_on = shanghai_date(Rectification.closed_at)
    rows.append(_grouped(
        closed_on,
        {"rectifications_closed": _n(Rectification.state.in_(
            (RectificationState.DONE, RectificationState.CANNOT_RECTIFY))),
         "rectified_in_time": _n(and_(Rectification.state == RectificationState.DONE,
                                      closed_on <= Rectification.due_on))},
        in_time(Rectification.closed_at),
    ))
    rows.append(_rated_bad(rated_on, in_time))
    received_on = shanghai_date(Complaint.received_at)
    rows.append(_grouped(
        received_on, {"complaints_received": func.count(Complaint.id)},
        in_time(Complaint.received_at),
        Complaint.sent_to.is_(None),  # sent to the center that handled its case: counted there
    ))
    resolved_on = shanghai_date(Complaint.resolved_at)
    rows.append(_grouped(
        resolved_on,
        {"complaints_resolved": _n(Complaint.state == ComplaintState.RESOLVED),
         "complaints_resolved_in_time": _n(and_(Complaint.state == ComplaintState.RESOLVED,
                                                resolved_on <= Complaint.due_on))},
        in_time(Complaint.resolved_at),
        Complaint.sent_to.is_(None),
    ))
    return tuple(rows)


def _visits(in_range: Any, sideways_in: ColumnElement[bool]) -> Select[Any]:
    """最多跑一次: the cases received here and completed here, and the 通办 cases taken here
    as the competent center (``sideways_in``) and completed here, by completion day, with
    their visits to the hall (the receipt in person, then each ``visit`` recorded: here, and
    for a 通办 case at the receiving center's hall before it was sent, in the history it came
    with)."""
    recorded = (
        select(func.count(CaseEvent.id))
        .where(CaseEvent.case_id == Case.id,
               or_(CaseEvent.action == VISIT,
                   and_(CaseEvent.action == REMOTE_STEP,
                        CaseEvent.reason.startswith(remote_reason_prefix(VISIT),
                                                    autoescape=True))))
        .correlate(Case)
        .scalar_subquery()
    )
    cases = (
        select(
            Case.completed_on.label("day"),
            Case.channel.label("channel"),
            (case((Case.channel.in_(IN_PERSON), 1), else_=0) + recorded).label("visits"),
        )
        .where(in_range(Case.completed_on), Case.forwarded_on.is_(None),
               or_(Case.origin_node_code.is_(None), sideways_in))
        .subquery()
    )
    return (
        select(
            cases.c.day.label("day"),
            func.count().label("completed_here"),
            func.coalesce(func.sum(cases.c.visits), 0).label("visits"),
            _n(cases.c.visits <= 1).label("visited_at_most_once"),
            _n(and_(cases.c.channel == Channel.ONLINE, cases.c.visits == 0)).label(
                "fully_online"),
        )
        .group_by(cases.c.day)
    )


def _rated_bad(rated_on: Any, in_time: Any) -> Select[Any]:
    """好差评 (GB/T 39735) by the rating's day: bad ratings rectified, the bad ratings of
    identified applicants (实名: the case names an ID number), and those of them rectified
    with the applicant called back (回访)."""
    bad = and_(Evaluation.level.in_(BAD_LEVELS), Evaluation.void.is_(False))
    done = Rectification.state == RectificationState.DONE
    named = Case.applicant_id_number.is_not(None)
    return (
        select(
            rated_on.label("day"),
            _n(and_(bad, done)).label("evaluations_bad_rectified"),
            _n(and_(bad, named)).label("evaluations_bad_named"),
            _n(and_(bad, named, done, Rectification.followed_up_at.is_not(None))).label(
                "evaluations_bad_named_followed_up"),
        )
        .join(Case, Case.id == Evaluation.case_id)
        .outerjoin(Rectification, Rectification.evaluation_id == Evaluation.id)
        .where(in_time(Evaluation.at), Evaluation.level.in_(BAD_LEVELS))
        .group_by(rated_on)
    )
