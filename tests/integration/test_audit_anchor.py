"""The audit chain anchored upward, with real processes (issue 16, item 9): a province node
sends signed summaries carrying its audit head to a real hub; ``tongban node verify-audit
--against-hub`` finds the chain intact, then finds a truncation with the head rewound that the
plain check calls intact, and shows a restored older backup as a restore, not as tampering.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.audit.chain import AuditLog
from node.metadata import load_all_models
from schemas.runtime.database import Database
from tests.integration.conftest import run_tongban, wait_for_health
from tests.integration.test_backup_restore import PROVINCE, Setup, _ok, setup

__all__ = ["setup"]

pytestmark = pytest.mark.slow


def append_entries(work: Path, count: int) -> None:
    """Entries as the node's own services write them (one transaction each)."""
    load_all_models()
    db = Database(f"sqlite:///{work / 'p' / 'node.db'}")
    try:
        for number in range(count):
            with db.unit_of_work() as session:
                AuditLog(session).append(actor="admin", role="admin", action="catalog.update",
                                         subject_type="matter", subject_id=f"M{number}",
                                         data={"n": number})
    finally:
        db.dispose()


def truncate(work: Path, keep: int) -> None:
    with sqlite3.connect(work / "p" / "node.db") as connection:
        last = connection.execute("SELECT hash FROM audit_entries WHERE seq = ?",
                                  (keep,)).fetchone()[0]
        connection.execute("DELETE FROM audit_entries WHERE seq > ?", (keep,))
        connection.execute("UPDATE audit_head SET last_seq = ?, last_hash = ?", (keep, last))


def anchors(work: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(work / "hub" / "hub.db") as connection:
        return list(connection.execute(
            "SELECT entries, verdict FROM audit_anchors WHERE node = ? ORDER BY seq",
            (PROVINCE,)))


def against_hub(setup: Setup) -> subprocess.CompletedProcess[str]:
    return run_tongban("node", "verify-audit", "--home", "p", "--against-hub", cwd=setup.work)


def send_summaries(setup: Setup) -> None:
    _ok("node", "send-summaries", "--home", "p", cwd=setup.work)
    assert " 0 rejected" in setup.sync()


@pytest.fixture
def hub_up(setup: Setup) -> Iterator[Setup]:
    with setup.hub() as hub:
        wait_for_health(f"{setup.base}/healthz", hub, setup.work / "hub.log")
        setup.sync()  # the root certificate
        yield setup


def test_truncation_is_found_against_the_hub_and_a_restore_is_shown_as_one(
    hub_up: Setup,
) -> None:
    setup = hub_up
    nothing = against_hub(setup)
    assert nothing.returncode == 0, nothing.stderr
    assert "还没有本中心的审计锚点" in nothing.stdout

    append_entries(setup.work, 3)
    _ok("node", "backup", "--home", "p", "--to", "backup", cwd=setup.work)  # 3 entries
    append_entries(setup.work, 4)
    send_summaries(setup)
    assert [entries for entries, _ in anchors(setup.work)][-1] == 7
    intact = against_hub(setup)
    assert intact.returncode == 0, intact.stderr
    assert "审计链完好：本地共 7 条记录" in intact.stdout

    truncate(setup.work, 5)  # entries 6 and 7 deleted, the head rewound
    plain = run_tongban("node", "verify-audit", "--home", "p", cwd=setup.work)
    assert plain.returncode == 0
    assert "审计链完好：共 5 条记录" in plain.stdout  # what issue 16 found
    caught = against_hub(setup)
    assert caught.returncode == 1, caught.stdout
    assert "审计链异常：记录被截断" in caught.stderr
    assert "锚定了 7 条" in caught.stderr

    # the backup (3 entries) is older than the last anchor (7): restored, and announced
    restored = _ok("node", "restore", "--home", "p", "--from", "backup", "--yes",
                   cwd=setup.work).stdout
    assert "审计链已记录本次恢复" in restored
    shown = against_hub(setup)
    assert shown.returncode == 0, shown.stderr
    assert "本中心已从备份恢复" in shown.stdout
    send_summaries(setup)
    entries, verdict = anchors(setup.work)[-1]
    assert (entries, verdict) == (4, "restored")  # the backup's 3 and the restore's entry
    assert all(verdict != "anomaly" for _, verdict in anchors(setup.work))
    again = against_hub(setup)
    assert again.returncode == 0, again.stderr
    assert "审计链完好：本地共 4 条记录" in again.stdout
