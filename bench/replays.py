"""Replays, measured: each run a fresh process (``bench.replay_child``), its figures parsed."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import attrs
import orjson


@attrs.frozen
class ReplayRun:
    items: int
    frames: int
    bars: int
    records: int
    seconds: float
    wall_seconds: float
    rss_start_kb: int
    vm_hwm_kb: int
    cpu_seconds: float = 0.0

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.seconds

    @property
    def bars_per_s(self) -> float:
        return self.bars / self.seconds


@attrs.frozen
class ReplayCase:
    """One input replayed ``runs`` times, and as many times by the baseline source if any."""

    name: str
    path: Path
    runs: list[ReplayRun]
    baseline: list[ReplayRun]

    def median(self, rate: Callable[[ReplayRun], float], baseline: bool = False) -> float:
        return statistics.median(rate(r) for r in (self.baseline if baseline else self.runs))

    def peak_kb(self, baseline: bool = False) -> int:
        return max(r.vm_hwm_kb for r in (self.baseline if baseline else self.runs))


def replay_once(path: Path, src: Path | None = None) -> ReplayRun:
    """Replay ``path`` in a fresh process, with the package from ``src`` if given."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as home:
        done = subprocess.run(
            [sys.executable, "-m", "bench.replay_child", str(path), home],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"replay of {path} failed:\n{done.stderr}")
    fields = orjson.loads(done.stdout.strip().splitlines()[-1])
    if src is not None and not fields.pop("package").startswith(str(src)):
        raise RuntimeError(f"the baseline run did not import trio_paper from {src}")
    fields.pop("package", None)
    return ReplayRun(**fields)


def replay_case(
    name: str,
    path: Path,
    runs: int,
    baseline: Path | None,
    log: Callable[[str], None],
) -> ReplayCase:
    """``runs`` replays of ``path``, alternating with the baseline's so that both see the same
    machine (other work on it slows a run; alternating spreads that over both)."""
    current: list[ReplayRun] = []
    before: list[ReplayRun] = []
    for number in range(1, runs + 1):
        if baseline is not None:
            before.append(replay_once(path, baseline))
            log(f"{name}: baseline run {number}: {_brief(before[-1])}")
        current.append(replay_once(path))
        log(f"{name}: run {number}: {_brief(current[-1])}")
    return ReplayCase(name, path, current, before)


def _brief(run: ReplayRun) -> str:
    return (
        f"{run.items:,} items in {run.seconds:.2f} s = {run.items_per_s:,.0f}/s, "
        f"peak RSS {run.vm_hwm_kb / 1024:.0f} MB"
    )
