"""Binance's server side, as the simulator speaks it: every frame and REST body built from our
events parses back to the same events, and a recorded push moves in time and nothing else."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.venues.binance_usdm.binance_frames import recorded, samples, text
from trio_paper.model import Bar, BarUpdate, MarkPrice, Parsed, Quote, Side, SubscribeResult, Trade
from trio_paper.venues.binance_usdm import rest, server, ws
from trio_paper.venues.binance_usdm.ws import parse_frame

MIN = 60_000
T0 = 1751328000000  # 2025-07-01T00:00:00Z
EIGHT_HOURS = 8 * 3_600_000

symbols = st.sampled_from(["BTCUSDT", "ETHUSDT", "1000PEPEUSDT"])
prices = st.decimals(D("0.00000001"), D("9999999"), places=8, allow_nan=False)
sizes = st.decimals(D(0), D("99999999"), places=3, allow_nan=False)
times = st.integers(1_500_000_000_000, 4_000_000_000_000)
interval_ms = st.sampled_from(sorted(ws.INTERVALS.values()))


@st.composite
def bar_updates(draw: st.DrawFn) -> BarUpdate:
    interval = draw(interval_ms)
    open_time = draw(times) // interval * interval
    return BarUpdate(
        draw(symbols), interval, open_time, draw(prices), draw(prices), draw(prices),
        draw(prices), draw(sizes), draw(sizes), open_time + draw(st.integers(0, interval)),
        closed=draw(st.booleans()),
    )  # fmt: skip


@given(bar_updates(), st.integers(0, 10_000), st.integers(0, 2**40))
def test_kline_frames_round_trip(update: BarUpdate, trades: int, first: int) -> None:
    assert parse_frame(server.kline_frame(update, trades, first)) == Parsed((update,))


def test_a_kline_frame_is_binances_shape() -> None:
    update = BarUpdate(
        "BTCUSDT", MIN, T0, D("107135.7"), D("107160"), D("107135.6"), D("107146.4"),
        D("78.514"), D("8411775.6054"), T0 + 59_999, closed=True,
    )  # fmt: skip
    frame = json.loads(server.kline_frame(update, trades=3, first_trade_id=100))
    assert frame == {
        "stream": "btcusdt@kline_1m",
        "data": {
            "e": "kline", "E": T0 + 59_999, "s": "BTCUSDT",
            "k": {
                "t": T0, "T": T0 + MIN - 1, "s": "BTCUSDT", "i": "1m", "f": 100, "L": 102,
                "o": "107135.7", "c": "107146.4", "h": "107160", "l": "107135.6",
                "v": "78.514", "n": 3, "x": True, "q": "8411775.6054", "V": "0", "Q": "0",
                "B": "0",
            },
        },
    }  # fmt: skip
    # the same keys, in the same order, as a real push of the 2021 capture
    real = json.loads(next(r for r in recorded() if "kline" in r))
    assert list(frame["data"]) == list(real["data"])
    assert list(frame["data"]["k"]) == list(real["data"]["k"])


def test_a_closed_kline_frame_from_a_bar() -> None:
    bar = Bar("BTCUSDT", MIN, T0, D("1"), D("2"), D("0.5"), D("1.5"), D("3"), D("4"), "csv")
    (update,) = parse_frame(server.closed_kline_frame(bar)).events
    assert update == BarUpdate(
        "BTCUSDT", MIN, T0, D("1"), D("2"), D("0.5"), D("1.5"), D("3"), D("4"), T0 + MIN - 1,
        closed=True,
    )  # fmt: skip
    (late,) = parse_frame(server.closed_kline_frame(bar, ts=T0 + MIN + 250)).events
    assert isinstance(late, BarUpdate)
    assert late.ts == T0 + MIN + 250


def test_exponent_decimals_are_written_plainly() -> None:
    update = BarUpdate(
        "BTCUSDT", MIN, T0, D("1E+5"), D("1E+5"), D("1E+5"), D("1E+5"), D("0E-8"), D("0"), T0
    )
    k = json.loads(server.kline_frame(update))["data"]["k"]
    assert (k["o"], k["v"]) == ("100000", "0.00000000")


@given(symbols, times, prices, prices, st.decimals(D("-0.03"), D("0.03"), places=8))
def test_mark_price_frames_round_trip(symbol: str, ts: int, mark: D, index: D, rate: D) -> None:
    next_funding = (ts // EIGHT_HOURS + 1) * EIGHT_HOURS
    event = MarkPrice(symbol, ts, mark, index, rate, next_funding - EIGHT_HOURS, next_funding, rate)
    assert parse_frame(server.mark_price_frame(event)) == Parsed((event,))


@given(symbols, times, prices, sizes, prices, sizes, st.integers(0, 2**62))
def test_book_ticker_frames_round_trip(
    symbol: str, ts: int, bid: D, bid_qty: D, spread: D, ask_qty: D, update_id: int
) -> None:
    quote = Quote(symbol, ts, bid, bid_qty, bid + spread, ask_qty)
    assert parse_frame(server.book_ticker_frame(quote, update_id)) == Parsed((quote,))


@given(symbols, times, st.integers(0, 5_000), prices, sizes, st.sampled_from(Side))
def test_agg_trade_frames_round_trip(
    symbol: str, ts: int, lag: int, price: D, qty: D, side: Side
) -> None:
    trade = Trade(symbol, ts, ts - lag, price, qty, side)
    assert parse_frame(server.agg_trade_frame(trade, 42)) == Parsed((trade,))


def test_the_subscribe_answer_round_trips() -> None:
    assert server.subscribe_answer(3) == '{"result":null,"id":3}'
    assert parse_frame(server.subscribe_answer(3)).events == (
        SubscribeResult("subscribe", True, "id 3"),
    )


@given(st.lists(bar_updates(), max_size=5))
def test_klines_bodies_round_trip(updates: list[BarUpdate]) -> None:
    bars = [
        Bar("BTCUSDT", MIN, T0 + i * MIN, u.open, u.high, u.low, u.close, u.volume,
            u.quote_volume, "rest")
        for i, u in enumerate(updates)
    ]  # fmt: skip
    assert rest.parse_klines(server.klines_body(bars), "BTCUSDT", MIN) == bars


def test_the_forming_bar_goes_last_and_is_dropped_by_time() -> None:
    bar = Bar("BTCUSDT", MIN, T0, D("1"), D("2"), D("0.5"), D("1.5"), D("3"), D("4"), "rest")
    forming = BarUpdate(
        "BTCUSDT", MIN, T0 + MIN, D("1.5"), D("1.6"), D("1.4"), D("1.5"), D("1"), D("1.5"),
        T0 + MIN + 20_000,
    )  # fmt: skip
    body = server.klines_body([bar], forming)
    assert len(json.loads(body)) == 2
    assert rest.parse_klines(body, "BTCUSDT", MIN, now_ms=forming.ts) == [bar]


def test_an_error_body_is_refused_as_binance_refuses() -> None:
    with pytest.raises(rest.BinanceRestError, match="-1121"):
        rest.parse_klines(server.error_body(-1121, "Invalid symbol."), "BTCUSDT", MIN)


# --- moving a recorded push in time ------------------------------------------------------------


def test_a_zero_shift_keeps_every_byte_of_the_capture(shared_data: Path) -> None:
    frames = recorded()
    assert frames
    for raw in frames:
        assert server.shift_push(raw, 0) == raw


def test_a_shift_moves_every_time_field_and_nothing_else(shared_data: Path) -> None:
    shift = 1_500 * 86_400_000  # whole days: bars stay on their boundaries
    for raw in recorded():
        moved = parse_frame(server.shift_push(raw, shift))
        original = parse_frame(raw)
        for before, after in zip(original.events, moved.events, strict=True):
            if isinstance(before, BarUpdate):
                assert isinstance(after, BarUpdate)
                assert after.open_time == before.open_time + shift
            assert after.ts == before.ts + shift  # type: ignore[union-attr]
            if isinstance(before, Trade):
                assert isinstance(after, Trade)
                assert after.time == before.time + shift
        assert server.shift_push(server.shift_push(raw, shift), -shift) == raw


def test_a_shift_moves_the_funding_times_but_not_a_missing_one(shared_data: Path) -> None:
    perpetual, delivery = text(samples()[9]), text(samples()[13])
    (mark,) = parse_frame(server.shift_push(perpetual, EIGHT_HOURS)).events
    assert isinstance(mark, MarkPrice)
    assert mark.next_funding_time == 1597564800000 + EIGHT_HOURS
    (none,) = parse_frame(server.shift_push(delivery, EIGHT_HOURS)).events
    assert isinstance(none, MarkPrice)
    assert none.next_funding_time == 0
