"""The simulator's REST klines over real loopback HTTP with httpx, read by
``bitunix_rest.parse_klines`` and checked against the recording's own candles, derived here
with the project's bar builder."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import trio

from trio_paper.inputs import Backfill, Frame
from trio_paper.model import Bar, BarUpdate
from trio_paper.sim.simulator import Simulator, open_simulator
from trio_paper.sim.tape import Tape, load_tape
from trio_paper.store.recording import RecordingReader
from trio_paper.times import MINUTE_MS
from trio_paper.venues.bars import BarBuilder
from trio_paper.venues.bitunix import rest as bitunix_rest
from trio_paper.venues.bitunix import ws as bitunix

Ohlcv = tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]


def ohlcv(bar: Bar) -> Ohlcv:
    return bar.open, bar.high, bar.low, bar.close, bar.volume, bar.quote_volume


@pytest.fixture(scope="module")
def tape(demo_recording: Path) -> Tape:
    return load_tape(demo_recording)


@pytest.fixture(scope="module")
def candles(demo_recording: Path) -> dict[int, Ohlcv]:
    """The recording's candles by open time: its warm-up backfill, and each minute's last
    kline push as the bar builder closes it."""
    out: dict[int, Ohlcv] = {}
    builder = BarBuilder("BTCUSDT", MINUTE_MS, grace_ms=0)
    with RecordingReader(demo_recording) as reader:
        for item in reader:
            if isinstance(item, Backfill) and item.body is not None:
                for bar in bitunix_rest.parse_klines(item.body, "BTCUSDT", MINUTE_MS):
                    out[bar.open_time] = ohlcv(bar)
            elif isinstance(item, Frame):
                for event in bitunix.parse_frame(item.raw).events:
                    if isinstance(event, BarUpdate):
                        for closed in builder.on_update(event):
                            if isinstance(closed, Bar):
                                out[closed.open_time] = ohlcv(closed)
    for bar in builder.on_clock(2**62):
        out[bar.open_time] = ohlcv(bar)
    return out


@asynccontextmanager
async def serving(tape: Tape, speed: float) -> AsyncIterator[tuple[Simulator, httpx.AsyncClient]]:
    async with (
        open_simulator(tape, speed=speed) as sim,
        httpx.AsyncClient(base_url=sim.rest_url) as http,
    ):
        yield sim, http


async def klines(http: httpx.AsyncClient, **params: int | str) -> list[Bar]:
    query = {"symbol": "BTCUSDT", "interval": "1m", **params}
    response = await http.get(bitunix_rest.KLINE_PATH, params=query)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return bitunix_rest.parse_klines(response.content, "BTCUSDT", MINUTE_MS)


async def error_code(http: httpx.AsyncClient, **params: int | str) -> int:
    response = await http.get(bitunix_rest.KLINE_PATH, params=params)
    assert response.status_code == 200  # Bitunix's errors come as HTTP 200
    with pytest.raises(bitunix_rest.RestError) as error:
        bitunix_rest.parse_klines(response.content, "BTCUSDT", MINUTE_MS)
    assert response.json()["data"] is None
    return error.value.code


def contiguous(bars: list[Bar]) -> bool:
    return all(b.open_time - a.open_time == MINUTE_MS for a, b in itertools.pairwise(bars))


async def test_the_latest_closed_bars_are_the_recordings_candles(
    tape: Tape, candles: dict[int, Ohlcv]
) -> None:
    with trio.fail_after(10):
        async with serving(tape, speed=240) as (sim, http):  # a minute every 250 ms
            await trio.sleep(1.2)
            bars = await klines(http, limit=10)
            now = sim.exchange_now()
            assert len(bars) == 10
            assert contiguous(bars)
            assert bars[-1].close_time <= now < bars[-1].close_time + MINUTE_MS + 5_000
            served = [b for b in bars if b.open_time >= tape.first_bucket + sim.shift_ms]
            assert 3 <= len(served) <= 6
            for bar in bars:
                assert ohlcv(bar) == candles[bar.open_time - sim.shift_ms]


async def test_a_time_window_spans_the_history_and_the_served_minutes(
    tape: Tape, candles: dict[int, Ohlcv]
) -> None:
    with trio.fail_after(10):
        async with serving(tape, speed=240) as (sim, http):
            await trio.sleep(1.0)
            first_served = tape.first_bucket + sim.shift_ms  # the minute the simulator started
            start, end = first_served - 3 * MINUTE_MS, first_served + 2 * MINUTE_MS
            bars = await klines(http, startTime=start, endTime=end, limit=200)
            assert [b.open_time for b in bars] == list(range(start, end, MINUTE_MS))
            for bar in bars:
                assert ohlcv(bar) == candles[bar.open_time - sim.shift_ms]
            # endTime is exclusive, startTime inclusive, and limit keeps the newest.
            assert await klines(http, startTime=start, endTime=start + 1) == bars[:1]
            assert await klines(http, startTime=start, endTime=end, limit=2) == bars[-2:]


async def test_at_most_200_bars_come_back_the_newest(tape: Tape) -> None:
    with trio.fail_after(10):
        async with serving(tape, speed=240) as (sim, http):
            await trio.sleep(0.6)
            end = (sim.exchange_now() // MINUTE_MS - 1) * MINUTE_MS  # all closed before this
            bars = await klines(http, limit=500, endTime=end)
            assert len(bars) == 200
            assert contiguous(bars)
            assert bars[-1].close_time == end
            assert await klines(http, limit=1, endTime=end) == bars[-1:]
            assert len(await klines(http)) == 100  # Bitunix's default


async def test_laps_continue_the_bars_minute_after_minute(
    tape: Tape, candles: dict[int, Ohlcv]
) -> None:
    lap_ms = tape.length_ms
    with trio.fail_after(10):
        async with serving(tape, speed=1440) as (sim, http):  # a 12-minute lap every 0.5 s
            await trio.sleep(1.3)
            bars = await klines(http, limit=200)
            assert contiguous(bars)
            first_served = tape.first_bucket + sim.shift_ms
            laps = [(b.open_time - first_served) // lap_ms for b in bars]
            assert max(laps) >= 2
            for bar, lap in zip(bars, laps, strict=True):
                recorded_time = bar.open_time - sim.shift_ms - max(lap, 0) * lap_ms
                assert ohlcv(bar) == candles[recorded_time]


async def test_an_unknown_symbol_is_code_20015(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape, speed=1) as (_, http):
            assert await error_code(http, symbol="NOPEUSDT", interval="1m") == 20015


async def test_bad_parameters_are_refused_with_a_code(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape, speed=1) as (_, http):
            assert await error_code(http, symbol="BTCUSDT") == 10002  # no interval
            assert await error_code(http, symbol="BTCUSDT", interval="3m") == 10002
            assert await error_code(http, symbol="BTCUSDT", interval="1m", limit="x") == 10002
            assert await error_code(http, symbol="BTCUSDT", interval="5m") == 10002  # not recorded
            response = await http.get("/api/v1/futures/market/depth")
            assert response.status_code == 404


async def test_more_than_ten_requests_a_second_are_code_10006(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape, speed=1) as (sim, http):
            codes = []
            for _ in range(12):
                response = await http.get(
                    bitunix_rest.KLINE_PATH, params={"symbol": "BTCUSDT", "interval": "1m"}
                )
                codes.append(response.json()["code"])
            assert codes == [0] * 10 + [10006] * 2
            assert sim.stats.rest_rate_limited == 2
            await trio.sleep(1.0)
            assert len(await klines(http, limit=3)) == 3  # the window has passed
