"""The node's audit trail: an append-only hash chain of every state change.

Each entry records who (actor, role) did what (action) to which subject (subject_type,
subject_id), when (at), with details (data, canonical JSON). Entries are numbered 1, 2, 3 … and
each carries the hash of the one before it (the first carries 64 zeros)::

    hash = SHA-256 hex of canonical_bytes({"seq", "at", "actor", "role", "action",
                                           "subject_type", "subject_id", "data", "prev_hash"})

with ``at`` as ISO 8601 in UTC with microseconds (``2026-03-02T01:30:00.000000+00:00``) and
``data`` as the parsed JSON object. The single ``audit_head`` row records the last seq and
hash; every append locks it, so concurrent transactions extend the chain one after another and
never fork it.

What the chain protects against, and what it does not:

- It makes tampering *evident*, not impossible. Whoever can write to the database can rewrite
  every entry after the one they changed, recompute all hashes and the head, and the chain
  verifies again. The hashes are not secret and nothing here is signed.
- What it gives is detection of a changed, deleted, inserted or reordered row by anyone who
  does not rewrite the rest: :meth:`AuditLog.verify` names the first broken entry. Against a
  full rewrite it helps only when compared with a head hash recorded *outside* this database
  earlier (``verify(anchor=...)``): every signed summary sent up to the hub carries the head
  (:meth:`AuditLog.anchor`), the hub keeps each one, and ``tongban node verify-audit
  --against-hub`` checks the chain against the newest (node/audit/anchoring.py): history
  before an anchor cannot be truncated or rewritten without that check, and the higher
  center's completeness page (审计链异常), noticing.
- It does not prove that every change was logged: a change made without calling
  :meth:`AuditLog.append` leaves no entry. Services append in the same transaction as the
  change, so a change and its entry commit or roll back together.

There is no way to update or delete an entry through this module (nor through the ORM, see
:mod:`node.audit.models`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from node.audit.models import AuditEntry, AuditHead
from schemas.canonical import canonical_bytes
from schemas.fastcanon import canonical
from schemas.runtime.database import insert_if_missing, insert_many, utcnow

GENESIS_HASH = "0" * 64
HEAD_ID = 1
DEFAULT_BATCH_SIZE = 1000

# Column widths of audit_entries, checked before writing so that an overlong value fails the
# same way on SQLite (which would store it) and PostgreSQL (which would refuse it at flush).
FIELD_LIMITS = {"actor": 64, "role": 32, "action": 64, "subject_type": 32, "subject_id": 64}


@dataclass(frozen=True)
class ChainHead:
    """The last entry of the chain: ``seq`` 0 and the genesis hash when it is empty."""

    seq: int
    hash: str


@dataclass(frozen=True)
class AuditRecord:
    """What one entry says, before it is numbered and hashed (for :meth:`AuditLog.append_many`)."""

    actor: str
    role: str
    action: str
    subject_type: str
    subject_id: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :meth:`AuditLog.verify`.

    ``checked`` counts the entries found intact before the first break (all of them when ok);
    ``first_broken_seq`` names the first entry that is wrong or missing (None when ok, or when
    the fault is the head record itself rather than an entry).
    """

    ok: bool
    checked: int
    first_broken_seq: int | None
    reason: str | None


def format_at(at: dt.datetime) -> str:
    """An entry's time as hashed: ISO 8601 in UTC with microseconds."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    role: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: Any,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the canonical JSON of an entry's fields and the previous entry's hash."""
    record = {
        "seq": seq,
        "at": format_at(at),
        "actor": actor,
        "role": role,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "data": data,
        "prev_hash": prev_hash,
    }
    # fastcanon: byte-identical to canonical_bytes (a property test proves it), far faster
    return hashlib.sha256(canonical(record)).hexdigest()


def _record_bytes(entry: AuditRecord, data_json: bytes, at_json: bytes, seq: int,
                  prev_hash: str) -> bytes:
    """The canonical record :func:`entry_hash` hashes, its members in key order, written from
    pieces that are each canonical already (the data encoded once, by the caller)."""
    return b"".join((
        b'{"action":', canonical(entry.action), b',"actor":', canonical(entry.actor),
        b',"at":', at_json, b',"data":', data_json,
        b',"prev_hash":"', prev_hash.encode(), b'","role":', canonical(entry.role),
        b',"seq":', str(seq).encode(), b',"subject_id":', canonical(entry.subject_id),
        b',"subject_type":', canonical(entry.subject_type), b"}"))


# one append's two writes, compiled once (Core on the session's connection: no flush)
_ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]
_HEAD: Table = AuditHead.__table__  # type: ignore[assignment]
_INSERT_ENTRY = insert(_ENTRIES)
_MOVE_HEAD = (update(_HEAD)
              .where(_HEAD.c.id == HEAD_ID)
              .values(last_seq=bindparam("last_seq"), last_hash=bindparam("last_hash")))


@dataclass(frozen=True)
class _Break:
    seq: int | None
    reason: str


class _Walk:
    """The verifier's position: the last intact entry and its hash."""

    def __init__(self, anchor: ChainHead | None) -> None:
        self.anchor = anchor
        self.last_seq = 0
        self.prev_hash = GENESIS_HASH
        self.checked = 0
        self.started = False

    def check(self, row: Row[*tuple[Any, ...]]) -> _Break | None:
        """Check one entry against the previous one; advance past it when it is intact."""
        expected = self.last_seq + 1
        if row.seq < expected:
            return _Break(row.seq, f"第 {row.seq} 条记录顺序错乱（此处应为第 {expected} 条）")
        if row.seq > expected:
            return _Break(
                expected,
                f"第 {expected} 条记录缺失：链从第 {self.last_seq} 条跳到第 {row.seq} 条",
            )
        if row.prev_hash != self.prev_hash:
            previous = f"第 {self.last_seq} 条记录" if self.last_seq else "链的起始值（创世值）"
            return _Break(row.seq, f"其所记的前一条哈希与{previous}的哈希不符")
        try:
            data = json.loads(row.data)
            canonical = canonical_bytes(data)
        except ValueError as exc:  # JSONDecodeError and CanonicalError are both ValueErrors
            return _Break(row.seq, f"其数据不是规范的 JSON（{exc}）")
        if canonical != row.data.encode("utf-8"):
            return _Break(row.seq, "其数据不是规范格式（被编辑过）")
        recomputed = entry_hash(
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            role=row.role,
            action=row.action,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            data=data,
            prev_hash=row.prev_hash,
        )
        if recomputed != row.hash:
            return _Break(row.seq, "其内容与其哈希不符（有字段被修改）")
        if self.anchor is not None and row.seq == self.anchor.seq and row.hash != self.anchor.hash:
            return _Break(
                row.seq,
                "其哈希与记录的锚点不符：链从此处或更早处被改写",
            )
        self.last_seq = row.seq
        self.prev_hash = row.hash
        self.checked += 1
        return None


class AuditLog:
    """Append to and verify the node's audit chain, inside the caller's transaction.

    ``append`` flushes but never commits: the entry commits or rolls back with the change it
    records. There is deliberately no method to change or remove an entry.
    """

    def __init__(
        self,
        session: Session,
        clock: Callable[[], dt.datetime] = utcnow,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.session = session
        self.clock = clock
        self.batch_size = batch_size

    # -- writing ---------------------------------------------------------------------------

    def append(
        self,
        *,
        actor: str,
        role: str,
        action: str,
        subject_type: str,
        subject_id: str,
        data: Mapping[str, Any],
    ) -> AuditEntry:
        """Add the next entry to the chain and return it (written, not committed; the entry
        returned is a copy of the row, not attached to the session).

        Three statements and no unit-of-work flush: lock the head, insert the entry, move the
        head (each step of a case writes one, so this is on the path of every request).

        ``data`` must be canonical-JSON-able (no floats, ASCII keys; see schemas.canonical).
        Raises ``ValueError`` for an empty or overlong field or a naive clock.
        """
        fields = {
            "actor": actor,
            "role": role,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
        }
        for name, value in fields.items():
            if not value:
                raise ValueError(f"audit {name} must not be empty")
            if len(value) > FIELD_LIMITS[name]:
                raise ValueError(f"audit {name} is longer than {FIELD_LIMITS[name]} characters")
        if not isinstance(data, Mapping):
            raise TypeError("audit data must be a mapping")
        # fastcanon: the same bytes as canonical_bytes (a property test proves it), and the
        # same refusals (floats, non-ASCII keys …) through its reference path
        data_json = canonical(dict(data))
        record = AuditRecord(data=data, **fields)
        # everything but the head is ready: flush the session's pending changes now, so the
        # head is locked last and held only for the three statements below and the commit
        self.session.flush()

        last_seq, last_hash = self._lock_head()
        # Read the clock under the lock, so that times follow seq order when appends queue up.
        at = self.clock()
        if at.tzinfo is None:
            raise ValueError("the audit clock returned a naive datetime")
        at = at.astimezone(dt.UTC)
        seq = last_seq + 1
        digest = hashlib.sha256(
            _record_bytes(record, data_json, canonical(format_at(at)), seq, last_hash)
        ).hexdigest()
        values = {"seq": seq, "at": at, **fields, "data": data_json.decode("utf-8"),
                  "prev_hash": last_hash, "hash": digest}
        connection = self.session.connection()
        connection.execute(_INSERT_ENTRY, values)
        connection.execute(_MOVE_HEAD, {"last_seq": seq, "last_hash": digest})
        return AuditEntry(**values)

    def append_many(self, entries: Sequence[AuditRecord]) -> int:
        """Add ``entries`` to the chain in order, as :meth:`append` would one by one, with one
        head lock, one multi-row insert per batch and one head update (a calendar change
        records an entry for each of thousands of cases).  Returns the last seq."""
        if not entries:
            return self.head().seq
        rows: list[tuple[AuditRecord, bytes]] = []
        for entry in entries:
            for name, limit in FIELD_LIMITS.items():
                value = getattr(entry, name)
                if not value:
                    raise ValueError(f"audit {name} must not be empty")
                if len(value) > limit:
                    raise ValueError(f"audit {name} is longer than {limit} characters")
            rows.append((entry, canonical(entry.data)))
        last_seq, last_hash = self._lock_head()
        at = self.clock()
        if at.tzinfo is None:
            raise ValueError("the audit clock returned a naive datetime")
        at = at.astimezone(dt.UTC)
        at_json = canonical(format_at(at))
        values = []
        for entry, data_json in rows:
            last_seq += 1
            previous = last_hash
            # the canonical record of entry_hash(), its members in key order, written from
            # pieces that are each canonical already (the data was encoded once, above)
            last_hash = hashlib.sha256(
                _record_bytes(entry, data_json, at_json, last_seq, previous)).hexdigest()
            values.append({"seq": last_seq, "at": at, "actor": entry.actor, "role": entry.role,
                           "action": entry.action, "subject_type": entry.subject_type,
                           "subject_id": entry.subject_id, "data": data_json.decode("utf-8"),
                           "prev_hash": previous, "hash": last_hash})
        insert_many(self.session.connection(), AuditEntry.__table__,  # type: ignore[arg-type]
                    values, self.batch_size)
        self.session.execute(
            update(AuditHead)
            .where(AuditHead.id == HEAD_ID)
            .values(last_seq=last_seq, last_hash=last_hash)
            .execution_options(synchronize_session=False)
        )
        return last_seq

    def _lock_head(self) -> tuple[int, str]:
        """The head's seq and hash, its row locked until the transaction ends; created on the
        first append.  Read as plain columns, never from the session's identity map: a session
        reused across transactions must not trust a head other transactions have moved."""
        statement = (
            select(AuditHead.last_seq, AuditHead.last_hash)
            .where(AuditHead.id == HEAD_ID)
            .with_for_update()
        )
        head = self.session.execute(statement).one_or_none()
        if head is None:
            self._insert_head_if_missing()
            head = self.session.execute(statement).one()
        return int(head.last_seq), str(head.last_hash)

    def _insert_head_if_missing(self) -> None:
        # Two first appends may race here: the loser waits for the winner's commit on
        # PostgreSQL and then locks the winner's row instead of failing.
        insert_if_missing(
            self.session, AuditHead,
            {"id": HEAD_ID, "last_seq": 0, "last_hash": GENESIS_HASH}, ["id"],
        )

    def record_restore(self, *, node_code: str, backup: str) -> str:
        """Record in the chain that this database was just restored from a backup, and give
        the head a new restore id (returned): the next signed summary carries it, so the hub
        shows an anchor whose count went back as 已从备份恢复, not as tampering.

        A restore is thus never silent: the entry stays in the chain, and the higher center
        sees every restore in its completeness page."""
        restore_id = str(uuid.uuid4())
        entries = self.head().seq
        self.append(actor="cli", role="system", action="audit.restored", subject_type="node",
                    subject_id=node_code,
                    data={"restore_id": restore_id, "backup_entries": entries,
                          "backup": backup[:200]})
        self.session.execute(
            update(AuditHead).where(AuditHead.id == HEAD_ID).values(restore_id=restore_id)
            .execution_options(synchronize_session=False))
        return restore_id

    # -- reading ---------------------------------------------------------------------------

    def anchor(self) -> dict[str, Any]:
        """The head as signed summaries carry it (schemas/summary.py ``audit``): the entry
        count, the head hash and the last restore's id.  No personal data."""
        row = self.session.execute(
            select(AuditHead.last_seq, AuditHead.last_hash, AuditHead.restore_id)
            .where(AuditHead.id == HEAD_ID)
        ).one_or_none()
        if row is None:
            return {"entries": 0, "head": GENESIS_HASH, "restore": None}
        return {"entries": int(row.last_seq), "head": str(row.last_hash),
                "restore": row.restore_id}

    def head(self) -> ChainHead:
        """The recorded last entry (seq 0 and the genesis hash for an empty chain)."""
        row = self.session.execute(
            select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == HEAD_ID)
        ).one_or_none()
        if row is None:
            return ChainHead(0, GENESIS_HASH)
        return ChainHead(row.last_seq, row.last_hash)

    def entries(
        self, subject_type: str | None = None, subject_id: str | None = None
    ) -> list[AuditEntry]:
        """The history, oldest first, optionally of one subject type or one subject."""
        statement = select(AuditEntry).order_by(AuditEntry.seq)
        if subject_type is not None:
            statement = statement.where(AuditEntry.subject_type == subject_type)
        if subject_id is not None:
            statement = statement.where(AuditEntry.subject_id == subject_id)
        return list(self.session.scalars(statement))

    # -- verifying -------------------------------------------------------------------------

    def verify(self, anchor: ChainHead | None = None) -> ChainReport:
        """Recompute every hash in seq order and report the first broken entry.

        Reads ``batch_size`` entries at a time. Detects an edited field, a deleted entry (a gap
        in seq), reordered or inserted entries (a prev_hash that does not link), a head that
        does not match the last entry, and, given an ``anchor`` recorded earlier outside this
        database, a chain rewritten up to or beyond that anchor.
        """
        walk = _Walk(anchor)
        broken = self._walk(walk, upto=None)
        if broken is None:
            broken = self._check_head(walk)
        if broken is None and anchor is not None and anchor.seq > walk.last_seq:
            broken = _Break(
                walk.last_seq + 1,
                f"第 {walk.last_seq + 1} 条记录缺失：锚点记录到第 {anchor.seq} 条，"
                f"链却止于第 {walk.last_seq} 条",
            )
        if broken is not None:
            return ChainReport(False, walk.checked, broken.seq, broken.reason)
        return ChainReport(True, walk.checked, None, None)

    def _walk(self, walk: _Walk, upto: int | None) -> _Break | None:
        columns = (
            AuditEntry.seq,
            AuditEntry.at,
            AuditEntry.actor,
            AuditEntry.role,
            AuditEntry.action,
            AuditEntry.subject_type,
            AuditEntry.subject_id,
            AuditEntry.data,
            AuditEntry.prev_hash,
            AuditEntry.hash,
        )
        while True:
            # Plain rows, not ORM objects: the identity map would hand back in-memory values
            # instead of what is stored, and would keep every entry alive.
            statement = select(*columns).order_by(AuditEntry.seq).limit(self.batch_size)
            if walk.started:
                statement = statement.where(AuditEntry.seq > walk.last_seq)
            # (the first batch has no lower bound, so a forged entry #0 or below is seen)
            if upto is not None:
                statement = statement.where(AuditEntry.seq <= upto)
            rows = self.session.execute(statement).all()
            walk.started = True
            if not rows:
                return None
            for row in rows:
                broken = walk.check(row)
                if broken is not None:
                    return broken

    def _check_head(self, walk: _Walk) -> _Break | None:
        # The head is read after the walk: under READ COMMITTED, entries committed meanwhile
        # are then behind the head (caught up below), never ahead of it.
        row = self.session.execute(
            select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == HEAD_ID)
        ).one_or_none()
        if row is None:
            if walk.last_seq == 0:
                return None
            return _Break(
                None, f"链头记录缺失，但链中有 {walk.last_seq} 条记录"
            )
        head_seq, head_hash = row.last_seq, row.last_hash
        if head_seq < walk.last_seq:
            return _Break(
                head_seq + 1,
                f"第 {head_seq + 1} 条记录在所记链头（第 {head_seq} 条）之后：并非经审计日志追加",
            )
        if head_seq > walk.last_seq:
            broken = self._walk(walk, upto=head_seq)
            if broken is not None:
                return broken
            if walk.last_seq < head_seq:
                return _Break(
                    walk.last_seq + 1,
                    f"链头不符：链头记录到第 {head_seq} 条，链却止于第 {walk.last_seq} 条"
                    f"（第 {walk.last_seq + 1} 条记录缺失）",
                )
        if head_hash != walk.prev_hash:
            if walk.last_seq == 0:
                return _Break(None, "链头不符：链为空，但链头的哈希不是链的起始值（创世值）")
            return _Break(
                walk.last_seq,
                f"链头不符：链头的哈希与第 {walk.last_seq} 条记录的哈希不符",
            )
        return None
