"""Two hub processes on one database behind Debian's nginx, with the sample proxy settings
(deploy/nginx/tongban-hub-proxy.conf, included as it is): a real node's worker pushes and
long-polls through nginx, and a forward pushed straight to a hub process reaches the node
through the long poll it holds — not through its periodic sync, which is set to ten minutes.

nginx is installed by ``make test`` and ``.ci/run`` when missing (like Chromium).  The hubs
run on PostgreSQL when ``TONGBAN_TEST_PG`` is set, else on one SQLite file.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.sync.client import HttpHubTransport
from schemas.certificates import issue_certificate
from schemas.envelope import Kind, sign_envelope
from schemas.keys import load_private_key, public_key_b64
from tests.bench.enrolment import PROVINCE, Federation, enroll, forward_body, small_province
from tests.integration.conftest import (
    REPO,
    TONGBAN,
    clean_env,
    free_port,
    run_tongban,
    stop_process,
    wait_for_health,
)
from tests.integration.test_hub_waiting import Hub, _database_args

pytestmark = pytest.mark.slow

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
COUNTY = "450981"  # a real node; its city 450900 is one of the federation's simulated nodes
TOWNSHIP = "450981101"  # simulated, certified by the real county's key
PROXY_CONF = REPO / "deploy" / "nginx" / "tongban-hub-proxy.conf"


def _nginx_conf(prefix: Path, port: int, hubs: list[int]) -> Path:
    servers = "\n".join(f"        server 127.0.0.1:{hub} max_fails=3 fail_timeout=10s;"
                        for hub in hubs)
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
user root;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream tongban_hub {{
        least_conn;
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        include {PROXY_CONF};
    }}
}}
""", encoding="utf-8")
    return conf


@pytest.fixture
def behind_nginx(tmp_path: Path) -> Iterator[tuple[Hub, str, list[str]]]:
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed: `make test` and .ci/run install Debian's nginx")
    work = tmp_path / "work"
    work.mkdir()
    with ExitStack() as stack:
        init = run_tongban("hub", "init", "--home", "hub", *_database_args(stack), cwd=work)
        assert init.returncode == 0, init.stderr
        fed = Federation(0, codes=small_province(0))
        trust = run_tongban("hub", "trust-root", "--home", "hub", "--code", PROVINCE,
                            "--public-key", public_key_b64(fed.root_key.public_key()), cwd=work)
        assert trust.returncode == 0, trust.stderr
        hub = Hub(work, fed, {})
        stack.callback(lambda: [stop_process(p) for p in hub.processes])
        urls = [hub.serve(), hub.serve()]
        hub.next_seq = enroll(urls[0], fed)
        port = free_port()
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        conf = _nginx_conf(prefix, port, [int(url.rsplit(":", 1)[1]) for url in urls])
        log = prefix / "nginx.out"
        with log.open("wb") as out:
            nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(prefix),
                                      "-g", "daemon off;"], stdout=out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        stack.callback(stop_process, nginx)
        base = f"http://127.0.0.1:{port}"
        wait_for_health(f"{base}/healthz", nginx, log)
        yield hub, base, urls


def _enroll_real_county(hub: Hub, url: str, home: Path) -> None:
    """The real county's certificate from its (simulated) city, and a township's from the
    real county's key."""
    county_key = load_private_key(home / "node_key.pem")
    now = dt.datetime.now(dt.UTC)

    def certify(subject: str, level: str, kind: str | None, issuer: str,
                issuer_key: Ed25519PrivateKey, public: str) -> dict[str, Any]:
        return issue_certificate(
            issuer_code=issuer, issuer_key=issuer_key, subject=subject, level=level,
            kind=kind, parent=issuer, public_key_b64=public,
            not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=30),
            serial=int(time.time() * 1000) % 1_000_000_000)

    city = "450900"
    cert = certify(COUNTY, "county", "county_city", city, hub.fed.keys[city],
                   public_key_b64(county_key.public_key()))
    seq = hub.next_seq.get(city, 1)
    hub.next_seq[city] = seq + 1
    results = HttpHubTransport(url, city, hub.fed.keys[city]).post_envelopes([sign_envelope(
        kind=Kind.CERT, sender=city, to="hub", seq=seq, body={"certificate": cert},
        private_key=hub.fed.keys[city]).to_wire()])
    assert [r["status"] for r in results] == ["accepted"], results
    township_key = hub.fed.keys[TOWNSHIP] = Ed25519PrivateKey.generate()
    cert = certify(TOWNSHIP, "township", None, COUNTY, county_key,
                   public_key_b64(township_key.public_key()))
    # carried by the city's envelope (the document is the county's, signed with its key), so
    # that the county's own seqs stay its outbox's
    results = HttpHubTransport(url, city, hub.fed.keys[city]).post_envelopes([sign_envelope(
        kind=Kind.CERT, sender=city, to="hub", seq=seq + 1, body={"certificate": cert},
        private_key=hub.fed.keys[city]).to_wire()])
    hub.next_seq[city] = seq + 2
    assert [r["status"] for r in results] == ["accepted"], results


def _inbox_ids(home: Path) -> set[str]:
    with sqlite3.connect(home / "node.db") as db:
        rows = db.execute("SELECT id FROM sync_inbox UNION "
                          "SELECT envelope_id FROM sync_refused").fetchall()
    return {row[0] for row in rows}


def test_a_node_worker_syncs_and_long_polls_through_nginx(
    behind_nginx: tuple[Hub, str, list[str]],
) -> None:
    hub, base, urls = behind_nginx
    work = hub.work
    home = work / "county"
    init = run_tongban("node", "init", "--home", "county", "--code", COUNTY, "--kind",
                       "county_city", cwd=work)
    assert init.returncode == 0, init.stderr
    with (home / "tongban.toml").open("a", encoding="utf-8") as config:
        config.write(f'hub_url = "{base}"\nsync_interval_seconds = 600\n'
                     f'pull_wait_seconds = 20.0\n')
    _enroll_real_county(hub, urls[0], home)
    queued = run_tongban("node", "send-summaries", "--home", "county", cwd=work)
    assert queued.returncode == 0, queued.stderr

    log = work / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([TONGBAN, "node", "worker", "--home", "county"], cwd=work,
                                  env=clean_env(), stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
    try:
        # the push went through nginx: the county's own envelopes are in the hub's log
        county = HttpHubTransport(urls[1], COUNTY, load_private_key(home / "node_key.pem"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if county.fetch_last_seq() >= 1:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"the worker's push never reached the hub:\n{log.read_text()}")
        # its long poll waits at one of the hub processes, through nginx
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            waiting = sum(requests.get(f"{url}/healthz", timeout=5).json()["mailbox_waiters"]
                          for url in urls)
            if waiting >= 1:
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"the worker never waited on its mailbox:\n{log.read_text()}")
        # a township's forward, pushed to each hub process in turn: the waiting long poll
        # is answered (through nginx) within seconds, not at the next periodic sync
        for number, url in enumerate(urls, start=1):
            envelope = sign_envelope(kind=Kind.CASE_FORWARD, sender=TOWNSHIP, to=COUNTY,
                                     seq=number, body=forward_body(TOWNSHIP, number),
                                     private_key=hub.fed.keys[TOWNSHIP]).to_wire()
            results = HttpHubTransport(url, TOWNSHIP, hub.fed.keys[TOWNSHIP]).post_envelopes(
                [envelope])
            assert [r["status"] for r in results] == ["accepted"], results
            deadline = time.monotonic() + 15
            while envelope["id"] not in _inbox_ids(home):
                if time.monotonic() > deadline:
                    pytest.fail(f"forward {number} never reached the node:\n{log.read_text()}")
                time.sleep(0.2)
        access = (work.parent / "nginx" / "access.log").read_text()
        assert "GET /api/v1/mailbox?" in access
        assert "POST /api/v1/envelopes" in access
    finally:
        stop_process(worker)
