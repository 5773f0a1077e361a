"""Loopback ports for the fault suite's servers, from a range of its own.

``.ci/run`` runs the fault suite beside ``make test``, as a pytest run of its own: the other
run's workers hand out ports from blocks of 10000-31999 (tests/integration/conftest.py), and
a block drawn by both runs would give one port to two servers starting at once.  The fault
suite takes its ports from 32000-32767 instead: above those blocks, below the kernel's
ephemeral range (32768-60999), each xdist worker a slice of its own, each port once per run
and only when it can be bound and nobody answers on it.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterator

import pytest

from tests.integration.conftest import bindable, port_is_closed

FLOOR, CEILING = 32_000, 32_768


@functools.cache
def _slice() -> tuple[int, int]:
    """This worker's ports: [start, end), the range cut in as many slices as workers."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    size = (CEILING - FLOOR) // max(1, workers)
    start = FLOOR + (int(worker) if worker.isdigit() else 0) * size
    return start, start + size


@functools.cache
def _ports() -> Iterator[int]:
    return itertools.count(_slice()[0])


def _free(port: int) -> bool:
    return port_is_closed(port) and bindable(port)


def free_port() -> int:
    """A port of this worker's slice that nobody listens on or holds."""
    start, end = _slice()
    for port in _ports():
        if port >= end:
            pytest.fail(f"the fault suite's ports ({start}-{end - 1}) are used up")
        if _free(port):
            return port
    raise AssertionError("unreachable")  # itertools.count does not end
