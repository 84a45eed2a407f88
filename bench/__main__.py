"""``python -m bench``: measure, then write ``bench/results.md``. See ``bench/README.md``."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import inputs, live, machine, replays, report, stages, sweeps, versus

LATENCY_RATES = (100, 1_000, 10_000)
MEMORY_RATE = 5_000
"""Frames/s of section 4: well inside what a session keeps up with on a slow 2-core machine.
One that falls behind (as at 10,000 there) fills its bounded feed queue, and the growth then
measured is that backlog (up to ``feed.queue_size`` frames), not the session's own memory."""


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--out", type=Path, default=inputs.REPO / "bench" / "results.md")
    parser.add_argument(
        "--inputs", type=Path, metavar="DIR",
        help="build the generated inputs here and keep them for the next run "
        "(default: a temporary directory, removed after)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=3, help="replays per input (default 3)")
    parser.add_argument(
        "--baseline", metavar="SRC_OR_REF",
        help="also replay with another version of the package: a source directory holding "
        "trio_paper/, or a git commit whose src/ is exported to a temporary directory",
    )  # fmt: skip
    parser.add_argument(
        "--baseline-name", metavar="TEXT", help="what to call the baseline in results.md"
    )
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--no-live", action="store_true", help="skip sections 3 and 4")
    parser.add_argument("--no-sweep", action="store_true", help="skip section 5")
    parser.add_argument(
        "--no-versus", action="store_true", help="skip section 2b (needs the bench extra)"
    )
    args = parser.parse_args()

    def log(text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = args.inputs or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        baseline = _baseline_source(args.baseline, Path(tmp)) if args.baseline else None
        _compile(inputs.REPO / "src", baseline)
        about = machine.describe(inputs.REPO)
        log(f"building inputs in {work}")
        multi_day = inputs.multi_day_recording(work)
        year = inputs.year_of_candles(work)
        recordings = [
            replays.replay_case("1 day", inputs.DAY_RECORDING, args.runs, baseline, log),
            replays.replay_case(f"{inputs.DAYS} days", multi_day, args.runs, baseline, log),
        ]
        candles = replays.replay_case("a year of candles", year, args.runs, baseline, log)
        against = None if args.no_versus else versus.measure(year, args.runs, log)
        profile = [stages.measure_in_child(year), stages.measure_in_child(inputs.DAY_RECORDING)]
        log(f"stages: {profile}")
        latency: list[live.Latency] = []
        memory = None
        if not args.no_live:
            for rate in LATENCY_RATES:
                latency.append(
                    live.measure_latency(inputs.DAY_RECORDING, rate, 3.0, args.latency_seconds)
                )
                log(f"latency at {rate:,} frames/s: {latency[-1]}")
            memory = live.measure_memory(inputs.DAY_RECORDING, MEMORY_RATE)
            log(f"live memory: {memory.frames:,} frames, peak {memory.vm_hwm_kb:,} kB")
        sweep = None if args.no_sweep else sweeps.measure(work, log)
    results = report.Results(
        about, args.runs, args.baseline_name or args.baseline, recordings, candles, latency,
        memory,
        machine.load_average(),
        against,
        profile,
    )  # fmt: skip
    args.out.write_text(report.render(results) + (f"\n{sweeps.render(sweep)}" if sweep else ""))
    log(f"wrote {args.out}")
    return 0


def _compile(*sources: Path | None) -> None:
    """Byte-compile the sources measured, as a first run (or ``pip install``) leaves them:
    under ``PYTHONDONTWRITEBYTECODE`` every process would compile every module it imports, which
    no user's second run does and which pip spares backtesting.py (its wheel is compiled at
    install)."""
    for source in sources:
        if source is not None:
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(source)], check=True)


def _baseline_source(spec: str, tmp: Path) -> Path:
    """A directory holding ``trio_paper/``: ``spec`` itself, or ``src/`` of commit ``spec``."""
    path = Path(spec)
    if (path / "trio_paper").is_dir():
        return path.resolve()
    out = tmp / "baseline"
    out.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(inputs.REPO), "archive", spec, "src"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    shutil.rmtree(out / "src" / "trio_paper.egg-info", ignore_errors=True)
    return out / "src"


if __name__ == "__main__":
    sys.exit(main())
