"""Interleaved timing for the benchmarks' ratios (issue 17, item 3).

A ratio of two timings taken minutes apart measures the machine's mood as much as the code: a
neighbour's build, a cache flushed, a CPU clocked down.  Here the subject and its ceiling run
alternately in the same process (so on the same cores), once each per round, for at least
five rounds, and the ratio is the median over the rounds of subject ÷ ceiling in that round.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sqlite3
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MIN_ROUNDS = 5


def _rounds(text: str) -> int:
    rounds = int(text)
    if rounds < MIN_ROUNDS:
        raise argparse.ArgumentTypeError(
            f"at least {MIN_ROUNDS} (the ratio is the median of the rounds)")
    return rounds


def add_rounds_option(parser: argparse.ArgumentParser, default: int = 7) -> None:
    """``--rounds``: how many interleaved rounds, refused below :data:`MIN_ROUNDS`."""
    parser.add_argument("--rounds", type=_rounds, default=default,
                        help=f"interleaved rounds; the median is reported (default {default}, "
                        f"at least {MIN_ROUNDS})")


def machine_line(name: str) -> str:
    """The first line of a benchmark's report: the machine it ran on and how busy it was."""
    load = ", load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()) if hasattr(
        os, "getloadavg") else ""
    return (f"{name} benchmark: {os.cpu_count()} CPUs{load}, Python "
            f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


@dataclass(frozen=True)
class Rounds:
    """Each name's time (s) in every round, in the order run."""

    times: Mapping[str, list[float]]
    results: Mapping[str, Any]  # each name's last result, for checks

    def median(self, name: str) -> float:
        return statistics.median(self.times[name])

    def ratio(self, subject: str, ceiling: str) -> float:
        """The median over the rounds of subject ÷ ceiling in the same round."""
        return statistics.median(s / c for s, c in zip(self.times[subject], self.times[ceiling],
                                                       strict=True))


def interleave(runs: Mapping[str, Callable[[], Any]], rounds: int, *,
               setup: Mapping[str, Callable[[], Any]] | None = None,
               warm: bool = True) -> Rounds:
    """Run every callable once per round, in the order given, ``rounds`` times (at least
    :data:`MIN_ROUNDS`); ``setup[name]`` runs untimed before its callable each time."""
    if rounds < MIN_ROUNDS:
        raise ValueError(f"at least {MIN_ROUNDS} rounds for a ratio, not {rounds}")
    setup = setup or {}
    times: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, Any] = {}
    if warm:
        for name, run in runs.items():
            if name in setup:
                setup[name]()
            results[name] = run()
    for _ in range(rounds):
        for name, run in runs.items():
            if name in setup:
                setup[name]()
            started = time.perf_counter()
            results[name] = run()
            times[name].append(time.perf_counter() - started)
    return Rounds(times, results)
