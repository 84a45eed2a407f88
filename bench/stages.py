"""Where a replay's time goes, stage by stage: ``python -m bench.stages [--json] FILE``.

CPU time per item (a candle file's bar, a recording's frame), in one process, of each stage on
its own: reading the input into the core's inputs, the core (decoder, engine, strategy, risk,
broker, the records), the journal (lines, scrubbing, buffering, a flush every 16 inputs as the
replay does) and the report's pass over the journal (``Digest``), with the JSON parse of its
lines alone beside it. ``PYTHONPATH=<src>`` measures another source tree the same way. Prints
one line, or with ``--json`` the figures as one JSON object (``make bench`` reads them).
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
import orjson

from trio_paper.app.catchup import FLUSH_EVERY
from trio_paper.app.replay import CANDLE_RUN, _candle_inputs, is_recording
from trio_paper.config import Config
from trio_paper.core import Core
from trio_paper.engine.strategies import load
from trio_paper.inputs import ClosedBars, Frame, Input
from trio_paper.report.digest import Digest
from trio_paper.store.bars_beside import keep_copy
from trio_paper.store.journal import JournalWriter, journal_records
from trio_paper.store.recording import RecordingReader

T = TypeVar("T")


@attrs.frozen
class Stages:
    """CPU µs per item of each stage; ``item`` says what one is."""

    item: str  # "bar" or "frame"
    items: int
    records: int
    read: float
    core: float
    journal: float
    report: float
    parse: float  # of ``report``: parsing the journal's lines alone

    @property
    def loop(self) -> float:
        """The replay loop's stages together (the loop itself adds little: runs of bars)."""
        return self.read + self.core + self.journal


def _cpu(work: Callable[[], T]) -> tuple[float, T]:
    """CPU seconds of ``work``, the garbage collector off: every stage holds the whole input
    in memory, which the replay never does, and collections over it would be counted as the
    stage's (the replay's own collections cost nothing measurable: bench/README.md)."""
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        out = work()
        return time.process_time() - started, out
    finally:
        gc.enable()


def _read_candles(core: Core, path: Path) -> tuple[float, list[Input], int]:
    """The replay's own inputs of a candle file (runs of ``CANDLE_RUN`` bars, sane bounds)."""
    read_s, inputs = _cpu(lambda: list(_candle_inputs(core, path, 0, CANDLE_RUN)))
    return read_s, inputs, sum(len(item.bars) for item in inputs if isinstance(item, ClosedBars))


def _read_recording(_: Core, path: Path) -> tuple[float, list[Input], int]:
    def read() -> list[Input]:
        # All of the reading, here: a replay reads a big recording ahead in a second process,
        # whose CPU time this one's would not count.
        with RecordingReader(path, ahead=False) as reader:
            return list(reader)

    read_s, inputs = _cpu(read)
    return read_s, inputs, sum(isinstance(item, Frame) for item in inputs)


def _parse_lines(events: Path) -> None:
    """The journal's lines parsed, and nothing else (the bars it left out stay out)."""
    with events.open("rb") as handle:
        deque(journal_records(handle, events), maxlen=0)


def measure(path: Path) -> Stages:
    recording = is_recording(path)
    config = Config()
    core = Core(config, load(config.strategy.name, config.strategy.params))
    read_s, inputs, items = (_read_recording if recording else _read_candles)(core, path)

    def run() -> list[dict[str, Any]]:
        records = []
        for item in inputs:
            records.extend(core.on_item(item).records)
        return records

    core_s, records = _cpu(run)
    with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
        events = Path(tmp) / "events.jsonl"
        beside = not recording  # as the replay writes it: bars beside the journal
        if beside:
            keep_copy(path, Path(tmp))

        def write() -> None:
            with JournalWriter(events, bars_beside=beside) as journal:
                for start in range(0, len(records), FLUSH_EVERY):
                    journal.append(records[start : start + FLUSH_EVERY])
                    journal.flush()

        journal_s, _ = _cpu(write)
        report_s, _ = _cpu(lambda: Digest().read(events))
        parse_s, _ = _cpu(lambda: _parse_lines(events))
    per = 1e6 / items
    return Stages(
        "frame" if recording else "bar", items, len(records), read_s * per, core_s * per,
        journal_s * per, report_s * per, parse_s * per,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("file", type=Path, help="a candle file or a recording")
    args = parser.parse_args()
    s = measure(args.file)
    if args.json:
        print(orjson.dumps(attrs.asdict(s)).decode())
        return
    print(
        f"CPU µs per {s.item} over {s.items:,} {s.item}s ({s.records:,} records): "
        f"read {s.read:.2f}, core {s.core:.2f}, journal {s.journal:.2f}, "
        f"report pass {s.report:.2f} (JSON parse alone {s.parse:.2f})"
    )


def measure_in_child(path: Path) -> Stages:
    """``measure`` in a fresh process, as ``make bench`` takes it."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.stages", "--json", str(path)],
        capture_output=True, check=True, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    return Stages(**orjson.loads(out.stdout))


if __name__ == "__main__":
    main()
