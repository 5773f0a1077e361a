"""Fixtures shared by every suite: databases (SQLite, and PostgreSQL under CI), apps, clients.

Every database test runs twice: on a fresh SQLite file and on a fresh PostgreSQL schema.
The PostgreSQL half needs ``TONGBAN_TEST_PG`` (``.ci/run`` sets it); without it, it is
skipped with a message saying so; with it, an unreachable server fails the test.
"""

from __future__ import annotations

import functools
import os
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("TONGBAN_TEST_PG", "")
PG_SKIP = (
    "PostgreSQL half skipped: TONGBAN_TEST_PG is not set "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test; .ci/run sets it)"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of each kind, dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server fails the test
        pytest.fail(f"TONGBAN_TEST_PG is set but PostgreSQL is unreachable: {exc}")
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


NODE_IDENTITY = {"code": "450981", "name": "北流市政务服务中心", "level": "county",
                 "kind": "county_city", "parent_code": "450900"}


@functools.cache
def test_key_file() -> str:
    """One node key (mode 0600) for every test app of the run."""
    from schemas.keys import generate_private_key, write_private_key

    path = Path(tempfile.mkdtemp(prefix="tongban-test-key-")) / "node_key.pem"
    write_private_key(path, generate_private_key())
    return str(path)


def node_config(database_url: str, **extra: Any) -> dict[str, Any]:
    return {
        **NODE_IDENTITY,
        "database_url": database_url,
        "secret_key": secrets.token_urlsafe(32),
        "private_key_file": test_key_file(),
        "testing": True,
        **extra,
    }
