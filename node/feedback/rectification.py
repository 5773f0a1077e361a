"""Rectification (整改) of a bad rating, by the state machine of :mod:`node.feedback.states`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, not_, select, true
from sqlalchemy.orm import selectinload

from node.calendar.workdays import to_shanghai_date
from node.cases.actors import Actor
from node.feedback.base import FeedbackBase
from node.feedback.errors import RectificationStateError
from node.feedback.models import (
    OPEN_RECTIFICATION_STATES,
    Evaluation,
    Rectification,
    RectificationState,
)
from node.feedback.states import (
    CLOSED_BY,
    RECTIFICATION_MAX_EXTENSION_DAYS,
    RECTIFICATION_TRANSITIONS,
    RectificationAction,
    allowed_rectification_actions,
)
from node.listing import Page
from node.rollups import invalidate
from schemas.errors import NotFound, ValidationFailed
from schemas.i18n import _
from schemas.names import (
    RECTIFICATION_ACTION_NAMES,
    RECTIFICATION_STATE_NAMES,
    name_of,
    names_of,
)

# the written text an action requires (RectificationTransition.text_field), as people call it
TEXT_FIELD_NAMES = {"note": _("整改情况说明"), "reason": _("理由")}


class Rectifications(FeedbackBase):
    """Rectifications: read, listed, judged on time, and moved through their states."""


    def rectification(self, rectification_id: int, *, for_update: bool = False) -> Rectification:
        """One rectification; ``for_update`` locks it until the transaction ends."""
        query = select(Rectification).where(Rectification.id == rectification_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        rectification = self.session.scalar(query)
        if rectification is None:
            raise NotFound(_("No rectification %(id)s.", id=rectification_id),
                           {"rectification_id": rectification_id})
        return rectification

    def rectification_overdue(self, rectification: Rectification) -> bool:
        """Past its deadline and still open."""
        return (
            rectification.state in OPEN_RECTIFICATION_STATES
            and self.today() > rectification.due_on
        )

    @staticmethod
    def rectified_in_time(rectification: Rectification) -> bool | None:
        """Done by the deadline (True), done late or not rectifiable (False); None while
        open or when the rating was found invalid."""
        if rectification.state is RectificationState.DONE and rectification.closed_at:
            return to_shanghai_date(rectification.closed_at) <= rectification.due_on
        if rectification.state is RectificationState.CANNOT_RECTIFY:
            return False
        return None

    def search_rectifications(
        self,
        *,
        states: Iterable[RectificationState] = (),
        overdue: bool | None = None,
        cursor: str | None = None,
        before: str | None = None,
        per_page: int = 20,
    ) -> Page[Rectification]:
        """A keyset page of rectifications by state and overdue flag, the earliest deadline
        first (node/listing.py)."""
        conditions: list[ColumnElement[bool]] = []
        states = list(states)
        if states:
            conditions.append(Rectification.state.in_(states))
        if overdue is not None:
            late = and_(
                Rectification.state.in_(OPEN_RECTIFICATION_STATES),
                Rectification.due_on < self.today(),
            )
            conditions.append(late if overdue else not_(late))
        return self._page(
            select(Rectification)
            .options(selectinload(Rectification.evaluation).selectinload(Evaluation.case)),
            (Rectification.due_on, Rectification.id), conditions,
            [Rectification.state == s for s in states] or [true()], cursor, per_page, before,
        )

    def act_on_rectification(
        self,
        rectification: Rectification,
        action: RectificationAction,
        actor: Actor,
        *,
        text: str | None = None,
        days: int | None = None,
        followed_up: bool = False,
    ) -> Rectification:
        """Take ``action`` on a rectification; ``text`` is the note (complete) or the reason
        (dispute, invalidate, cannot_rectify, extend), ``days`` the extension in working days;
        ``followed_up`` (complete): the applicant was called back (回访).
        """
        transition = RECTIFICATION_TRANSITIONS[action]
        allowed = allowed_rectification_actions(rectification.state,
                                                extended=rectification.extended)
        if action.value not in allowed:
            again = action is RectificationAction.EXTEND and rectification.extended
            raise RectificationStateError(
                _("Rectification %(id)s has already been extended once.", id=rectification.id)
                if again and rectification.state in transition.sources
                else _("Action %(action)s is not possible for a rectification in state "
                       "%(state)s (allowed: %(allowed)s).",
                       action=name_of(RECTIFICATION_ACTION_NAMES, action),
                       state=name_of(RECTIFICATION_STATE_NAMES, rectification.state),
                       allowed=names_of(RECTIFICATION_ACTION_NAMES, allowed)),
                rectification.state,
                allowed,
            )
        written = (text or "").strip()
        problems: dict[str, list[str]] = {}
        if transition.text_field and not written:
            problems[transition.text_field] = [
                _("%(action)s needs a written %(field)s",
                  action=name_of(RECTIFICATION_ACTION_NAMES, action),
                  field=TEXT_FIELD_NAMES.get(transition.text_field, transition.text_field))
            ]
        if action is RectificationAction.EXTEND and (
            days is None or not 1 <= days <= RECTIFICATION_MAX_EXTENSION_DAYS
        ):
            problems["days"] = [
                _("an extension is 1 to %(most)s working days",
                  most=RECTIFICATION_MAX_EXTENSION_DAYS)
            ]
        if problems:
            raise ValidationFailed(problems)

        before = rectification.state
        data: dict[str, object] = {"from": before.value}
        if transition.text_field:
            data[transition.text_field] = written
        match action:
            case RectificationAction.COMPLETE:
                rectification.note = written
                if followed_up:
                    rectification.followed_up_at = self.clock()
                data["followed_up"] = followed_up
                # 差评整改率 counts a bad rating on its day once rectified
                invalidate(self.session, [to_shanghai_date(rectification.evaluation.at)])
            case RectificationAction.DISPUTE:
                # a second dispute (after an upheld one) replaces the reason shown; the audit
                # chain keeps both
                rectification.dispute_reason = written
            case RectificationAction.INVALIDATE:
                rectification.void_reason = written
                rectification.evaluation.void = True
                # the rating leaves that day's figures, and its case's 主动评价率
                invalidate(self.session, [to_shanghai_date(rectification.evaluation.at),
                                          *_completed_day(rectification)])
            case RectificationAction.CANNOT_RECTIFY:
                rectification.cannot_rectify_reason = written
            case RectificationAction.EXTEND:
                assert days is not None  # noqa: S101 - checked above
                data["due_on_before"] = rectification.due_on.isoformat()
                rectification.due_on = self.calendar.add_working_days(rectification.due_on, days)
                rectification.extended = True
                rectification.extension_days = days
                rectification.extension_reason = written
                data["days"] = days
            case _:
                pass  # start and uphold change the state only
        rectification.state = transition.target or before
        if action in CLOSED_BY:
            rectification.closed_at = self.clock()
        data["to"] = rectification.state.value
        data["due_on"] = rectification.due_on.isoformat()
        self.session.flush()
        self.audit.append(
            actor=actor.username, role=actor.role, action=f"rectification.{action.value}",
            subject_type="rectification", subject_id=str(rectification.id), data=data,
        )
        return rectification


def _completed_day(rectification: Rectification) -> list[dt.date]:
    """The rated case's completion day (its 已评价办结件 count), if it has one."""
    day = rectification.evaluation.case.completed_on
    return [day] if day is not None else []
