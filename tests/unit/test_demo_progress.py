"""The demo's progress output (deploy/demo/progress.py): phase times and bars with counts."""

from __future__ import annotations

import re

import pytest

from deploy.demo.progress import Phases, bar


def test_each_phase_prints_its_time_and_the_summary_lists_them(
        capsys: pytest.CaptureFixture[str]) -> None:
    phases = Phases()
    phases.report("homes", "23 created, 1 kept")
    phases.report("history", "120 cases")
    phases.report("history", "30 cases")  # a phase reported twice adds up

    out = capsys.readouterr().out
    assert re.search(r"^homes: 23 created, 1 kept \(\d+\.\d s\)$", out, re.MULTILINE)
    assert re.search(r"^history: 120 cases \(\d+\.\d s\)$", out, re.MULTILINE)
    assert list(phases.seconds) == ["homes", "history"]
    assert re.fullmatch(r"ready in \d+\.\d s \(homes \d+\.\d s, history \d+\.\d s\)",
                        phases.summary())
    assert phases.total() >= sum(phases.seconds.values())


def test_a_bar_counts_to_its_total_with_an_estimate(capsys: pytest.CaptureFixture[str]) -> None:
    with bar("3 months of cases", 25) as advance:
        for _ in range(5):
            advance(5)

    err = capsys.readouterr().err  # bars go to standard error; stdout stays for reports
    assert "3 months of cases" in err
    assert "25/25" in err
    assert "elapsed" in err
    assert "left" in err
