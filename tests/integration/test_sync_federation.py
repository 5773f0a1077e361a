"""A federation of real processes on loopback: one hub and a province → city → county →
township chain, each node with its own home and SQLite database, enrolled and synced with
the real ``tongban`` commands over HTTP (HttpHubTransport against ``tongban hub serve``).

The whole federation is built once per module (building it is the expensive part) and
every child process is stopped in teardown, even when a step fails half-way.  The
revocation test changes the federation, so it runs last in this file.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from schemas.trust import TrustStore
from tests.integration.conftest import (
    free_port,
    run_tongban,
    serving,
    wait_for_health,
)
from tests.integration.federation import _ok, _output, _public_key, _run_together

pytestmark = pytest.mark.slow

PROVINCE, CITY, COUNTY, TOWNSHIP, STRANGER = (
    "450000", "450900", "450981", "450981101", "450981102")
ROOT_EXTRA_KEYS = ("root_code", "root_public_key", "cursor", "names")
PASSWORD = "federation-pass-9"


def _registry(base: str) -> dict[str, Any]:
    response = requests.get(f"{base}/api/v1/registry", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _verified(registry: dict[str, Any], root_key: str) -> TrustStore:
    """The registry re-verified the way a node does it, against the province's own key."""
    document = {k: v for k, v in registry.items() if k not in ROOT_EXTRA_KEYS}
    return TrustStore.from_registry(document, PROVINCE, root_key)


@dataclass
class Federation:
    work: Path
    base: str
    homes: dict[str, str]
    keys: dict[str, tuple[str, str]]  # code -> (public key, key id)
    trust_root_line: str = ""
    registries: list[dict[str, Any]] = field(default_factory=list)  # after each parent's sync
    syncs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    def sync(self, code: str) -> subprocess.CompletedProcess[str]:
        return run_tongban("node", "sync-now", "--home", self.homes[code], cwd=self.work)


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    work = tmp_path_factory.mktemp("federation")
    homes = {PROVINCE: "p", CITY: "c", COUNTY: "k", TOWNSHIP: "t", STRANGER: "t2"}
    kinds = {COUNTY: ("--kind", "county_city")}
    _run_together(
        [("hub", "init", "--home", "hub")]
        + [("node", "init", "--home", home, "--code", code, *kinds.get(code, ()))
           for code, home in homes.items()],
        cwd=work,
    )
    keys = {code: _public_key(work / home) for code, home in homes.items()}

    # the province certifies its own key; the hub reads its trust root only when it starts
    # (hub.api.auth.request_store reads app.config), so the root is set before `serve`
    enrolled = _ok("node", "enroll-self", "--home", homes[PROVINCE], cwd=work)
    trust_root_line = next(line for line in enrolled.stderr.splitlines()
                           if "trust-root" in line)
    _ok("hub", "trust-root", "--home", "hub", "--code", PROVINCE,
        "--public-key", keys[PROVINCE][0], cwd=work)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    for home in homes.values():
        with (work / home / "tongban.toml").open("a", encoding="utf-8") as config:
            config.write(f'hub_url = "{base}"\n')

    log = work / "hub.log"
    with serving("hub", "serve", "--home", "hub", "--bind", f"127.0.0.1:{port}",
                 "--workers", "1", cwd=work, log=log, quick_stop=True) as hub:
        wait_for_health(f"{base}/healthz", hub, log)
        fed = Federation(work, base, homes, keys, trust_root_line)

        fed.syncs[PROVINCE] = fed.sync(PROVINCE)
        fed.registries.append(_registry(base))
        for parent, child, kind in ((PROVINCE, CITY, ()), (CITY, COUNTY, kinds[COUNTY]),
                                    (COUNTY, TOWNSHIP, ())):
            _ok("node", "enroll-child", "--home", homes[parent], "--code", child, *kind,
                "--public-key", keys[child][0], cwd=work)
            fed.syncs[parent] = fed.sync(parent)
            assert fed.syncs[parent].returncode == 0, _output(fed.syncs[parent])
            fed.registries.append(_registry(base))
        yield fed


# -- enrolment --------------------------------------------------------------------------------


def test_enroll_self_names_the_trust_root_and_the_root_certificate_reaches_the_hub(
    federation: Federation,
) -> None:
    root_key, _ = federation.keys[PROVINCE]
    first = federation.registries[0]

    assert PROVINCE in federation.trust_root_line
    assert root_key in federation.trust_root_line
    assert federation.syncs[PROVINCE].returncode == 0
    assert "pushed: " in federation.syncs[PROVINCE].stdout
    assert first["root"] == PROVINCE
    assert first["root_code"] == PROVINCE
    assert first["root_public_key"] == root_key
    store = _verified(first, root_key)
    assert [c.subject for c in store.certificates] == [PROVINCE]


def test_every_parent_sync_publishes_a_verifiable_chain(federation: Federation) -> None:
    root_key, _ = federation.keys[PROVINCE]
    expected = [PROVINCE, CITY, COUNTY, TOWNSHIP]

    for step, registry in enumerate(federation.registries):
        store = _verified(registry, root_key)
        assert sorted(c.subject for c in store.certificates) == sorted(expected[:step + 1])
    store = _verified(federation.registries[-1], root_key)
    for code, parent in ((CITY, PROVINCE), (COUNTY, CITY), (TOWNSHIP, COUNTY)):
        (certificate,) = store.certificates_of(code)
        assert certificate.parent == parent
        assert certificate.key_id == federation.keys[code][1]
        assert store.key_for(code, federation.keys[code][1], certificate.not_before) is not None
    chain = store.chain(TOWNSHIP)
    assert [c.subject for c in chain] == [TOWNSHIP, COUNTY, CITY, PROVINCE]
    assert STRANGER not in {c.subject for c in store.certificates}


def test_every_parent_pushed_its_certificate_once(federation: Federation) -> None:
    for parent in (PROVINCE, CITY, COUNTY):
        out = federation.syncs[parent].stdout
        assert "pushed: 1 accepted, 0 duplicate, 0 rejected, 0 pending" in out, out


# -- signed requests ----------------------------------------------------------------------------


def test_enrolled_township_syncs_with_nothing_to_move(federation: Federation) -> None:
    result = federation.sync(TOWNSHIP)

    assert result.returncode == 0, _output(result)
    assert "pushed: 0 accepted, 0 duplicate, 0 rejected, 0 pending" in result.stdout
    assert "pulled: 0 received" in result.stdout


@pytest.fixture(scope="module")
def stranger_sync(federation: Federation) -> subprocess.CompletedProcess[str]:
    """sync-now of a township that was initialised but never enrolled by its county."""
    return federation.sync(STRANGER)


def test_unenrolled_node_is_refused_and_told_why(
    stranger_sync: subprocess.CompletedProcess[str],
) -> None:
    result = stranger_sync

    assert result.returncode == 1, _output(result)
    assert result.stdout == ""
    assert "sync failed" in result.stderr
    assert "401" in result.stderr
    assert f"{STRANGER} is not enrolled" in result.stderr, result.stderr


def test_province_web_status_shows_the_last_push(federation: Federation) -> None:
    home = federation.homes[PROVINCE]
    _ok("node", "create-user", "--home", home, "--username", "admin", "--role", "admin",
        "--password", PASSWORD, cwd=federation.work)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = federation.work / "province.log"

    with serving("node", "serve", "--home", home, "--bind", f"127.0.0.1:{port}",
                 "--workers", "1", cwd=federation.work, log=log, quick_stop=True) as process:
        wait_for_health(f"{base}/healthz", process, log)
        login = requests.post(f"{base}/api/v1/auth/login",
                              json={"username": "admin", "password": PASSWORD}, timeout=10)
        assert login.status_code == 200, login.text
        status = requests.get(f"{base}/api/v1/sync/status", timeout=10, headers={
            "Authorization": f"Bearer {login.json()['token']}"})

    assert status.status_code == 200, status.text
    body = status.json()
    assert body["last_push_at"] is not None
    assert body["last_pull_at"] is not None
    assert body["pending_count"] == 0
    assert body["dead_letters"] == []


# -- revocation (changes the federation: keep it last) -----------------------------------------


@pytest.fixture(scope="module")
def revoked(federation: Federation) -> dict[str, subprocess.CompletedProcess[str]]:
    _, county_key_id = federation.keys[COUNTY]
    _ok("node", "revoke", "--home", federation.homes[PROVINCE], "--code", COUNTY,
        "--key-id", county_key_id, "--reason", "key compromised", cwd=federation.work)
    results = {PROVINCE: federation.sync(PROVINCE)}
    results[COUNTY] = federation.sync(COUNTY)
    results[TOWNSHIP] = federation.sync(TOWNSHIP)
    results[CITY] = federation.sync(CITY)
    return results


def test_revocation_reaches_the_registry(
    federation: Federation, revoked: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    assert revoked[PROVINCE].returncode == 0, _output(revoked[PROVINCE])
    assert "pushed: 1 accepted" in revoked[PROVINCE].stdout
    store = _verified(_registry(federation.base), federation.keys[PROVINCE][0])
    (revocation,) = store.revocations
    assert revocation.subject == COUNTY
    assert store.revoked_from(COUNTY, federation.keys[COUNTY][1]) is not None


def test_revoked_county_is_refused_naming_the_revocation(
    federation: Federation, revoked: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = revoked[COUNTY]

    assert result.returncode == 1, _output(result)
    assert "sync failed" in result.stderr
    assert "401" in result.stderr
    assert f"{federation.keys[COUNTY][1]} of {COUNTY} is revoked" in result.stderr, (
        result.stderr)


def test_revocation_cascades_to_the_township_below(
    federation: Federation, revoked: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = revoked[TOWNSHIP]

    assert result.returncode == 1, _output(result)
    assert "sync failed" in result.stderr
    assert "401" in result.stderr
    assert f"of {COUNTY} is revoked" in result.stderr, result.stderr


def test_the_city_above_the_revoked_county_still_syncs(
    revoked: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    assert revoked[CITY].returncode == 0, _output(revoked[CITY])


def test_sync_now_names_the_hubs_reason_code_not_enrolled(
    stranger_sync: subprocess.CompletedProcess[str],
) -> None:
    assert "not_enrolled" in stranger_sync.stderr, stranger_sync.stderr


def test_sync_now_names_the_hubs_reason_code_revoked_key(
    revoked: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    assert "revoked_key" in revoked[COUNTY].stderr, revoked[COUNTY].stderr
    assert "revoked_key" in revoked[TOWNSHIP].stderr, revoked[TOWNSHIP].stderr
