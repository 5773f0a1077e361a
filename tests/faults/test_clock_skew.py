"""A node whose clock is off by ten minutes, against a real hub.

The rule (docs/sync.md, "Clocks"): the hub refuses a *request* whose signed time is more than
five minutes from its own clock (401 ``stale_time``), so a node ten minutes fast or slow can
neither push nor pull; nothing it signed is lost or marked dead meanwhile — its envelopes
stay pending, the error names the reason, and once its clock is right they go, carrying the
skewed ``ts`` they were signed with, and are applied.  Four minutes off is within the window.

The node's sync runs here in the test process with its clock shifted (the same SyncService
and HTTP transport the worker runs, given another clock), against the hub process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from node.composition import NodeServices
from node.config import node_settings
from node.directives.service import DirectiveService
from node.sync.client import HttpHubTransport
from node.sync.errors import HubRefused
from node.sync.keys import load_node_key
from node.sync.names import RegistryCenterNames
from node.sync.outbox import SigningOutbox
from node.sync.service import SyncService
from schemas.runtime.database import utcnow
from tests.faults.cluster import COUNTY, HOMES, TOWNSHIP, Cluster, cluster

pytestmark = pytest.mark.slow


@pytest.fixture
def fed(tmp_path: Path, template: Path) -> Iterator[Cluster]:
    with cluster(tmp_path / "fed", template) as built:
        yield built


def shifted(minutes: int) -> Callable[[], dt.datetime]:
    return lambda: utcnow() + dt.timedelta(minutes=minutes)


def county_sync(fed: Cluster, minutes: int) -> SyncService:
    settings = node_settings({"home": str(fed.work / HOMES[COUNTY])})
    key = load_node_key(settings)
    transport = HttpHubTransport(fed.hub, COUNTY, key, timeout=10, clock=shifted(minutes))
    fed.stack.callback(transport.close)
    return NodeServices(settings, key).sync_service(fed.node_db(COUNTY), transport,
                                                     clock=shifted(minutes))


def sign(fed: Cluster, minutes: int, text: str) -> None:
    settings = node_settings({"home": str(fed.work / HOMES[COUNTY])})
    key = load_node_key(settings)
    with fed.node_db(COUNTY).unit_of_work() as session:
        DirectiveService(session, outbox=SigningOutbox(COUNTY, key),
                         names=RegistryCenterNames(COUNTY, ""), clock=shifted(minutes)).issue(
            "chief", TOWNSHIP, "text", text, dt.date(2026, 12, 31))


@pytest.mark.parametrize("minutes", [10, -10])
def test_ten_minutes_off_is_refused_and_nothing_is_lost(fed: Cluster, minutes: int) -> None:
    sign(fed, minutes, f"skew{minutes}-0")
    sign(fed, minutes, f"skew{minutes}-1")
    service = county_sync(fed, minutes)
    with pytest.raises(HubRefused) as refused:
        service.push()
    assert refused.value.status == 401
    assert "stale_time" in refused.value.message
    with pytest.raises(HubRefused):
        service.pull()
    states = fed.node_rows(COUNTY, "SELECT state, count(*) FROM sync_outbox "
                                   "WHERE kind = 'directive' GROUP BY state")
    assert states == [("pending", 2)]  # not dead: the envelopes are fine, the clock is not
    error = fed.node_rows(COUNTY, "SELECT last_error FROM sync_status")[0][0]
    assert "stale_time" in error
    assert fed.hub_count(COUNTY, "directive") == 0

    # the clock is put right: the same envelopes go, with the ts they were signed with
    pushed = county_sync(fed, 0).push()
    assert (pushed.sent, pushed.dead, pushed.pending) == (2, 0, 0)
    stamps = [dt.datetime.fromisoformat(ts) for (ts,) in fed.hub_rows(
        "SELECT ts FROM envelope_log WHERE sender = :s AND kind = 'directive'", s=COUNTY)]
    assert all(abs((stamp - utcnow()).total_seconds() - minutes * 60) < 120
               for stamp in stamps)
    if minutes > 0:  # (ten minutes slow may predate a certificate issued minutes ago)
        fed.sync_ok(TOWNSHIP)
        assert fed.incoming_directives(TOWNSHIP, f"skew{minutes}") == [
            f"skew{minutes}-0", f"skew{minutes}-1"]


def test_four_minutes_off_is_within_the_window(fed: Cluster) -> None:
    sign(fed, 4, "skew4-0")
    pushed = county_sync(fed, 4).push()
    assert (pushed.sent, pushed.dead, pushed.pending) == (1, 0, 0)
    county_sync(fed, -4).pull()
    fed.sync_ok(TOWNSHIP)
    assert fed.incoming_directives(TOWNSHIP, "skew4") == ["skew4-0"]
