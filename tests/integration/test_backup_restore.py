"""Backup and restore with real processes: a province node whose outbox moved on after its
backup, restored with the hub up and with the hub down; and a hub restored from its backup.
The hub is a real ``tongban hub serve``; the commands that must succeed run in the test's
process (Click's runner: no interpreter to start for each), those whose failure is checked
(``sync-now`` with the hub down, a second ``backup`` into the same folder) as real processes.

The province is the sender because its commands emit envelopes without a web session:
each ``enroll-child`` signs a ``cert`` envelope with the next seq.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from schemas.keys import generate_private_key, load_private_key, public_key_b64
from tests.integration.conftest import (
    free_port,
    invoke_tongban,
    run_tongban,
    serving,
    wait_for_health,
)

pytestmark = pytest.mark.slow

PROVINCE, CITY = "450000", "450900"
OTHER_CITIES = ("450100", "450200", "450300", "450400", "450500")


def _ok(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``tongban ARGS`` run to success in this process (see the module's docstring)."""
    result = invoke_tongban(*args, cwd=cwd)
    assert result.returncode == 0, (f"tongban {' '.join(args)} -> {result.returncode}\n"
                                    f"{result.stdout}\n{result.stderr}")
    return result


@dataclass
class Setup:
    work: Path
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hub(self) -> serving:  # type: ignore[valid-type]
        return serving("hub", "serve", "--home", "hub", "--bind", f"127.0.0.1:{self.port}",
                       "--workers", "1", cwd=self.work, log=self.work / "hub.log",
                       quick_stop=True)

    def enroll(self, code: str) -> None:
        key = public_key_b64(generate_private_key().public_key())
        _ok("node", "enroll-child", "--home", "p", "--code", code, "--public-key", key,
            cwd=self.work)

    def sync(self) -> str:
        return _ok("node", "sync-now", "--home", "p", cwd=self.work).stdout

    def hub_seqs(self) -> list[tuple[int, int]]:
        """(seq, how many envelopes of the province carry it) in the hub's log."""
        with sqlite3.connect(self.work / "hub" / "hub.db") as connection:
            return list(connection.execute(
                "SELECT seq, count(*) FROM envelope_log WHERE sender = ? GROUP BY seq "
                "ORDER BY seq", (PROVINCE,)))

    def node_seqs(self) -> list[tuple[int, str]]:
        with sqlite3.connect(self.work / "p" / "node.db") as connection:
            return list(connection.execute("SELECT seq, state FROM sync_outbox ORDER BY seq"))


@pytest.fixture
def setup(home_dir: Path) -> Setup:
    work = home_dir
    _ok("hub", "init", "--home", "hub", cwd=work)
    _ok("node", "init", "--home", "p", "--code", PROVINCE, cwd=work)
    _ok("node", "enroll-self", "--home", "p", cwd=work)
    root = public_key_b64(load_private_key(work / "p" / "node_key.pem").public_key())
    _ok("hub", "trust-root", "--home", "hub", "--code", PROVINCE, "--public-key", root,
        cwd=work)
    port = free_port()
    with (work / "p" / "tongban.toml").open("a", encoding="utf-8") as config:
        config.write(f'hub_url = "http://127.0.0.1:{port}"\n')
    return Setup(work, port)


def test_restored_node_continues_after_the_seqs_the_hub_has(setup: Setup) -> None:
    with setup.hub() as hub:
        wait_for_health(f"{setup.base}/healthz", hub, setup.work / "hub.log")
        setup.sync()  # seq 1: the root certificate
        setup.enroll(CITY)  # seq 2, still pending when the backup is taken
        _ok("node", "backup", "--home", "p", "--to", "backup", cwd=setup.work)
        assert "1 accepted" in setup.sync()
        setup.enroll(OTHER_CITIES[0])  # seq 3: the backup never sees it
        assert "1 accepted" in setup.sync()

        restored = _ok("node", "restore", "--home", "p", "--from", "backup", "--yes",
                       cwd=setup.work).stdout
        assert "the backup's last seq: 2" in restored, restored
        assert "the hub's last seq from this node: 3" in restored, restored
        assert "next envelope gets seq 4" in restored, restored
        assert "1 envelope(s) this node sent after the backup" in restored, restored
        # seq 2 was pending in the backup: pushed again, the hub has it already
        setup.enroll(OTHER_CITIES[1])
        pushed = setup.sync()
        assert "pushed: 1 accepted, 1 duplicate, 0 rejected, 0 pending" in pushed, pushed

    assert setup.hub_seqs() == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert setup.node_seqs() == [(1, "sent"), (2, "sent"), (4, "sent")]


def test_node_restored_while_the_hub_is_down_resequences_before_its_first_push(
    setup: Setup,
) -> None:
    with setup.hub() as hub:
        wait_for_health(f"{setup.base}/healthz", hub, setup.work / "hub.log")
        setup.sync()  # seq 1
        _ok("node", "backup", "--home", "p", "--to", "backup", cwd=setup.work)
        for code in OTHER_CITIES[:3]:  # seqs 2, 3, 4 reach the hub after the backup
            setup.enroll(code)
        assert "3 accepted" in setup.sync()

    # the hub is down: the node is restored and takes work before it can ask the hub
    restored = _ok("node", "restore", "--home", "p", "--from", "backup", "--yes",
                   cwd=setup.work).stdout
    assert "stays marked restored" in restored, restored
    setup.enroll(OTHER_CITIES[3])  # signed with seq 2 locally: the hub has another seq 2
    setup.enroll(OTHER_CITIES[4])  # seq 3 locally
    failed = run_tongban("node", "sync-now", "--home", "p", cwd=setup.work)
    assert failed.returncode == 1
    assert setup.node_seqs() == [(1, "sent"), (2, "pending"), (3, "pending")]

    with setup.hub() as hub:
        wait_for_health(f"{setup.base}/healthz", hub, setup.work / "hub.log")
        pushed = setup.sync()
        assert "pushed: 2 accepted, 0 duplicate, 0 rejected, 0 pending" in pushed, pushed
        setup.enroll(CITY)
        assert "1 accepted" in setup.sync()

    # re-signed as 5 and 6 (after the hub's 4), then 7: no seq twice, none lost
    assert setup.hub_seqs() == [(seq, 1) for seq in range(1, 8)]
    assert setup.node_seqs() == [(1, "sent"), (5, "sent"), (6, "sent"), (7, "sent")]


def test_restored_hub_keeps_cursors_ahead_and_takes_the_resent_envelopes(setup: Setup) -> None:
    with setup.hub() as hub:
        wait_for_health(f"{setup.base}/healthz", hub, setup.work / "hub.log")
        setup.sync()  # seq 1
        _ok("hub", "backup", "--home", "hub", "--to", "hub-backup", cwd=setup.work)
        backup_time = dt.datetime.now(dt.UTC).isoformat()
        for code in OTHER_CITIES[:2]:
            setup.enroll(code)
        assert "2 accepted" in setup.sync()

    restored = _ok("hub", "restore", "--home", "hub", "--from", "hub-backup", "--yes",
                   "--cursor-gap", "1000", cwd=setup.work).stdout
    assert "mailbox cursors continue after 1000" in restored, restored
    assert setup.hub_seqs() == [(1, 1)]  # what came after the backup is gone from the hub
    resent = _ok("node", "resend", "--home", "p", "--since", backup_time, cwd=setup.work)
    assert "2 envelope(s) pending again" in resent.stdout

    with setup.hub() as hub:
        wait_for_health(f"{setup.base}/healthz", hub, setup.work / "hub.log")
        pushed = setup.sync()
        assert "pushed: 2 accepted, 0 duplicate, 0 rejected, 0 pending" in pushed, pushed

    assert setup.hub_seqs() == [(1, 1), (2, 1), (3, 1)]
    with sqlite3.connect(setup.work / "hub" / "hub.db") as connection:
        highest = connection.execute("SELECT max(cursor) FROM mailbox").fetchone()[0]
    assert highest >= 1000  # the next mailbox row comes after any cursor a node held


def test_backup_refuses_to_overwrite(setup: Setup) -> None:
    _ok("node", "backup", "--home", "p", "--to", "backup", cwd=setup.work)
    again = run_tongban("node", "backup", "--home", "p", "--to", "backup", cwd=setup.work)
    assert again.returncode == 1
    assert "not empty" in again.stderr
    assert oct((setup.work / "backup").stat().st_mode & 0o777) == "0o700"
    assert oct((setup.work / "backup" / "node_key.pem").stat().st_mode & 0o777) == "0o600"
