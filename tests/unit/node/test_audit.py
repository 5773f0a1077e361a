"""The audit chain: appends link up, verification names the first tampered entry."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select, text, update

from node.audit import (
    AuditEntry,
    AuditEntryImmutableError,
    AuditHead,
    AuditLog,
    ChainHead,
    ChainReport,
)
from node.audit.chain import DEFAULT_BATCH_SIZE, GENESIS_HASH, entry_hash
from node.cli import node
from node.commands.audit import verify_audit
from node.models import Base
from schemas.canonical import CanonicalError
from schemas.runtime.database import Database

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def stepping_clock(
    start: dt.datetime = dt.datetime(2026, 3, 2, 9, 30, 0, 123456, tzinfo=SHANGHAI),
) -> Callable[[], dt.datetime]:
    """A clock that moves one second and one microsecond on every reading."""
    ticks = itertools.count()

    def read() -> dt.datetime:
        tick = next(ticks)
        return start + dt.timedelta(seconds=tick, microseconds=tick)

    return read


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


def append_cases(db: Database, count: int, clock: Callable[[], dt.datetime] | None = None) -> None:
    """Append ``count`` entries, one transaction each, as a case's life would."""
    clock = clock or stepping_clock()
    for number in range(1, count + 1):
        with db.unit_of_work() as session:
            AuditLog(session, clock).append(
                actor=f"clerk{number % 3}",
                role="clerk",
                action="case.accepted",
                subject_type="case",
                subject_id=f"2026-{number:05d}",
                data={"from": "submitted", "to": "accepted", "reason": "材料齐全", "n": number},
            )


def verify(
    db: Database, anchor: ChainHead | None = None, batch_size: int = DEFAULT_BATCH_SIZE
) -> ChainReport:
    with db.sessions() as session, session.begin():
        return AuditLog(session, batch_size=batch_size).verify(anchor)


def tamper(db: Database, sql: str, **params: object) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(sql), params)


def head_of(db: Database) -> ChainHead:
    with db.sessions() as session:
        return AuditLog(session).head()


# -- appending -------------------------------------------------------------------------------


def test_appends_link_each_entry_to_the_previous_one(database: Database) -> None:
    append_cases(database, 3)
    with database.sessions() as session:
        log = AuditLog(session)
        entries = log.entries()
        assert [e.seq for e in entries] == [1, 2, 3]
        assert entries[0].prev_hash == GENESIS_HASH == "0" * 64
        assert entries[1].prev_hash == entries[0].hash
        assert entries[2].prev_hash == entries[1].hash
        assert len({e.hash for e in entries}) == 3
        assert log.head() == ChainHead(3, entries[2].hash)
        report = log.verify()
    assert report.ok
    assert report.checked == 3
    assert report.first_broken_seq is None
    assert report.reason is None


def test_hash_is_sha256_of_the_canonical_record(database: Database) -> None:
    """The definition in the module docstring, recomputed independently of the module."""
    with database.unit_of_work() as session:
        entry = AuditLog(session, stepping_clock()).append(
            actor="zhang", role="approver", action="case.approved", subject_type="case",
            subject_id="2026-00001", data={"b": [1, 2], "a": "批准"},
        )
    assert entry.data == '{"a":"批准","b":[1,2]}'
    record = (
        '{"action":"case.approved","actor":"zhang","at":"2026-03-02T01:30:00.123456+00:00",'
        '"data":{"a":"批准","b":[1,2]},"prev_hash":"' + "0" * 64 + '","role":"approver",'
        '"seq":1,"subject_id":"2026-00001","subject_type":"case"}'
    )
    assert entry.hash == hashlib.sha256(record.encode()).hexdigest()
    with database.sessions() as session:
        stored = session.scalars(select(AuditEntry)).one()
        assert stored.at == dt.datetime(2026, 3, 2, 1, 30, 0, 123456, tzinfo=dt.UTC)
        assert stored.hash == entry_hash(
            seq=1, at=stored.at, actor="zhang", role="approver", action="case.approved",
            subject_type="case", subject_id="2026-00001", data=json.loads(stored.data),
            prev_hash=GENESIS_HASH,
        )


def test_empty_chain_verifies(database: Database) -> None:
    report = verify(database)
    assert report == verify(database)
    assert report.ok
    assert report.checked == 0
    assert head_of(database) == ChainHead(0, GENESIS_HASH)


def test_append_flushes_but_leaves_the_commit_to_the_caller(database: Database) -> None:
    append_cases(database, 1)
    with database.sessions() as session, session.begin():
        entry = AuditLog(session).append(
            actor="li", role="clerk", action="case.rejected", subject_type="case",
            subject_id="2026-00002", data={"reason": "不符合条件"},
        )
        assert entry.seq == 2
        assert session.execute(select(AuditEntry.seq).where(AuditEntry.seq == 2)).scalar() == 2
        session.rollback()
    assert head_of(database).seq == 1
    assert verify(database).ok


def test_a_session_reused_across_transactions_reads_the_current_head(database: Database) -> None:
    with database.sessions() as first:
        with first.begin():
            AuditLog(first).append(actor="a", role="clerk", action="case.accepted",
                                   subject_type="case", subject_id="1", data={})
        append_cases(database, 2)  # other transactions move the head meanwhile
        with first.begin():
            entry = AuditLog(first).append(actor="a", role="clerk", action="case.completed",
                                           subject_type="case", subject_id="1", data={})
    assert entry.seq == 4
    assert verify(database).ok


def test_entries_of_one_subject(database: Database) -> None:
    append_cases(database, 4)
    with database.unit_of_work() as session:
        AuditLog(session).append(actor="admin", role="admin", action="matter.retired",
                                 subject_type="matter", subject_id="2026-00002", data={})
    with database.sessions() as session:
        log = AuditLog(session)
        assert [e.seq for e in log.entries("case", "2026-00002")] == [2]
        assert [e.seq for e in log.entries(subject_type="case")] == [1, 2, 3, 4]
        assert [e.seq for e in log.entries(subject_id="2026-00002")] == [2, 5]
        assert [e.action for e in log.entries("matter")] == ["matter.retired"]
        assert log.entries("case", "nope") == []


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"data": {"rate": 0.5}}, CanonicalError, r"rate: float"),
        ({"data": {"姓名": "x"}}, CanonicalError, "ASCII"),
        ({"actor": ""}, ValueError, "actor must not be empty"),
        ({"role": "r" * 33}, ValueError, "role is longer than 32"),
        ({"subject_id": "9" * 65}, ValueError, "subject_id is longer than 64"),
    ],
)
def test_bad_appends_are_refused_and_change_nothing(
    database: Database, fields: dict[str, object], error: type[Exception], message: str
) -> None:
    values: dict[str, object] = {
        "actor": "li", "role": "clerk", "action": "case.accepted", "subject_type": "case",
        "subject_id": "2026-00001", "data": {}, **fields,
    }
    with pytest.raises(error, match=message), database.unit_of_work() as session:
        AuditLog(session).append(**values)  # type: ignore[arg-type]
    assert head_of(database).seq == 0


def test_a_naive_clock_is_refused(database: Database) -> None:
    with pytest.raises(ValueError, match="naive"), database.unit_of_work() as session:
        AuditLog(session, clock=lambda: dt.datetime(2026, 1, 1)).append(  # noqa: DTZ001
            actor="li", role="clerk", action="case.accepted", subject_type="case",
            subject_id="1", data={},
        )


# -- no way to rewrite history ---------------------------------------------------------------


def test_the_audit_log_offers_no_way_to_change_or_remove_entries() -> None:
    forbidden = ("update", "delete", "edit", "remove", "modify", "set", "clear", "truncate")
    offending = [
        name
        for name in dir(AuditLog)
        if not name.startswith("__") and any(word in name.lower() for word in forbidden)
    ]
    assert offending == []


def test_the_orm_refuses_to_update_or_delete_an_entry(database: Database) -> None:
    append_cases(database, 2)
    with database.sessions() as session:
        session.get_one(AuditEntry, 1).actor = "mallory"
        with pytest.raises(AuditEntryImmutableError, match="#1 cannot be changed"):
            session.flush()
    with database.sessions() as session:
        session.delete(session.get_one(AuditEntry, 2))
        with pytest.raises(AuditEntryImmutableError, match="#2 cannot be deleted"):
            session.flush()
    assert verify(database).ok


# -- tampering is detected -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("data", '{"from":"submitted","n":2,"reason":"材料齐全","to":"rejected"}'),
        ("actor", "mallory"),
        ("role", "admin"),
        ("action", "case.rejected"),
        ("subject_type", "matter"),
        ("subject_id", "2026-99999"),
    ],
)
def test_an_edited_field_is_named(database: Database, column: str, value: str) -> None:
    append_cases(database, 4)
    tamper(database, f"UPDATE audit_entries SET {column} = :value WHERE seq = 2", value=value)  # noqa: S608
    report = verify(database)
    assert not report.ok
    assert report.first_broken_seq == 2
    assert report.checked == 1
    assert "其内容与其哈希不符" in (report.reason or "")


def test_an_edited_time_is_named(database: Database) -> None:
    append_cases(database, 3)
    with database.engine.begin() as connection:
        connection.execute(
            update(AuditEntry.__table__)
            .where(AuditEntry.__table__.c.seq == 3)
            .values(at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        )
    report = verify(database)
    assert (report.ok, report.first_broken_seq) == (False, 3)


def test_data_rewritten_in_an_equivalent_but_non_canonical_form_is_named(
    database: Database,
) -> None:
    append_cases(database, 3)
    with database.sessions() as session:
        original = json.loads(session.get_one(AuditEntry, 3).data)
    tamper(database, "UPDATE audit_entries SET data = :value WHERE seq = 3",
           value=json.dumps(original, indent=1))
    report = verify(database)
    assert (report.ok, report.first_broken_seq) == (False, 3)
    assert "不是规范格式" in (report.reason or "")


def test_data_that_is_not_json_is_named(database: Database) -> None:
    append_cases(database, 2)
    tamper(database, "UPDATE audit_entries SET data = '{\"rate\": 0.5}' WHERE seq = 1")
    report = verify(database)
    assert (report.ok, report.first_broken_seq) == (False, 1)
    assert "rate: float" in (report.reason or "")


def test_an_edit_with_its_own_hash_recomputed_breaks_the_next_link(database: Database) -> None:
    append_cases(database, 4)
    with database.sessions() as session:
        row = session.get_one(AuditEntry, 2)
        forged = entry_hash(
            seq=2, at=row.at, actor="mallory", role=row.role, action=row.action,
            subject_type=row.subject_type, subject_id=row.subject_id,
            data=json.loads(row.data), prev_hash=row.prev_hash,
        )
    tamper(database, "UPDATE audit_entries SET actor = 'mallory', hash = :h WHERE seq = 2",
           h=forged)
    report = verify(database)
    assert (report.ok, report.first_broken_seq) == (False, 3)
    assert "前一条哈希与第 2 条记录的哈希不符" in (report.reason or "")


def test_a_deleted_middle_entry_is_named_as_a_gap(database: Database) -> None:
    append_cases(database, 5)
    tamper(database, "DELETE FROM audit_entries WHERE seq = 3")
    report = verify(database)
    assert not report.ok
    assert report.first_broken_seq == 3
    assert report.checked == 2
    assert "第 3 条记录缺失" in (report.reason or "")
    assert "从第 2 条跳到第 4 条" in (report.reason or "")


def test_a_deleted_first_entry_is_named(database: Database) -> None:
    append_cases(database, 3)
    tamper(database, "DELETE FROM audit_entries WHERE seq = 1")
    report = verify(database)
    assert (report.ok, report.first_broken_seq, report.checked) == (False, 1, 0)


def test_a_deleted_last_entry_is_a_head_mismatch(database: Database) -> None:
    append_cases(database, 5)
    tamper(database, "DELETE FROM audit_entries WHERE seq = 5")
    report = verify(database)
    assert not report.ok
    assert report.first_broken_seq == 5
    assert report.checked == 4
    assert "链头不符" in (report.reason or "")
    assert "链头记录到第 5 条，链却止于第 4 条（第 5 条记录缺失）" in (report.reason or "")


def test_a_head_whose_hash_was_changed_is_a_mismatch(database: Database) -> None:
    append_cases(database, 2)
    tamper(database, "UPDATE audit_head SET last_hash = :h", h="a" * 64)
    report = verify(database)
    assert (report.ok, report.first_broken_seq) == (False, 2)
    assert "链头不符" in (report.reason or "")


def test_a_missing_head_record_is_reported(database: Database) -> None:
    append_cases(database, 2)
    tamper(database, "DELETE FROM audit_head")
    report = verify(database)
    assert (report.ok, report.first_broken_seq) == (False, None)
    assert "链头记录缺失" in (report.reason or "")


def test_reordered_entries_are_named(database: Database) -> None:
    append_cases(database, 4)
    # swap #2 and #3 (through a free number, since seq is the primary key)
    tamper(database, "UPDATE audit_entries SET seq = 99 WHERE seq = 2")
    tamper(database, "UPDATE audit_entries SET seq = 2 WHERE seq = 3")
    tamper(database, "UPDATE audit_entries SET seq = 3 WHERE seq = 99")
    report = verify(database)
    assert (report.ok, report.first_broken_seq) == (False, 2)
    assert "前一条哈希" in (report.reason or "")


def forge(database: Database, seq: int, prev_hash: str, *, move_head: bool) -> None:
    """Insert a self-consistent entry behind the audit log's back."""
    at = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    values = {"seq": seq, "at": at, "actor": "mallory", "role": "admin",
              "action": "case.approved", "subject_type": "case", "subject_id": "2026-66666"}
    digest = entry_hash(**values, data={}, prev_hash=prev_hash)  # type: ignore[arg-type]
    with database.engine.begin() as connection:
        connection.execute(
            insert(AuditEntry.__table__).values(**values, data="{}", prev_hash=prev_hash,
                                                hash=digest)
        )
        if move_head:
            connection.execute(update(AuditHead.__table__).values(last_seq=seq, last_hash=digest))


def test_a_forged_entry_with_a_wrong_prev_hash_is_named(database: Database) -> None:
    append_cases(database, 3)
    forge(database, 4, prev_hash="f" * 64, move_head=True)
    report = verify(database)
    assert (report.ok, report.first_broken_seq, report.checked) == (False, 4, 3)
    assert "前一条哈希与第 3 条记录的哈希不符" in (report.reason or "")


def test_a_forged_entry_appended_beyond_the_head_is_named(database: Database) -> None:
    append_cases(database, 3)
    forge(database, 4, prev_hash=head_of(database).hash, move_head=False)
    report = verify(database)
    assert (report.ok, report.first_broken_seq) == (False, 4)
    assert "在所记链头（第 3 条）之后" in (report.reason or "")


def test_a_forged_genesis_entry_is_named(database: Database) -> None:
    append_cases(database, 2)
    tamper(database, "UPDATE audit_entries SET prev_hash = :h WHERE seq = 1", h="1" * 64)
    report = verify(database)
    assert (report.ok, report.first_broken_seq) == (False, 1)
    assert "创世值" in (report.reason or "")


def test_a_consistent_rewrite_is_caught_only_by_an_earlier_anchor(database: Database) -> None:
    """What the docstring promises: a full rewrite passes alone, but not against an anchor."""
    append_cases(database, 5)
    anchor = head_of(database)
    assert verify(database, anchor=anchor).ok
    # The attacker deletes the last entry and moves the head back: the chain is consistent.
    with database.sessions() as session:
        fourth = session.get_one(AuditEntry, 4)
        fourth_hash = fourth.hash
    tamper(database, "DELETE FROM audit_entries WHERE seq = 5")
    tamper(database, "UPDATE audit_head SET last_seq = 4, last_hash = :h", h=fourth_hash)
    assert verify(database).ok
    report = verify(database, anchor=anchor)
    assert (report.ok, report.first_broken_seq) == (False, 5)
    assert "锚点记录到第 5 条" in (report.reason or "")
    # ... and then forges a different #5 that links correctly: the anchor's hash differs.
    forge(database, 5, prev_hash=fourth_hash, move_head=True)
    assert verify(database).ok
    report = verify(database, anchor=anchor)
    assert (report.ok, report.first_broken_seq) == (False, 5)
    assert "与记录的锚点不符" in (report.reason or "")


@pytest.mark.parametrize("batch_size", [1, 2, 3, 1000])
def test_verification_reads_in_batches(database: Database, batch_size: int) -> None:
    append_cases(database, 7)
    assert verify(database, batch_size=batch_size).checked == 7
    tamper(database, "UPDATE audit_entries SET actor = 'x' WHERE seq = 6")
    report = verify(database, batch_size=batch_size)
    assert (report.ok, report.first_broken_seq, report.checked) == (False, 6, 5)


# -- concurrency -----------------------------------------------------------------------------


def test_concurrent_appends_never_fork_the_chain(database: Database) -> None:
    if database.engine.dialect.name == "sqlite":
        pytest.skip(
            "PostgreSQL only: the head's row lock is what serialises appends there; SQLite "
            "has no row locks and admits one writer at a time for the whole database"
        )
    threads, per_thread = 8, 25
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait()
            for number in range(per_thread):
                with database.unit_of_work() as session:
                    AuditLog(session).append(
                        actor=f"clerk{worker}", role="clerk", action="case.accepted",
                        subject_type="case", subject_id=f"{worker}-{number}",
                        data={"worker": worker, "number": number},
                    )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread below
            failures.append(exc)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert failures == []
    with database.sessions() as session:
        seqs = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
    assert seqs == list(range(1, threads * per_thread + 1))
    report = verify(database)
    assert report.ok, report.reason
    assert report.checked == threads * per_thread


# -- the command -----------------------------------------------------------------------------


@pytest.fixture
def node_home(tmp_path: Path, database_url: str) -> Iterator[tuple[str, Database]]:
    home = str(tmp_path / "home")
    result = CliRunner().invoke(
        node,
        ["init", "--home", home, "--code", "450981", "--kind", "county_city",
         "--database-url", database_url],
    )
    assert result.exit_code == 0, result.output
    db = Database(database_url)
    Base.metadata.create_all(db.engine)  # a no-op once the migrations create the audit tables
    yield home, db
    db.dispose()


def test_verify_audit_command_reports_an_intact_chain(node_home: tuple[str, Database]) -> None:
    home, db = node_home
    append_cases(db, 3)
    result = CliRunner().invoke(verify_audit, ["--home", home])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "审计链完好：共 3 条记录"


def test_verify_audit_command_names_the_broken_entry(node_home: tuple[str, Database]) -> None:
    home, db = node_home
    append_cases(db, 3)
    tamper(db, "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2")
    result = CliRunner().invoke(verify_audit, ["--home", home])
    assert result.exit_code == 1
    assert result.output.startswith("审计链已损坏，首个问题在第 2 条记录：其内容与其哈希不符")


def test_verify_audit_command_on_an_empty_chain(node_home: tuple[str, Database]) -> None:
    home, _db = node_home
    result = CliRunner().invoke(verify_audit, ["--home", home])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "审计链完好：共 0 条记录"


def test_verify_audit_command_without_a_node_home(tmp_path: Path) -> None:
    result = CliRunner().invoke(verify_audit, ["--home", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "node cannot start" in result.output
