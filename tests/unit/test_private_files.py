"""What node and hub keep on disk is readable by its owner only, whatever the umask: homes
0700; node.db, hub.db and their -wal/-shm, settings, keys and backups 0600; and a node
refuses to start with a database others may read (schemas/runtime/files.py)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from deploy.cli import main
from node import create_app
from schemas.runtime.database import Database
from schemas.runtime.settings import SettingsError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    yield request.param
    os.umask(before)


def tongban(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_node_home_is_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    home = tmp_path / "node"
    tongban("node", "init", "--home", str(home), "--code", "450981", "--kind", "county_city")
    app = create_app({"home": str(home)})
    db: Database = app.extensions["tongban_db"]
    with db.engine.connect() as connection:  # a write: the -wal and -shm files exist now
        connection.execute(text("CREATE TABLE probe (x INTEGER)"))
        connection.commit()
        assert (home / "node.db-wal").exists()
        assert (home / "node.db-shm").exists()
        assert mode(home) == 0o700
        for name in ("node.db", "node.db-wal", "node.db-shm", "tongban.toml", "secret_key",
                     "node_key.pem"):
            assert mode(home / name) == 0o600, (name, oct(mode(home / name)))
    db.dispose()


def test_a_hub_home_is_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    home = tmp_path / "hub"
    tongban("hub", "init", "--home", str(home))
    assert mode(home) == 0o700
    for name in ("hub.db", "tongban.toml", "secret_key"):
        assert mode(home / name) == 0o600, name


def test_backups_and_restores_are_private(tmp_path: Path, umask: int) -> None:
    home, copy = tmp_path / "node", tmp_path / "backups" / "node-1"
    tongban("node", "init", "--home", str(home), "--code", "450981", "--kind", "county_city")
    tongban("node", "backup", "--home", str(home), "--to", str(copy))
    assert mode(copy) == 0o700
    assert sorted(p.name for p in copy.iterdir()) == ["node.db", "node_key.pem", "secret_key",
                                                       "tongban.toml"]
    for path in copy.iterdir():
        assert mode(path) == 0o600, path.name
    restored = tmp_path / "restored"
    tongban("node", "restore", "--home", str(restored), "--from", str(copy))
    assert mode(restored) == 0o700
    for path in restored.iterdir():
        if path.is_file():
            assert mode(path) == 0o600, path.name


def test_a_node_refuses_to_start_with_a_database_others_may_read(tmp_path: Path) -> None:
    home = tmp_path / "node"
    tongban("node", "init", "--home", str(home), "--code", "450981", "--kind", "county_city")
    (home / "node.db").chmod(0o644)
    with pytest.raises(SettingsError, match=r"node\.db \(mode 0644\) may be read by others"):
        create_app({"home": str(home)})
    refused = CliRunner().invoke(main, ["node", "serve", "--home", str(home), "--dev"])
    assert refused.exit_code != 0
    assert f"chmod 600 {home / 'node.db'}" in refused.output
    (home / "node.db").chmod(0o600)
    (home / "node.db-wal").touch(mode=0o640)
    (home / "node.db-wal").chmod(0o640)
    with pytest.raises(SettingsError, match=r"node\.db-wal \(mode 0640\)"):
        create_app({"home": str(home)})
    (home / "node.db-wal").chmod(0o600)
    create_app({"home": str(home)}).extensions["tongban_db"].dispose()
