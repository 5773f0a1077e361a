"""One worker per node: the lock file in the home, released however its holder ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from node.sync.lock import LOCK_NAME, WorkerRunning, worker_lock


def test_a_second_holder_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    with worker_lock(tmp_path) as path:
        assert path == tmp_path / LOCK_NAME
        assert path.read_text() == f"{os.getpid()}\n"
        with pytest.raises(WorkerRunning) as refused, worker_lock(tmp_path):
            pytest.fail("the lock was taken twice")
        assert refused.value.holder == str(os.getpid())
        assert f"pid {os.getpid()}" in str(refused.value)
    with worker_lock(tmp_path):  # released on leaving the block
        pass


def test_the_lock_file_is_private(tmp_path: Path) -> None:
    with worker_lock(tmp_path) as path:
        assert path.stat().st_mode & 0o077 == 0


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from node.sync.lock import worker_lock\n"
         f"with worker_lock({str(tmp_path)!r}):\n"
         "    print('held', flush=True)\n"
         "    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True,
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(WorkerRunning, match=f"pid {holder.pid}"), worker_lock(tmp_path):
                pass
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=30)
        finally:
            if holder.poll() is None:
                holder.kill()
    # the file is still there with the dead pid in it, but the kernel dropped the lock
    assert (tmp_path / LOCK_NAME).read_text() == f"{holder.pid}\n"
    with worker_lock(tmp_path) as path:
        assert path.read_text() == f"{os.getpid()}\n"
