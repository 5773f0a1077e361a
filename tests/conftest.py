"""Fixtures shared by every suite: databases (SQLite, and PostgreSQL under CI), apps, clients.

Every database test runs twice: on a fresh SQLite file and on a PostgreSQL schema of its own.
The PostgreSQL half needs ``TONGBAN_TEST_PG`` (``.ci/run`` sets it); without it, it is
skipped with a message saying so; with it, an unreachable server fails the test.

A test whose fixtures build the node's or the hub's app gets its database with that app's
tables already in it, copied from a template made once per test process (tests/databases.py);
the apps themselves are built once per process and lent to each test (tests/apps.py).
"""

from __future__ import annotations

import functools
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from hypothesis import settings as hypothesis_settings

from schemas.runtime import passwords
from tests.apps import AppCache
from tests.databases import Templates, schema_for

# Hypothesis: ``dev`` (the default) runs a tenth of each property's examples, for a quick loop;
# ``ci`` (.ci/run sets TONGBAN_HYPOTHESIS_PROFILE=ci) runs them all
HYPOTHESIS_PROFILE = os.environ.get("TONGBAN_HYPOTHESIS_PROFILE", "dev")
hypothesis_settings.register_profile("ci", deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", max_examples=10, deadline=None)
if HYPOTHESIS_PROFILE not in ("ci", "dev"):
    raise pytest.UsageError(f"TONGBAN_HYPOTHESIS_PROFILE={HYPOTHESIS_PROFILE!r}: ci or dev")
hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)


def examples(full: int) -> int:
    """A property's example count: ``full`` under the ``ci`` profile, a tenth of it (at least
    10) under ``dev``."""
    return full if HYPOTHESIS_PROFILE == "ci" else min(full, max(10, full // 10))


# Argon2 at the production parameters (RFC 9106's second recommendation: 64 MiB, 3 passes,
# 4 lanes) costs about 0.23 s of CPU per hash or check, and the suite hashes and checks
# passwords hundreds of times (every login, every account a fixture makes).  The tests run it
# with the cheapest parameters query codes use; the production ones stay checked by
# tests/unit/schemas/test_passwords.py (on PRODUCTION_HASHER) and by the real processes of the
# integration tests and test_cli_start.py, which do not load this file.
PRODUCTION_HASHER = passwords._hasher
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)

PG_URL = os.environ.get("TONGBAN_TEST_PG", "")
PG_SKIP = (
    "PostgreSQL half skipped: TONGBAN_TEST_PG is not set "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test; .ci/run sets it)"
)


# fixtures that create an application's tables on ``database_url``: their tests get them from a
# template (the node's modules' own ``database`` fixtures all create the node's tables)
# (``world``: the property tests' node database, test_warning_lists and test_metrics_properties;
# ``sync_db``: the sync tests' node database, tests/unit/node/test_sync_fakes.py; ``db``: the
# node's, in tests/unit/node/conftest.py, test_throttle and test_outbox_concurrency;
# ``make_home``: test_sync_keys' node homes; ``province``: test_bundles' province app)
TEMPLATE_USERS = {"app": "node", "make_hub": "hub", "hub_app": "hub", "database": "node",
                  "world": "node", "sync_db": "node", "db": "node", "make_home": "node",
                  "province": "node"}


@pytest.fixture(scope="session")
def templates() -> Iterator[Templates]:
    """The template databases of this test process (tests/databases.py)."""
    made = Templates()
    yield made
    made.cleanup()


@pytest.fixture(scope="session")
def shared_apps() -> AppCache:
    """The apps of this test process, one per configuration (tests/apps.py)."""
    return AppCache()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                 templates: Templates) -> Iterator[str]:
    """A URL to a database of each kind, dropped after the test: empty, or holding the tables
    of the app (node or hub) that the test's fixtures build on it."""
    schema_name = schema_for(request.fixturenames, TEMPLATE_USERS)
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        if schema_name:
            templates.copy_sqlite(schema_name, path)
        yield f"sqlite:///{path}"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    with ExitStack() as lent:
        try:
            url = lent.enter_context(templates.postgresql_schema(PG_URL, schema_name))
        except Exception as exc:  # noqa: BLE001 - any failure to reach the server fails the test
            pytest.fail(f"TONGBAN_TEST_PG is set but PostgreSQL is unreachable: {exc}")
        yield url


@pytest.fixture(scope="session")
def demo_check(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``tongban demo --check`` run once per test run, shared by the integration and browser
    tests and by the xdist workers (tests/demo_federation.py)."""
    from tests.demo_federation import shared

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    return shared(root)


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


# the xdist group of every test on a copy of the standard federation (see below)
TEMPLATE_GROUP = "federation-template"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test's ``xdist_group`` added to its node id on an xdist worker under ``--dist
    loadgroup``, where the controller reads the group (``<id>@<group>``). pytest-xdist 3.8
    writes it to ``item._nodeid``, which pytest 9 no longer reads (the id is ``item._id``):
    without this the groups were ignored and their tests spread over both workers. Here, at
    the root of tests/, it sees every item of every run (the browser, demo and integration
    groups alike), whichever folders are collected.

    An integration module without a group of its own is its own group: its tests share one
    federation per module and run in file order, each building on the last (the township's
    forwards that test_federation_flows' summary counts), so its tests never split over the
    workers (they did under --dist loadgroup, where each worker then built the module's
    federation and ran only some of its tests).

    Every module on a copy of the standard federation (the ``federation_template`` fixture,
    tests/integration/federation.py) is in one group, ``TEMPLATE_GROUP``: one worker builds
    the template in the first of them and runs them all, each module still in file order,
    while the other worker runs the rest of the suite. Each module its own group, both
    workers started one of them at once and the second waited on the template's lock while
    the first built it (111 s of an idle worker in the last quiet CI run)."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        groups = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                         for mark in item.iter_markers("xdist_group")})
        if "federation_template" in getattr(item, "fixturenames", ()):
            groups = [TEMPLATE_GROUP]
        elif not groups and "integration" in item.path.parts:
            groups = [item.path.stem]
        if groups and not item.nodeid.endswith("@" + "_".join(groups)):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")  # type: ignore[attr-defined]
