"""The suite's own machinery (tests/apps.py, tests/databases.py): a lent app comes back as
``create_app`` left it, on the next test's database, and a template copy holds the tables."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import inspect

from node import create_app
from tests.apps import SharedApp, config_key
from tests.conftest import node_config
from tests.databases import Templates, metadata_of, schema_for


def test_a_lent_app_is_reset_and_on_each_tests_own_database(tmp_path: Path) -> None:
    templates = Templates()
    first_url, second_url = (f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db"))
    templates.copy_sqlite("node", tmp_path / "a.db")
    templates.copy_sqlite("node", tmp_path / "b.db")
    shared = SharedApp(create_app(node_config(first_url)))

    with shared.lent(first_url) as app:
        assert app.extensions["tongban_db"].url == first_url
        assert app.config["TONGBAN"].database_url == first_url
        assert app.test_client().get("/healthz").status_code == 200
        app.config["TONGBAN"] = replace(app.config["TONGBAN"], lookup_attempts_per_minute=1)
        app.config["EXTRA"] = True
        app.extensions["a_cache"] = {"stale": 1}

    with shared.lent(second_url) as app:
        assert app.extensions["tongban_db"].url == second_url
        assert app.config["TONGBAN"].database_url == second_url
        assert app.config["TONGBAN"].lookup_attempts_per_minute == (
            shared.settings.lookup_attempts_per_minute) != 1
        assert "EXTRA" not in app.config
        assert "a_cache" not in app.extensions
        assert app.test_client().get("/healthz").status_code == 200
    templates.cleanup()


def test_a_template_copy_holds_every_table_and_no_rows(tmp_path: Path) -> None:
    templates = Templates()
    templates.copy_sqlite("hub", tmp_path / "hub.db")

    from schemas.runtime.database import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        assert set(inspect(engine).get_table_names()) == set(metadata_of("hub").tables)
    finally:
        engine.dispose()
    templates.cleanup()


def test_which_schema_a_tests_fixtures_build() -> None:
    wanted = {"app": "node", "make_hub": "hub", "hub_app": "hub"}

    assert schema_for(["database_url", "app", "client"], wanted) == "node"
    assert schema_for(["database_url", "hub_app", "make_hub"], wanted) == "hub"
    assert schema_for(["database_url"], wanted) is None
    assert schema_for(["app", "make_hub"], wanted) is None  # both: neither template


def test_configurations_differing_only_per_test_share_an_app() -> None:
    one = node_config("sqlite:///one.db")
    two = node_config("sqlite:///two.db")

    assert one["secret_key"] != two["secret_key"]
    assert config_key(one, "database_url", "secret_key") == config_key(
        two, "database_url", "secret_key")
    assert config_key(one, "database_url", "secret_key") != config_key(
        {**one, "max_content_length": 1}, "database_url", "secret_key")


def test_a_postgresql_schema_comes_back_empty_or_is_dropped() -> None:
    from sqlalchemy import create_engine, text

    from tests.conftest import PG_SKIP, PG_URL

    if not PG_URL:
        pytest.skip(PG_SKIP)
    templates = Templates()
    try:
        with templates.postgresql_schema(PG_URL, "hub") as url:
            first = url
            engine = create_engine(url)
            with engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO blobs (sha256, size, data, uploaded_by, uploaded_at) "
                    "VALUES ('x', 1, 'a', '450000', now())"))
            engine.dispose()
        with templates.postgresql_schema(PG_URL, "hub") as url:
            assert url == first  # the same schema, lent again
            engine = create_engine(url)
            with engine.begin() as connection:
                assert connection.scalar(text("SELECT count(*) FROM blobs")) == 0
                connection.execute(text("CREATE TABLE extra (id integer)"))
            engine.dispose()
        with templates.postgresql_schema(PG_URL, "hub") as url:
            assert url != first  # a test changed its shape: dropped, a new one made
    finally:
        templates.cleanup()


def test_a_lent_postgresql_schema_restarts_its_sequences_and_empties_children_first() -> None:
    from sqlalchemy import create_engine, text

    from tests.conftest import PG_SKIP, PG_URL

    if not PG_URL:
        pytest.skip(PG_SKIP)
    templates = Templates()
    account = ("INSERT INTO staff_accounts (username, display_name, role, scope_code, "
               "password_hash, active, created_at) VALUES (:name, :name, 'viewer', '450000', "
               "'x', true, now()) RETURNING id")
    token = ("INSERT INTO staff_tokens (account_id, token_hash, created_at, expires_at) "
             "VALUES (:account, :digest, now(), now()) RETURNING id")
    try:
        with templates.postgresql_schema(PG_URL, "hub") as url:
            first = url
            engine = create_engine(url)
            with engine.begin() as connection:
                ids = [connection.scalar(text(account), {"name": f"u{n}"}) for n in range(3)]
                assert ids == [1, 2, 3]
                # a child row holding its parent: the parent cannot go first
                assert connection.scalar(text(token), {"account": 3, "digest": "d"}) == 1
            engine.dispose()
        with templates.postgresql_schema(PG_URL, "hub") as url:
            assert url == first  # emptied and lent again, not dropped
            engine = create_engine(url)
            with engine.begin() as connection:
                assert connection.scalar(text("SELECT count(*) FROM staff_accounts")) == 0
                assert connection.scalar(text("SELECT count(*) FROM staff_tokens")) == 0
                # each sequence starts again, as in a new schema (TRUNCATE … RESTART IDENTITY)
                assert connection.scalar(text(account), {"name": "again"}) == 1
                assert connection.scalar(text(token), {"account": 1, "digest": "e"}) == 1
            engine.dispose()
    finally:
        templates.cleanup()


def test_ports_come_from_this_workers_block_once_each() -> None:
    from tests.integration.conftest import _port_block, free_port, free_port_range

    start, end = _port_block()
    handed = [free_port(), free_port_range(23), free_port()]
    spans = [range(handed[0], handed[0] + 1), range(handed[1], handed[1] + 23),
             range(handed[2], handed[2] + 1)]

    assert end - start == 1000
    assert start >= 10_000  # below the kernel's ephemeral ports
    assert end <= 32_000
    assert all(start <= port < end for span in spans for port in span)
    every = [port for span in spans for port in span]
    assert len(every) == len(set(every))  # none handed out twice


# a stand-in for a served process: on SIGTERM it logs what gunicorn's master logs once its
# workers are gone, then takes its time to end, as an interpreter tearing down an app does
SLOW_TO_END = """
import signal, sys, time
def stop(*_):
    print("[INFO] Shutting down: Master", flush=True)
    time.sleep(float(sys.argv[1]))
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


def test_servers_stop_side_by_side_and_are_not_waited_for_after_their_master_is_done(
        tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from tests.integration.conftest import stop_processes

    def start(name: str, linger: float) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-c", SLOW_TO_END, str(linger)],
                                       stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while b"ready" not in log.read_bytes():
            assert time.monotonic() < deadline, "the stand-in did not start"
            time.sleep(0.05)
        return process, log

    # without its log, each is waited for until it ends: side by side, not one after the other
    both = [start(name, 3.0) for name in ("a", "b")]
    began = time.monotonic()
    stop_processes([process for process, _ in both])
    assert [process.returncode for process, _ in both] == [0, 0]
    assert time.monotonic() - began < 5.9  # two 3 s endings overlapped

    # with its log, it is killed once the master's line is there, its ending not waited for
    process, log = start("c", 30.0)
    began = time.monotonic()
    stop_processes([process], logs={process: log})
    assert process.returncode == -9
    assert time.monotonic() - began < 15
    assert "Shutting down: Master" in log.read_text()
