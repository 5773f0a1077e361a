"""A long hub outage while the centers keep working: the township receives, accepts and
forwards cases and closes its summaries with the hub down; its worker keeps failing and
backing off.  The hub stays down until that work is done and the township's worker has failed
``FAILURES`` times in a row (its backoff long at its cap; a fixed 15 s before, waited out in
full).  When the hub returns, the backlog drains by itself, in order: the county opens one
linked case per forward, in the order the township forwarded them, and the times of the
outage and of the drain are reported.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.cluster import (
    COUNTY,
    HOMES,
    TOWNSHIP,
    Cluster,
    cluster,
    kill_group,
    wait_until,
)
from tests.integration.conftest import run_tongban

pytestmark = pytest.mark.slow

CASES = 20
# failures in a row of the township's worker before the hub returns: with the suite's backoff
# (0.2 s doubling, cap 1 s, full jitter) the cap is reached at the fourth, so most of these
# retries wait at the cap
FAILURES = 12
IN_A_ROW = re.compile(r"failed \((\d+) in a row\)")


def failures_in_a_row(fed: Cluster, worker: subprocess.Popen[bytes]) -> int:
    """The consecutive failures the worker last logged (push, pull and sync share them)."""
    counts = IN_A_ROW.findall(fed.log_of(worker))
    return int(counts[-1]) if counts else 0


@pytest.fixture
def fed(tmp_path: Path, template: Path) -> Iterator[Cluster]:
    with cluster(tmp_path / "fed", template) as built:
        for code in (COUNTY, TOWNSHIP):
            built.serve_node(code)
            built.staff(code)
        yield built


def test_backlog_drains_in_order_after_a_long_outage(fed: Cluster, report: object) -> None:
    workers = [fed.start_worker(COUNTY), fed.start_worker(TOWNSHIP)]
    fed.kill_hub()
    down_at = time.monotonic()
    forwarded = [fed.forward_case(TOWNSHIP, f"申请人{n}")["number"] for n in range(CASES)]
    summaries = run_tongban("node", "send-summaries", "--home", HOMES[TOWNSHIP], cwd=fed.work)
    assert summaries.returncode == 0, summaries.stderr
    township_worker = workers[1]
    wait_until(lambda: failures_in_a_row(fed, township_worker) >= FAILURES, 60,
               f"the township's worker to fail {FAILURES} times in a row", interval=0.1)
    # the township worked on: everything it signed waits in its outbox, nothing was lost
    backlog = fed.pending(TOWNSHIP)
    kinds = dict(fed.node_rows(TOWNSHIP, "SELECT kind, count(*) FROM sync_outbox "
                                         "WHERE state = 'pending' GROUP BY kind"))
    assert kinds["case.forward"] == CASES
    assert kinds["summary"] >= 1
    assert fed.linked_origins(COUNTY) == []
    assert all(worker.poll() is None for worker in workers), "a worker died in the outage"
    errors = fed.node_rows(TOWNSHIP, "SELECT last_error FROM sync_status")[0][0] or ""
    assert "cannot reach the hub" in errors

    fed.start_hub()
    back_at = time.monotonic()
    outage_s = back_at - down_at
    wait_until(lambda: len(fed.linked_origins(COUNTY)) >= CASES, 120,
               "every forwarded case at the county", interval=0.05)
    drained_s = time.monotonic() - back_at
    wait_until(lambda: fed.pending(TOWNSHIP) == 0, 60, "the township's outbox empty")
    report("outage_backlog_envelopes", backlog)  # type: ignore[operator]
    report("outage_drain_s", round(drained_s, 2))  # type: ignore[operator]
    report("outage_s", round(outage_s, 2))  # type: ignore[operator]

    # each forward opened one case at the county, in the township's order
    assert fed.linked_origins(COUNTY) == forwarded
    # the hub logged the township's envelopes once each, received in seq order
    rows = fed.hub_rows("SELECT seq FROM envelope_log WHERE sender = :s ORDER BY received_at, "
                        "seq", s=TOWNSHIP)
    seqs = [seq for (seq,) in rows]
    assert seqs == sorted(seqs)
    assert len(seqs) == len(set(seqs))
    kinds = dict(fed.hub_rows("SELECT kind, count(*) FROM envelope_log WHERE sender = :s "
                              "GROUP BY kind", s=TOWNSHIP))
    assert kinds["case.forward"] == CASES
    assert fed.node_rows(COUNTY, "SELECT count(*) FROM sync_refused")[0][0] == 0
    failed = fed.node_rows(COUNTY, "SELECT count(*) FROM sync_inbox WHERE state = 'failed'")
    assert failed[0][0] == 0
    for worker in workers:
        kill_group(worker, 15)
