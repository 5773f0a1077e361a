"""The restore rule (node.sync.restore) on each database: a restored node continues after the
seqs the hub has, re-signing only what it signed since the restore."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from node.sync.models import OutboxEnvelope
from node.sync.outbox import emit
from node.sync.restore import mark_restored, restore_pending, resume_after_restore
from schemas.envelope import parse_envelope, verify_envelope
from schemas.keys import load_private_key
from schemas.runtime.database import Database
from tests import conftest as shared
from tests.unit.schemas.test_messages import directive_reply_body

CODE = shared.NODE_IDENTITY["code"]


def _emit(db: Database, count: int) -> list[str]:
    key = load_private_key(Path(shared.test_key_file()))
    with db.unit_of_work() as session:
        return [emit(session, kind="directive.reply", to="450900",
                     body=directive_reply_body() | {"text": f"回复 {i}"},
                     sender=CODE, private_key=key).id for i in range(count)]


def _outbox(db: Database) -> list[tuple[int, str]]:
    with db.unit_of_work(write=False) as session:
        return [(row.seq, row.id) for row in session.scalars(
            select(OutboxEnvelope).order_by(OutboxEnvelope.seq))]


def test_envelopes_signed_after_the_restore_move_after_the_hubs_seq(db: Database) -> None:
    key = load_private_key(Path(shared.test_key_file()))
    _emit(db, 3)
    with db.unit_of_work() as session:
        assert mark_restored(session) == 3
    since = _emit(db, 2)  # seqs 4 and 5: the hub already has other envelopes with them

    with db.unit_of_work() as session:
        resumed = resume_after_restore(session, hub_seq=6, sender=CODE, private_key=key)

    assert resumed is not None
    assert (resumed.backup_seq, resumed.hub_seq, resumed.resigned, resumed.next_seq) == \
        (3, 6, 2, 9)
    assert resumed.lost_to_backup == 3
    outbox = _outbox(db)
    assert [seq for seq, _ in outbox] == [1, 2, 3, 7, 8]
    assert [envelope_id for _, envelope_id in outbox[3:]] == since  # same ids, same order
    with db.unit_of_work(write=False) as session:
        for row in session.scalars(select(OutboxEnvelope).where(OutboxEnvelope.seq > 6)):
            envelope = parse_envelope(row.wire)
            assert envelope.seq == row.seq
            verify_envelope(envelope, key.public_key())  # re-signed, not just renumbered
        assert restore_pending(session) is None
    assert [seq for seq, _ in _outbox(db)][-1] + 1 == resumed.next_seq
    _emit(db, 1)
    assert [seq for seq, _ in _outbox(db)][-1] == 9


def test_a_hub_behind_the_backup_changes_nothing(db: Database) -> None:
    key = load_private_key(Path(shared.test_key_file()))
    _emit(db, 2)
    with db.unit_of_work() as session:
        mark_restored(session)
    _emit(db, 1)

    with db.unit_of_work() as session:
        resumed = resume_after_restore(session, hub_seq=1, sender=CODE, private_key=key)

    assert resumed is not None
    assert (resumed.resigned, resumed.next_seq, resumed.lost_to_backup) == (0, 4, 0)
    assert [seq for seq, _ in _outbox(db)] == [1, 2, 3]


def test_a_node_never_restored_is_left_alone(db: Database) -> None:
    key = load_private_key(Path(shared.test_key_file()))
    _emit(db, 1)
    with db.unit_of_work() as session:
        assert restore_pending(session) is None
        assert resume_after_restore(session, hub_seq=50, sender=CODE, private_key=key) is None
    assert [seq for seq, _ in _outbox(db)] == [1]
