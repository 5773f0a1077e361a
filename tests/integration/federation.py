"""Steps shared by the tests that build a federation of real ``tongban`` processes: the
standard federation built once per run and copied per module, and the staff helpers (log-in,
tokens, acting on cases)."""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from sqlalchemy import create_engine, text

from schemas.keys import key_id, load_private_key, public_key_b64
from schemas.trust import TrustStore
from tests.conftest import PG_URL, PRODUCTION_HASHER
from tests.integration.conftest import (
    COMMAND_TIMEOUT,
    TONGBAN,
    clean_env,
    free_port,
    invoke_tongban,
    run_tongban,
    served_env,
    serving,
    stop_processes,
    wait_for_all_health,
    wait_for_health,
)


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def _ok(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = run_tongban(*args, cwd=cwd)
    assert result.returncode == 0, f"tongban {' '.join(args)}\n{_output(result)}"
    return result


def ok_here(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``tongban ARGS`` run to success in this process (Click's runner,
    :func:`~tests.integration.conftest.invoke_tongban`): the same command against the same
    homes and the same served hub, without an interpreter to start (1.3-2.5 s of CPU for each
    ``tongban`` process: the imports, the settings, the app's modules). The federation
    modules sync, publish and send summaries dozens of times each (the template's build some
    twenty commands more); the servers stay real processes, and the console script itself
    stays tested by test_sync_federation (every step a real process), test_cli and the
    failures the modules read from real processes."""
    result = invoke_tongban(*args, cwd=cwd)
    assert result.returncode == 0, f"tongban {' '.join(args)}\n{_output(result)}"
    return result


@contextmanager
def production_passwords() -> Iterator[None]:
    """This process's password hasher at the production parameters for the while
    (tests/conftest.py makes it cheap for the unit tests): an account that :func:`ok_here`
    creates is stored as a real ``tongban ... create-user`` stores it, so the served nodes and
    hub check its password as they check every password (a cheap hash would also be rehashed
    at its first log-in)."""
    from schemas.runtime import passwords

    cheap = passwords._hasher
    passwords._hasher = PRODUCTION_HASHER
    try:
        yield
    finally:
        passwords._hasher = cheap


def create_user_here(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``tongban node|hub create-user ARGS`` in this process at the production parameters."""
    with production_passwords():
        return ok_here(*args, cwd=cwd)


def _run_together(commands: list[tuple[str, ...]], cwd: Path) -> None:
    """Run independent commands at the same time (each bounded), all of them to success."""
    started = [
        (args, subprocess.Popen([TONGBAN, *args], cwd=cwd, env=clean_env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL))
        for args in commands
    ]
    deadline = time.monotonic() + COMMAND_TIMEOUT
    failures = []
    for args, process in started:
        try:
            out, err = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        if process.returncode != 0:
            failures.append(f"tongban {' '.join(args)} -> {process.returncode}\n{out}\n{err}")
    assert not failures, "\n".join(failures)


def _public_key(home: Path) -> tuple[str, str]:
    """The node's public key (base64url) and key id, read from the node_key.pem init wrote."""
    key = load_private_key(home / "node_key.pem")
    return public_key_b64(key.public_key()), key_id(key.public_key())


# -- the standard federation, built once per run and copied --------------------------------
#
# Most integration modules need the same tree: a hub, the province, the city 玉林, its county-
# level city 北流 and county 容县, and 北流's township, every node enrolled and synced once
# and holding an admin, and a hub staff account of the city. Building it takes some twenty
# ``tongban`` commands; so the first worker that needs it builds it once in the run's shared
# folder, holding a file lock (like tests/demo_federation.py), and every module (or test)
# gets a copy of its own: the homes copied, its own hub database (a copy of the template's
# PostgreSQL schema under ``TONGBAN_TEST_PG``), its own processes on its own ports. Nothing a
# module does reaches another, and no module depends on another's order.

PROVINCE, CITY, BEILIU, RONG, TOWNSHIP = "450000", "450900", "450981", "450921", "450981101"
HOMES = {PROVINCE: "p", CITY: "c", BEILIU: "k", RONG: "r", TOWNSHIP: "t"}
KINDS = {BEILIU: "county_city", RONG: "county"}
PASSWORD = "federation-pass-9"  # every node's ``admin`` and the hub's ``yulin``
HUB_STAFF = "yulin"  # a hub staff account scoped to the city
PARENTS = ((PROVINCE, CITY), (CITY, BEILIU), (CITY, RONG), (BEILIU, TOWNSHIP))  # enrolment order


def kind(code: str) -> tuple[str, ...]:
    return ("--kind", KINDS[code]) if code in KINDS else ()


@dataclass(frozen=True)
class Template:
    """The built federation: its folder, the nodes' public keys, and the name of the
    PostgreSQL schema its hub ran in (dumped to ``hub.sql`` and dropped; None: SQLite in the
    hub's home)."""

    work: Path
    keys: dict[str, str]
    schema: str | None


def _pg_url(schema: str) -> str:
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"


def _libpq_url() -> str:
    """``TONGBAN_TEST_PG`` as pg_dump and psql read it (no SQLAlchemy driver name)."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", PG_URL)


def _point_at_hub(home: Path, url: str) -> None:
    config = home / "tongban.toml"
    lines = [line for line in config.read_text(encoding="utf-8").splitlines()
             if not line.startswith("hub_url = ")]
    config.write_text("\n".join([*lines, f'hub_url = "{url}"', ""]), encoding="utf-8")


def build_template(work: Path) -> Template:
    """The standard federation in ``work``, its hub stopped (``tongban`` commands only)."""
    schema = f"tpl_{uuid.uuid4().hex[:16]}" if PG_URL else None
    with ExitStack() as stack:
        if schema:
            _fresh_schema(schema, stack)
        _build(work, schema)
        if schema:  # the hub's database as SQL, for each copy to load into its own schema
            dump = subprocess.run(["pg_dump", "--no-owner", "--no-privileges", "-n", schema,
                                   _libpq_url()], capture_output=True, text=True,
                                  timeout=COMMAND_TIMEOUT, check=False)
            assert dump.returncode == 0, dump.stderr
            (work / "hub.sql").write_text(dump.stdout, encoding="utf-8")
    return Template(work, {code: _public_key(work / home)[0] for code, home in HOMES.items()},
                    schema)


def _fresh_schema(schema: str, stack: ExitStack) -> None:
    """A new PostgreSQL schema, dropped when ``stack`` closes."""
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    stack.callback(_drop_schema, schema)


def _drop_schema(schema: str) -> None:
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _build(work: Path, schema: str | None) -> None:
    # one command after the other, in this process (ok_here; the accounts' passwords hashed
    # at the production parameters, create_user_here)
    ok_here("hub", "init", "--home", "hub",
            *(("--database-url", _pg_url(schema)) if schema else ()), cwd=work)
    for code, home in HOMES.items():
        ok_here("node", "init", "--home", home, "--code", code, *kind(code), cwd=work)
    keys = {code: _public_key(work / home)[0] for code, home in HOMES.items()}
    ok_here("node", "enroll-self", "--home", HOMES[PROVINCE], cwd=work)
    ok_here("hub", "trust-root", "--home", "hub", "--code", PROVINCE, "--public-key",
            keys[PROVINCE], cwd=work)
    create_user_here("hub", "create-user", "--home", "hub", "--username", HUB_STAFF,
                     "--scope", CITY, "--password", PASSWORD, cwd=work)
    for home in HOMES.values():
        create_user_here("node", "create-user", "--home", home, "--username", "admin",
                         "--role", "admin", "--password", PASSWORD, cwd=work)
        with sqlite3.connect(work / home / "node.db") as connection:
            (stored,) = connection.execute(
                "SELECT password_hash FROM users WHERE username = 'admin'").fetchone()
        assert not PRODUCTION_HASHER.check_needs_rehash(stored), stored  # production's
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    for home in HOMES.values():
        _point_at_hub(work / home, url)
    with serving("hub", "serve", "--home", "hub", "--bind", f"127.0.0.1:{port}",
                 "--workers", "1", cwd=work, log=work / "hub.log", quick_stop=True) as hub:
        wait_for_health(f"{url}/healthz", hub, work / "hub.log")
        _sync(work, PROVINCE)
        for parent, child in PARENTS:
            ok_here("node", "enroll-child", "--home", HOMES[parent], "--code", child,
                    *kind(child), "--public-key", keys[child], cwd=work)
            _sync(work, parent)
        _check_registry(url, work)


def _check_registry(hub: str, work: Path) -> None:
    """Every copy starts from a whole tree: the hub's registry, verified against the
    province's key as a node verifies it, holds each node's certificate under its parent."""
    response = requests.get(f"{hub}/api/v1/registry", timeout=20)
    assert response.status_code == 200, response.text
    document = {k: v for k, v in response.json().items()
                if k not in ("root_code", "root_public_key", "cursor", "names")}
    keys = {code: _public_key(work / home) for code, home in HOMES.items()}
    store = TrustStore.from_registry(document, PROVINCE, keys[PROVINCE][0])
    assert sorted(c.subject for c in store.certificates) == sorted(HOMES)
    for parent, child in PARENTS:
        (certificate,) = store.certificates_of(child)
        assert certificate.parent == parent
        assert certificate.key_id == keys[child][1]


def _sync(work: Path, code: str) -> None:
    result = ok_here("node", "sync-now", "--home", HOMES[code], cwd=work)
    for clean in ("0 rejected", "0 refused", " 0 failed"):
        assert clean in result.stdout, result.stdout


def shared_template(root: Path) -> Template:
    """The run's one standard federation under ``root``, built by whichever worker asks
    first; the others wait on the lock and read where it is."""
    record = root / "federation-template.json"
    with (root / "federation-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if record.exists():
            saved = json.loads(record.read_text(encoding="utf-8"))
            return Template(Path(saved["work"]), saved["keys"], saved["schema"])
        work = root / "federation-template"
        shutil.rmtree(work, ignore_errors=True)  # what a worker's failed build left
        work.mkdir()
        built = build_template(work)
        record.write_text(json.dumps({"work": str(built.work), "keys": built.keys,
                                      "schema": built.schema}), encoding="utf-8")
        return built


def copy_template(template: Template, work: Path, stack: ExitStack,
                  hub_urls: dict[str, str], codes: Iterable[str] = HOMES) -> None:
    """The template's hub and the nodes ``codes`` copied into ``work``, each node pointed
    at its hub (``hub_urls``: code -> URL). Under PostgreSQL the hub gets a copy of the
    template's schema, dropped when ``stack`` closes."""
    shutil.copytree(template.work / "hub", work / "hub", ignore=shutil.ignore_patterns("*.log"))
    for code in codes:
        shutil.copytree(template.work / HOMES[code], work / HOMES[code])
        _point_at_hub(work / HOMES[code], hub_urls[code])
        config = (work / HOMES[code] / "tongban.toml").read_text(encoding="utf-8")
        assert f'code = "{code}"' in config, config
        assert config.count("hub_url = ") == 1, config
    if template.schema is None:
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    dump = (template.work / "hub.sql").read_text(encoding="utf-8")
    stack.callback(_drop_schema, schema)  # the dump creates it
    loaded = subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", _libpq_url()],
                            input=dump.replace(template.schema, schema), capture_output=True,
                            text=True, timeout=COMMAND_TIMEOUT, check=False)
    assert loaded.returncode == 0, loaded.stderr
    config = work / "hub" / "tongban.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(template.schema, schema),
                      encoding="utf-8")


def _serve_together(work: Path, stack: ExitStack,
                    commands: dict[str, tuple[list[str], int, Path]]
                    ) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each ``tongban`` server of ``commands`` (name: its arguments, port and log) started,
    then each waited for within one budget; name: its base URL and its ``/healthz`` answer.
    They stop side by side when ``stack`` closes (each killed once its master has logged that
    it is shutting down: :func:`stop_processes`)."""
    processes: list[subprocess.Popen[bytes]] = []
    logs: dict[subprocess.Popen[Any], Path] = {}
    stack.callback(stop_processes, processes, logs=logs)
    started: dict[str, tuple[str, Path, subprocess.Popen[bytes]]] = {}
    for name, (args, port, log) in commands.items():
        with log.open("wb") as out:
            process = subprocess.Popen(
                [TONGBAN, *args, "--bind", f"127.0.0.1:{port}", "--workers", "1"], cwd=work,
                env=served_env(), stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        processes.append(process)
        logs[process] = log
        started[name] = (f"http://127.0.0.1:{port}", log, process)
    answers = wait_for_all_health((f"{base}/healthz", process, log)
                                  for base, log, process in started.values())
    return {name: (base, health)
            for (name, (base, _, _)), health in zip(started.items(), answers, strict=True)}


def _node_commands(work: Path, codes: Iterable[str]) -> dict[str, tuple[list[str], int, Path]]:
    return {code: (["node", "serve", "--home", HOMES[code]], free_port(),
                   work / f"{HOMES[code]}.log") for code in codes}


def serve_nodes(work: Path, stack: ExitStack, codes: Iterable[str]) -> dict[str, str]:
    """``tongban node serve`` for each node (all started, then each waited for); their
    base URLs. They stop side by side when ``stack`` closes."""
    served = _serve_together(work, stack, _node_commands(work, codes))
    for code, (_, health) in served.items():
        assert health["code"] == code, health  # the copied home is the node asked for
    return {code: base for code, (base, _) in served.items()}


def serve_hub(work: Path, stack: ExitStack, port: int) -> str:
    """``tongban hub serve`` on the copied hub home; its URL. Stops when ``stack`` closes."""
    url = f"http://127.0.0.1:{port}"
    log = work / "hub.log"
    hub = stack.enter_context(serving("hub", "serve", "--home", "hub", "--bind",
                                      f"127.0.0.1:{port}", "--workers", "1", cwd=work,
                                      log=log, quick_stop=True))
    health = wait_for_health(f"{url}/healthz", hub, log)
    assert (health["service"], health["database"]) == ("hub", "ok"), health  # the copied one
    return url


def serve_federation(work: Path, stack: ExitStack, hub_port: int, codes: Iterable[str]
                     ) -> tuple[str, dict[str, str]]:
    """:func:`serve_hub` and :func:`serve_nodes` at once: the hub and the nodes ``codes``
    all started, then each waited for (a node's start needs nothing from its hub), so that a
    module waits for one server start instead of two in a row. The hub's URL and the nodes'
    base URLs; all of them stop side by side when ``stack`` closes."""
    served = _serve_together(work, stack, {
        "hub": (["hub", "serve", "--home", "hub"], hub_port, work / "hub.log"),
        **_node_commands(work, codes)})
    for name, (_, health) in served.items():
        if name == "hub":
            assert (health["service"], health["database"]) == ("hub", "ok"), health
        else:
            assert health["code"] == name, health  # the copied home is the node asked for
    return served["hub"][0], {code: base for code, (base, _) in served.items() if code != "hub"}


# -- staff on a node's HTTP API ----------------------------------------------------------------


class Api:
    """One staff account on one node's HTTP API (no token: the public API)."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(self.base + path, params=params, headers=self.headers, timeout=20)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        if "files" in kwargs:
            return requests.post(self.base + path, headers=self.headers, timeout=20, **kwargs)
        return requests.post(self.base + path, json=body if body is not None else {},
                             headers=self.headers, timeout=20)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200,
           **kwargs: Any) -> Any:
        """GET or POST ``path``; asserts the status; the JSON answer."""
        response = self.get(path) if method == "GET" else self.post(path, body, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json()

    def call(self, method: str, path: str, body: Any = None,
             status: int = 200, **params: Any) -> Any:
        """Any method, a JSON body and query parameters; asserts the status; the answer."""
        response = requests.request(method, self.base + path, json=body, params=params,
                                    headers=self.headers, timeout=20)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json()


def login(base: str, username: str, password: str = PASSWORD) -> str:
    """A staff token from a node's log-in."""
    response = requests.post(f"{base}/api/v1/auth/login",
                             json={"username": username, "password": password}, timeout=20)
    assert response.status_code == 200, response.text
    assert response.json()["token"], response.text
    return str(response.json()["token"])


def staff_api(base: str, username: str, password: str = PASSWORD) -> Api:
    return Api(base, login(base, username, password))


def hub_staff_headers(hub: str, username: str = HUB_STAFF, password: str = PASSWORD
                      ) -> dict[str, str]:
    """The Authorization header of a hub staff account (``tongban hub create-user``)."""
    response = requests.post(f"{hub}/api/v1/staff/login",
                             json={"username": username, "password": password}, timeout=20)
    assert response.status_code == 200, response.text
    assert response.json()["token"], response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def file_after(api: Api, step: dict[str, Any]) -> dict[str, Any]:
    """A step answers with the case's state and version; the whole file is a GET."""
    file: dict[str, Any] = api.ok("GET", f"/api/v1/cases/{step['id']}")
    assert (file["state"], file["version"]) == (step["state"], step["version"]), (file, step)
    return file


def act(api: Api, case: dict[str, Any], action: str, status: int = 200, **body: Any
        ) -> dict[str, Any]:
    """``action`` on the case at its current version; the file after it (or, for a status
    other than 200, the error answer)."""
    fresh = api.ok("GET", f"/api/v1/cases/{case['id']}")
    step = api.ok("POST", f"/api/v1/cases/{case['id']}/{action}",
                  {"version": fresh["version"], **body}, status)
    if status != 200:
        return step  # type: ignore[no-any-return]
    return file_after(api, step)


def accepted_case(api: Api, matter: str, name: str, id_number: str) -> dict[str, Any]:
    """A window case of ``matter`` submitted and accepted by the clerk ``api``; its file
    and its query code."""
    case = api.ok("POST", "/api/v1/cases", {
        "matter_code": matter, "applicant_name": name, "applicant_id_number": id_number,
        "applicant_phone": "13800138000"}, 201)
    accepted = api.ok("POST", f"/api/v1/cases/{case['id']}/accept",
                      {"version": case["version"]})
    return {**file_after(api, accepted), "query_code": case["query_code"]}


@dataclass
class Federation:
    """A copy of the standard federation with its processes: the nodes' APIs by staff."""

    work: Path
    hub: str
    homes: dict[str, str] = field(default_factory=lambda: dict(HOMES))
    bases: dict[str, str] = field(default_factory=dict)
    staff: dict[tuple[str, str], Api] = field(default_factory=dict)

    def sync(self, *codes: str) -> None:
        for code in codes:
            result = ok_here("node", "sync-now", "--home", self.homes[code], cwd=self.work)
            assert result.returncode == 0, _output(result)
            assert "0 rejected" in result.stdout, result.stdout
            assert "0 refused" in result.stdout, result.stdout
            assert " 0 failed" in result.stdout, result.stdout

    def api(self, code: str, role: str) -> Api:
        return self.staff[(code, role)]

    def case_from(self, code: str, origin_number: str, state: str | None = None
                  ) -> dict[str, Any]:
        """The case at ``code`` linked to the origin case ``origin_number``: the only one,
        or the newest in ``state``."""
        listed = self.api(code, "admin").ok("GET", "/api/v1/cases?per_page=100")["items"]
        found = [c for c in listed
                 if c["origin"] and c["origin"]["case_number"] == origin_number
                 and (state is None or c["state"] == state)]
        if state is None:
            assert len(found) == 1, f"{code} holds {len(found)} cases from {origin_number}"
        assert found, f"{code} holds no case from {origin_number} in {state}"
        newest = max(found, key=lambda c: c["id"])
        return self.api(code, "admin").ok("GET", f"/api/v1/cases/{newest['id']}")  # type: ignore[no-any-return]
