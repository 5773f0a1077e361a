"""The ``tongban`` command as an operator uses it: real servers on loopback; most commands run
in this process with Click's runner, a few (the help, a first init, the servers) as real
processes of the console script."""

from __future__ import annotations

import re
import runpy
import stat
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import requests
from gunicorn.config import Config

from deploy.cli import main
from tests.integration.conftest import (
    REPO,
    free_port,
    invoke_tongban,
    run_tongban,
    serving,
    wait_for_health,
)

pytestmark = pytest.mark.slow

PASSWORD = "cli-test-pass-9"
NODE_INIT = ("--code", "450981", "--kind", "county_city", "--name", "北流市政务服务中心")


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[
    tuple[tuple[str, ...], click.Command]
]:
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


COMMANDS = list(_commands(main))


def _words(text: str) -> str:
    return " ".join(text.split())


def _output(result: object) -> str:
    return f"{getattr(result, 'stdout', '')}{getattr(result, 'stderr', '')}"


# -- help -------------------------------------------------------------------------------------


def test_top_level_help_lists_every_command(home_dir: Path) -> None:
    result = run_tongban("--help", cwd=home_dir)

    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^  (\S+)\s", result.stdout.split("Commands:")[1], re.MULTILINE)
    assert {"node", "hub", "demo"} <= set(listed)


def test_every_documented_command_exists() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}

    assert {
        "node", "node init", "node migrate", "node serve", "node create-user",
        "hub", "hub init", "hub migrate", "hub serve", "demo",
    } <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_describes_itself(
    home_dir: Path, path: tuple[str, ...], command: click.Command
) -> None:
    result = invoke_tongban(*path, "--help", cwd=home_dir)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: tongban {' '.join(path)} ")
    assert command.help, f"`tongban {' '.join(path)}` has no docstring"
    first_sentence = _words(command.help).split(". ")[0]
    assert first_sentence[:60] in _words(result.stdout)


# -- node -------------------------------------------------------------------------------------


def _init_node(home_dir: Path, home: str = "node") -> Path:
    result = invoke_tongban("node", "init", "--home", home, *NODE_INIT, cwd=home_dir)
    assert result.returncode == 0, _output(result)
    return home_dir / home


def test_node_init_creates_config_secret_and_database(home_dir: Path) -> None:
    result = run_tongban("node", "init", "--home", "node", *NODE_INIT, cwd=home_dir)

    assert result.returncode == 0, _output(result)
    assert "450981" in result.stdout
    home = home_dir / "node"
    config = (home / "tongban.toml").read_text(encoding="utf-8")
    assert 'code = "450981"' in config
    assert 'kind = "county_city"' in config
    assert 'parent_code = "450900"' in config
    secret = home / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text().strip()) >= 32
    assert (home / "node.db").stat().st_size > 0


def test_second_node_init_keeps_the_secret_and_config(home_dir: Path) -> None:
    home = _init_node(home_dir)
    secret = (home / "secret_key").read_text()
    config = (home / "tongban.toml").read_text(encoding="utf-8")

    result = invoke_tongban("node", "init", "--home", "node", *NODE_INIT, cwd=home_dir)

    assert result.returncode == 0, _output(result)
    assert (home / "secret_key").read_text() == secret
    assert (home / "tongban.toml").read_text(encoding="utf-8") == config


def _assert_says_current(output: str) -> None:
    """``migrate`` on an up-to-date database reports the same revision before and after."""
    moved = re.search(r"(\S+) -> (\S+)", output)
    if moved:
        assert moved.group(1) == moved.group(2), output
        assert moved.group(1) != "empty", output
    else:
        assert "current" in output.lower(), output


def test_node_migrate_on_an_initialised_home_is_current(home_dir: Path) -> None:
    _init_node(home_dir)

    result = invoke_tongban("node", "migrate", "--home", "node", cwd=home_dir)

    assert result.returncode == 0, _output(result)
    _assert_says_current(result.stdout)


def test_node_init_refuses_a_bad_division_code(home_dir: Path) -> None:
    result = invoke_tongban("node", "init", "--home", "node", "--code", "12345", cwd=home_dir)

    assert result.returncode != 0
    assert "--code" in result.stderr
    assert "12345" in result.stderr
    assert "6- or 9-digit" in result.stderr
    assert not (home_dir / "node" / "tongban.toml").exists()


def test_node_serve_without_init_says_to_run_init(home_dir: Path) -> None:
    result = invoke_tongban(
        "node", "serve", "--home", "nothing-here", "--bind", f"127.0.0.1:{free_port()}",
        cwd=home_dir,
    )

    assert result.returncode != 0
    assert "tongban node init" in result.stderr


def test_create_user_then_serve_answers_health_and_login(home_dir: Path, tmp_path: Path) -> None:
    _init_node(home_dir)
    created = run_tongban(
        "node", "create-user", "--home", "node", "--username", "chief", "--role", "admin",
        "--password", PASSWORD, cwd=home_dir,
    )
    assert created.returncode == 0, _output(created)
    assert "chief" in created.stdout
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "node.log"

    with serving("node", "serve", "--home", "node", "--bind", f"127.0.0.1:{port}",
                 "--workers", "1", cwd=home_dir, log=log) as process:
        health = wait_for_health(f"{base}/healthz", process, log)
        login = requests.post(
            f"{base}/api/v1/auth/login", json={"username": "chief", "password": PASSWORD},
            timeout=10,
        )
        wrong = requests.post(
            f"{base}/api/v1/auth/login", json={"username": "chief", "password": "not-it-123"},
            timeout=10,
        )
        me = requests.get(
            f"{base}/api/v1/auth/me",
            headers={"Authorization": f"Bearer {login.json().get('token')}"}, timeout=10,
        )

    # "degraded" only for the calendar: within sixty days of a year without holiday data
    # (this runs on the machine's date, which no test may assume)
    assert health["database"] == "ok"
    assert health["status"] == ("degraded" if health["calendar"]["years_without_data"]
                                else "ok")
    assert health["code"] == "450981"
    assert login.status_code == 200, login.text
    assert me.json()["role"] == "admin"
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"


def test_create_user_refuses_a_weak_password(home_dir: Path) -> None:
    _init_node(home_dir)

    result = invoke_tongban(
        "node", "create-user", "--home", "node", "--username", "chief", "--password", "short",
        cwd=home_dir,
    )

    assert result.returncode != 0
    assert "password" in result.stderr


# -- hub --------------------------------------------------------------------------------------


def _init_hub(home_dir: Path) -> Path:
    result = invoke_tongban("hub", "init", "--home", "hub", cwd=home_dir)
    assert result.returncode == 0, _output(result)
    return home_dir / "hub"


def test_hub_init_creates_config_secret_and_database(home_dir: Path) -> None:
    home = _init_hub(home_dir)

    assert (home / "tongban.toml").exists()
    assert stat.S_IMODE((home / "secret_key").stat().st_mode) == 0o600
    assert (home / "hub.db").stat().st_size > 0


def test_second_hub_init_keeps_the_secret(home_dir: Path) -> None:
    home = _init_hub(home_dir)
    secret = (home / "secret_key").read_text()

    _init_hub(home_dir)

    assert (home / "secret_key").read_text() == secret


def test_hub_migrate_on_an_initialised_home_is_current(home_dir: Path) -> None:
    _init_hub(home_dir)

    result = invoke_tongban("hub", "migrate", "--home", "hub", cwd=home_dir)

    assert result.returncode == 0, _output(result)
    _assert_says_current(result.stdout)


def test_hub_serve_answers_health(home_dir: Path, tmp_path: Path) -> None:
    _init_hub(home_dir)
    port = free_port()
    log = tmp_path / "hub.log"

    with serving("hub", "serve", "--home", "hub", "--bind", f"127.0.0.1:{port}",
                 "--workers", "1", cwd=home_dir, log=log) as process:
        health = wait_for_health(f"http://127.0.0.1:{port}/healthz", process, log)
        unknown = requests.get(f"http://127.0.0.1:{port}/no/such/page", timeout=10)

    assert health["status"] == "ok"
    assert health["service"] == "hub"
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_hub_serve_without_init_says_to_run_init(home_dir: Path) -> None:
    result = invoke_tongban(
        "hub", "serve", "--home", "nothing-here", "--bind", f"127.0.0.1:{free_port()}",
        cwd=home_dir,
    )

    assert result.returncode != 0
    assert "tongban hub init" in result.stderr


# -- the production gunicorn configuration ----------------------------------------------------

GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"


def test_gunicorn_config_names_only_settings_gunicorn_knows() -> None:
    values = {
        key: value for key, value in runpy.run_path(str(GUNICORN_CONF)).items()
        if not key.startswith("_") and isinstance(value, int | str)
    }
    config = Config()

    unknown = sorted(set(values) - set(config.settings))
    for key, value in values.items():
        if key not in unknown:
            config.set(key, value)  # runs gunicorn's validator of each setting

    assert unknown == []
    assert config.workers >= 1
    assert "x-request-id" in config.access_log_format


def test_serve_applies_the_gunicorn_config_file(home_dir: Path, tmp_path: Path) -> None:
    _init_node(home_dir)
    port = free_port()
    log = tmp_path / "node.log"

    with serving("node", "serve", "--home", "node", "--bind", f"127.0.0.1:{port}",
                 "--gunicorn-config", str(GUNICORN_CONF), cwd=home_dir, log=log) as process:
        wait_for_health(f"http://127.0.0.1:{port}/healthz", process, log)
        # a query string may carry personal data (a staff search by ID number) or a query code
        requests.get(f"http://127.0.0.1:{port}/healthz?id_number=450981199001011234&code=K7P3",
                     timeout=10)

    # the access log line of the configured format carries the request id
    assert re.search(r'"GET /healthz HTTP/1.1" 200 \d+ \d+ms rid=\w+', log.read_text()), (
        log.read_text()
    )
    # and never the query string
    assert "450981199001011234" not in log.read_text()
    assert "K7P3" not in log.read_text()
    assert log.read_text().count('"GET /healthz HTTP/1.1" 200') >= 2
