"""backtesting.py on the same bars, in a fresh process: ``python -m bench.backtesting_child CSV``.

The comparison a trader makes: the backtester they know, timed whole (imports, reading the
CSV.gz, ``Backtest.run`` and its stats), against ``trio-paper replay --file CSV``. The strategy
is ours (``ema_cross``, fast 9, slow 21, a 0.5 % stop, reversing on every cross once 63 bars
are seen) in backtesting.py's idiom: an indicator crossover, close and reverse. Prints one JSON
line: ``wall_seconds`` from the process's first line to the stats in hand, ``run_seconds`` of
``Backtest.run`` alone, ``bars``, ``trades`` and ``vm_hwm_kb``.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402 - the clock starts before the imports, as a process's does
import json  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pandas as pd  # noqa: E402
from backtesting import Backtest, Strategy  # noqa: E402
from backtesting.lib import crossover  # noqa: E402

from .memory import status_kb  # noqa: E402

FAST, SLOW, STOP_PCT = 9, 21, 0.5


def _ema(values: Any, span: int) -> Any:
    return pd.Series(values).ewm(span=span, adjust=False).mean().to_numpy()


class EmaCross(Strategy):  # type: ignore[misc]
    """Long when the fast EMA crosses above the slow one, short when below; stop 0.5 %."""

    def init(self) -> None:
        self.fast = self.I(_ema, self.data.Close, FAST)
        self.slow = self.I(_ema, self.data.Close, SLOW)

    def next(self) -> None:
        if len(self.data) <= 3 * SLOW:
            return
        close = self.data.Close[-1]
        if crossover(self.fast, self.slow):
            self.position.close()
            self.buy(size=1, sl=close * (1 - STOP_PCT / 100))
        elif crossover(self.slow, self.fast):
            self.position.close()
            self.sell(size=1, sl=close * (1 + STOP_PCT / 100))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.backtesting_child")
    parser.add_argument("candles", type=Path)
    args = parser.parse_args()
    frame = pd.read_csv(args.candles, usecols=["open_time_ms", "open", "high", "low", "close",
                                               "volume"])  # fmt: skip
    frame.index = pd.to_datetime(frame.pop("open_time_ms"), unit="ms", utc=True)
    frame.columns = ["Open", "High", "Low", "Close", "Volume"]
    backtest = Backtest(frame, EmaCross, cash=10_000_000, commission=0.0006, finalize_trades=True)
    run_started = time.perf_counter()
    stats = backtest.run()
    done = time.perf_counter()
    print(
        json.dumps({
            "bars": len(frame), "trades": int(stats["# Trades"]),
            "run_seconds": done - run_started, "wall_seconds": done - STARTED,
            "vm_hwm_kb": status_kb("VmHWM"),
        })
    )  # fmt: skip


if __name__ == "__main__":
    main()
