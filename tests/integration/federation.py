"""Steps shared by the tests that build a federation of real ``tongban`` processes."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from schemas.keys import key_id, load_private_key, public_key_b64
from tests.integration.conftest import COMMAND_TIMEOUT, TONGBAN, clean_env, run_tongban


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def _ok(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = run_tongban(*args, cwd=cwd)
    assert result.returncode == 0, f"tongban {' '.join(args)}\n{_output(result)}"
    return result


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
