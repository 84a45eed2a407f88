"""One replay in a fresh process: ``python -m bench.replay_child INPUT HOME [--strategy S]``.

Calls ``trio_paper.replay.replay`` exactly as ``trio-paper replay --file INPUT`` does (default
config, no progress bar, speed max) and prints one JSON line:

- ``seconds``: the replay loop as ``ReplayResult.seconds`` times it — read, decode, validate,
  engine, journal, the final fsync and checkpoint;
- ``wall_seconds``: the whole call, with the run directory, manifest and reports;
  ``cpu_seconds``: the CPU time spent in it (steadier on a busy machine), the report process's
  (a big candle file is reported by a second process) included;
- ``items`` (recording lines or candle rows), ``frames`` (raw frames among them), ``bars``
  (``bar`` records in the journal, read back), ``records``;
- ``rss_start_kb``: VmRSS once everything is imported; ``vm_hwm_kb``: the process's peak;
- ``package``: where ``trio_paper`` was imported from (a baseline runs another source tree).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import orjson

import trio_paper
from trio_paper.config import Config
from trio_paper.engine.strategies import load as load_strategy

from .memory import status_kb

try:
    from trio_paper.app.replay import replay
    from trio_paper.store.journal import read_journal
except ImportError:  # a baseline from before the app layer
    from trio_paper.journal import read_journal  # type: ignore[no-redef,import-not-found]
    from trio_paper.replay import replay  # type: ignore[no-redef,import-not-found]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.replay_child")
    parser.add_argument("input", type=Path)
    parser.add_argument("home", type=Path)
    parser.add_argument("--strategy", default=None)
    args = parser.parse_args()
    config = Config()
    name = args.strategy or config.strategy.name
    params = config.strategy.params if name == config.strategy.name else {}
    strategy = load_strategy(name, params)
    rss_start = status_kb("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time() + _children_cpu()
    result = replay(args.input, config, strategy, args.home)
    wall = time.perf_counter() - started
    cpu = time.process_time() + _children_cpu() - cpu_started
    summary = orjson.loads(result.run.summary_json.read_bytes())
    # A candle replay's journal leaves most bars out (bars beside it): count them read back.
    bars = sum(record["type"] == "bar" for record in read_journal(result.run.events))
    print(
        orjson.dumps({
            "items": result.items, "frames": summary["feed"]["frames"], "bars": bars,
            "records": result.records, "seconds": result.seconds, "wall_seconds": wall,
            "cpu_seconds": cpu, "rss_start_kb": rss_start, "vm_hwm_kb": status_kb("VmHWM"),
            "package": trio_paper.__file__,
        }).decode()
    )  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
