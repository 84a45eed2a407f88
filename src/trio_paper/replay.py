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

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import orjson

from . import __version__
from .candles import read_candles
from .codec import converter
from .config import Config
from .core import Core
from .engine.engine import Record
from .engine.strategies import Strategy
from .engine.strategies import load as load_strategy
from .fidelity import bars_only_model
from .funding_file import FundingSchedule, read_funding
from .inputs import SessionStart
from .logs import log_notices
from .report import write_reports
from .store.checkpoint import CheckpointStore, checkpoint_of
from .store.files import private_dir
from .store.journal import ResumedJournal
from .store.recording import RecordingReader
from .store.recovery import run_config
from .store.rundir import RunDir, new_run, point_latest, runs_root
from .venues.bitunix import INTERVALS

Progress = Callable[[float], None]
FLUSH_EVERY = 16
Inputs = Iterator[tuple[int, int, list[Record]]]  # (seq, t, records)


class ReplayError(Exception):
    """A replay that cannot start: the message says why."""


@attrs.frozen
class ReplayResult:
    run: RunDir
    items: int
    records: int
    seconds: float
    truncated: str | None
    resumed_at: int


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
) -> ReplayResult:
    """Replay ``path`` into a run under ``home``; ``speed`` None means as fast as possible.

    An existing, unfinished ``run_id`` is resumed with the config it started with. ``funding``
    (and ``mark``) are a candle replay's funding history: see ``funding_file``.
    """
    if (funding is not None or mark is not None) and is_recording(path):
        raise ReplayError(f"{path} is a recording: --funding and --mark are for candle files")
    if mark is not None and funding is None:
        raise ReplayError("--mark needs --funding")
    extra = {"funding": None if funding is None else str(funding)}
    extra["mark"] = None if mark is None else str(mark)
    run, manifest = _open_run(home, run_id, path, config, strategy, extra)
    if manifest.get("resumes"):
        config, spec = run_config(run)
        strategy = load_strategy(spec["name"], spec["params"])
    interval_ms = INTERVALS[config.venue.interval]
    schedule = None if funding is None else read_funding(funding, interval_ms, mark)
    store = CheckpointStore(private_dir(run.path / "state"))
    checkpoint = store.load()
    core = Core(config, strategy, Core.restore_state(checkpoint.core) if checkpoint else None)
    after = checkpoint.input_seq if checkpoint else 0
    clock = time.perf_counter()
    items = records = 0
    recording = manifest["input_kind"] == "recording"
    reader = RecordingReader(path) if recording else None
    try:
        inputs = (
            _recording_inputs(core, reader, after)
            if reader
            else _candle_inputs(core, path, after, schedule)
        )
        if speed is not None or progress is not None:
            inputs = _paced(inputs, speed, progress, reader)
        with ResumedJournal(run.events) as journal:
            # Most inputs produce no record and no notice: the checks keep their cost to that.
            for seq, _, out in inputs:
                items += 1
                if out:
                    records += journal.append_new(out)
                if core.notices:
                    log_notices("replay", core.notices)  # a strategy's traceback, a bad frame
                if journal.pending and seq % FLUSH_EVERY == 0:
                    journal.flush()  # to the OS: survives a killed process, not a power cut
                if checkpoint_every and seq % checkpoint_every == 0:
                    journal.sync()
                    store.save(checkpoint_of(run.id, core))
            records += journal.append_new(core.end(core.engine.t, "end of input"))
            journal.sync()
    finally:
        if reader is not None:
            reader.close()
    store.save(checkpoint_of(run.id, core))
    seconds = time.perf_counter() - clock
    truncated = reader.truncated if reader else None
    manifest.update(
        ended=datetime.now(UTC).isoformat(), exit_reason="end of input", items=core.state.last_seq,
        truncated=truncated,
    )  # fmt: skip
    run.write_manifest(manifest)
    write_reports(run)
    point_latest(run)
    return ReplayResult(run, items, records, seconds, truncated, after)


def _open_run(
    home: Path,
    run_id: str | None,
    path: Path,
    config: Config,
    strategy: Strategy[Any, Any],
    extra: dict[str, str | None],
) -> tuple[RunDir, dict[str, Any]]:
    """A new run directory, or the unfinished one named ``run_id`` (then ``resumes`` is set)."""
    if run_id is not None and (runs_root(home) / run_id / "manifest.json").exists():
        run = RunDir(runs_root(home) / run_id)
        manifest: dict[str, Any] = orjson.loads(run.manifest.read_bytes())
        if "ended" in manifest:
            raise ReplayError(f"run {run_id} is complete; choose another --run-id")
        if manifest.get("input") != str(path):
            raise ReplayError(f"run {run_id} replays {manifest.get('input')}, not {path}")
        for key, value in extra.items():
            if manifest.get(key) != value:
                raise ReplayError(f"run {run_id} has --{key} {manifest.get(key)}, not {value}")
        manifest["resumes"] = manifest.get("resumes", 0) + 1
        return run, manifest
    run = new_run(home, "replay", run_id=run_id)
    manifest = {
        "trio_paper": __version__, "kind": "replay", "run_id": run.id, "input": str(path),
        "input_kind": "recording" if is_recording(path) else "candles",
        "venue": config.venue.name, "symbol": config.venue.symbol,
        "strategy": strategy.describe(), "config": converter.unstructure(config),
        "started": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    manifest.update({k: v for k, v in extra.items() if v is not None})
    run.write_manifest(manifest)
    return run, manifest


def _recording_inputs(core: Core, reader: RecordingReader, after: int) -> Inputs:
    for item in reader:
        if item.seq > after:
            yield item.seq, item.t, core.on_item(item)


def _candle_inputs(
    core: Core, path: Path, after: int, funding: FundingSchedule | None = None
) -> Inputs:
    interval_ms = INTERVALS[core.config.venue.interval]
    bars = read_candles(path, core.config.venue.symbol, interval_ms)
    described = funding.describe() if funding is not None else None
    core.model = bars_only_model(core.config, path.name, described)
    for seq, bar in enumerate(bars, start=2):
        if seq == 2 and after < 1:
            start = SessionStart(1, bar.open_time, f"candles:{path.name}")
            yield 1, bar.open_time, core.on_item(start)
        due = funding.take(bar) if funding is not None else ()  # every bar, resumed or not
        if seq > after:
            yield seq, bar.close_time, core.on_candle(seq, bar, due)


def _paced(
    inputs: Inputs, speed: float | None, progress: Progress | None, reader: RecordingReader | None
) -> Inputs:
    """Sleep to keep ``speed`` × real time, and report progress now and then."""
    wall0 = time.monotonic()
    t0: int | None = None
    for count, (seq, t, out) in enumerate(inputs, start=1):
        if speed is not None:
            t0 = t if t0 is None else t0
            ahead = (t - t0) / 1000 / speed - (time.monotonic() - wall0)
            if ahead > 0:
                time.sleep(ahead)
        if progress is not None and reader is not None and count % 4096 == 0:
            progress(reader.fraction_read())
        yield seq, t, out
    if progress is not None:
        progress(1.0)
