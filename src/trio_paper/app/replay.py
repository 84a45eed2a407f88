"""``trio-paper replay``: a recording (or a candle file) through the same core, as fast as it goes.

A recording replays item by item through ``Core.on_item`` — exactly what the live session did —
so its journal is byte-identical to the live one. A candle file is a bars-only stream: each row
is a closed bar at its close time, a backtest through the very same engine.

A replay named with ``--run-id`` is resumable: killed at any instant and started again with the
same arguments, it continues from its last checkpoint (``runs/<id>/state/``) and its journal ends
up byte for byte what an uninterrupted replay writes. That is how the crash harness proves the
recovery code.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs

from ..config import Config, evolve
from ..core import Core
from ..engine.strategies import Strategy
from ..errors import Exit, UsageError
from ..fidelity import bars_only_model
from ..inputs import ClosedBars, Input, SessionStart
from ..model import Settlement
from ..store.bars_beside import keep_copy
from ..store.checkpoint import CheckpointStore
from ..store.files import private_dir
from ..store.journal import ResumedJournal
from ..store.recording import RecordingReader
from ..store.rundir import RunDir
from ..times import INTERVAL_MS
from ..venues.candles import detect_interval, read_candles
from ..venues.funding import FundingSchedule, read_funding
from .catchup import catch_up, close, restore
from .lifecycle import Run
from .progress import progress_bar
from .report_process import ReportProcess, worth_it
from .settings import config_of, home_of, strategy_of

Progress = Callable[[float], None]
NONE_DUE: tuple[tuple[Settlement, ...], ...] = ((),)
CANDLE_RUN = 512
"""Bars of a candle file per input: the core, the journal and this loop then cost per run of
bars, not per bar, where they do no work a bar needs."""
COLLECT_AFTER = 20_000
"""Container objects made (less those freed) between the collector's young passes during a
replay, where Python's default is 700: a run of bars or a part of frames is more than that and
lives for one input, so at 700 the collector ran hundreds of times for nothing (and now and then
over every object of the process), 6 % of a year of bars."""


class ReplayError(UsageError):
    """A replay that cannot start: the message says why."""


@attrs.frozen
class ReplayResult:
    run: RunDir
    items: int
    records: int
    seconds: float
    truncated: str | None
    resumed_at: int
    strategy_disabled: bool = False
    left_out: int = 0
    """Bar records the journal left out (bars beside it: docs/events.md)."""


def is_recording(path: Path) -> bool:
    """A recording starts with its header line; anything else is taken for a candle file."""
    try:
        with RecordingReader(path):
            return True
    except (ValueError, OSError, EOFError):
        return False


def replay(
    path: Path,
    config: Config,
    strategy: Strategy[Any, Any],
    home: Path,
    speed: float | None = None,
    progress: Progress | None = None,
    run_id: str | None = None,
    checkpoint_every: int | None = None,
    funding: Path | None = None,
    mark: Path | None = None,
    helpers: bool = True,
) -> ReplayResult:
    """Replay ``path`` into a run under ``home``; ``speed`` None means as fast as possible.

    An existing, unfinished ``run_id`` is resumed with the config it started with. ``funding``
    (and ``mark``) are a candle replay's funding history: see ``venues.funding``. A big candle
    file is reported by a second process as it replays, and a big recording is read ahead by
    one, unless told not to (``helpers`` False: a sweep's worker, whose CPUs are taken). With
    helpers the process is the replay's own, and the garbage collector runs less often while it
    replays (``COLLECT_AFTER``).
    """
    recording = is_recording(path)
    if (funding is not None or mark is not None) and recording:
        raise ReplayError(f"{path} is a recording: --funding and --mark are for candle files")
    if mark is not None and funding is None:
        raise ReplayError("--mark needs --funding")
    if recording:
        config = _recorded_venue(config, path)
    else:
        check_interval(path, config)
    extra = {"funding": None if funding is None else str(funding)}
    extra["mark"] = None if mark is None else str(mark)
    kind = "recording" if recording else "candles"
    run = _open_run(home, run_id, path, kind, config, strategy, extra)
    try:
        with _collecting_rarely() if helpers else contextlib.nullcontext():
            return _replay(
                run, path, config, strategy, speed, progress, checkpoint_every, extra, helpers
            )
    except UsageError:
        if not run.manifest.resumes:  # a bad input found mid-way: leave no half run behind
            shutil.rmtree(run.dir.path, ignore_errors=True)
        raise


@contextlib.contextmanager
def _collecting_rarely() -> Iterator[None]:
    """The collector's young passes every ``COLLECT_AFTER`` objects, its old ones as before."""
    before = gc.get_threshold()
    gc.set_threshold(COLLECT_AFTER, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def check_interval(path: Path, config: Config) -> None:
    """A candle file's spacing must be ``venue.interval``: replaying 5-minute candles as
    1-minute bars would close each bar 4 minutes early (look-ahead) and misstate every rate."""
    detected = detect_interval(path)
    wanted = config.venue.interval
    if detected != INTERVAL_MS[wanted]:
        names = [name for name, ms in INTERVAL_MS.items() if ms == detected]
        hint = f"--interval {names[0]}" if names else "a file of one interval"
        raise ReplayError(
            f"{path}: its candles are {detected // 1000:,} s apart, but venue.interval is "
            f"{wanted} ({INTERVAL_MS[wanted] // 1000:,} s): use {hint}"
        )


def _replay(
    run: Run,
    path: Path,
    config: Config,
    strategy: Strategy[Any, Any],
    speed: float | None,
    progress: Progress | None,
    checkpoint_every: int | None,
    extra: dict[str, str | None],
    helpers: bool,
) -> ReplayResult:
    funding = None if extra["funding"] is None else Path(extra["funding"])
    mark = None if extra["mark"] is None else Path(extra["mark"])
    store = CheckpointStore(private_dir(run.dir.path / "state"))
    restored = restore(run, store, None if run.manifest.resumes else (config, strategy))
    interval_ms = INTERVAL_MS[restored.core.config.venue.interval]
    schedule = None if funding is None else read_funding(funding, interval_ms, mark)
    clock = time.perf_counter()
    recording = run.manifest.input_kind == "recording"
    reader = RecordingReader(path, ahead=None if helpers else False) if recording else None
    follow = helpers and not recording and worth_it(path)
    try:
        # Paced, a bar at a time; with checkpoints, runs that end where they fall.
        run_of = 1 if speed is not None else min(CANDLE_RUN, checkpoint_every or CANDLE_RUN)
        inputs: Iterable[Input] = (
            reader
            if reader
            else _candle_inputs(restored.core, path, restored.after, run_of, schedule, progress)
        )
        if speed is not None or progress is not None:
            after = restored.after  # pace only what runs: a resumed replay does not wait again
            inputs = _paced((i for i in inputs if i.seq > after), speed, progress, reader)
        with contextlib.ExitStack() as stack:
            # A candle replay keeps its candle file, so its journal may leave out the bars
            # that repeat the one before (store/bars_beside.py).
            beside = reader is None
            if beside:
                keep_copy(path, run.dir.path)
            covered = restored.core.engine.state.seq
            journal = stack.enter_context(ResumedJournal(run.dir.events, beside, covered))
            reports = stack.enter_context(ReportProcess(run.dir)) if follow else None
            done = catch_up(restored, inputs, journal, store, checkpoint_every)
            done.records += close(restored, journal, store, "end of input")
            journal.close()
            seconds = time.perf_counter() - clock
            truncated = reader.truncated if reader else None
            run.finish(
                "end of input", items=restored.core.state.last_seq, truncated=truncated,
                reports=reports,
            )  # fmt: skip
    finally:
        if reader is not None:
            reader.close()
    disabled = restored.core.engine.state.strategy_disabled
    return ReplayResult(
        run.dir, done.items, done.records, seconds, truncated, restored.after, disabled,
        journal.left_out,
    )  # fmt: skip


def _recorded_venue(config: Config, path: Path) -> Config:
    """A recording replays on the venue it was recorded from, whatever the config says."""
    with RecordingReader(path) as reader:
        venue = reader.header.venue
    if venue == config.venue.name:
        return config
    return evolve(config, venue={"name": venue, "ws_url": None, "rest_url": None})


def _open_run(
    home: Path,
    run_id: str | None,
    path: Path,
    kind: str,
    config: Config,
    strategy: Strategy[Any, Any],
    extra: dict[str, str | None],
) -> Run:
    """A new run, or the unfinished one named ``run_id`` (then ``resumes`` counts up). A run
    that ended but died before its reports is unfinished too: resuming it catches up on nothing
    and writes them."""
    run = Run.find(home, run_id) if run_id is not None else None
    if run is not None:
        manifest = run.manifest
        if manifest.ended is not None and run.reported:
            raise ReplayError(f"run {run_id} is complete; choose another --run-id")
        if manifest.input != str(path):
            raise ReplayError(f"run {run_id} replays {manifest.input}, not {path}")
        for key, value in extra.items():
            if getattr(manifest, key) != value:
                raise ReplayError(f"run {run_id} has --{key} {getattr(manifest, key)}, not {value}")
        manifest.resumes = (manifest.resumes or 0) + 1
        run.save()
        return run
    return Run.create(
        home, "replay", config, strategy, run_id=run_id, input=str(path), input_kind=kind, **extra
    )


def _candle_inputs(
    core: Core,
    path: Path,
    after: int,
    run: int,
    funding: FundingSchedule | None = None,
    progress: Progress | None = None,
) -> Iterator[Input]:
    """A candle file as inputs: a session start (input 1), then its bars (input 2 on), each at
    its close time with the funding settlements due by then, in runs that end at multiples of
    ``run`` (so a checkpoint every N inputs lands where it would bar by bar when ``run``
    divides N). Inputs up to ``after`` (a checkpoint's) are read but not given."""
    interval_ms = INTERVAL_MS[core.config.venue.interval]
    described = funding.describe() if funding is not None else None
    core.model = bars_only_model(core.config, path.name, described)
    sane = core.bounds.min_price, core.bounds.max_price
    bars = read_candles(path, core.config.venue.symbol, interval_ms, sane, progress)
    seq = 2
    while chunk := tuple(itertools.islice(bars, -seq % run + 1)):  # seq to the next multiple
        if seq == 2:
            yield SessionStart(1, chunk[0].open_time, f"candles:{path.name}")
        # Every bar's settlements are taken, resumed or not: the schedule moves with them.
        due = (
            tuple(tuple(funding.take(bar)) for bar in chunk)
            if funding is not None
            else NONE_DUE * len(chunk)
        )
        skip = min(len(chunk), max(0, after - seq + 1))
        if skip < len(chunk):
            yield ClosedBars(seq + skip, chunk[skip:], due[skip:])
        seq += len(chunk)


def _paced(
    inputs: Iterable[Input],
    speed: float | None,
    progress: Progress | None,
    reader: RecordingReader | None,
) -> Iterator[Input]:
    """Sleep to keep ``speed`` × real time, and report progress now and then."""
    wall0 = time.monotonic()
    t0: int | None = None
    for count, item in enumerate(inputs, start=1):
        if speed is not None:
            t0 = item.t if t0 is None else t0
            ahead = (item.t - t0) / 1000 / speed - (time.monotonic() - wall0)
            if ahead > 0:
                time.sleep(ahead)
        if progress is not None and reader is not None and count % 4096 == 0:
            progress(reader.fraction_read())
        yield item
    if progress is not None:
        progress(1.0)


def replay_command(args: argparse.Namespace) -> int:
    config, _ = config_of(args)
    config, strategy = strategy_of(args, config)
    if not args.file.is_file():
        what = "a directory, not a file" if args.file.is_dir() else "no such file"
        raise UsageError(f"--file {args.file}: {what}")
    if args.interval is not None:
        config = evolve(config, venue={"interval": args.interval})
    if args.checkpoint_every is not None and args.checkpoint_every < 1:
        raise UsageError("--checkpoint-every must be at least 1")
    for extra in (args.funding, args.mark):
        if extra is not None and not extra.exists():
            raise UsageError(f"{extra}: no such file")
    with progress_bar(f"replaying {args.file.name}") as progress:
        result = replay(
            args.file, config, strategy, home_of(args), args.speed, progress, args.run_id,
            args.checkpoint_every, args.funding, args.mark,
        )  # fmt: skip
    if result.truncated:
        print(f"note: {result.truncated}", file=sys.stderr)
    rate = result.items / result.seconds if result.seconds else 0.0
    beside = (
        f"; {result.left_out:,} of them bars kept beside the journal" if result.left_out else ""
    )
    print(
        f"replayed {result.items:,} inputs → {result.records:,} journal records in "
        f"{result.seconds:.1f} s ({rate:,.0f}/s){beside}",
        *Run.open(result.run.path).summary_lines(),
        sep="\n",
    )
    if result.strategy_disabled:
        print(
            f"trio-paper: the strategy raised until it was disabled; its errors are in "
            f"{result.run.events}",
            file=sys.stderr,
        )
        return Exit.STRATEGY_FAILED
    return 0
