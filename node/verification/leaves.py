"""A period's leaves from the node's case records (schemas/commitment.py says what a leaf is).

One SELECT over ``cases`` picks every case the period's case figures count — received,
accepted, completed, closed or forwarded in the period, open at its end, or paid at the
center in it — with its matter's code, whether its clock is stopped in time (the rule of
node/metrics/state.py) and its fees paid at the center in the period.  The same function
builds the leaves of a summary and, for an audit, the leaves of the sampled cases from their
current records, so the two can be compared field by field.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.orm import Session

from node.cases.models import Case, FeePayment, PaymentPlace, Suspension, TongbanRole
from node.cases.states import CaseState
from node.catalog.models import Matter
from node.verification.models import SaltKey
from schemas.commitment import LEAF_VERSION, SALT_HEX
from schemas.periods import Period
from schemas.runtime.database import insert_if_missing

SHANGHAI = ZoneInfo("Asia/Shanghai")
SALT_KEY_ID = 1


def salt_key(session: Session) -> bytes:
    """The node's salt key, made on first use (two racing makers keep the first)."""
    row = session.get(SaltKey, SALT_KEY_ID)
    if row is None:
        insert_if_missing(session, SaltKey, {"id": SALT_KEY_ID, "key": secrets.token_hex(32)},
                          ["id"])
        row = session.get(SaltKey, SALT_KEY_ID, populate_existing=True)
        assert row is not None  # noqa: S101 - inserted or kept just above
    return bytes.fromhex(row.key)


def case_salt(key: bytes, number: str) -> str:
    return hmac.digest(key, number.encode("utf-8"), "sha256").hex()[:SALT_HEX]


def _day(value: dt.date | None, as_of: dt.date) -> str | None:
    return value.isoformat() if value is not None and value <= as_of else None


def _state(row: Any, as_of: dt.date) -> str:
    """The case's state at the end of ``as_of``, by the rules of the summary's figures."""
    if row.forwarded_on is not None and row.forwarded_on <= as_of:
        return "forwarded"
    if row.closed_on is not None and row.closed_on <= as_of:
        if row.completed_on is not None:
            return "completed"
        state = CaseState(row.state)
        if state in (CaseState.REJECTED, CaseState.WITHDRAWN):
            return state.value
        return "closed"
    if row.accepted_on is not None and row.accepted_on <= as_of:
        overdue = (row.deadline_on is not None and row.deadline_on < as_of
                   and not row.stopped_in_time)
        return "overdue" if overdue else "open"
    return "received"


def _counted_here(row: Any) -> bool | None:
    """通办, as the figures count it (node/metrics/daily.py): a case received here for another
    center (代收) or sent back by this competent center is received and accepted nowhere here
    (None); one that arrived sideways and is taken here counts as this center's own (True)."""
    role = row.tongban_role  # both leaves queries select it: a row without it is a bug
    if role is None:
        return False
    if role == TongbanRole.ACCEPTED and CaseState(row.state) is not CaseState.RETURNED:
        return True
    return None


def leaf_of(row: Any, as_of: dt.date, key: bytes) -> dict[str, Any]:
    completed = _day(row.completed_on, as_of)
    here = _counted_here(row)
    accepted = _day(row.accepted_on, as_of)
    deadline = row.deadline_on.isoformat() if row.deadline_on is not None else None
    return {
        "v": LEAF_VERSION,
        "case": row.number,
        "matter": row.matter_code,
        "channel": str(row.channel.value if hasattr(row.channel, "value") else row.channel),
        # not this center's own receipt: a case from below, and a 通办 case counted at the
        # competent center (a 代收 case, a sideways copy sent back) keep their days as such
        "from_below": here is None or (row.origin_node_code is not None and not here),
        "received": _day(row.received_on, as_of) if here is not None else None,
        "accepted": accepted,
        "deadline": deadline,
        "completed": completed,
        "closed": _day(row.closed_on, as_of),
        "forwarded": _day(row.forwarded_on, as_of),
        "on_time": None if completed is None else (deadline is None or completed <= deadline),
        "same_day": None if completed is None else completed == accepted,
        "state": _state(row, as_of),
        "fee_fen": int(row.fee_fen or 0),
        "salt": case_salt(key, row.number),
    }


def leaves_query(period: Period, as_of: dt.date) -> Any:
    since = dt.datetime.combine(period.start, dt.time(), SHANGHAI)
    until = dt.datetime.combine(min(period.end, as_of) + dt.timedelta(days=1), dt.time(),
                                SHANGHAI)
    # the period's payments at the center, summed per case once (not a subquery per case)
    paid = (select(FeePayment.case_id, func.sum(FeePayment.amount_fen).label("fen"))
            .where(FeePayment.place == PaymentPlace.CENTER_BANK,
                   FeePayment.paid_at >= since, FeePayment.paid_at < until)
            .group_by(FeePayment.case_id).subquery())
    # the clock stopped at the end of as_of (node/metrics/state.py), not as it is today
    stopped = (select(Suspension.id)
               .where(Suspension.case_id == Case.id, Suspension.start_on <= as_of,
                      or_(Suspension.end_on.is_(None), Suspension.end_on > as_of),
                      Suspension.start_on <= Case.deadline_on)
               .exists())
    not_forwarded = or_(Case.forwarded_on.is_(None), Case.forwarded_on > as_of)

    def within(column: Any) -> Any:
        return select(Case.id).where(column >= period.start, column <= period.end)

    # each part of the union reads its own index (a disjunction over the columns would scan
    # every case the node ever had)
    counted = Case.id.in_(union(
        within(Case.received_on), within(Case.accepted_on), within(Case.completed_on),
        within(Case.closed_on), within(Case.forwarded_on),
        select(Case.id).where(Case.closed_on > as_of, Case.accepted_on <= as_of,
                              not_forwarded),
        select(Case.id).where(Case.closed_on.is_(None), Case.accepted_on <= as_of,
                              not_forwarded),
        select(paid.c.case_id),
    ))
    return (select(Case.id, Case.version, Case.number, Matter.code.label("matter_code"),
                   Case.channel, Case.origin_node_code, Case.received_on, Case.accepted_on,
                   Case.deadline_on, Case.completed_on, Case.closed_on, Case.forwarded_on,
                   Case.state, Case.tongban_role, stopped.label("stopped_in_time"),
                   paid.c.fen.label("fee_fen"))
            .join(Matter, Matter.id == Case.matter_id)
            .outerjoin(paid, paid.c.case_id == Case.id), counted)


def chosen_leaves_query(period: Period, as_of: dt.date) -> Any:
    """The leaves' rows for cases picked by the caller (``.where(Case.id.in_(…))``): the same
    rows as :func:`leaves_query`'s for those cases, each case's count and fee tested on its own
    row (through its primary key and the payments' case index) rather than by the period's
    union, which a few cases would pay for in full."""
    since = dt.datetime.combine(period.start, dt.time(), SHANGHAI)
    until = dt.datetime.combine(min(period.end, as_of) + dt.timedelta(days=1), dt.time(),
                                SHANGHAI)
    at_center = and_(FeePayment.case_id == Case.id,
                     FeePayment.place == PaymentPlace.CENTER_BANK,
                     FeePayment.paid_at >= since, FeePayment.paid_at < until)
    fee = select(func.sum(FeePayment.amount_fen)).where(at_center).scalar_subquery()
    stopped = (select(Suspension.id)
               .where(Suspension.case_id == Case.id, Suspension.start_on <= as_of,
                      or_(Suspension.end_on.is_(None), Suspension.end_on > as_of),
                      Suspension.start_on <= Case.deadline_on)
               .exists())
    not_forwarded = or_(Case.forwarded_on.is_(None), Case.forwarded_on > as_of)
    counted = or_(
        *(column.between(period.start, period.end) for column in (
            Case.received_on, Case.accepted_on, Case.completed_on, Case.closed_on,
            Case.forwarded_on)),
        and_(Case.accepted_on <= as_of, not_forwarded,
             or_(Case.closed_on.is_(None), Case.closed_on > as_of)),
        select(FeePayment.id).where(at_center).exists(),
    )
    return (select(Case.id, Case.version, Case.number, Matter.code.label("matter_code"),
                   Case.channel, Case.origin_node_code, Case.received_on, Case.accepted_on,
                   Case.deadline_on, Case.completed_on, Case.closed_on, Case.forwarded_on,
                   Case.state, Case.tongban_role, stopped.label("stopped_in_time"),
                   fee.label("fee_fen"))
            .join(Matter, Matter.id == Case.matter_id)
            .where(counted))


def current_leaves(session: Session, period: Period, as_of: dt.date,
                   numbers: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The leaves of the cases ``numbers`` as their records read now (a case no longer
    held, or no longer counted, is missing from the answer)."""
    wanted = list(dict.fromkeys(numbers))
    if not wanted:
        return {}
    key = salt_key(session)
    rows = session.execute(chosen_leaves_query(period, as_of).where(Case.number.in_(wanted)))
    return {row.number: leaf_of(row, as_of, key) for row in rows}
