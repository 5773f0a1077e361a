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
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, aliased

from node.cases.models import Case, Channel, FeePayment, PaymentPlace
from node.catalog.models import Matter
from node.listing import Page, keyset_page
from schemas.runtime.database import days_before, shanghai_date


class Pattern(enum.StrEnum):
    OUTSIDE_CENTER = "outside_center"  # 体外循环
    TWO_HEADED = "two_headed"  # 两头受理
    COMPLETED_LATE = "completed_late"  # 超时办结
    FEES_ELSEWHERE = "fees_elsewhere"  # 前厂后店


@dataclass(frozen=True)
class PatternPolicy:
    two_headed_window_days: int = 30


def two_headed(window_days: int) -> ColumnElement[bool]:
    """A case that repeats an application of the same applicant and matter received in
    another channel within ``window_days`` (the later of each pair, by registration order).

    Each case is judged only against cases registered before it, so the count is a sum of
    days and lives in the daily roll-ups; the index ``ix_cases_two_headed`` makes each probe
    a short range scan.
    """
    earlier = aliased(Case)
    return and_(
        Case.applicant_id_number.is_not(None),
        select(earlier.id)
        .where(
            earlier.applicant_id_number == Case.applicant_id_number,
            earlier.matter_id == Case.matter_id,
            earlier.channel != Case.channel,
            earlier.id < Case.id,
            # a range on the index: received within the window before this case
            earlier.received_on >= days_before(Case.received_on, window_days),
            earlier.received_on <= Case.received_on,
        )
        .exists(),
    )


def pattern_cases(
    session: Session,
    pattern: Pattern,
    start: dt.date,
    end: dt.date,
    policy: PatternPolicy,
    *,
    cursor: str | None = None,
    before: str | None = None,
    per_page: int = 100,
) -> Page[Case]:
    """One keyset page (node/listing.py) of the cases behind one pattern in the period,
    newest first (by id, the primary key's index)."""
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
            condition = and_(
                two_headed(policy.two_headed_window_days),
                Case.received_on >= start,
                Case.received_on <= end,
            )
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
    return keyset_page(session, select(Case).where(condition), (Case.id,), (int,), cursor,
                       per_page, descending=True, before=before)
