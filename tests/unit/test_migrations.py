"""The Alembic trees create exactly the schema the models describe, on both databases."""

from __future__ import annotations

import click
import pytest
from sqlalchemy import text

from hub.app import MIGRATIONS as HUB_MIGRATIONS
from hub.models import Base as HubBase
from node.app import MIGRATIONS as NODE_MIGRATIONS
from node.metadata import load_all_models
from node.models import Base as NodeBase
from schemas.runtime import migrate
from schemas.runtime.cli_support import ensure_schema
from schemas.runtime.database import make_engine


@pytest.mark.parametrize(
    ("migrations", "metadata"),
    [(NODE_MIGRATIONS, NodeBase.metadata), (HUB_MIGRATIONS, HubBase.metadata)],
    ids=["node", "hub"],
)
def test_migrated_schema_equals_models(database_url: str, migrations, metadata) -> None:
    load_all_models()
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, migrations)
        assert migrate.current_revision(engine) == migrate.head_revision(migrations)
        assert migrate.schema_diff(engine, metadata) == []
        migrate.upgrade(engine, migrations)  # upgrading a current database changes nothing
        assert migrate.schema_diff(engine, metadata) == []
    finally:
        engine.dispose()


def test_models_drifting_from_migrations_are_detected(database_url: str) -> None:
    """The diff check can fail: a table the migrations lack shows up."""
    load_all_models()
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, NODE_MIGRATIONS)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE api_tokens"))
        diff = migrate.schema_diff(engine, NodeBase.metadata)
        assert any(op[0] == "add_table" and op[1].name == "api_tokens" for op in diff)
    finally:
        engine.dispose()


def test_serve_creates_schema_on_empty_database_and_refuses_an_unknown_one(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        assert ensure_schema(engine, NODE_MIGRATIONS) == "created"
        assert ensure_schema(engine, NODE_MIGRATIONS) == "current"
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0000old'"))
        with pytest.raises(click.ClickException, match="run `migrate` first"):
            ensure_schema(engine, NODE_MIGRATIONS)
    finally:
        engine.dispose()


def test_sqlite_pragmas(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


def test_sqlite_write_transactions_take_the_write_lock_up_front(tmp_path) -> None:
    import sqlite3

    from schemas.runtime.database import Database

    path = tmp_path / "lock.db"
    db = Database(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with db.unit_of_work(write=False) as session:
            session.execute(text("SELECT 1"))
            other.execute("BEGIN IMMEDIATE")  # a reader does not block a writer
            other.execute("ROLLBACK")
        with db.unit_of_work() as session:
            session.execute(text("SELECT 1"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        db.dispose()


def test_hub_0008_lists_the_logged_cert_and_revoke_envelopes_in_received_order(
    database_url: str,
) -> None:
    """The registry envelopes of a hub upgraded with a log already full: cert and revoke
    envelopes only, in the order the hub received them."""
    engine = make_engine(database_url)
    rows = [("c2", "cert", "2026-12-01 10:00:02+00:00"),
            ("s1", "summary", "2026-12-01 10:00:00+00:00"),
            ("r1", "revoke", "2026-12-01 10:00:03+00:00"),
            ("c1", "cert", "2026-12-01 10:00:01+00:00")]
    try:
        migrate.upgrade(engine, HUB_MIGRATIONS, "0007")
        with engine.begin() as conn:
            for envelope_id, kind, received_at in rows:
                conn.execute(text(
                    "INSERT INTO envelope_log (id, sender, seq, kind, \"to\", ts, received_at, "
                    "wire) VALUES (:id, '450000', 1, :kind, 'hub', 't', :at, '{}')"),
                    {"id": envelope_id, "kind": kind, "at": received_at})
        migrate.upgrade(engine, HUB_MIGRATIONS)
        with engine.connect() as conn:
            listed = conn.execute(text(
                "SELECT envelope_id, kind FROM registry_envelopes ORDER BY position")).all()
        assert [tuple(row) for row in listed] == [("c1", "cert"), ("c2", "cert"),
                                                   ("r1", "revoke")]
    finally:
        engine.dispose()
