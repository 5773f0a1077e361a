"""What the demo shows while it builds: a progress bar (rich) for every long phase, with counts
and an estimate of the time left, and each phase's time when it ends.

Bars go to standard error, so that ``--check`` keeps standard output for its JSON report; on
a terminal they move, elsewhere (a log, a pipe) each bar is printed once, when it ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

Advance = Callable[[int], None]


def _console() -> Console:
    return Console(stderr=True, highlight=False)


@contextmanager
def bar(label: str, total: int) -> Iterator[Advance]:
    """A bar of ``total`` steps; the block calls the yielded function with each step's count."""
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
        console=_console(), refresh_per_second=4,
    )
    with progress:
        task = progress.add_task(label, total=total)
        yield lambda steps: progress.advance(task, steps)


@dataclass
class Phases:
    """Times the phases of a run: ``report`` prints ``name: detail (12.3 s)``, ``summary`` the
    whole run and every phase's share."""

    started: float = field(default_factory=time.monotonic)
    seconds: dict[str, float] = field(default_factory=dict)
    _mark: float = field(default_factory=time.monotonic)

    def begin(self) -> None:
        """The next phase starts now (what came between phases is not counted in it)."""
        self._mark = time.monotonic()

    def report(self, name: str, detail: str) -> None:
        took = time.monotonic() - self._mark
        self.seconds[name] = self.seconds.get(name, 0.0) + took
        click.echo(f"{name}: {detail} ({took:.1f} s)")
        self._mark = time.monotonic()

    def total(self) -> float:
        return time.monotonic() - self.started

    def summary(self) -> str:
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())
        return f"ready in {self.total():.1f} s" + (f" ({parts})" if parts else "")


__all__ = ["Advance", "Phases", "bar"]
