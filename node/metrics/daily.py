"""Daily counts straight from the raw tables: one SQL ``GROUP BY`` per source over a date
range, never a Python loop over cases.  The roll-up stores these; tests compare against them.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CompoundSelect,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import replacement_traverse

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


def _one_of(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN (…)`` as equalities: an ``IN`` list is an expanding parameter, which makes
    SQLAlchemy render the cached statement's SQL again on every execution."""
    return or_(*(column == value for value in values))


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


def _sources(
    session: Session, start: dt.date, end: dt.date, window_days: int
) -> Sequence[tuple[dt.date, dict[str, Any]]]:
    # timestamps: select by UTC bounds (indexable), group by the Shanghai date
    since = dt.datetime.combine(start, dt.time(), SHANGHAI)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), SHANGHAI)
    bounds = {"start": start, "end": end, "since": since, "until": until}
    statement, names = _statement(window_days)
    return [(_as_date(row[1]), dict(zip(names[row[0]], row[2:], strict=False)))
            for row in session.execute(statement, bounds)]


@functools.cache
def _statement(window_days: int) -> tuple[CompoundSelect[Any], tuple[tuple[str, ...], ...]]:
    """The roll-up's one statement, built once per process (and 两头受理 window), with the
    figure names of each family.

    A ``UNION ALL`` of one ``GROUP BY`` per figure family (a source and the date it counts
    by, read through that date's index); each row is ``(family, day, figures…)``, padded
    with zeros to the widest family, so that a day's refresh is one round trip.
    """
    families = _families(window_days)
    width = max(len(columns) for _, columns, _ in families)
    branches = []
    for number, (day, columns, query) in enumerate(families):
        padding: list[Any] = [literal_column("0") for _ in range(width - len(columns))]
        branches.append(
            query.add_columns(literal_column(str(number)).label("family"), day.label("day"),
                              *columns.values(), *padding).group_by(day)
        )
    return (_inline_constants(union_all(*branches), BOUNDS),
            tuple(tuple(columns) for _, columns, _ in families))


BOUNDS = frozenset({"start", "end", "since", "until"})  # the statement's only parameters


def _inline_constants(statement: CompoundSelect[Any], keep: frozenset[str]
                      ) -> CompoundSelect[Any]:
    """The statement with every constant of the code (the 1 and 0 counted, the states and
    channels compared, the window) written into its SQL instead of bound, leaving only
    ``keep``: a 14-branch statement otherwise carries about 150 parameters, which SQLAlchemy
    builds and psycopg parses out of the 14 KB text on every execution (psycopg caches that
    only for statements under 4 KB and 50 parameters: 3 ms of the 5 ms the client spent)."""
    def inline(element: Any, **_kw: Any) -> Any:
        if not isinstance(element, BindParameter) or element.key in keep:
            return None
        value = element.effective_value
        if isinstance(value, enum.Enum):
            value = value.value
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"no literal for {value!r} ({element.key})")
        text = str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"
        return literal_column(text, type_=element.type)
    return cast(CompoundSelect[Any], replacement_traverse(statement, {}, inline))


Family = tuple[Any, dict[str, Any], Select[Any]]  # (the day, its figures, FROM … WHERE …)


def _families(window_days: int) -> list[Family]:
    """One ``GROUP BY`` per figure family: each source's rows read once by their date."""
    # 通办: counted once, at the competent center; the receiving center counts it as 代收
    sideways_in = and_(Case.tongban_role == TongbanRole.ACCEPTED,
                       Case.state != CaseState.RETURNED)
    here = or_(and_(Case.origin_node_code.is_(None),
                    or_(Case.tongban_role.is_(None), Case.tongban_role != TongbanRole.RECEIVED)),
               sideways_in)
    from_below = and_(Case.origin_node_code.is_not(None), Case.tongban_role.is_(None))
    start: BindParameter[Any] = bindparam("start")
    end: BindParameter[Any] = bindparam("end")
    since: BindParameter[Any] = bindparam("since")  # each takes its column's type
    until: BindParameter[Any] = bindparam("until")

    def in_range(column: Any) -> ColumnElement[bool]:
        return and_(column >= start, column <= end)

    def in_time(column: Any) -> ColumnElement[bool]:
        return and_(column >= since, column < until)

    def rows(*where: Any) -> Select[Any]:
        return select().where(*where)

    families: list[Family] = [(
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
            "two_headed": _n(two_headed(window_days)),  # an index probe per ID number
        },
        rows(in_range(Case.received_on)).select_from(Case).join(
            Matter, Matter.id == Case.matter_id),
    ), (
        Case.accepted_on,
        {"accepted": _n(here), "deemed_accepted": _n(and_(here, Case.deemed_accepted)),
         "tongban_accepted": _n(sideways_in)},
        rows(in_range(Case.accepted_on)).select_from(Case),
    ),
        _completed(in_range(Case.completed_on), from_below, sideways_in),
    (
        Case.decided_on, {"deemed_approved": _n(Case.deemed_approved)},
        rows(in_range(Case.decided_on)).select_from(Case),
    ), (
        Case.closed_on,
        {"rejected": _n(Case.state == CaseState.REJECTED),
         "withdrawn": _n(Case.state == CaseState.WITHDRAWN)},
        rows(in_range(Case.closed_on)).select_from(Case),
    ), (
        Case.forwarded_on,
        {"forwarded_up": func.count(Case.id),  # up, or sideways (通办) …
         "tongban_received": _n(Case.tongban_role == TongbanRole.RECEIVED)},  # … of which 通办
        rows(in_range(Case.forwarded_on)).select_from(Case),
    ), (
        BundleCase.received_on, {"bundles_received": func.count(BundleCase.id)},
        rows(in_range(BundleCase.received_on)).select_from(BundleCase),
    ), (
        BundleCase.ended_on,
        {"bundles_completed": func.count(BundleCase.id),
         "bundle_used_days": func.coalesce(func.sum(BundleCase.used_days), 0),
         "bundle_promised_days": func.coalesce(func.sum(BundleCase.promised_days), 0)},
        rows(in_range(BundleCase.ended_on)).select_from(BundleCase),
    ), (
        shanghai_date(FeePayment.paid_at),
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
        rows(in_time(FeePayment.paid_at)).select_from(FeePayment),
    ), (
        shanghai_date(SupplementNotice.issued_at),
        {"supplement_notices": func.count(SupplementNotice.id),
         "repeat_notices": _n(SupplementNotice.sequence > 1)},
        rows(in_time(SupplementNotice.issued_at)).select_from(SupplementNotice),
    ),
        _rated(in_time(Evaluation.at)),
    ]
    closed_on = shanghai_date(Rectification.closed_at)
    families.append((
        closed_on,
        {"rectifications_closed": _n(_one_of(
            Rectification.state, (RectificationState.DONE, RectificationState.CANNOT_RECTIFY))),
         "rectified_in_time": _n(and_(Rectification.state == RectificationState.DONE,
                                      closed_on <= Rectification.due_on))},
        rows(in_time(Rectification.closed_at)).select_from(Rectification),
    ))
    families.append((
        shanghai_date(Complaint.received_at), {"complaints_received": func.count(Complaint.id)},
        # sent to the center that handled its case: counted there
        rows(in_time(Complaint.received_at), Complaint.sent_to.is_(None)).select_from(Complaint),
    ))
    resolved_on = shanghai_date(Complaint.resolved_at)
    families.append((
        resolved_on,
        {"complaints_resolved": _n(Complaint.state == ComplaintState.RESOLVED),
         "complaints_resolved_in_time": _n(and_(Complaint.state == ComplaintState.RESOLVED,
                                                resolved_on <= Complaint.due_on))},
        rows(in_time(Complaint.resolved_at), Complaint.sent_to.is_(None)).select_from(Complaint),
    ))
    return families


def _completed(in_range: ColumnElement[bool], from_below: ColumnElement[bool],
               sideways_in: ColumnElement[bool]) -> Family:
    """The cases completed, by completion day, read once: the deciding node counts the
    decision (cases forwarded away are not completed here), and 最多跑一次 counts the cases
    received here and completed here, and the 通办 cases taken here as the competent center
    (``sideways_in``) and completed here, with their visits to the hall (the receipt in
    person, then each ``visit`` recorded: here, and for a 通办 case at the receiving center's
    hall before it was sent, in the history it came with).

    Only the date range is in the ``WHERE`` (the other conditions are in the figures): the
    planner keeps to ``ix_cases_completed_on`` instead of a ``forwarded_on IS NULL`` probe of
    ``ix_cases_forwarded_on`` that matches nearly every case.
    """
    counted = Case.forwarded_on.is_(None)
    completed_here = and_(counted, or_(Case.origin_node_code.is_(None), sideways_in))
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
    rated = (select(Evaluation.id)
             .where(Evaluation.case_id == Case.id, Evaluation.void.is_(False))
             .exists())
    cases = (
        select(
            Case.completed_on.label("day"),
            case((counted, 1), else_=0).label("counted"),
            case((and_(counted, Case.completed_on <= Case.deadline_on), 1), else_=0).label(
                "on_time"),
            case((and_(counted, Case.completed_on > Case.deadline_on), 1), else_=0).label(
                "late"),
            case((and_(counted, Case.completed_on == Case.accepted_on), 1), else_=0).label(
                "same_day"),
            case((and_(counted, from_below), 1), else_=0).label("from_below"),
            case((and_(counted, rated), 1), else_=0).label("rated"),
            case((completed_here, 1), else_=0).label("here"),
            Case.channel.label("channel"),
            # NULL unless received (or taken, 通办) and completed here
            case((completed_here, case((_one_of(Case.channel, IN_PERSON), 1), else_=0) + recorded))
            .label("visits"),
        )
        .where(in_range)
        .subquery()
    )
    total = func.coalesce(func.sum(cases.c.counted), 0)
    return (
        cases.c.day,
        {
            "completed": total,
            "completed_on_time": func.coalesce(func.sum(cases.c.on_time), 0),
            "completed_late": func.coalesce(func.sum(cases.c.late), 0),
            "completed_same_day": func.coalesce(func.sum(cases.c.same_day), 0),
            "returned_with_result": func.coalesce(func.sum(cases.c.from_below), 0),
            "completed_rated": func.coalesce(func.sum(cases.c.rated), 0),
            "completed_here": func.coalesce(func.sum(cases.c.here), 0),
            "visits": func.coalesce(func.sum(cases.c.visits), 0),
            "visited_at_most_once": _n(cases.c.visits <= 1),
            "fully_online": _n(and_(cases.c.channel == Channel.ONLINE, cases.c.visits == 0)),
        },
        select().select_from(cases),
    )


def _rated(in_time: ColumnElement[bool]) -> Family:
    """好差评 (GB/T 39735) by the rating's day, read once (a case is rated once and a rating
    has at most one rectification, so the joins add no rows): the ratings that count, good
    and bad; bad ratings rectified, the bad ratings of identified applicants (实名: the case
    names an ID number), and those of them rectified with the applicant called back (回访)."""
    counts = Evaluation.void.is_(False)
    bad = and_(_one_of(Evaluation.level, sorted(BAD_LEVELS)), counts)
    done = Rectification.state == RectificationState.DONE
    named = Case.applicant_id_number.is_not(None)
    return (
        shanghai_date(Evaluation.at),
        {
            "evaluations": _n(counts),
            "evaluations_good": _n(and_(counts, _one_of(Evaluation.level, GOOD_LEVELS))),
            "evaluations_bad": _n(bad),
            "evaluations_bad_rectified": _n(and_(bad, done)),
            "evaluations_bad_named": _n(and_(bad, named)),
            "evaluations_bad_named_followed_up": _n(
                and_(bad, named, done, Rectification.followed_up_at.is_not(None))),
        },
        select()
        .select_from(Evaluation)
        .join(Case, Case.id == Evaluation.case_id)
        .outerjoin(Rectification, Rectification.evaluation_id == Evaluation.id)
        .where(in_time),
    )
