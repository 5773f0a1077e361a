"""The audit chain checked against the hub's anchor (issue 16, item 9): a truncation with the
head rewound and a rewritten entry both pass the chain's own check ("intact") but not the
anchor's; a restore of an older backup, announced by ``tongban node restore``, is shown as a
restore, not as tampering; and every signed summary carries the head."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from node.audit.anchoring import (
    BROKEN,
    INTACT,
    NO_ANCHOR,
    RESTORED,
    REWRITTEN,
    TRUNCATED,
    AnchorCheck,
    check_against,
)
from node.audit.chain import AuditLog, entry_hash
from node.audit.models import AuditEntry
from node.composition import NodeServices
from node.config import node_settings
from node.models import Base
from node.sync.models import OutboxEnvelope
from schemas.envelope import parse_envelope
from schemas.keys import generate_private_key
from schemas.runtime.database import Database
from tests.conftest import NODE_IDENTITY
from tests.unit.node.test_audit import append_cases, tamper


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


def anchor_now(db: Database, seq: int = 7) -> dict[str, Any]:
    """The anchor the hub would hold after the node's next summary (its JSON answer)."""
    with db.sessions() as session:
        found = AuditLog(session).anchor()
    return {**found, "node": "450981", "seq": seq, "received_at": "2026-12-01T02:00:00+00:00",
            "verdict": "ok"}


def check(db: Database, anchor: dict[str, Any] | None) -> AnchorCheck:
    with db.sessions() as session, session.begin():
        return check_against(session, anchor)


def plain_verify_ok(db: Database) -> bool:
    with db.sessions() as session, session.begin():
        return AuditLog(session).verify().ok


def truncate(db: Database, keep: int) -> None:
    """Delete the entries after ``keep`` and rewind the head to it (issue 16's attack)."""
    with db.engine.begin() as connection:
        last = connection.execute(text("SELECT hash FROM audit_entries WHERE seq = :n"),
                                  {"n": keep}).scalar_one()
        connection.execute(text("DELETE FROM audit_entries WHERE seq > :n"), {"n": keep})
        connection.execute(text("UPDATE audit_head SET last_seq = :n, last_hash = :h"),
                           {"n": keep, "h": last})


def rewrite_from(db: Database, seq: int) -> None:
    """Change entry ``seq`` and recompute every hash after it and the head: the chain
    verifies in itself again."""
    with db.sessions() as session:
        rows = list(session.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq)))
    prev = None
    with db.engine.begin() as connection:
        for row in rows:
            if row.seq < seq:
                prev = row.hash
                continue
            actor = "mallory" if row.seq == seq else row.actor
            digest = entry_hash(seq=row.seq, at=row.at, actor=actor, role=row.role,
                                action=row.action, subject_type=row.subject_type,
                                subject_id=row.subject_id, data=json.loads(row.data),
                                prev_hash=prev or row.prev_hash)
            connection.execute(
                text("UPDATE audit_entries SET actor = :a, prev_hash = :p, hash = :h "
                     "WHERE seq = :n"),
                {"a": actor, "p": prev or row.prev_hash, "h": digest, "n": row.seq})
            prev = digest
        connection.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})


def test_an_intact_chain_matches_its_anchor(database: Database) -> None:
    append_cases(database, 5)
    anchor = anchor_now(database)
    append_cases(database, 2)  # the chain grew since the summary
    result = check(database, anchor)
    assert (result.outcome, result.anomaly, result.local_entries, result.anchored_entries) == (
        INTACT, False, 7, 5)
    assert "审计链完好" in result.message()
    assert "2026-12-01 10:00" in result.message()  # the anchor's time, in Beijing time


def test_truncation_with_the_head_rewound_is_detected(database: Database) -> None:
    append_cases(database, 12)
    anchor = anchor_now(database)
    truncate(database, 9)
    assert plain_verify_ok(database)  # what issue 16 found: "intact"
    result = check(database, anchor)
    assert (result.outcome, result.anomaly, result.local_entries, result.anchored_entries) == (
        TRUNCATED, True, 9, 12)
    assert "审计链异常：记录被截断" in result.message()
    assert "锚定了 12 条" in result.message()
    assert "本地只有 9 条" in result.message()
    # new entries after the truncation do not hide it: entry #12 is another one now
    append_cases(database, 5)
    assert check(database, anchor).outcome == REWRITTEN


def test_a_rewritten_entry_is_detected(database: Database) -> None:
    append_cases(database, 8)
    anchor = anchor_now(database)
    rewrite_from(database, 3)
    assert plain_verify_ok(database)
    result = check(database, anchor)
    assert (result.outcome, result.anomaly) == (REWRITTEN, True)
    assert "审计链异常：记录被改写" in result.message()
    assert "第 8 条" in result.message()


def test_an_edited_entry_the_chain_itself_catches_is_broken(database: Database) -> None:
    append_cases(database, 4)
    anchor = anchor_now(database)
    tamper(database, "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2")
    result = check(database, anchor)
    assert (result.outcome, result.anomaly) == (BROKEN, True)
    assert "第 2 条记录有误" in result.message()


def test_a_restored_backup_older_than_its_last_anchor_is_a_restore(database: Database) -> None:
    append_cases(database, 10)  # the backup is taken here
    append_cases(database, 2)
    anchor = anchor_now(database)  # the hub anchored 12 entries
    truncate(database, 10)  # the backup put back: 10 entries
    assert check(database, anchor).outcome == TRUNCATED  # unannounced: an anomaly
    with database.unit_of_work() as session:
        restore_id = AuditLog(session).record_restore(node_code="450981", backup="backup")
    result = check(database, anchor)
    assert (result.outcome, result.anomaly, result.local_entries) == (RESTORED, False, 11)
    assert "已从备份恢复" in result.message()
    assert restore_id in result.message()
    with database.sessions() as session:
        (entry,) = AuditLog(session).entries(subject_type="node")
        assert (entry.seq, entry.action, json.loads(entry.data)["backup_entries"]) == (
            11, "audit.restored", 10)
    # once the hub anchored the restored chain, the usual check applies again
    anchored = anchor_now(database, seq=9)
    assert anchored["restore"] == restore_id
    assert check(database, anchored).outcome == INTACT
    truncate(database, 10)
    assert check(database, anchored).outcome == TRUNCATED


def test_without_an_anchor_the_chain_is_checked_alone(database: Database) -> None:
    append_cases(database, 3)
    result = check(database, None)
    assert (result.outcome, result.anomaly) == (NO_ANCHOR, False)
    assert "还没有本中心的审计锚点" in result.message()
    assert "完好" in result.message()


def test_every_signed_summary_carries_the_audit_head(database: Database) -> None:
    settings = node_settings({**NODE_IDENTITY, "database_url": database.url,
                              "secret_key": "k" * 32})
    append_cases(database, 4)
    moment = dt.datetime(2026, 12, 20, 4, 0, tzinfo=dt.UTC)
    NodeServices(settings, generate_private_key()).send_summaries(database, clock=lambda: moment)
    with database.unit_of_work() as session:
        restore_id = AuditLog(session).record_restore(node_code="450981", backup="b")
    NodeServices(settings, generate_private_key()).send_summaries(database, clock=lambda: moment)
    with database.unit_of_work(write=False) as session:
        bodies = [parse_envelope(row.wire).body for row in session.scalars(
            select(OutboxEnvelope).order_by(OutboxEnvelope.seq))]
        head = AuditLog(session).head()
    audits = [body["audit"] for body in bodies]
    assert audits[0]["entries"] == 4
    assert audits[0]["restore"] is None
    assert audits[1] == {"entries": 5, "head": head.hash, "restore": restore_id}
    # hashes and counts only: nothing else of the chain travels
    assert all(set(audit) == {"entries", "head", "restore"} for audit in audits)
