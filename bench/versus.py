"""The whole command against backtesting.py: two processes on the same year of bars, timed whole.

A trader comparing tools times ``trio-paper replay --file year.csv.gz`` from the shell — the
interpreter starting, the imports, the replay, ``summary.json`` and ``summary.html`` written —
against the backtester they know (``bench.backtesting_child``: imports, reading the CSV.gz,
``Backtest.run`` and its stats). Both are timed here from spawn to exit, their peak RSS taken
from ``wait4``, by a small launcher (``bench.launch``); the runs alternate so that both see the
same machine.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import attrs

TARGET = 1.5
FLOOR = 1.0


@attrs.frozen
class Whole:
    """One process, spawn to exit: wall time, and the CPU time it used (user + system)."""

    seconds: float
    cpu_seconds: float
    peak_kb: int


@attrs.frozen
class Versus:
    path: Path
    ours: list[Whole]
    theirs: list[Whole]
    their_version: str

    @property
    def ratio(self) -> float:
        """How many times faster the whole command is than backtesting.py (medians of wall)."""
        return median_seconds(self.theirs) / median_seconds(self.ours)

    @property
    def target_seconds(self) -> float:
        """How long the whole command may take to be ``TARGET`` times faster."""
        return median_seconds(self.theirs) / TARGET

    @property
    def cpu_ratio(self) -> float:
        """The same in CPU time: steadier on a machine shared with other work."""
        return median_seconds(self.theirs, cpu=True) / median_seconds(self.ours, cpu=True)


def median_seconds(runs: list[Whole], cpu: bool = False) -> float:
    """The median wall (or CPU) time of ``runs``."""
    return statistics.median(r.cpu_seconds if cpu else r.seconds for r in runs)


def _timed(argv: list[str], env: dict[str, str] | None = None) -> Whole:
    """``argv`` run to its end by ``bench.launch``, which times it and reads its peak RSS."""
    launched = subprocess.run(
        [sys.executable, "-m", "bench.launch", *argv],
        capture_output=True, env=env, check=False, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    if launched.returncode != 0:
        raise RuntimeError(f"bench.launch failed:\n{launched.stderr.decode(errors='replace')}")
    run = json.loads(launched.stdout)
    if run["exit"] != 0:
        said = launched.stderr.decode(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(argv)} failed (exit {run['exit']}):\n{said}")
    return Whole(run["seconds"], run["cpu_seconds"], run["peak_kb"])


def trio_paper_once(path: Path) -> Whole:
    """``trio-paper replay --file PATH`` into an empty home, as a user runs it."""
    with tempfile.TemporaryDirectory(prefix="bench-whole-") as home:
        argv = [sys.executable, "-m", "trio_paper", "--home", home, "replay", "--file", str(path)]
        return _timed(argv)


def backtesting_once(path: Path) -> Whole:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return _timed([sys.executable, "-m", "bench.backtesting_child", str(path)], env)


def measure(path: Path, runs: int, log: Callable[[str], None]) -> Versus:
    ours: list[Whole] = []
    theirs: list[Whole] = []
    for number in range(1, runs + 1):
        theirs.append(backtesting_once(path))
        ours.append(trio_paper_once(path))
        log(
            f"versus backtesting.py, run {number}: trio-paper {ours[-1].seconds:.2f} s "
            f"({ours[-1].cpu_seconds:.2f} s CPU), backtesting.py {theirs[-1].seconds:.2f} s "
            f"({theirs[-1].cpu_seconds:.2f} s CPU)"
        )
    return Versus(path, ours, theirs, _version("backtesting"))


def _version(package: str) -> str:
    from importlib.metadata import version  # noqa: PLC0415 - only when measured

    return version(package)


def target_row(v: Versus) -> tuple[str, str, bool]:
    ours, theirs = median_seconds(v.ours), median_seconds(v.theirs)
    return (
        f"bars-only year, whole command, ≥ {TARGET:g}× faster than backtesting.py "
        f"(floor {FLOOR:g}×)",
        f"{v.ratio:.2f}× ({ours:.2f} s vs {theirs:.2f} s; the floor "
        f"{'met' if v.ratio >= FLOOR else '**not** met'}, the target needs "
        f"{v.target_seconds:.2f} s); in CPU time {v.cpu_ratio:.2f}×",
        v.ratio >= TARGET,
    )


def render(v: Versus) -> str:
    def cell(runs: list[Whole], cpu: bool = False) -> str:
        values = [r.cpu_seconds if cpu else r.seconds for r in runs]
        return f"{median_seconds(runs, cpu):.2f} ({min(values):.2f}–{max(values):.2f})"

    def peak(runs: list[Whole]) -> str:
        return f"{max(r.peak_kb for r in runs) / 1024:.0f} MB"

    return "\n".join([
        "## 2b. The whole command against backtesting.py (a year of 1-minute bars)",
        "",
        "Each a fresh process timed from spawn to exit on the same file, alternating; median "
        "(min–max) of the runs. trio-paper: `trio-paper replay --file` (EMA cross 9/21, the "
        "default config; summary.json and summary.html written). backtesting.py "
        f"{v.their_version}: `bench/backtesting_child.py` (the same EMA cross, `Backtest.run` "
        "and its stats; no plot).",
        "",
        "| | whole process s | CPU s (user + system) | peak RSS |",
        "|---|--:|--:|--:|",
        f"| trio-paper | {cell(v.ours)} | {cell(v.ours, cpu=True)} | {peak(v.ours)} |",
        f"| backtesting.py | {cell(v.theirs)} | {cell(v.theirs, cpu=True)} | {peak(v.theirs)} |",
        f"| **trio-paper speed ÷ backtesting.py's** | **{v.ratio:.2f}×** | **{v.cpu_ratio:.2f}×** "
        "| |",
        "",
    ])  # fmt: skip
