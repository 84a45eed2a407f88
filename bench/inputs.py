"""The benchmark's inputs, built in a temporary directory from ``../shared/data/candles``.

- **A multi-day recording**: ``trio-paper recordings from-candles`` over ``DAYS`` consecutive
  UTC days from ``MULTI_DAY_START``, inside the gap-free stretch of the shared 1-minute file
  that runs from 2025-05-04 15:33 to 2025-06-24 10:31 UTC (the shipped day recording,
  2025-05-08, is one of these days).
- **A year of 1-minute candles** (525,600 rows): the shared file holds 127,056 minutes in
  three stretches (2023-07-18 → 2023-08-17, 2025-05-04 → 2025-06-24, 2025-07-06 → 2025-07-13).
  Its rows are taken in file order, over and over, and given consecutive minutes from
  ``YEAR_START``: the OHLCV of every row is real, the times are relabelled so the year has no
  gap. Where one stretch or copy meets the next, the price jumps (28,500 → 95,505 between the
  2023 and 2025 stretches, 117,747 → 29,997 from one copy to the next), as across a gap in a
  real market.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CANDLES = REPO.parent / "shared" / "data" / "candles"
CANDLES_1M = CANDLES / "binance_usdm_BTCUSDT_1m.csv.gz"
FUNDING = CANDLES / "binance_usdm_BTCUSDT_funding_rate_8h.csv"
DAY_RECORDING = REPO / "recordings" / "bitunix-btcusdt-2025-05-08-day.jsonl.gz"

MULTI_DAY_START = "2025-05-06T00:00:00Z"
DAYS = 5
YEAR_START = datetime(2024, 1, 1, tzinfo=UTC)
YEAR_MINUTES = 365 * 24 * 60


def multi_day_recording(directory: Path, days: int = DAYS) -> Path:
    """Build (or reuse) the ``days``-day recording in ``directory``; return its path."""
    out = directory / f"bitunix-btcusdt-{MULTI_DAY_START[:10]}-{days}days.jsonl.gz"
    if not out.exists():
        partial = out.with_name(out.name + ".partial.jsonl.gz")
        subprocess.run(
            [
                sys.executable, "-m", "trio_paper", "recordings", "from-candles",
                "--candles", str(CANDLES_1M), "--funding", str(FUNDING),
                "--start", MULTI_DAY_START, "--minutes", str(days * 1440), "--out", str(partial),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        partial.rename(out)
    return out


def year_of_candles(directory: Path, minutes: int = YEAR_MINUTES) -> Path:
    """Build (or reuse) the year of 1-minute candles in ``directory``; return its path."""
    out = directory / f"btcusdt-1m-{minutes}-minutes.csv.gz"
    if out.exists():
        return out
    with gzip.open(CANDLES_1M, "rt", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [(r["open"], r["high"], r["low"], r["close"], r["volume"]) for r in reader]
    partial = out.with_name(out.name + ".partial")
    with (
        gzip.open(partial, "wb", compresslevel=6) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
    ):
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["open_time_ms", "open_time_utc", "open", "high", "low", "close", "volume"])
        minute = timedelta(minutes=1)
        moment = YEAR_START
        for row in itertools.islice(itertools.cycle(rows), minutes):
            ms = int(moment.timestamp()) * 1000
            writer.writerow([ms, moment.strftime("%Y-%m-%dT%H:%M:%SZ"), *row])
            moment += minute
    partial.rename(out)
    return out
