"""The benchmark's session: a real ``Session`` fed by the simulator, its disk instrumented.

``python -m bench.live_session --home DIR --out FILE (--measure S | --until-idle)`` builds a
session as ``trio-paper run`` does (default config, EMA cross, a run directory with a recording
and a journal), prints ``ready``, reads the simulator's URLs as one JSON line on stdin, then
runs the session against them:

- ``--warmup W --measure S``: runs W + S seconds (plus a second to drain) and stops;
- ``--until-idle``: runs until no frame has arrived for 3 s (a recording played once is over).

The probe sees the session from outside, through the three objects a session is given for its
disk (``Durable``, its recorder and its journal), and stamps ``time.perf_counter_ns()``:

- **buffered**: when the engine task's ``journal.append(records)`` returns for a frame — the
  frame has been recorded, decoded, validated and run through the engine, and its records (most
  frames have none) are in the journal's buffer;
- **durable**: when the group commit that covers the frame has fsync'd the recording, then the
  journal (``Durable._commit`` returns for the batch the writer task took after the frame was
  buffered; a frame buffered while a batch is in flight counts with the next one).

It writes FILE as int64 triples ``(hash(frame text), buffered, durable)`` and prints one JSON
line: the measurement window, frame counts, the group commits (taken and synced), VmRSS samples
(every 0.5 s) and VmHWM.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs
import orjson
import trio

from trio_paper.config import Config
from trio_paper.core import Core
from trio_paper.engine.strategies import load as load_strategy
from trio_paper.inputs import Frame, Item
from trio_paper.runtime.durable import Batch, CheckpointDue, Durable
from trio_paper.runtime.session import Session, SessionPlan
from trio_paper.store.checkpoint import CheckpointStore, now_iso
from trio_paper.store.journal import JournalWriter
from trio_paper.store.recording import Header, RecordingWriter
from trio_paper.store.rundir import ensure_home, new_run
from trio_paper.venues.bitunix import ws as bitunix

from .memory import status_kb

IDLE_S = 3.0
SAMPLE_S = 0.5


class Probe:
    """Stamps per frame: handled (``buffered``) and made durable (``durable``)."""

    def __init__(self, keep_stamps: bool) -> None:
        self.keep_stamps = keep_stamps
        """False when measuring memory: 388,800 triples would be 9 MB of the process's own."""
        self.stamps: array[int] = array("q")  # (hash, buffered, durable) triples
        self.commits: array[int] = array("q")  # (taken, synced) pairs
        self.current: int | None = None
        self.untaken = 0  # frames buffered since the writer last took the buffers
        self.in_flight: deque[tuple[int, int]] = deque()  # (taken at, frames) per batch
        self.unsynced = 0  # index of the first triple whose batch is not synced yet
        self.frames = 0

    def recorded(self, item: Item) -> None:
        self.current = hash(item.raw) if isinstance(item, Frame) else None

    def buffered(self) -> None:
        if self.current is not None:
            if self.keep_stamps:
                self.stamps.extend((self.current, time.perf_counter_ns(), 0))
                self.untaken += 1
            self.frames += 1
            self.current = None

    def taken(self) -> None:
        """The writer took the buffers: the frames buffered so far go with this batch."""
        self.in_flight.append((time.perf_counter_ns(), self.untaken))
        self.untaken = 0

    def synced(self) -> None:
        """The oldest batch in flight is fsync'd: its frames are durable, the later ones not."""
        now = time.perf_counter_ns()
        taken, frames = self.in_flight.popleft()
        if self.keep_stamps:
            self.commits.extend((taken, now))
        first = self.unsynced
        for index in range(3 * first + 2, 3 * (first + frames), 3):
            self.stamps[index] = now
        self.unsynced = first + frames


class ProbedRecorder(RecordingWriter):
    def __init__(self, path: Path, header: Header, probe: Probe) -> None:
        super().__init__(path, header)
        self.probe = probe

    def write(self, item: Item) -> None:
        super().write(item)
        self.probe.recorded(item)


class ProbedJournal(JournalWriter):
    def __init__(self, path: Path, probe: Probe) -> None:
        super().__init__(path)
        self.probe = probe

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        super().append(records)
        self.probe.buffered()


class ProbedDurable(Durable):
    def __init__(
        self,
        recorder: RecordingWriter,
        journal: JournalWriter,
        store: CheckpointStore,
        probe: Probe,
    ) -> None:
        super().__init__(recorder, journal, store)
        self.probe = probe

    def _take(self, checkpoint_due: CheckpointDue) -> Batch:
        batch = super()._take(checkpoint_due)
        self.probe.taken()
        return batch

    async def _commit(self, batch: Batch) -> None:
        await super()._commit(batch)
        self.probe.synced()


def exchange_clock(exchange_ms: int, perf_ns: int, speed: float) -> Callable[[], int]:
    """The simulator's exchange clock, read off the machine's monotonic clock: what the
    session takes for the wall clock. Played thousands of times faster than recorded, the
    recording's times run ahead of the real wall clock at once, and every frame would be
    refused as too far from its receive time (``feed.max_clock_skew_s``), logged, and never
    reach the engine."""

    def clock_ms() -> int:
        return exchange_ms + int((time.perf_counter_ns() - perf_ns) * speed / 1_000_000)

    return clock_ms


def build(
    home: Path, ws_url: str, rest_url: str, probe: Probe, clock_ms: Callable[[], int], speed: float
) -> tuple[Session, Durable]:
    """A session as ``app.run`` builds one, with the probe on its disk, on the exchange's
    clock. The clock-skew bound is the default's in real seconds: at 2,222 times real speed
    the default 300 exchange seconds is 135 ms of real lag, and a session that fell that far
    behind at 10,000 frames/s would refuse every later frame instead of showing its latency."""
    config = Config()
    feed = attrs.evolve(config.feed, max_clock_skew_s=config.feed.max_clock_skew_s * speed)
    config = attrs.evolve(config, feed=feed)
    strategy = load_strategy(config.strategy.name, config.strategy.params)
    ensure_home(home)
    run = new_run(home, "sim")
    v = config.venue
    channels = [bitunix.kline_channel(v.interval), *bitunix.MARKET_CHANNELS]
    header = Header(v.name, v.symbol, channels, v.interval, now_iso(), source="sim")
    durable = ProbedDurable(
        ProbedRecorder(run.recording, header, probe),
        ProbedJournal(run.events, probe),
        CheckpointStore(home / "state"),
        probe,
    )
    plan = SessionPlan(
        config, run.id, 24 * 60, ws_url, rest_url, home / "state",
        warmup_bars=max(config.feed.warmup_bars, strategy.warmup_bars), clock_ms=clock_ms,
    )  # fmt: skip
    return Session(plan, Core(config, strategy), durable), durable


async def run(
    session: Session, probe: Probe, warmup: float, measure: float | None
) -> dict[str, Any]:
    window: dict[str, float] = {}
    samples: list[tuple[float, int, int]] = []
    started = trio.current_time()

    async def sample() -> None:
        while True:
            samples.append((trio.current_time() - started, probe.frames, status_kb("VmRSS")))
            await trio.sleep(SAMPLE_S)

    async def stop_after_window() -> None:
        assert measure is not None
        await trio.sleep(warmup)
        window["start_ns"], window["cpu_start"] = time.perf_counter_ns(), _cpu_seconds()
        await trio.sleep(measure)
        window["end_ns"], window["cpu_end"] = time.perf_counter_ns(), _cpu_seconds()
        await trio.sleep(1.0)  # frames sent just before the end are still handled
        session.request_stop("benchmark window over")

    async def stop_when_idle() -> None:
        last, quiet_since = -1, trio.current_time()
        while True:
            await trio.sleep(0.25)
            if probe.frames != last:
                last, quiet_since = probe.frames, trio.current_time()
            elif probe.frames and trio.current_time() - quiet_since >= IDLE_S:
                session.request_stop("recording played")
                return

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sample)
        nursery.start_soon(stop_after_window if measure is not None else stop_when_idle)
        await session.run()
        nursery.cancel_scope.cancel()
    samples.append((trio.current_time() - started, probe.frames, status_kb("VmRSS")))
    return {
        **window, "frames": probe.frames, "seconds": trio.current_time() - started,
        "rss_samples": samples, "vm_hwm_kb": status_kb("VmHWM"),
        "bad_frames": session.core.decoder.counts.bad_frames, "commits": probe.commits.tolist(),
    }  # fmt: skip


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.live_session")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--warmup", type=float, default=3.0)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--measure", type=float, help="seconds of measurement after the warm-up")
    mode.add_argument("--until-idle", action="store_true")
    args = parser.parse_args()
    if sys.flags.hash_randomization:
        parser.error("run with PYTHONHASHSEED=0: frames are named by hash(text)")
    probe = Probe(keep_stamps=not args.until_idle)
    print("ready", flush=True)  # imports done: the simulator may start now
    urls = orjson.loads(sys.stdin.readline())
    clock = exchange_clock(**urls["clock"])
    speed = urls["clock"]["speed"]
    session, durable = build(args.home, urls["ws_url"], urls["rest_url"], probe, clock, speed)
    try:
        result = trio.run(run, session, probe, args.warmup, args.measure)
    finally:
        durable.close()
    args.out.write_bytes(probe.stamps.tobytes())
    print(orjson.dumps(result).decode(), flush=True)


if __name__ == "__main__":
    main()
