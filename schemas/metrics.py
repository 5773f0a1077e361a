"""Every metric a summary carries, once for node and hub: its key, unit, Chinese name and
definition, and how a rate is recomputed.

Counts are summed over days; rates are never averaged: a rate is recomputed from the summed
numerator and denominator (basis points, 10000 = 100 %), so a higher level can add up counts
of many centers and recompute the rate.  A rate whose denominator is 0 has no value.  The node
computes the figures (node/metrics/), the hub ranks and adds them up (hub/rankings/); both read
this table, and the ``summary`` body (:mod:`schemas.summary`) carries each metric's unit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from schemas.i18n import _

# The seven window powers (授权), in the order the reports list them.
POWERS: tuple[str, ...] = (
    "accept",  # 受理
    "review",  # 审核
    "coordinate",  # 协调处置
    "deliver",  # 办理结果送达
    "litigate",  # 应诉代理
    "issue",  # 制证
    "approve",  # 审批
)
# their names as the reports and every page and heading write them
POWER_NAMES: dict[str, str] = {
    "accept": _("受理"), "review": _("审核"), "coordinate": _("协调处置"),
    "deliver": _("办理结果送达"), "litigate": _("应诉代理"), "issue": _("制证"),
    "approve": _("审批"),
}


class Unit(enum.StrEnum):
    COUNT = "count"
    FEN = "fen"  # money, 0.01 yuan
    BASIS_POINTS = "basis_points"  # rates: 10000 = 100 %
    PER_MONTH = "per_month"  # monthly averages: numerator ÷ months, rounded half up
    HUNDREDTHS = "hundredths"  # an average per case in hundredths: 135 = 1.35 (跑动次数)


class Direction(enum.StrEnum):
    """Which way a metric is better: what a league table ranks first by default."""

    HIGHER_BETTER = "higher_better"
    LOWER_BETTER = "lower_better"


# the units whose figures carry a numerator and a denominator
RATIO_UNITS = frozenset({Unit.BASIS_POINTS, Unit.PER_MONTH, Unit.HUNDREDTHS})


@dataclass(frozen=True)
class Metric:
    key: str
    unit: Unit
    name: str  # what staff read (Chinese)
    definition: str
    numerator: str | None = None
    denominator: str | None = None
    daily: bool = True  # a sum of daily figures (False: a state at the period's end)
    direction: Direction = Direction.HIGHER_BETTER


def _count(key: str, name: str, definition: str, *, daily: bool = True) -> Metric:
    return Metric(key, Unit.COUNT, name, definition, daily=daily)


def _rate(key: str, name: str, definition: str, numerator: str, denominator: str, *,
          unit: Unit = Unit.BASIS_POINTS,
          direction: Direction = Direction.HIGHER_BETTER) -> Metric:
    return Metric(key, unit, name, definition, numerator, denominator, daily=False,
                  direction=direction)


COUNTS: tuple[Metric, ...] = (
    _count("received", _("收件数"), "cases received in the period (not counting cases forwarded "
           "in from below, which their origin counts, nor cases received here for another "
           "center (通办代收), which the competent center counts)"),
    _count("received_window", _("窗口收件"), "received at a window"),
    _count("received_online", _("网上申报"), "received online"),
    _count("received_village_agent", _("代办收件"), "received through a village agent"),
    _count("received_department_office", _("部门办公室收件"),
           "received at a department office outside the center"),
    _count("accepted", _("受理数"), "cases accepted in the period (acceptance date)"),
    _count("deemed_accepted", _("视为受理"),
           "accepted because no one-time notice was given within five working days (Art. 32)"),
    _count("completed", _("办结数"), "cases completed (办结) in the period and decided here"),
    _count("completed_on_time", _("按时办结"), "completed on or before their deadline"),
    _count("completed_late", _("超时办结"), "completed after their deadline"),
    _count("completed_same_day", _("当日办结"), "completed on the day they were accepted"),
    _count("deemed_approved", _("超时默认许可"), "approved because undecided at the deadline"),
    _count("rejected", _("不予受理"), "applications refused acceptance"),
    _count("withdrawn", _("撤回"), "applications withdrawn"),
    _count("supplement_notices", _("一次性告知"), "one-time notices issued"),
    _count("repeat_notices", _("重复告知"), "second or later notices for the same case"),
    _count("forwarded_up", _("上报数"), "cases forwarded to a higher center"),
    _count("received_from_below", _("下级报送"), "cases received from a lower center"),
    _count("returned_with_result", _("结果返回"), "cases from below completed and returned"),
    _count("tongban_received", _("通办代收件数"),
           "通办 cases received here for the competent center elsewhere in the province and "
           "sent to it (day sent); counted here only as 代收, decided and counted there"),
    _count("tongban_accepted", _("通办受理件数"),
           "通办 cases received at another center of the province for this competent center "
           "and taken here (acceptance day); also counted in received and accepted"),
    _count("outside_center", _("体外循环"),
           "cases of matters entered in the center but received at a department office"),
    Metric("fees_center_fen", Unit.FEN, _("中心收费（分）"),
           "fees paid at the center's bank window"),
    Metric("fees_elsewhere_fen", Unit.FEN, _("中心外收费（分）"),
           "fees paid outside the center (前厂后店)"),
    _count("fees_elsewhere_cases", _("中心外缴费件数"),
           "cases whose fee was paid outside the center"),
    _count("evaluations", _("评价数"), "valid ratings given in the period"),
    _count("evaluations_good", _("好评数"), "ratings 非常满意 or 满意"),
    _count("evaluations_bad", _("差评数"), "ratings 不满意 or 非常不满意"),
    _count("rectifications_closed", _("差评整改办结"), "bad-rating rectifications closed"),
    _count("rectified_in_time", _("按时整改"), "rectifications done by their deadline"),
    _count("complaints_received", _("投诉受理"), "complaints received"),
    _count("complaints_resolved", _("投诉办结"), "complaints resolved"),
    _count("complaints_resolved_in_time", _("投诉按时办结"),
           "complaints resolved by their deadline"),
    _count("two_headed", _("两头受理"),
           "cases of the same applicant and matter received in two channels within the window"),
    _count("overdue_open", _("逾期未办结"),
           "accepted cases still open at the period's end and past their deadline", daily=False),
    _count("open_at_end", _("在办件"),
           "accepted cases still open at the period's end", daily=False),
    # 一件事 bundles (node/bundles/): one application for several matters
    _count("bundles_received", _("一件事收件数"),
           "一件事 bundle cases received in the period (one per application, whatever its parts)"),
    _count("bundles_completed", _("一件事办结数"),
           "bundle cases whose last part ended in the period (every part completed, refused or "
           "withdrawn)"),
    _count("bundle_used_days", _("一件事办理用时"),
           "working days from receipt to the end of the last part, summed over the bundle "
           "cases completed in the period"),
    _count("bundle_promised_days", _("一件事承诺时限合计"),
           "the sum of the promised limits of each completed bundle case's matters (working "
           "days), summed over the bundle cases completed in the period"),
    _count("staff_civil_servant", _("公务员"), "active window staff: civil servants", daily=False),
    _count("staff_public_institution", _("事业单位"), "active window staff: public institution",
           daily=False),
    _count("staff_temporary", _("临时工"), "active window staff: temporary", daily=False),
    _count("matters_should_enter", _("应进事项"), "active matters that should be handled in the "
           "center (应进)", daily=False),
    _count("matters_entered", _("实进事项"), "active matters handled in the center (实进)",
           daily=False),
    _count("matters_entered_of_should", _("应进已进"), "should-enter matters that have entered",
           daily=False),
    *(
        _count(f"authorized_{p}", _("%(power)s授权事项", power=POWER_NAMES[p]),
               f"entered matters whose window holds the {p} power", daily=False)
        for p in POWERS
    ),
    # today's national indicators (docs/metrics.md, "Today's national indicators")
    _count("matters_offered", _("在用事项"), "active matters offered in the service guide",
           daily=False),
    _count("matters_legal_days", _("法定时限合计"),
           "the legal limits of the active matters added up (working days)", daily=False),
    _count("matters_promised_days", _("承诺时限合计"),
           "the promised limits of the active matters added up (working days)", daily=False),
    _count("matters_days_saved", _("压缩时限合计"),
           "legal minus promised limit, added up over the active matters (working days)",
           daily=False),
    _count("matters_immediate", _("即办事项"), "active matters handled at once (即办件)",
           daily=False),
    _count("matters_online", _("网上可办事项"), "active matters that can be applied for online",
           daily=False),
    _count("completed_here", _("本中心收件办结"),
           "cases received at this center and completed here in the period, and 通办 cases "
           "received at another center for this competent one and completed here"),
    _count("visits", _("跑动次数"),
           "visits to the hall of the cases of completed_here (the receipt at a window or "
           "department office is the first; each further visit recorded by the window; for "
           "a 通办 case, the receiving center's hall's, recorded before it was sent, too)"),
    _count("visited_at_most_once", _("最多跑一次件数"),
           "cases of completed_here with at most one visit"),
    _count("fully_online", _("全程网办件数"),
           "cases of completed_here received online, without a visit to the hall"),
    _count("completed_rated", _("已评价办结件"),
           "completed cases (as 办结数) that carry a valid rating"),
    _count("evaluations_bad_rectified", _("差评已整改"),
           "bad ratings of the period whose rectification is done"),
    _count("evaluations_bad_named", _("实名差评"),
           "bad ratings of the period of cases whose applicant is identified (ID number)"),
    _count("evaluations_bad_named_followed_up", _("实名差评回访整改"),
           "named bad ratings of the period rectified with the applicant called back (回访)"),
)

# the rates' helper denominators that are no metric of their own: each the sum of two counts
# (the node adds them up for its summary, the hub from the committed figures)
DERIVED_COUNTS: dict[str, tuple[str, str]] = {"completed_or_overdue": ("completed", "overdue_open")}

RATES: tuple[Metric, ...] = (
    _rate("on_time_rate", _("按时办结率"), "completed on time ÷ completed",
          "completed_on_time", "completed"),
    _rate("on_time_rate_strict", _("按时办结率（含逾期在办）"),
          "completed on time ÷ (completed + open overdue at the period's end)",
          "completed_on_time", "completed_or_overdue"),
    _rate("same_day_rate", _("日结率"), "completed on the accepted day ÷ completed",
          "completed_same_day", "completed"),
    _rate("entry_rate", _("进驻率"), "entered ÷ should-enter matters",
          "matters_entered_of_should", "matters_should_enter"),
    *(
        _rate(f"authorization_rate_{p}", _("%(power)s授权率", power=POWER_NAMES[p]),
              f"entered matters whose window holds the {p} power ÷ entered matters",
              f"authorized_{p}", "matters_entered")
        for p in POWERS
    ),
    _rate("satisfaction_rate", _("满意率"), "good ratings ÷ valid ratings",
          "evaluations_good", "evaluations"),
    _rate("rectified_in_time_rate", _("差评按时整改率"),
          "rectifications done in time ÷ rectifications closed",
          "rectified_in_time", "rectifications_closed"),
    _rate("complaints_resolved_in_time_rate", _("投诉按时办结率"),
          "complaints resolved in time ÷ complaints resolved",
          "complaints_resolved_in_time", "complaints_resolved"),
    _rate("bundle_time_rate", _("一件事用时占承诺时限比"),
          "working days the completed bundle cases took ÷ the sum of their matters' promised "
          "limits (below 100 %: the bundle took less than its matters one after another)",
          "bundle_used_days", "bundle_promised_days", direction=Direction.LOWER_BETTER),
    _rate("outside_center_rate", _("体外循环率"), "received outside the center ÷ received",
          "outside_center", "received", direction=Direction.LOWER_BETTER),
    # today's national indicators
    _rate("limit_compression_rate", _("承诺时限压缩率"),
          "1 − promised ÷ legal limits over the active matters = days saved ÷ legal days",
          "matters_days_saved", "matters_legal_days"),
    _rate("immediate_share", _("即办件占比"), "immediate matters ÷ active matters",
          "matters_immediate", "matters_offered"),
    _rate("online_available_rate", _("网上可办率"),
          "matters that can be applied for online ÷ active matters",
          "matters_online", "matters_offered"),
    _rate("fully_online_rate", _("全程网办率"),
          "cases applied for online and completed without a visit ÷ cases received and "
          "completed here", "fully_online", "completed_here"),
    _rate("at_most_once_rate", _("最多跑一次率"),
          "cases with at most one visit ÷ cases received and completed here",
          "visited_at_most_once", "completed_here"),
    _rate("average_visits", _("平均跑动次数"),
          "visits ÷ cases received and completed here, in hundredths (135 = 1.35 visits)",
          "visits", "completed_here", unit=Unit.HUNDREDTHS,
          direction=Direction.LOWER_BETTER),
    _rate("active_evaluation_rate", _("主动评价率"), "completed cases rated ÷ completed cases",
          "completed_rated", "completed"),
    _rate("bad_rectified_rate", _("差评整改率"), "bad ratings rectified ÷ bad ratings",
          "evaluations_bad_rectified", "evaluations_bad"),
    _rate("named_bad_followed_up_rate", _("实名差评回访整改率"),
          "named bad ratings rectified and called back ÷ named bad ratings",
          "evaluations_bad_named_followed_up", "evaluations_bad_named"),
)

MONTHLY_AVERAGE = Metric(
    "completed_monthly_average", Unit.PER_MONTH, _("月均办结"),
    "completed ÷ months in the period, rounded half up", "completed", "months", daily=False,
)

ALL_METRICS: dict[str, Metric] = {m.key: m for m in (*COUNTS, *RATES, MONTHLY_AVERAGE)}

# today's national efficiency indicators (issue 22), in the order the pages list them
NATIONAL_INDICATORS: tuple[str, ...] = (
    "limit_compression_rate", "immediate_share", "online_available_rate", "fully_online_rate",
    "average_visits", "at_most_once_rate", "active_evaluation_rate", "bad_rectified_rate",
    "named_bad_followed_up_rate",
)

# money is in 分 in the summaries and on the wire, in 元 on the pages and in the exports
_SHOWN_NAMES = {"fees_center_fen": _("中心收费（元）"), "fees_elsewhere_fen": _("中心外收费（元）")}


def shown_name(metric: Metric) -> str:
    """The metric's heading on a page or in an export (money in 元), in the reader's language."""
    return _SHOWN_NAMES.get(metric.key, metric.name)


def rate_basis_points(numerator: int, denominator: int) -> int | None:
    """``numerator ÷ denominator`` in basis points, rounded half up; None when undefined."""
    if denominator <= 0:
        return None
    return (numerator * 10000 * 2 + denominator) // (denominator * 2)


def hundredths(numerator: int, denominator: int) -> int | None:
    """``numerator ÷ denominator`` in hundredths, rounded half up; None when undefined."""
    if denominator <= 0:
        return None
    return (numerator * 100 * 2 + denominator) // (denominator * 2)


def ratio_value(unit: Unit | str, numerator: int, denominator: int) -> int | None:
    """The value of a ratio of ``unit`` (a rate, a monthly or a per-case average)."""
    if unit == Unit.PER_MONTH:
        return per_month(numerator, denominator)
    if unit == Unit.HUNDREDTHS:
        return hundredths(numerator, denominator)
    return rate_basis_points(numerator, denominator)


def per_month(numerator: int, months: int) -> int | None:
    """A monthly average, rounded half up."""
    if months <= 0:
        return None
    return (numerator * 2 + months) // (months * 2)
