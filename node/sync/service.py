"""Push the outbox, pull the mailbox, apply what arrived in order: the sync state machine.

Plain Python: the session factory (a :class:`schemas.runtime.database.Database`), the hub transport,
the clock and the handlers are passed in.  Each step is its own short transaction, and no
transaction stays open across a call to the hub.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from itertools import groupby
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from node.ports import SyncError
from node.sync.backoff import Clock
from node.sync.blobs import fetch_missing, upload_listed
from node.sync.models import (
    InboxEnvelope,
    InboxState,
    OutboxEnvelope,
    OutboxState,
    RefusedEnvelope,
    SenderProgress,
)
from node.sync.reports import PullReport, PushReport, is_addressed_to, sync_status, wire_text
from node.sync.restore import resume_if_restored
from node.sync.transport import HubTransport
from node.sync.trust import RegistryTrust
from schemas.certificates import TrustError
from schemas.divisions import province_of
from schemas.envelope import Envelope, EnvelopeError, Kind, parse_envelope
from schemas.errors import TongbanError
from schemas.runtime.database import Database, utcnow
from schemas.trust import TrustStore

log = logging.getLogger("tongban.sync")


Handler = Callable[[Session, Envelope], None]


# -- handlers -------------------------------------------------------------------------------


def never_for_nodes(_session: Session, envelope: Envelope) -> None:
    raise SyncError(f"a {envelope.kind.value} envelope is for the hub, never for a node",
                    {"kind": envelope.kind.value})


def no_feature(_session: Session, envelope: Envelope) -> None:
    raise SyncError(f"no feature of this node applies {envelope.kind.value} envelopes",
                    {"kind": envelope.kind.value})


HUB_KINDS = (Kind.SUMMARY, Kind.CERT, Kind.REVOKE, Kind.AUDIT_RESPONSE)


def dispatch_table(handlers: Mapping[Kind, Handler]) -> dict[Kind, Handler]:
    """Every kind with its handler: the features' (node/composition.py fills them from each
    feature's declaration); the hub's own kinds are refused, and so is a kind no feature
    declared."""
    table: dict[Kind, Handler] = dict.fromkeys(Kind, no_feature)
    table.update(dict.fromkeys(HUB_KINDS, never_for_nodes))
    table.update(handlers)
    return table


class SyncService(RegistryTrust):
    """One node's push, pull and apply against the hub.

    ``root_public_key`` is the province's key this node trusts (from the settings); when it
    is empty the first registry's ``root_public_key`` is pinned and used from then on.
    """

    def __init__(
        self,
        db: Database,
        transport: HubTransport,
        *,
        code: str,
        root_public_key: str = "",
        clock: Clock = utcnow,
        push_batch_size: int = 100,
        pull_batch_size: int = 100,
        gap_hold: dt.timedelta = dt.timedelta(hours=1),
        handlers: Mapping[Kind, Handler] | None = None,
        private_key: Ed25519PrivateKey | None = None,
    ) -> None:
        self.db = db
        self.private_key = private_key  # only to re-sign after a restore (node.sync.restore)
        self.transport = transport
        self.code = code
        self.root_code = province_of(code)
        self.root_public_key = root_public_key
        self.clock = clock
        self.push_batch_size = push_batch_size
        self.pull_batch_size = pull_batch_size
        self.gap_hold = gap_hold
        self.handlers = dispatch_table(handlers or {})
        self._trust: TrustStore | None = None
        # one push and one pull at a time per service: the worker's push-now watch, its
        # long-polling pull and its periodic sync run in different threads, and two pushes
        # running together would post the same pending envelopes twice
        self._push_lock = threading.Lock()
        self._pull_lock = threading.Lock()

    # -- push -----------------------------------------------------------------------------

    def push(self) -> PushReport:
        """Send pending envelopes in seq order, batch by batch, until none is left.

        Accepted and duplicate become sent, rejected become dead letters with the hub's
        reason.  A network failure counts an attempt on the batch, records the error and
        raises :class:`SyncError`; the envelopes stay pending.  Pushes of one service run
        one at a time.
        """
        with self._push_lock:
            return self._push()

    def has_pending(self) -> bool:
        """Whether anything waits in the outbox: one indexed row read, cheap enough to ask
        several times a second (the worker's push-now watch)."""
        with self.db.unit_of_work(write=False) as session:
            return session.scalar(
                select(OutboxEnvelope.id).where(OutboxEnvelope.state == OutboxState.PENDING)
                .limit(1)) is not None

    def _push(self) -> PushReport:
        self._resume_if_restored()
        report = PushReport()
        while True:
            with self.db.unit_of_work(write=False) as session:
                batch = [(row.id, row.wire) for row in session.scalars(
                    select(OutboxEnvelope).where(OutboxEnvelope.state == OutboxState.PENDING)
                    .order_by(OutboxEnvelope.seq).limit(self.push_batch_size))]
            if not batch:
                break
            ids = [envelope_id for envelope_id, _ in batch]
            wires = [orjson.loads(wire) for _, wire in batch]
            try:
                # the files an envelope lists reach the hub before the envelope does
                upload_listed(self.db, self.transport, wires, self.clock)
                results = self.transport.post_envelopes(wires)
            except SyncError as exc:
                self._push_failed(ids, exc)
                raise
            progressed = self._record_results(ids, results, report)
            if not progressed:  # the hub answered for none of them: try again next run
                break
        with self.db.unit_of_work() as session:
            status = sync_status(session)
            status.last_push_at = self.clock()
            report.pending = session.scalar(
                select(func.count()).select_from(OutboxEnvelope)
                .where(OutboxEnvelope.state == OutboxState.PENDING)) or 0
        return report

    def _resume_if_restored(self) -> None:
        """A node restored from a backup pushes nothing until its seqs continue after the
        hub's (node.sync.restore); raises SyncError while that cannot be settled."""
        fetch = getattr(self.transport, "fetch_last_seq", None)

        def hub_seq() -> int:
            if fetch is None:
                raise SyncError("this node was restored from a backup: push needs the hub's "
                                "last seq to continue after it")
            return int(fetch())

        try:
            resumed = resume_if_restored(self.db, hub_seq, sender=self.code,
                                         private_key=self.private_key)
        except SyncError as exc:
            with self.db.unit_of_work() as session:
                self._record_error(session, f"push after restore: {exc.message}")
            raise
        if resumed is not None:
            log.warning("restored node: the hub had seq %s, the backup %s; %s envelope(s) "
                        "re-signed, next seq %s", resumed.hub_seq, resumed.backup_seq,
                        resumed.resigned, resumed.next_seq)

    def _push_failed(self, ids: list[str], exc: SyncError) -> None:
        now = self.clock()
        with self.db.unit_of_work() as session:
            for row in session.scalars(select(OutboxEnvelope).where(OutboxEnvelope.id.in_(ids))):
                row.attempts += 1
                row.last_attempt_at = now
                row.last_error = exc.message
            self._record_error(session, f"push: {exc.message}")
        log.warning("push failed: %s", exc.message)

    def _record_results(
        self, ids: list[str], results: list[dict[str, Any]], report: PushReport
    ) -> bool:
        answers = {str(result.get("id")): result for result in results}
        now = self.clock()
        progressed = False
        with self.db.unit_of_work() as session:
            rows = session.scalars(select(OutboxEnvelope).where(OutboxEnvelope.id.in_(ids)))
            for row in rows:
                row.attempts += 1
                row.last_attempt_at = now
                answer = answers.get(row.id)
                status = answer.get("status") if answer else None
                if status in ("accepted", "duplicate"):
                    row.state, row.sent_at, row.last_error = OutboxState.SENT, now, None
                    if status == "accepted":
                        report.sent += 1
                    else:
                        report.duplicate += 1
                    progressed = True
                elif status == "rejected":
                    row.state = OutboxState.DEAD
                    row.hub_reason = str(answer.get("reason") or "rejected")[:64] if answer \
                        else "rejected"
                    row.last_error = str(answer.get("message") or row.hub_reason) if answer \
                        else None
                    report.dead += 1
                    progressed = True
                    log.warning("envelope %s (%s seq %s) rejected by the hub: %s",
                                row.id, row.kind, row.seq, row.hub_reason)
                else:
                    row.last_error = f"the hub gave no usable result for it: {answer!r}"[:500]
        return progressed

    # -- pull -----------------------------------------------------------------------------

    def pull(self, wait: float = 0.0) -> PullReport:
        """Read the mailbox after the stored cursor, verify and store each envelope, ack, and
        apply what is in order.  A network failure is recorded and raised; what was stored
        before it stays stored, and held envelopes are still applied on the next pull.

        With ``wait``, the first read is a long poll: the hub answers as soon as something
        arrives, or empty after ``wait`` seconds.  Pulls of one service run one at a time.
        """
        with self._pull_lock:
            return self._pull(wait)

    def _pull(self, wait: float) -> PullReport:
        report = PullReport()
        with self.db.unit_of_work() as session:
            cursor = sync_status(session).mailbox_cursor
        try:
            first = True
            while True:
                waiting = getattr(self.transport, "wait_for_mailbox", None)
                if first and wait > 0 and waiting is not None:
                    items = waiting(cursor, self.pull_batch_size, wait)
                else:
                    items = self.transport.fetch_mailbox(cursor, self.pull_batch_size)
                first = False
                if not items:
                    break
                with self.db.unit_of_work() as session:
                    for item in items:
                        self._receive(session, item, report)
                    cursor = max(cursor, *(int(item["cursor"]) for item in items))
                    sync_status(session).mailbox_cursor = cursor
                # acknowledged only after our commit: a crash in between re-reads nothing,
                # since the cursor is ours, and a re-delivery is ignored by envelope id
                self.transport.ack(cursor)
                if len(items) < self.pull_batch_size:
                    break
        except SyncError as exc:
            with self.db.unit_of_work() as session:
                self._record_error(session, f"pull: {exc.message}")
            raise
        finally:
            self.apply_held(report)
        report.files, problems = fetch_missing(self.db, self.transport)
        with self.db.unit_of_work() as session:
            sync_status(session).last_pull_at = self.clock()
            if problems:
                self._record_error(session, f"pull: {problems[0]}")
        return report

    def _receive(self, session: Session, item: Mapping[str, Any], report: PullReport) -> None:
        wire = item.get("envelope")
        cursor = int(item["cursor"])
        try:
            envelope = parse_envelope(wire if isinstance(wire, Mapping) else wire_text(wire))
        except EnvelopeError as exc:
            self._refuse(session, cursor, wire, exc.code, exc.message, report)
            return
        if session.get(InboxEnvelope, envelope.id) is not None:
            report.duplicate += 1
            return
        if not is_addressed_to(envelope, self.code):
            self._refuse(session, cursor, wire, "misrouted",
                         f"envelope {envelope.id} is addressed to {envelope.to}, not {self.code}",
                         report, envelope)
            return
        try:
            self._verify(session, envelope)
        except (EnvelopeError, TrustError) as exc:
            self._refuse(session, cursor, wire, exc.code, exc.message, report, envelope)
            return
        session.add(InboxEnvelope(
            id=envelope.id, sender=envelope.sender, seq=envelope.seq, kind=envelope.kind.value,
            wire=wire_text(envelope.to_wire()), state=InboxState.HELD, mailbox_cursor=cursor,
            received_at=self.clock(), prev_seq=_prev_seq(item.get("prev_seq"), envelope.seq),
        ))
        session.flush()
        report.received += 1

    def _refuse(
        self,
        session: Session,
        cursor: int,
        wire: Any,
        code: str,
        message: str,
        report: PullReport,
        envelope: Envelope | None = None,
    ) -> None:
        log.warning("refused mailbox item %s: %s", cursor, message)
        envelope_id = envelope.id if envelope else _str_field(wire, "id", 64)
        sender = envelope.sender if envelope else _str_field(wire, "from", 16)
        kind = envelope.kind.value if envelope else _str_field(wire, "kind", 32)
        seq = envelope.seq if envelope else _int_field(wire, "seq")
        session.add(RefusedEnvelope(
            mailbox_cursor=cursor, envelope_id=envelope_id, sender=sender, kind=kind, seq=seq,
            code=code[:32], message=message, wire=wire_text(wire), received_at=self.clock(),
        ))
        self._record_error(session, f"pull: mailbox item {cursor} (envelope {envelope_id}, "
                           f"{kind} from {sender}) set aside: {code}: {message}")
        report.refused += 1


    # -- apply ----------------------------------------------------------------------------

    def apply_held(self, report: PullReport | None = None) -> PullReport:
        """Apply held envelopes sender by sender in seq order; idempotent.

        The next envelope of a sender is the one after its last applied seq.  A later one is
        held until the gap fills, or until it has waited ``gap_hold``: a sender's seq counts
        all its envelopes, and those to other addressees never reach this node.
        """
        report = report or PullReport()
        now = self.clock()
        with self.db.unit_of_work() as session:
            held = session.scalars(
                select(InboxEnvelope).where(InboxEnvelope.state == InboxState.HELD)
                .order_by(InboxEnvelope.sender, InboxEnvelope.seq))
            for sender, rows in groupby(list(held), key=lambda row: row.sender):
                ordered = list(rows)
                progress = session.get(SenderProgress, sender)
                if progress is None:
                    # first contact: start at the lowest seq held (the mailbox delivers in
                    # the hub's order, and what the sender sent others before never comes)
                    progress = SenderProgress(sender=sender,
                                              last_applied_seq=ordered[0].seq - 1)
                    session.add(progress)
                set_aside: set[int] | None = None
                for row in ordered:
                    if row.seq <= progress.last_applied_seq:
                        self._fail(row, now, f"seq {row.seq} of {sender} comes after seq "
                                   f"{progress.last_applied_seq} was applied", report)
                        continue
                    if not self._next_of_sender(row, progress.last_applied_seq):
                        if set_aside is None:
                            set_aside = _refused_seqs(session, sender,
                                                      progress.last_applied_seq)
                        # the envelope before it in this mailbox was set aside on receipt
                        # (a dead letter): nothing is missing, it is this one's turn
                        waits = row.prev_seq is None or row.prev_seq not in set_aside
                    else:
                        waits = False
                    if waits and now - row.received_at < self.gap_hold:
                        report.held += 1
                        break  # and so are all later ones of this sender
                    self._apply(session, row, now, report)
                    progress.last_applied_seq = row.seq
        return report

    @staticmethod
    def _next_of_sender(row: InboxEnvelope, last_applied: int) -> bool:
        """Whether nothing this node should see comes between the last applied envelope of
        the sender and ``row``: the next seq, or the hub says the sender's previous envelope
        in this mailbox is one already applied (the seqs between went to others)."""
        if row.seq == last_applied + 1:
            return True
        return row.prev_seq is not None and row.prev_seq <= last_applied

    def _apply(self, session: Session, row: InboxEnvelope, now: dt.datetime,
               report: PullReport) -> None:
        """Apply one held envelope, or set it aside as a dead letter (state ``failed``, with
        the reason) so that the sender's later envelopes and every other sender go on: an
        envelope that cannot be read again (an inbox row written by an older version, under
        looser limits) or whose handler refuses it or breaks on it is never retried.  Only a
        lost database connection propagates: that is no fault of the envelope."""
        try:
            envelope = parse_envelope(row.wire)
        except EnvelopeError as exc:
            self._fail(row, now, f"{exc.code}: {exc.message}", report)
            self._record_error(session, f"apply: envelope {row.id} ({row.kind} from "
                               f"{row.sender}) set aside: {exc.code}: {exc.message}")
            log.warning("envelope %s (%s from %s) set aside, unreadable: %s",
                        row.id, row.kind, row.sender, exc.message)
            return
        handler = self.handlers.get(envelope.kind, never_for_nodes)
        try:
            with session.begin_nested():  # a refusing handler leaves nothing half-done
                handler(session, envelope)
        except TongbanError as exc:
            self._fail(row, now, exc.message, report)
            log.warning("envelope %s (%s from %s) not applied: %s",
                        row.id, row.kind, row.sender, exc.message)
            return
        except (OperationalError, InterfaceError):
            raise  # the database, not the envelope: the next run tries it again
        except Exception as exc:  # a handler breaking on one envelope must not stop the rest
            message = f"handler_error: {type(exc).__name__}: {exc}"[:2000]
            self._fail(row, now, message, report)
            self._record_error(session, f"apply: envelope {row.id} ({row.kind} from "
                               f"{row.sender}) set aside: {message}")
            log.exception("envelope %s (%s from %s) set aside: its handler failed",
                          row.id, row.kind, row.sender)
            return
        row.state, row.applied_at, row.error = InboxState.APPLIED, now, None
        report.applied += 1

    @staticmethod
    def _fail(row: InboxEnvelope, now: dt.datetime, message: str, report: PullReport) -> None:
        row.state, row.applied_at, row.error = InboxState.FAILED, now, message
        report.failed += 1

    def _record_error(self, session: Session, message: str) -> None:
        status = sync_status(session)
        status.last_error = message
        status.last_error_at = self.clock()


def _refused_seqs(session: Session, sender: str, after: int) -> set[int]:
    """The seqs of ``sender``'s mailbox items refused here (dead letters) after ``after``."""
    return set(session.scalars(
        select(RefusedEnvelope.seq).where(RefusedEnvelope.sender == sender,
                                          RefusedEnvelope.seq > after)))


def _prev_seq(value: Any, seq: int) -> int | None:
    """The hub's ``prev_seq`` of a mailbox item when it is usable (an int below ``seq``)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < seq:
        return value
    return None


def _int_field(wire: Any, key: str) -> int | None:
    value = wire.get(key) if isinstance(wire, Mapping) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 2**53 - 1:
        return value
    return None


def _str_field(wire: Any, key: str, limit: int) -> str | None:
    if isinstance(wire, Mapping) and isinstance(wire.get(key), str):
        return str(wire[key])[:limit]
    return None
