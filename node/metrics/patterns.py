"""The failure patterns the reports name (DOMAIN.md, "A case" item 9), as counts for the
summary and as lists the supervisor opens.

- 体外循环: a matter entered in the center, received at a department office outside it;
- 两头受理: the same applicant and matter received in two channels within a few days;
- 超时办结: completed after the deadline;
- 前厂后店: the fee paid outside the center.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from node.cases.models import Case, Channel, FeePayment, PaymentPlace
from node.catalog.models import Matter
from schemas.database import days_between, shanghai_date


class Pattern(enum.StrEnum):
    OUTSIDE_CENTER = "outside_center"  # 体外循环
    TWO_HEADED = "two_headed"  # 两头受理
    COMPLETED_LATE = "completed_late"  # 超时办结
    FEES_ELSEWHERE = "fees_elsewhere"  # 前厂后店


@dataclass(frozen=True)
class PatternPolicy:
    two_headed_window_days: int = 30


def _two_headed(start: dt.date, end: dt.date, policy: PatternPolicy) -> Select[Any]:
    """Ids of cases received in the period that repeat an application of the same applicant
    and matter received in another channel within the window (the later of each pair)."""
    earlier = aliased(Case)
    return (
        select(Case.id)
        .join(
            earlier,
            and_(
                earlier.applicant_id_number == Case.applicant_id_number,
                earlier.matter_id == Case.matter_id,
                earlier.channel != Case.channel,
                earlier.id < Case.id,
                days_between(Case.received_on, earlier.received_on)
                <= policy.two_headed_window_days,
            ),
        )
        .where(
            Case.applicant_id_number.is_not(None),
            Case.received_on >= start,
            Case.received_on <= end,
        )
        .distinct()
    )


def pattern_counts(
    session: Session, start: dt.date, end: dt.date, policy: PatternPolicy
) -> dict[str, int]:
    """The counts not kept in the daily roll-ups (两头受理 compares cases across days)."""
    subquery = _two_headed(start, end, policy).subquery()
    count = session.scalar(select(func.count()).select_from(subquery)) or 0
    return {Pattern.TWO_HEADED.value: int(count)}


def pattern_cases(
    session: Session,
    pattern: Pattern,
    start: dt.date,
    end: dt.date,
    policy: PatternPolicy,
    *,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[Case], int]:
    """The cases behind one pattern in the period, newest first, with the total."""
    condition: ColumnElement[bool]
    match pattern:
        case Pattern.OUTSIDE_CENTER:
            condition = Case.id.in_(
                select(Case.id)
                .join(Matter, Matter.id == Case.matter_id)
                .where(
                    Case.channel == Channel.DEPARTMENT_OFFICE,
                    Matter.entered.is_(True),
                    Case.origin_node_code.is_(None),
                    Case.received_on >= start,
                    Case.received_on <= end,
                )
            )
        case Pattern.TWO_HEADED:
            condition = Case.id.in_(_two_headed(start, end, policy))
        case Pattern.COMPLETED_LATE:
            condition = and_(
                Case.completed_on >= start,
                Case.completed_on <= end,
                Case.forwarded_on.is_(None),
                Case.completed_on > Case.deadline_on,
            )
        case Pattern.FEES_ELSEWHERE:
            paid_on = shanghai_date(FeePayment.paid_at)
            condition = Case.id.in_(
                select(FeePayment.case_id).where(
                    FeePayment.place == PaymentPlace.ELSEWHERE, paid_on >= start, paid_on <= end
                )
            )
    total = session.scalar(select(func.count(Case.id)).where(condition)) or 0
    rows = session.scalars(
        select(Case).where(condition).order_by(Case.id.desc()).limit(limit).offset(offset)
    ).all()
    return rows, int(total)
