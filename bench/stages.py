"""Where a candle replay's time goes, stage by stage: ``python -m bench.stages CANDLES.csv.gz``.

CPU time per bar, in one process, of each stage on its own: reading the rows into ``Bar``s,
the core (engine, strategy, risk, broker, the records), the journal (lines, scrubbing,
buffering, a flush every 16 inputs as the replay does) and the report's pass over the journal
(``Digest``), with the JSON parse of its lines alone beside it. ``PYTHONPATH=<src>`` measures
another source tree the same way. Prints one line.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from trio_paper.config import Config
from trio_paper.core import Core
from trio_paper.engine.strategies import load
from trio_paper.inputs import ClosedBars, Input, SessionStart
from trio_paper.report.digest import Digest
from trio_paper.store.journal import JournalWriter, read_journal
from trio_paper.venues.candles import read_candles

T = TypeVar("T")
FLUSH_EVERY = 16
RUN = 512  # bars per input, as app.replay.CANDLE_RUN


def _cpu(work: Callable[[], T]) -> tuple[float, T]:
    started = time.process_time()
    out = work()
    return time.process_time() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__)
    parser.add_argument("candles", type=Path)
    args = parser.parse_args()
    read_s, bars = _cpu(lambda: list(read_candles(args.candles, "BTCUSDT", 60_000)))
    config = Config()
    core = Core(config, load(config.strategy.name, config.strategy.params))
    inputs: list[Input] = [SessionStart(1, bars[0].open_time, "stages")]
    inputs += [
        ClosedBars(
            start + 2, tuple(bars[start : start + RUN]), ((),) * len(bars[start : start + RUN])
        )
        for start in range(0, len(bars), RUN)
    ]

    def run() -> list[dict[str, Any]]:
        records = []
        for item in inputs:
            records.extend(core.on_item(item).records)
        return records

    core_s, records = _cpu(run)
    with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
        events = Path(tmp) / "events.jsonl"

        def write() -> None:
            with JournalWriter(events) as journal:
                for start in range(0, len(records), FLUSH_EVERY):
                    journal.append(records[start : start + FLUSH_EVERY])
                    journal.flush()

        journal_s, _ = _cpu(write)
        report_s, _ = _cpu(lambda: Digest().read(events))
        parse_s, _ = _cpu(lambda: deque(read_journal(events), maxlen=0))

    def per_bar(seconds: float) -> str:
        return f"{seconds / len(bars) * 1e6:.2f}"

    print(
        f"CPU µs per bar over {len(bars):,} bars ({len(records):,} records): "
        f"read {per_bar(read_s)}, core {per_bar(core_s)}, journal {per_bar(journal_s)}, "
        f"report pass {per_bar(report_s)} (JSON parse alone {per_bar(parse_s)})"
    )


if __name__ == "__main__":
    main()
