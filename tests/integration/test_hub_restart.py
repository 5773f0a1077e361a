"""A hub process started on a registry another process stored (docs/scale.md, "Registry"),
and the hub's kept-alive connections (docs/scale.md, "Fleet").

Real ``tongban hub serve`` processes, nodes signing as the sync worker does:

- process A enrolls the nodes and stores a revocation; A stops; a fresh process B, which
  verified none of it, serves a signed request of an enrolled node at once and still
  refuses the revoked key;
- the hub keeps an idle kept-alive connection open beyond gunicorn's own default (2 s), so a
  client reusing it a few seconds later is answered on it.

PostgreSQL when ``TONGBAN_TEST_PG`` is set, otherwise SQLite.
"""

from __future__ import annotations

import datetime as dt
import http.client
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from node.sync.errors import HubRefused
from schemas.certificates import issue_revocation
from schemas.envelope import Kind, sign_envelope
from schemas.keys import key_id, public_key_b64
from tests.bench.enrolment import PROVINCE, Federation, enroll, small_province
from tests.integration.conftest import run_tongban, stop_process
from tests.integration.test_hub_waiting import Hub, _database_args

pytestmark = pytest.mark.slow


def _hub(work: Path, stack: ExitStack) -> Hub:
    init = run_tongban("hub", "init", "--home", "hub", *_database_args(stack), cwd=work)
    assert init.returncode == 0, init.stderr
    fed = Federation(0, codes=small_province(4, counties=2))
    trust = run_tongban("hub", "trust-root", "--home", "hub", "--code", PROVINCE,
                        "--public-key", public_key_b64(fed.root_key.public_key()), cwd=work)
    assert trust.returncode == 0, trust.stderr
    hub = Hub(work, fed, {})

    def stop_all() -> None:
        for process in hub.processes:
            stop_process(process)

    stack.callback(stop_all)
    return hub


def test_a_fresh_process_serves_the_stored_registry_and_keeps_its_revocation(
    tmp_path: Path,
) -> None:
    with ExitStack() as stack:
        hub = _hub(tmp_path, stack)
        first = hub.serve()
        hub.next_seq = enroll(first, hub.fed)
        townships = [code for code in hub.fed.codes if len(code) == 9]
        kept, revoked = townships[0], townships[1]
        county = revoked[:6]
        seq = hub.next_seq.get(county, 1)
        hub.next_seq[county] = seq + 1
        revocation = issue_revocation(
            issuer_code=county, issuer_key=hub.fed.keys[county], subject=revoked,
            key_id=key_id(hub.fed.keys[revoked].public_key()),
            effective_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),
            reason="key compromised", serial=900_001)
        results = hub.transport(first, county).post_envelopes([sign_envelope(
            kind=Kind.REVOKE, sender=county, to="hub", seq=seq,
            body={"revocation": revocation}, private_key=hub.fed.keys[county]).to_wire()])
        assert [r["status"] for r in results] == ["accepted"], results
        with pytest.raises(HubRefused) as refused:
            hub.transport(first, revoked).fetch_mailbox(0, 10)
        assert refused.value.status == 401
        for process in hub.processes:
            stop_process(process)

        second = hub.serve()  # a new process: its store is built from the database
        assert hub.transport(second, kept).fetch_mailbox(0, 10) == []
        with pytest.raises(HubRefused) as refused:
            hub.transport(second, revoked).fetch_mailbox(0, 10)
        assert refused.value.status == 401
        assert refused.value.details["reason"] == "revoked_key"


def test_an_idle_kept_alive_connection_stays_open_beyond_gunicorns_default(
    tmp_path: Path,
) -> None:
    with ExitStack() as stack:
        hub = _hub(tmp_path, stack)
        url = hub.serve()
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        stack.callback(connection.close)
        connection.request("GET", "/healthz")
        first = connection.getresponse()
        first.read()
        assert first.status == 200
        sock = connection.sock
        time.sleep(3.5)  # gunicorn's default keepalive (2 s) would have closed it
        connection.request("GET", "/healthz")
        second = connection.getresponse()
        second.read()
        assert second.status == 200
        assert connection.sock is sock  # answered on the same connection, not a new one
