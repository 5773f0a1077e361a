"""Node keys and enrolment: keygen, the refusal of a readable key, certificates, revocation."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from node.cli import node
from node.metadata import load_all_models
from node.models import Base
from node.settings import NodeSettings
from node.sync.keys import load_node_key
from node.sync.models import OutboxEnvelope, OutboxState
from schemas.certificates import issue_certificate
from schemas.envelope import Kind, parse_envelope
from schemas.keys import generate_private_key, key_id, load_private_key, public_key_b64
from schemas.runtime.database import Database
from schemas.runtime.settings import SettingsError, write_config_file, write_secret_key
from schemas.trust import TrustStore
from tests.unit.node.test_sync_fakes import CITY, COUNTY, PROVINCE

IDENTITIES = {
    PROVINCE: {"level": "province", "kind": "", "parent_code": ""},
    CITY: {"level": "city", "kind": "", "parent_code": PROVINCE},
    COUNTY: {"level": "county", "kind": "county_city", "parent_code": CITY},
}


def run(*args: str) -> Result:
    return CliRunner().invoke(node, list(args), catch_exceptions=False)


@pytest.fixture
def make_home(tmp_path: Path, database_url: str) -> Callable[[str], str]:
    """A node home for ``code`` on the test database, with the node's tables and a key."""

    def factory(code: str, keygen: bool = True) -> str:
        home = tmp_path / code
        home.mkdir()
        write_config_file(str(home), {"code": code, "name": f"{code} 中心",
                                      "database_url": database_url, **IDENTITIES[code]})
        write_secret_key(str(home))
        load_all_models()
        db = Database(database_url)
        Base.metadata.create_all(db.engine)
        db.dispose()
        if keygen:
            assert run("keygen", "--home", str(home)).exit_code == 0
        return str(home)

    return factory


def _outbox(database_url: str) -> list[OutboxEnvelope]:
    db = Database(database_url)
    with db.unit_of_work(write=False) as session:
        rows = list(session.scalars(select(OutboxEnvelope).order_by(OutboxEnvelope.seq)))
    db.dispose()
    return rows


def test_keygen_writes_a_0600_key_and_prints_its_public_key(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    result = run("keygen", "--home", str(home))
    assert result.exit_code == 0, result.output
    path = home / "node_key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = load_private_key(path)
    assert f"public key: {public_key_b64(key.public_key())}" in result.output
    assert f"key id:     {key_id(key.public_key())}" in result.output
    again = run("keygen", "--home", str(home))  # never overwrites the center's key
    assert again.exit_code != 0
    assert "never overwritten" in again.output
    assert load_private_key(path).public_key() == key.public_key()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_node_refuses_a_key_file_readable_by_others(tmp_path: Path, mode: int) -> None:
    run("keygen", "--home", str(tmp_path))
    os.chmod(tmp_path / "node_key.pem", mode)
    with pytest.raises(SettingsError, match=r"node cannot start: .*chmod 600"):
        load_node_key(NodeSettings(home=str(tmp_path)))
    os.chmod(tmp_path / "node_key.pem", 0o600)
    assert load_node_key(NodeSettings(home=str(tmp_path))) is not None


def test_a_node_refuses_to_start_without_its_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no private key file"):
        load_node_key(NodeSettings(home=str(tmp_path)))
    with pytest.raises(SettingsError, match="no home"):
        load_node_key(NodeSettings(home=None))


def _json_of(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout[result.stdout.index("{"):])
    return document


def test_enrolment_down_the_tree_gives_certificates_the_trust_store_accepts(
    make_home: Callable[..., str], database_url: str
) -> None:
    # the province certifies itself (its key is the hub's trust root) and then the city
    province_home = make_home(PROVINCE)
    province_key = load_node_key(NodeSettings(home=province_home))
    root = _json_of(run("enroll-self", "--home", province_home))
    store = TrustStore(PROVINCE, public_key_b64(province_key.public_key()))
    store.add_certificate(root)

    city_key = generate_private_key()
    city_cert = _json_of(run("enroll-child", "--home", province_home, "--code", CITY,
                             "--public-key", public_key_b64(city_key.public_key())))
    store.add_certificate(city_cert)
    county_key = generate_private_key()
    county_cert = issue_certificate(
        issuer_code=CITY, issuer_key=city_key, subject=COUNTY, level="county",
        kind="county_city", parent=CITY, public_key_b64=public_key_b64(county_key.public_key()),
        not_before=dt.datetime.now(dt.UTC), not_after=dt.datetime.now(dt.UTC)
        + dt.timedelta(days=30), serial=9)
    store.add_certificate(county_cert)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    assert store.key_for(CITY, key_id(city_key.public_key()), now) is not None
    assert store.key_for(COUNTY, key_id(county_key.public_key()), now) is not None

    # both certificates are queued for the hub, signed by the province, in seq order
    rows = _outbox(database_url)
    assert [(row.seq, row.kind, row.to, row.state) for row in rows] == [
        (1, "cert", "hub", OutboxState.PENDING), (2, "cert", "hub", OutboxState.PENDING)]
    envelopes = [parse_envelope(row.wire) for row in rows]
    assert [e.body["certificate"] for e in envelopes] == [root, city_cert]
    assert {e.sender for e in envelopes} == {PROVINCE}
    assert city_cert["certificate"]["not_after"] > city_cert["certificate"]["not_before"]


def test_enroll_child_by_a_city_for_its_county(
    make_home: Callable[..., str], database_url: str
) -> None:
    city_home = make_home(CITY)
    child_key = generate_private_key()
    document = _json_of(run("enroll-child", "--home", city_home, "--code", COUNTY,
                            "--kind", "county_city", "--days", "30",
                            "--public-key", public_key_b64(child_key.public_key())))
    body = document["certificate"]
    assert isinstance(body, dict)
    assert (body["subject"], body["issuer"], body["parent"], body["kind"]) == (
        COUNTY, CITY, CITY, "county_city")
    assert body["issuer_key_id"] == key_id(load_node_key(NodeSettings(home=city_home)).public_key())


@pytest.mark.parametrize(("child", "extra", "message"), [
    ("440100", [], "not the parent"),  # another province's city
    (COUNTY, ["--kind", "county_city"], "not the parent"),  # a grandchild
    ("450100", ["--kind", "district"], "only county-level nodes have a kind"),
    ("4501", [], "division code"),
])
def test_enroll_child_refuses_what_this_node_may_not_certify(
    make_home: Callable[..., str], database_url: str, child: str, extra: list[str], message: str
) -> None:
    province_home = make_home(PROVINCE)
    result = run("enroll-child", "--home", province_home, "--code", child, *extra,
                 "--public-key", public_key_b64(generate_private_key().public_key()))
    assert result.exit_code != 0
    assert message in result.output
    assert _outbox(database_url) == []


def test_enroll_child_refuses_a_bad_public_key(
    make_home: Callable[..., str], database_url: str
) -> None:
    result = run("enroll-child", "--home", make_home(PROVINCE), "--code", CITY,
                 "--public-key", "not-a-key")
    assert result.exit_code != 0
    assert "Error:" in result.output
    assert _outbox(database_url) == []


def test_revoke_queues_a_signed_revocation_for_a_descendant(
    make_home: Callable[..., str], database_url: str
) -> None:
    province_home = make_home(PROVINCE)
    result = run("revoke", "--home", province_home, "--code", COUNTY, "--key-id",
                 "0123456789abcdef", "--at", "2026-12-01T00:00:00+08:00", "--reason", "丢失")
    document = _json_of(result)
    body = document["revocation"]
    assert isinstance(body, dict)
    assert (body["subject"], body["key_id"], body["issuer"]) == (
        COUNTY, "0123456789abcdef", PROVINCE)
    (row,) = _outbox(database_url)
    envelope = parse_envelope(row.wire)
    assert (envelope.kind, envelope.to) == (Kind.REVOKE, "hub")
    assert orjson.loads(row.wire)["body"]["revocation"] == document

    refused = run("revoke", "--home", make_home(CITY), "--code", PROVINCE,
                  "--key-id", "0123456789abcdef")
    assert refused.exit_code != 0
    assert "not an ancestor" in refused.output


def test_rotate_key_keeps_the_old_key_until_activated_and_after(
    make_home: Callable[..., str]
) -> None:
    home = Path(make_home(CITY))
    old = load_node_key(NodeSettings(home=str(home)))
    result = run("rotate-key", "--home", str(home))
    assert result.exit_code == 0, result.output
    new_public = re.search(r"public key: (\S+)", result.output)
    assert new_public is not None
    assert load_node_key(NodeSettings(home=str(home))).public_key() == old.public_key()  # not yet
    result = run("rotate-key", "--home", str(home), "--activate")
    assert result.exit_code == 0, result.output
    current = load_node_key(NodeSettings(home=str(home)))
    assert public_key_b64(current.public_key()) == new_public.group(1)
    retired = home / f"node_key.{key_id(old.public_key())}.pem"
    assert load_private_key(retired).public_key() == old.public_key()
    assert stat.S_IMODE(retired.stat().st_mode) == 0o600


def test_a_new_node_with_a_slow_clock_is_trusted_from_its_first_envelope(
    make_home: Callable[..., str], database_url: str
) -> None:
    """Certificates start MAX_SKEW before they are issued: a node enrolled now whose clock runs
    up to five minutes slow (the most the hub lets its requests through with) signs envelopes
    that receivers trust; beyond that, nothing is trusted before the backdated start."""
    from node.sync import enrollment
    from schemas.certificates import TrustError
    from schemas.request_signing import MAX_SKEW

    province_key = generate_private_key()
    city_key = generate_private_key()
    enrolled_at = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    make_home(PROVINCE, keygen=False)
    db = Database(database_url)
    with db.unit_of_work() as session:
        root = enrollment.enroll_self(session, code=PROVINCE, private_key=province_key,
                                      now=enrolled_at, days=365)
        city = enrollment.enroll_child(
            session, code=PROVINCE, private_key=province_key, child=CITY, kind=None,
            child_public_key=public_key_b64(city_key.public_key()),
            now=enrolled_at + dt.timedelta(seconds=30), days=365)
    db.dispose()
    store = TrustStore(PROVINCE, public_key_b64(province_key.public_key()))
    store.add_certificate(root)
    store.add_certificate(city)
    city_id = key_id(city_key.public_key())
    slow = enrolled_at + dt.timedelta(seconds=30) - MAX_SKEW + dt.timedelta(seconds=1)
    assert store.key_for(CITY, city_id, slow) is not None
    with pytest.raises(TrustError) as refused:
        store.key_for(CITY, city_id, enrolled_at - MAX_SKEW - dt.timedelta(seconds=1))
    assert refused.value.code == "not_yet_valid"
