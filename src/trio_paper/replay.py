"""``trio-paper replay``: a recording (or a candle file) through the same core, as fast as it goes.

A recording replays item by item through ``Core.on_item`` — exactly what the live session did —
so its journal is byte-identical to the live one. A candle file is a bars-only stream: each row
is a closed bar at its close time, a backtest through the very same engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from . import __version__
from .candles import read_candles
from .codec import converter
from .config import Config
from .core import Core
from .engine.strategies import Strategy
from .inputs import SessionStart
from .report import write_reports
from .store.journal import JournalWriter
from .store.recording import RecordingReader
from .store.rundir import RunDir, new_run, point_latest
from .venues.bitunix import INTERVALS

Progress = Callable[[float], None]


@attrs.frozen
class ReplayResult:
    run: RunDir
    items: int
    records: int
    seconds: float
    truncated: str | None


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
) -> ReplayResult:
    """Replay ``path`` into a new run under ``home``; ``speed`` None means as fast as possible."""
    run = new_run(home, "replay", run_id=run_id)
    started = datetime.now(UTC)
    recording = is_recording(path)
    manifest: dict[str, Any] = {
        "trio_paper": __version__, "kind": "replay", "run_id": run.id, "input": str(path),
        "input_kind": "recording" if recording else "candles", "venue": config.venue.name,
        "symbol": config.venue.symbol, "strategy": strategy.describe(),
        "config": converter.unstructure(config), "started": started.isoformat(),
    }  # fmt: skip
    run.write_manifest(manifest)
    core = Core(config, strategy)
    clock = time.perf_counter()
    items = records = 0
    truncated = None
    with JournalWriter(run.events) as journal:
        if recording:
            with RecordingReader(path) as reader:
                manifest["header"] = converter.unstructure(reader.header)
                for count, out in _paced(_recording_records(core, reader), speed, progress, reader):
                    items = count
                    records += len(out)
                    journal.append(out)
                truncated = reader.truncated
        else:
            for count, out in _paced(_candle_records(core, path), speed, progress, None):
                items = count
                records += len(out)
                journal.append(out)
        final = core.end(core.engine.t, "end of input")
        records += len(final)
        journal.append(final)
        journal.sync()
    seconds = time.perf_counter() - clock
    manifest.update(
        ended=datetime.now(UTC).isoformat(), exit_reason="end of input", items=items,
        records=records, truncated=truncated,
    )  # fmt: skip
    run.write_manifest(manifest)
    write_reports(run)
    point_latest(run)
    return ReplayResult(run, items, records, seconds, truncated)


def _recording_records(
    core: Core, reader: RecordingReader
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    for item in reader:
        yield item.t, core.on_item(item)


def _candle_records(core: Core, path: Path) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    interval_ms = INTERVALS[core.config.venue.interval]
    bars = read_candles(path, core.config.venue.symbol, interval_ms)
    for index, bar in enumerate(bars):
        if index == 0:
            start = SessionStart(1, bar.open_time, f"candles:{path.name}")
            yield bar.open_time, core.on_item(start)
        yield bar.close_time, core.on_candle(bar)


def _paced(
    records: Iterator[tuple[int, list[dict[str, Any]]]],
    speed: float | None,
    progress: Progress | None,
    reader: RecordingReader | None,
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Count items, sleep to keep ``speed`` × real time, and report progress now and then."""
    wall0 = time.monotonic()
    t0: int | None = None
    count = 0
    for count, (t, out) in enumerate(records, start=1):
        if speed is not None:
            t0 = t if t0 is None else t0
            ahead = (t - t0) / 1000 / speed - (time.monotonic() - wall0)
            if ahead > 0:
                time.sleep(ahead)
        if progress is not None and count % 4096 == 0 and reader is not None:
            progress(reader.fraction_read())
        yield count, out
    if progress is not None:
        progress(1.0)
