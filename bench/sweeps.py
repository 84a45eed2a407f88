"""Section 5: a 16-job parameter sweep on Dask, on 2 workers against 1, and what a job costs
over the bare replay it wraps.

Each sweep is ``trio_paper.app.sweep.run_sweep`` into a fresh home (so nothing comes from the
cache), timed whole: the LocalCluster's start and close, every job, the results files. The bare
figure is the same 16 replays one after another in this process with ``replay()``, nothing else
(the reports written in the replay's process, as a sweep's job writes them).
``python -m bench.sweeps`` runs this section alone and prints it.
"""

from __future__ import annotations

import gzip
import itertools
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from trio_paper.app.replay import replay
from trio_paper.app.sweep import plan_sweep, run_sweep
from trio_paper.config import Config, evolve
from trio_paper.engine.strategies import load

from .inputs import CANDLES_1M

GRID = ["fast=5,9,13,21", "slow=34,55,89,144"]
COMBOS = [(fast, slow) for fast in (5, 9, 13, 21) for slow in (34, 55, 89, 144)]
ROWS = 80_000  # about 1 s of replay a job on the benchmark machine (0.37 s at 30,000)
TARGET_SPEEDUP = 1.8


@attrs.frozen
class SweepBench:
    jobs: int
    rows: int
    one_worker_s: float
    two_workers_s: float
    bare_s: float

    @property
    def speedup(self) -> float:
        return self.one_worker_s / self.two_workers_s

    @property
    def overhead_per_job_s(self) -> float:
        """What one worker spends beyond the bare replays, per job."""
        return (self.one_worker_s - self.bare_s) / self.jobs


def candles(directory: Path, rows: int = ROWS) -> Path:
    """The first ``rows`` minutes of the shared 1-minute file's 2025 stretch."""
    out = directory / f"sweep-{rows}-candles.csv"
    if not out.exists():
        with gzip.open(CANDLES_1M, "rt", encoding="utf-8") as handle:
            header = next(handle)
            body = (line for line in handle if line.startswith("17"))  # 2025's ms stamps
            out.write_text(header + "".join(itertools.islice(body, rows)), encoding="utf-8")
    return out


def measure(directory: Path, log: Callable[[str], None]) -> SweepBench:
    data = candles(directory)
    walls = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory(prefix="bench-sweep-") as home:
            plan = plan_sweep(data, "ema_cross", GRID, Config(), Path(home), workers=workers)
            clock = time.perf_counter()
            result = run_sweep(plan)
            walls[workers] = time.perf_counter() - clock
        if result.ran != len(COMBOS) or result.failed:
            raise RuntimeError(f"the sweep did not run every job cleanly: {result.rows}")
        log(f"sweep of {len(COMBOS)} jobs on {workers} worker(s): {walls[workers]:.1f} s")
    with tempfile.TemporaryDirectory(prefix="bench-sweep-bare-") as home:
        clock = time.perf_counter()
        for fast, slow in COMBOS:
            params = {"fast": fast, "slow": slow}
            config = evolve(Config(), strategy={"name": "ema_cross", "params": params})
            # As a sweep's job runs it: the reports in the replay's own process.
            replay(
                data, config, load("ema_cross", params), Path(home), run_id=f"{fast}-{slow}",
                helpers=False,
            )  # fmt: skip
        bare = time.perf_counter() - clock
    log(f"the same {len(COMBOS)} replays, bare and in a row: {bare:.1f} s")
    return SweepBench(len(COMBOS), ROWS, walls[1], walls[2], bare)


def render(bench: SweepBench) -> str:
    met = "yes" if bench.speedup >= TARGET_SPEEDUP else "**no**"
    return "\n".join(
        [
            "## 5. Parameter sweep on Dask (LocalCluster, processes)",
            "",
            f"{bench.jobs} jobs (`ema_cross`, fast × slow), each a replay of {bench.rows:,} "
            "1-minute candles; wall time of the whole `run_sweep`, cluster start and close "
            "included, into an empty cache.",
            "",
            "| | seconds |",
            "|---|---|",
            f"| 1 worker | {bench.one_worker_s:.1f} |",
            f"| 2 workers | {bench.two_workers_s:.1f} |",
            f"| the {bench.jobs} replays bare, one after another | {bench.bare_s:.1f} |",
            "",
            f"Speed-up on 2 workers: **{bench.speedup:.2f}×** (target ≥ {TARGET_SPEEDUP}×: "
            f"{met}). Overhead per job over the bare replay, on 1 worker: "
            f"**{bench.overhead_per_job_s * 1000:.0f} ms**.",
            "",
        ]
    )


def main() -> int:
    def log(text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        print(render(measure(Path(tmp), log)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
