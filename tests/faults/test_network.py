"""A network that fails in every way a relay can: connections dropped before the hub sees the
request, answers lost after the hub acted, answers delayed past the client's timeout, answers
cut in half.  Both the county (pushing) and the township (pulling and acknowledging) talk to
the hub through the faulty relay; their workers retry until everything converges, and every
directive is logged, delivered and applied exactly once, in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.cluster import COUNTY, TOWNSHIP, Cluster, cluster, kill_group, wait_until
from tests.faults.proxy import FaultyProxy
from tests.faults.test_crashes import _expect_delivered_once

pytestmark = pytest.mark.slow

N = 80
CLIENT_TIMEOUT = 1.5  # hub_timeout_seconds of both nodes
PULL_WAIT = 2.0


@pytest.fixture
def fed(tmp_path: Path, template: Path) -> Iterator[Cluster]:
    settings = {"hub_timeout_seconds": CLIENT_TIMEOUT, "pull_wait_seconds": PULL_WAIT}
    with cluster(tmp_path / "fed", template, settings=settings) as built:
        yield built


def test_retries_through_a_faulty_relay_converge_without_duplicates(
    fed: Cluster, report: object
) -> None:
    with FaultyProxy(fed.hub_port, delay=CLIENT_TIMEOUT + PULL_WAIT + 2) as relay:
        for code in (COUNTY, TOWNSHIP):
            fed.configure(code, hub_url=f"http://127.0.0.1:{relay.port}")
        fed.issue_directives(COUNTY, TOWNSHIP, N, "flaky")
        workers = [fed.start_worker(COUNTY), fed.start_worker(TOWNSHIP)]
        wait_until(lambda: len(fed.incoming_directives(TOWNSHIP, "flaky")) >= N, 150,
                   "every directive applied at the township through the relay", interval=0.2)
        wait_until(lambda: fed.pending(COUNTY) == 0, 60, "the county's outbox to drain")
        for worker in workers:
            kill_group(worker, 15)
        counts = dict(relay.counts)
    report("network_faults_injected", counts)  # type: ignore[operator]
    for mode in ("drop", "lost", "delay", "cut"):
        assert counts.get(mode, 0) >= 1, counts
    _expect_delivered_once(fed, "flaky", N)
