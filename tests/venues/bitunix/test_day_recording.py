"""The shipped full-day recording through the decoder: every frame decodes, and the bars it
closes are the 1,440 real candles it was built from, to the last digit."""

from __future__ import annotations

import csv
import gzip
from decimal import Decimal
from pathlib import Path

import pytest

from trio_paper.inputs import Backfill, Frame, Tick
from trio_paper.model import Bar
from trio_paper.store.recording import RecordingReader
from trio_paper.venues.bitunix import rest as bitunix_rest
from trio_paper.venues.bitunix import ws as bitunix
from trio_paper.venues.decoder import MarketDecoder

MIN = 60_000
DAY_START = 1746662400000  # 2025-05-08T00:00:00Z
WARMUP = 200


def _candles(shared_data: Path, start: int, end: int) -> list[tuple[int, tuple[Decimal, ...]]]:
    """(open time, (open, high, low, close, volume)) of the source CSV's rows in [start, end),
    read with the csv module alone."""
    path = shared_data / "candles" / "binance_usdm_BTCUSDT_1m.csv.gz"
    rows = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            t = int(row["open_time_ms"])
            if start <= t < end:
                ohlcv = tuple(Decimal(row[k]) for k in ("open", "high", "low", "close", "volume"))
                rows.append((t, ohlcv))
    return rows


def _ohlcv(bar: Bar) -> tuple[Decimal, ...]:
    return (bar.open, bar.high, bar.low, bar.close, bar.volume)


@pytest.mark.slow
def test_day_recording_decodes_to_its_source_candles(
    day_recording: Path, shared_data: Path
) -> None:
    decoder = MarketDecoder.create("BTCUSDT", MIN, 2_000)
    bars: list[Bar] = []
    frames = 0
    with RecordingReader(day_recording) as reader:
        for item in reader:
            if isinstance(item, Frame):
                frames += 1
                parsed = bitunix.parse_frame(item.raw)  # any MalformedMessage fails the test
                bars += [e for e in decoder.on_frame(item.t, parsed) if isinstance(e, Bar)]
            elif isinstance(item, Tick):
                bars += decoder.on_clock(item.t)
            elif isinstance(item, Backfill):
                assert item.body is not None
                warmup = bitunix_rest.parse_klines(item.body, "BTCUSDT", MIN)
                bars += decoder.on_backfill(item.t, warmup)
        assert reader.truncated is None

    assert frames == 1440 * 270  # per minute: 120 kline pushes, 120 quotes, 30 price frames
    assert decoder.counts.bad_frames == 0
    assert decoder.counts.other_symbols == 0
    assert decoder.bars.counts.late == decoder.bars.counts.duplicates == 0
    assert decoder.bars.counts.out_of_order == decoder.bars.counts.missing == 0

    live = [bar for bar in bars if bar.source == "ws"]
    history = [bar for bar in bars if bar.source == "rest"]
    assert len(live) == 1440
    assert [bar.open_time for bar in live] == [DAY_START + i * MIN for i in range(1440)]
    source = _candles(shared_data, DAY_START, DAY_START + 1440 * MIN)
    assert [(bar.open_time, _ohlcv(bar)) for bar in live] == source

    # The warm-up backfill: the 200 candles before the day, through the REST parser.
    assert len(history) == WARMUP
    assert [(bar.open_time, _ohlcv(bar)) for bar in history] == _candles(
        shared_data, DAY_START - WARMUP * MIN, DAY_START
    )
