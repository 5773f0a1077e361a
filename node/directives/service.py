"""Issuing and answering directives (督办), and applying the envelopes that carry them.

A directive goes from a center to one of its descendants (any number of levels down) as a
signed ``directive`` envelope, written in the same transaction as the issuer's outgoing row;
the target stores an incoming row when the envelope is applied (:func:`handle_directive`).
The target's reply travels back as ``directive.reply`` and updates the issuer's row
(:func:`handle_directive_reply`).  Each side lists its rows with their state, and whether
they are overdue: past the due day (Asia/Shanghai) and not done.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.calendar.workdays import to_shanghai_date
from node.directives.models import (
    REPLY_STATES,
    Directive,
    DirectiveDirection,
    DirectiveState,
    DirectiveSubject,
)
from node.listing import Page, keyset_page
from node.ports import CenterNames, EnvelopeHandler, Outbox
from schemas.divisions import is_ancestor
from schemas.envelope import Envelope, Kind
from schemas.errors import Conflict, Forbidden, NotFound, TongbanError, ValidationFailed
from schemas.i18n import _
from schemas.messages import DirectiveReplySchema, DirectiveSchema
from schemas.names import DIRECTIVE_DIRECTIONS, name_of
from schemas.runtime.database import utcnow

Clock = Callable[[], dt.datetime]


class DirectiveRefused(TongbanError):
    """An incoming directive or reply that this node does not accept (the inbox fails it)."""

    code = "directive_refused"


def _errors(schema_errors: dict[Any, Any]) -> dict[str, Any]:
    return {str(key): value for key, value in schema_errors.items()}


def entry(directive: Directive, today: dt.date) -> dict[str, Any]:
    """A directive as listed: every column, and ``overdue`` as of ``today``."""
    return {
        "directive_id": directive.directive_id,
        "direction": directive.direction.value,
        "issuer_node": directive.issuer_node,
        "target_node": directive.target_node,
        "subject": directive.subject.value,
        "case_number": directive.case_number,
        "metric": directive.metric,
        "text": directive.text,
        "due_on": directive.due_on,
        "issued_by": directive.issued_by,
        "issued_at": directive.issued_at,
        "state": directive.state.value,
        "reply_text": directive.reply_text,
        "replied_by": directive.replied_by,
        "replied_at": directive.replied_at,
        "updated_at": directive.updated_at,
        "overdue": directive.overdue_on(today),
    }


class DirectiveService:
    """Directives of one node; every change is flushed to ``session``, the caller commits."""

    def __init__(self, session: Session, *, outbox: Outbox, names: CenterNames,
                 clock: Clock = utcnow) -> None:
        self.session = session
        self.node_code = outbox.node_code
        self.outbox = outbox
        self.names = names
        self.clock = clock

    def today(self) -> dt.date:
        return to_shanghai_date(self.clock())

    # -- issuer's side ------------------------------------------------------------------------

    def issue(
        self,
        actor_username: str,
        target: str,
        subject: str,
        text: str,
        due_on: dt.date,
        case_number: str | None = None,
        metric: str | None = None,
    ) -> Directive:
        """Store an outgoing directive to ``target`` (a descendant) and queue its envelope.

        Raises ValidationFailed naming ``target`` when it is not strictly below this node,
        or the body's fields when they break the ``directive`` schema.
        """
        if not is_ancestor(self.node_code, target):
            raise ValidationFailed(
                {"target": [_("must be a division below this center (%(node_code)s)",
                              node_code=self.names.text(self.session, self.node_code))]},
                _("%(target)s is not a descendant of %(node_code)s.",
                  target=self.names.text(self.session, target),
                  node_code=self.names.text(self.session, self.node_code)),
            )
        body: dict[str, Any] = {
            "directive_id": str(uuid.uuid4()),
            "subject": subject,
            "case_number": case_number,
            "metric": metric,
            "text": text,
            "due_on": due_on.isoformat() if isinstance(due_on, dt.date) else due_on,
            "issued_by": actor_username,
        }
        errors = DirectiveSchema().validate(body)
        if errors:
            raise ValidationFailed(_errors(errors))
        now = self.clock()
        directive = Directive(
            directive_id=body["directive_id"],
            direction=DirectiveDirection.OUTGOING,
            issuer_node=self.node_code,
            target_node=target,
            subject=DirectiveSubject(subject),
            case_number=case_number,
            metric=metric,
            text=text,
            due_on=dt.date.fromisoformat(body["due_on"]),
            issued_by=actor_username,
            issued_at=now,
            state=DirectiveState.SENT,
            updated_at=now,
        )
        self.session.add(directive)
        self.session.flush()
        self.outbox.send(self.session, kind=Kind.DIRECTIVE, to=target, body=body, now=now)
        return directive

    # -- target's side ------------------------------------------------------------------------

    def reply(self, directive_id: str, state: str, text: str, actor: str) -> Directive:
        """Answer an incoming directive and queue the ``directive.reply`` to its issuer.

        A directive may be answered more than once (acknowledged, then in progress, then
        done or disputed); once done it is closed (Conflict).
        """
        directive = self.get(directive_id, DirectiveDirection.INCOMING)
        if directive.state is DirectiveState.DONE:
            raise Conflict(_("Directive %(directive_id)s is done; it takes no further reply.",
                             directive_id=directive_id))
        body = {"directive_id": directive_id, "state": state, "text": text, "replied_by": actor}
        errors = DirectiveReplySchema().validate(body)
        if errors:
            raise ValidationFailed(_errors(errors))
        now = self.clock()
        directive.state = DirectiveState(state)
        directive.reply_text, directive.replied_by, directive.replied_at = text, actor, now
        directive.updated_at = now
        self.session.flush()
        self.outbox.send(self.session, kind=Kind.DIRECTIVE_REPLY, to=directive.issuer_node,
                         body=body, now=now)
        return directive

    # -- reading ------------------------------------------------------------------------------

    def get(self, directive_id: str, direction: DirectiveDirection | str) -> Directive:
        directive = self.session.scalar(select(Directive).where(
            Directive.directive_id == directive_id,
            Directive.direction == DirectiveDirection(direction)))
        if directive is None:
            raise NotFound(_("No %(direction)s directive %(directive_id)s.",
                             direction=name_of(DIRECTIVE_DIRECTIONS, DirectiveDirection(direction)),
                             directive_id=directive_id))
        return directive

    def list(
        self,
        direction: DirectiveDirection | str | None = None,
        state: DirectiveState | str | None = None,
    ) -> list[dict[str, Any]]:
        """Directives of this node, newest first, each with ``overdue`` computed today."""
        query = select(Directive).order_by(Directive.issued_at.desc(), Directive.id.desc())
        if direction is not None:
            query = query.where(Directive.direction == DirectiveDirection(direction))
        if state is not None:
            query = query.where(Directive.state == DirectiveState(state))
        today = self.today()
        return [entry(directive, today) for directive in self.session.scalars(query)]

    def search(
        self,
        direction: DirectiveDirection | str | None = None,
        state: DirectiveState | str | None = None,
        *,
        cursor: str | None = None,
        before: str | None = None,
        per_page: int = 20,
    ) -> Page[dict[str, Any]]:
        """One keyset page (node/listing.py) of :meth:`list`: newest first (issued_at, id
        descending), read from the indexes of migration 0040, each row as :func:`entry`
        gives it."""
        query = select(Directive)
        if direction is not None:
            query = query.where(Directive.direction == DirectiveDirection(direction))
        if state is not None:
            query = query.where(Directive.state == DirectiveState(state))
        page: Page[Directive] = keyset_page(
            self.session, query, (Directive.issued_at, Directive.id), (dt.datetime, int),
            cursor, per_page, descending=True, before=before)
        today = self.today()
        return Page([entry(d, today) for d in page.items], page.total, page.total_exact,
                    page.next_cursor, page.prev_cursor)


# -- inbox handlers -------------------------------------------------------------------------


def handle_directive(session: Session, envelope: Envelope) -> None:
    """Store a directive from an ancestor as an incoming row; applying it twice changes nothing.

    The envelope is addressed to this node (the sync service checks ``to``), so ``to`` is this
    node's code; the sender must be strictly above it.
    """
    here, sender = envelope.to, envelope.sender
    if not is_ancestor(sender, here):
        raise DirectiveRefused(
            f"a directive to {here} must come from a center above it, not from {sender}",
            {"sender": sender, "to": here})
    body = envelope.body
    existing = session.scalar(select(Directive).where(
        Directive.directive_id == body["directive_id"],
        Directive.direction == DirectiveDirection.INCOMING))
    if existing is not None:
        if existing.issuer_node != sender:
            raise DirectiveRefused(
                f"directive {body['directive_id']} was issued by {existing.issuer_node}, "
                f"not {sender}", {"sender": sender})
        return
    session.add(Directive(
        directive_id=body["directive_id"],
        direction=DirectiveDirection.INCOMING,
        issuer_node=sender,
        target_node=here,
        subject=DirectiveSubject(body["subject"]),
        case_number=body.get("case_number"),
        metric=body.get("metric"),
        text=body["text"],
        due_on=dt.date.fromisoformat(body["due_on"]),
        issued_by=body["issued_by"],
        issued_at=envelope.timestamp,
        state=DirectiveState.RECEIVED,
        updated_at=utcnow(),
    ))
    session.flush()


def directive_reply_handler(names: CenterNames) -> EnvelopeHandler:
    """The ``directive.reply`` handler, naming the centers of its errors through ``names``."""

    def handle(session: Session, envelope: Envelope) -> None:
        handle_directive_reply(session, envelope, names)

    return handle


def handle_directive_reply(session: Session, envelope: Envelope, names: CenterNames) -> None:
    """Record a reply on the outgoing directive it answers; only its target may reply.

    A reply already recorded (or older than the one recorded) changes nothing.
    """
    body = envelope.body
    directive = session.scalar(select(Directive).where(
        Directive.directive_id == body["directive_id"],
        Directive.direction == DirectiveDirection.OUTGOING))
    if directive is None:
        raise NotFound(_("no directive %(body)s was issued here", body=body['directive_id']))
    if directive.target_node != envelope.sender or directive.issuer_node != envelope.to:
        raise Forbidden(
            _("directive %(directive_id)s went to %(target_node)s; %(sender)s cannot answer it",
              directive_id=directive.directive_id,
              target_node=names.text(session, directive.target_node),
              sender=names.text(session, envelope.sender)),
            {"sender": envelope.sender})
    state = DirectiveState(body["state"])
    if state not in REPLY_STATES:  # pragma: no cover - the body schema allows no other
        raise DirectiveRefused(f"a reply cannot set state {state.value}")
    replied_at = envelope.timestamp
    if directive.replied_at is not None and replied_at < directive.replied_at:
        return  # an older answer than the one recorded
    recorded = (directive.state, directive.reply_text, directive.replied_by,
                directive.replied_at)
    if recorded == (state, body["text"], body["replied_by"], replied_at):
        return
    directive.state = state
    directive.reply_text, directive.replied_by = body["text"], body["replied_by"]
    directive.replied_at, directive.updated_at = replied_at, utcnow()
    session.flush()


def envelope_handlers(names: CenterNames) -> dict[Kind, EnvelopeHandler]:
    """What directives apply at a node: ``directive`` and ``directive.reply``."""
    return {Kind.DIRECTIVE: handle_directive, Kind.DIRECTIVE_REPLY: directive_reply_handler(names)}
