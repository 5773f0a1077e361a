"""Crashes: the hub SIGKILLed in the middle of a batch push and restarted; a node's worker
SIGKILLed in the middle of a push and of a pull.  Every envelope arrives exactly once and is
applied once, in the sender's order.

The county issues numbered directives (督办) to the township: each is one ``directive``
envelope, county → hub → township, applied there as one incoming directive row, so the
counts on all three sides can be compared exactly.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.cluster import COUNTY, TOWNSHIP, Cluster, cluster, kill_group, wait_until
from tests.integration.conftest import TONGBAN, clean_env

pytestmark = pytest.mark.slow

N = 300


@pytest.fixture
def fed(tmp_path: Path, template: Path) -> Iterator[Cluster]:
    with cluster(tmp_path / "fed", template) as built:
        yield built


def _expect_delivered_once(fed: Cluster, label: str, count: int) -> None:
    """The hub logged each directive once, the township applied each once and in order."""
    rows = fed.hub_rows("SELECT seq, count(*) FROM envelope_log WHERE sender = :s AND "
                        "kind = 'directive' GROUP BY seq ORDER BY seq", s=COUNTY)
    assert len(rows) == count
    assert all(copies == 1 for _, copies in rows)
    seqs = [seq for seq, _ in rows]
    assert seqs == sorted(set(seqs))
    # the township's mailbox holds each once, in the county's seq order
    mailbox = fed.hub_rows(
        "SELECT e.seq FROM mailbox m JOIN envelope_log e ON e.id = m.envelope_id "
        "WHERE m.addressee = :t AND e.sender = :s ORDER BY m.cursor", t=TOWNSHIP, s=COUNTY)
    assert [seq for (seq,) in mailbox] == seqs
    assert fed.incoming_directives(TOWNSHIP, label) == [f"{label}-{n:05d}" for n in range(count)]
    inbox = fed.node_rows(TOWNSHIP, "SELECT state, count(*) FROM sync_inbox WHERE sender = :s "
                                    "AND kind = 'directive' GROUP BY state", s=COUNTY)
    assert inbox == [("applied", count)]
    assert fed.node_rows(TOWNSHIP, "SELECT count(*) FROM sync_refused")[0][0] == 0
    outbox = fed.node_rows(COUNTY, "SELECT state, count(*) FROM sync_outbox "
                                   "WHERE kind = 'directive' GROUP BY state")
    assert outbox == [("sent", count)]


def test_hub_killed_mid_batch_push_then_restarted(fed: Cluster) -> None:
    fed.issue_directives(COUNTY, TOWNSHIP, N, "hubkill")
    pusher = subprocess.Popen(
        [TONGBAN, "node", "sync-now", "--home", "k"], cwd=fed.work, env=clean_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    try:
        # kill the hub (master and workers) once some batches are in and others are not
        at_kill = wait_until(lambda: fed.hub_count(COUNTY, "directive") or None, 30,
                             "the first accepted batch", interval=0.005)
        fed.kill_hub()
        output, _ = pusher.communicate(timeout=60)
    finally:
        if pusher.poll() is None:
            pusher.kill()
    assert 0 < at_kill < N, f"the kill did not land mid-push ({at_kill} of {N} in)"
    assert pusher.returncode != 0, output  # the push was cut off
    # the hub may have committed a batch whose answer never reached the node
    known = N - fed.pending(COUNTY)
    logged = fed.hub_count(COUNTY, "directive")
    assert known <= logged < N

    fed.start_hub()
    pushed = fed.sync_ok(COUNTY)
    assert (f"pushed: {N - logged} accepted, {logged - known} duplicate, 0 rejected, "
            "0 pending") in pushed, pushed
    fed.sync_ok(TOWNSHIP)
    _expect_delivered_once(fed, "hubkill", N)


def test_worker_killed_mid_push_and_mid_pull(fed: Cluster) -> None:
    fed.issue_directives(COUNTY, TOWNSHIP, N, "workerkill")
    # mid-push: the county's worker pushes at once (push-now); kill it part-way
    worker = fed.start_worker(COUNTY)
    pushed = wait_until(lambda: fed.hub_count(COUNTY, "directive") or None, 30,
                        "the worker's first batch", interval=0.005)
    kill_group(worker)
    at_kill = fed.hub_count(COUNTY, "directive")
    assert 0 < pushed <= at_kill < N, f"{at_kill} of {N} pushed when the worker died"
    assert fed.pending(COUNTY) > 0
    worker = fed.start_worker(COUNTY)
    wait_until(lambda: fed.pending(COUNTY) == 0, 60, "the county's outbox to drain")
    kill_group(worker, 15)
    assert fed.hub_count(COUNTY, "directive") == N

    # mid-pull: the township's worker long-polls its mailbox; kill it part-way
    def stored() -> int:
        return int(fed.node_rows(TOWNSHIP, "SELECT count(*) FROM sync_inbox "
                                           "WHERE sender = :s", s=COUNTY)[0][0])

    worker = fed.start_worker(TOWNSHIP)
    wait_until(lambda: stored() or None, 30, "the township's first pulled page",
               interval=0.005)
    kill_group(worker)
    at_kill = stored()
    assert 0 < at_kill < N, f"{at_kill} of {N} pulled when the worker died"
    worker = fed.start_worker(TOWNSHIP)
    wait_until(lambda: len(fed.incoming_directives(TOWNSHIP, "workerkill")) >= N, 60,
               "every directive applied at the township")
    time.sleep(1.0)  # a second copy, were one coming, would land now
    kill_group(worker, 15)
    _expect_delivered_once(fed, "workerkill", N)
