# ruff: noqa: T201 - a command-line report: print is the output
"""Issue 17, "Start fast": what starting ``tongban`` costs.

``cli_start_ratio`` = CPU time of ``tongban --help`` ÷ CPU time of ``python -c pass``, the
bare interpreter of the same virtual environment: the two are run alternately (``--rounds``,
default 9, at least 5), each as its own process, and the ratio is of the two medians. The
CPU time is the child's user + system time from ``wait4`` (wall times are printed beside it,
but on a shared machine they measure the neighbours). Then every command's ``--help``
(``tongban node init --help``, …) is timed the same way, since a command's start is what it
imports before its own work; the goal is at most 0.3 s of CPU for each.

    .venv/bin/python -m tests.bench.bench_cli_start [--rounds 9]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

GOAL_CPU_SECONDS = 0.3
TONGBAN = str(Path(sys.executable).with_name("tongban"))


def run_once(argv: list[str]) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one process running ``argv``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, env=env)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {process.returncode}: {stderr}")
    return usage.ru_utime + usage.ru_stime, wall


def commands() -> list[list[str]]:
    """Every command path of ``tongban``: [], ["node"], ["node", "init"], …"""
    from deploy.cli import main

    found: list[list[str]] = []

    def walk(command: click.Command, path: list[str]) -> None:
        found.append(path)
        if isinstance(command, click.Group):
            for name in sorted(command.commands):
                walk(command.commands[name], [*path, name])

    walk(main, [])
    return found


def interleaved(subjects: dict[str, list[str]], rounds: int) -> dict[str, dict[str, float]]:
    """Each subject once per round, in turn; the median CPU and wall seconds of each."""
    cpu: dict[str, list[float]] = {name: [] for name in subjects}
    wall: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(rounds):
        for name, argv in subjects.items():
            spent, took = run_once(argv)
            cpu[name].append(spent)
            wall[name].append(took)
    return {name: {"cpu_s": round(statistics.median(cpu[name]), 4),
                   "wall_s": round(statistics.median(wall[name]), 4),
                   "cpu_max_s": round(max(cpu[name]), 4)} for name in subjects}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds (>= 5)")
    options = parser.parse_args(argv)
    rounds = max(5, options.rounds)

    print(f"cli_start: {rounds} alternating rounds of python -c pass / tongban --help",
          file=sys.stderr)
    head = interleaved({"python -c pass": [sys.executable, "-c", "pass"],
                        "tongban --help": [TONGBAN, "--help"]}, rounds)
    baseline, subject = head["python -c pass"], head["tongban --help"]
    ratio = subject["cpu_s"] / baseline["cpu_s"] if baseline["cpu_s"] else None
    wall_ratio = subject["wall_s"] / baseline["wall_s"] if baseline["wall_s"] else None

    paths = commands()
    print(f"cli_start: {len(paths)} commands' --help, {max(5, rounds // 2)} rounds",
          file=sys.stderr)
    each = interleaved({" ".join(["tongban", *path, "--help"]): [TONGBAN, *path, "--help"]
                        for path in paths}, max(5, rounds // 2))
    slowest = max(each, key=lambda name: each[name]["cpu_s"])
    over = sorted(name for name, figures in each.items()
                  if figures["cpu_s"] > GOAL_CPU_SECONDS)

    print(f"python -c pass      cpu {baseline['cpu_s'] * 1000:7.1f} ms   "
          f"wall {baseline['wall_s'] * 1000:7.1f} ms")
    print(f"tongban --help      cpu {subject['cpu_s'] * 1000:7.1f} ms   "
          f"wall {subject['wall_s'] * 1000:7.1f} ms")
    print(f"cli_start_ratio (CPU, medians of {rounds} alternating rounds): {ratio:.2f}; "
          f"by wall time {wall_ratio:.2f}")
    for name, figures in sorted(each.items(), key=lambda item: -item[1]["cpu_s"]):
        print(f"  {name:<42} cpu {figures['cpu_s'] * 1000:6.1f} ms  "
              f"wall {figures['wall_s'] * 1000:6.1f} ms")
    print(f"every command starts in <= {GOAL_CPU_SECONDS} s of CPU: "
          f"{'yes' if not over else 'no: ' + ', '.join(over)}")
    document: dict[str, Any] = {
        "cli_start_ratio": round(ratio, 2) if ratio else None,
        "cli_start_wall_ratio": round(wall_ratio, 2) if wall_ratio else None,
        "rounds": rounds,
        "python_pass": baseline,
        "tongban_help": subject,
        "commands": each,
        "slowest_command": {"command": slowest, **each[slowest]},
        "goal_cpu_s": GOAL_CPU_SECONDS,
        "over_goal": over,
    }
    print(json.dumps(document, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
