"""No poison messages, with real processes (issue 16, item 10): a correctly signed
``catalog.publish`` of 1.44 MB pushed to a real hub is rejected ``too_large`` and never reaches
the township; and the same envelope placed in the township's inbox directly (as a node of an
older version stored it, or a hostile hub delivered it) no longer stops the township's sync:
``sync-now`` succeeds, it is set aside as a dead letter with its reason, and the province's
later mail, pushed through the hub, applies.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from node.metadata import load_all_models
from node.sync.client import HttpHubTransport
from node.sync.status import status_report
from schemas.envelope import Kind, sign_envelope
from schemas.keys import load_private_key
from schemas.runtime.database import Database
from tests.integration.conftest import free_port, run_tongban, serving, wait_for_health
from tests.integration.federation import _output, _public_key, _run_together, ok_here
from tests.oversized import oversized_catalog_publish
from tests.unit.schemas.test_messages import directive_body

pytestmark = pytest.mark.slow

PROVINCE, CITY, COUNTY, TOWNSHIP = "450000", "450900", "450981", "450981101"
HOMES = {PROVINCE: "p", CITY: "c", COUNTY: "k", TOWNSHIP: "t"}


@dataclass
class Chain:
    work: Path
    base: str

    def sync(self, code: str) -> str:
        """``sync-now`` as a real process (the tests read how it exits)."""
        result = run_tongban("node", "sync-now", "--home", HOMES[code], cwd=self.work)
        assert result.returncode == 0, _output(result)
        return result.stdout

    def set_up_sync(self, code: str) -> None:
        """``sync-now`` while the chain is built, in this process (no interpreter to start)."""
        ok_here("node", "sync-now", "--home", HOMES[code], cwd=self.work)

    def province(self) -> HttpHubTransport:
        key = load_private_key(self.work / HOMES[PROVINCE] / "node_key.pem")
        return HttpHubTransport(self.base, PROVINCE, key)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    work = tmp_path_factory.mktemp("poison")
    kinds = {COUNTY: ("--kind", "county_city")}
    _run_together([("hub", "init", "--home", "hub")]
                  + [("node", "init", "--home", home, "--code", code, *kinds.get(code, ()))
                     for code, home in HOMES.items()], cwd=work)
    keys = {code: _public_key(work / home) for code, home in HOMES.items()}
    ok_here("node", "enroll-self", "--home", HOMES[PROVINCE], cwd=work)
    ok_here("hub", "trust-root", "--home", "hub", "--code", PROVINCE,
            "--public-key", keys[PROVINCE][0], cwd=work)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    for home in HOMES.values():
        with (work / home / "tongban.toml").open("a", encoding="utf-8") as config:
            config.write(f'hub_url = "{base}"\n')
    log = work / "hub.log"
    with serving("hub", "serve", "--home", "hub", "--bind", f"127.0.0.1:{port}",
                 "--workers", "1", cwd=work, log=log, quick_stop=True) as hub:
        wait_for_health(f"{base}/healthz", hub, log)
        fed = Chain(work, base)
        fed.set_up_sync(PROVINCE)
        for parent, child in ((PROVINCE, CITY), (CITY, COUNTY), (COUNTY, TOWNSHIP)):
            ok_here("node", "enroll-child", "--home", HOMES[parent], "--code", child,
                    *kinds.get(child, ()), "--public-key", keys[child][0], cwd=work)
            fed.set_up_sync(parent)
        fed.sync(TOWNSHIP)  # caches the registry (a real process, as the tests' syncs)
        yield fed


def test_the_hub_rejects_an_oversized_signed_envelope(chain: Chain) -> None:
    transport = chain.province()
    key = transport.private_key
    poison = oversized_catalog_publish(key, sender=PROVINCE, seq=500)
    try:
        [result] = transport.post_envelopes([poison.to_wire()])
    finally:
        transport.close()
    assert (result["id"], result["status"], result["reason"]) == (
        poison.id, "rejected", "too_large")
    with sqlite3.connect(chain.work / "hub" / "hub.db") as connection:
        assert connection.execute("SELECT count(*) FROM envelope_log WHERE id = ?",
                                  (poison.id,)).fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM mailbox WHERE envelope_id = ?",
                                  (poison.id,)).fetchone() == (0,)


def test_a_poisoned_inbox_no_longer_stops_the_townships_sync(chain: Chain) -> None:
    transport = chain.province()
    key = transport.private_key
    poison = oversized_catalog_publish(key, sender=PROVINCE, seq=600)
    township_db = chain.work / HOMES[TOWNSHIP] / "node.db"
    with sqlite3.connect(township_db) as connection:  # what an older township stored
        connection.execute(
            "INSERT INTO sync_inbox (id, sender, seq, kind, wire, state, mailbox_cursor, "
            "prev_seq, received_at) VALUES (?, ?, 600, 'catalog.publish', ?, 'held', 0, "
            "NULL, ?)",
            (poison.id, PROVINCE, orjson.dumps(poison.to_wire()).decode(),
             dt.datetime.now(dt.UTC).isoformat()))
    later = sign_envelope(kind=Kind.DIRECTIVE, sender=PROVINCE, to=TOWNSHIP, seq=601,
                          body=directive_body(), private_key=key)
    try:
        [result] = transport.post_envelopes([later.to_wire()])
    finally:
        transport.close()
    assert result["status"] == "accepted", result

    pulled = chain.sync(TOWNSHIP)  # exited 1 with too_large before, every time
    assert "1 applied, 1 failed" in pulled, pulled
    again = chain.sync(TOWNSHIP)
    assert "0 failed, 0 held" in again, again

    with sqlite3.connect(township_db) as connection:
        states = dict(connection.execute("SELECT seq, state FROM sync_inbox WHERE sender = ?",
                                         (PROVINCE,)))
        assert (states[600], states[601]) == ("failed", "applied")
        assert connection.execute("SELECT count(*) FROM directives").fetchone() == (1,)
    load_all_models()
    db = Database(f"sqlite:///{township_db}")
    try:
        with db.unit_of_work(write=False) as session:
            status = status_report(session, dt.datetime.now(dt.UTC))
    finally:
        db.dispose()
    assert status["dead_letter_count"] == 1
    (letter,) = status["incoming_dead_letters"]
    assert (letter["id"], letter["sender"], letter["kind"], letter["reason"]) == (
        poison.id, PROVINCE, "catalog.publish", "too_large")
    assert poison.id in status["last_error"]
