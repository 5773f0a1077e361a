"""``tongban`` starts without the application: every command imports what it works with
when it runs (issue 17, "Start fast"; the figures are make bench's ``cli_start_ratio``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# what no command may pay for before it runs: the web stack, the ORM, the wire's crypto,
# the demo's machinery, and the timing-equaliser's Argon2 hash
HEAVY = ("sqlalchemy", "flask", "marshmallow", "alembic", "requests", "cryptography",
         "gunicorn", "openpyxl", "apscheduler", "rich", "deploy.demo.run",
         "deploy.demo.federation", "node.app", "hub.app", "node.audit.chain")


def _loaded_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, timeout=60)
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("argv", [[], ["node"], ["hub"], ["node", "init"], ["hub", "serve"],
                                  ["node", "worker"], ["demo"]])
def test_a_commands_help_imports_nothing_heavy(argv: list[str]) -> None:
    loaded = _loaded_after(
        "import contextlib, io\n"
        "from deploy.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        f"    main({[*argv, '--help']!r})")

    assert "click" in loaded
    assert not {name for name in HEAVY if name in loaded}


def test_the_dummy_password_hash_is_made_on_first_use() -> None:
    loaded = _loaded_after(
        "from schemas.runtime import passwords\n"
        "assert passwords.dummy_hash.cache_info().currsize == 0\n"
        "assert passwords.verify_password(passwords.dummy_hash(), 'x') is False\n"
        "assert passwords.dummy_hash.cache_info().currsize == 1")

    assert "argon2" in loaded
