"""``Core.on_item``, the one door: absurd values never pass it, and nothing raised inside it
escapes (issue 11, items 1 and 3)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from tests.engine.enginekit import T0, D, FedCore, Scripted, config, of_type
from trio_paper.codec import MalformedMessage, dumps
from trio_paper.config import Config
from trio_paper.core import Core, sanity_bounds
from trio_paper.engine.intents import Enter
from trio_paper.inputs import Backfill, ClosedBars, SessionStart, Tick
from trio_paper.model import Bar, MarkPrice, Parsed, Side
from trio_paper.venues.binance_usdm import ws as binance_ws
from trio_paper.venues.bitunix.rest import klines_body

MINUTE = 60_000


def push(ch: str, t: int, data: Any) -> str:
    return dumps({"ch": ch, "symbol": "BTCUSDT", "ts": t, "data": data}).decode()


def depth(t: int, bid: str, ask: str, qty: str = "1.5") -> str:
    return push("depth_book1", t, {"b": [[bid, qty]], "a": [[ask, "2"]]})


def kline(t: int, o: str = "1000", h: str = "1001", low: str = "999", c: str = "1000.5") -> str:
    return push("market_kline_1min", t, {"o": o, "c": c, "h": h, "l": low, "b": "3", "q": "0"})


class Session(FedCore):
    """A core with a scripted strategy, fed item by item."""

    def __init__(self, cfg: Config | None = None) -> None:
        super().__init__(Scripted(), cfg, "absurd")

    def open(self, side: Side, stop: str) -> None:
        self.strategy.on_next_quote = [Enter(side, stop=D(stop))]
        self.frame(T0 + 1000, depth(T0 + 1000, "999.9", "1000.0"))
        assert self.core.engine.broker.position.qty != 0

    @property
    def bad(self) -> int:
        return self.core.decoder.counts.bad_frames


def test_an_ask_of_1e30_with_a_short_and_its_stop_open_is_a_bad_frame() -> None:
    """Before: ``decimal.InvalidOperation`` out of the broker, and the account bricked."""
    s = Session()
    s.open(Side.SELL, "1010")
    records = s.frame(T0 + 2000, depth(T0 + 2000, "999.9", "1e30"))
    assert records == []
    assert s.bad == 1
    assert s.core.engine.broker.position.qty < 0


def test_an_ask_of_1e25_does_not_fill_the_stop() -> None:
    s = Session()
    s.open(Side.SELL, "1010")
    assert of_type(s.frame(T0 + 2000, depth(T0 + 2000, "999.9", "1e25")), "exit") == []
    assert s.bad == 1


def test_a_bid_below_one_tick_does_not_fill_a_longs_stop_at_zero() -> None:
    s = Session()
    s.open(Side.BUY, "990")
    assert of_type(s.frame(T0 + 2000, depth(T0 + 2000, "1e-20", "1000")), "exit") == []
    assert s.bad == 1
    assert s.core.engine.broker.position.qty > 0


def test_a_kline_close_of_1e30_never_reaches_the_broker() -> None:
    s = Session()
    s.open(Side.SELL, "1010")
    s.frame(T0 + 2000, kline(T0 + 2000, h="1e30", c="1e30"))
    assert s.bad == 1
    assert s.core.engine.state.broker.market.last != D("1e30")


FUNDING_50_PCT = {
    "ip": "1000",
    "mp": "1000",
    "fr": "50",
    "ft": "2025-05-08T00:00:00Z",
    "nft": "2025-05-08T08:00:00Z",
}


def test_inconsistent_or_negative_values_are_bad_frames() -> None:
    s = Session()
    frames = [
        kline(T0 + 2000, h="999", low="1001"),  # high < low
        kline(T0 + 2000, c="1002"),  # close above the high
        kline(T0 + 2000, o="998"),  # open below the low
        depth(T0 + 2000, "999.9", "1000", qty="-1"),  # a negative size
        push("price", T0 + 2000, FUNDING_50_PCT),  # Bitunix sends percent
    ]
    for raw in frames:
        s.frame(T0 + 2000, raw)
    assert s.bad == len(frames)
    assert s.core.decoder.bars.current is None


def test_a_far_future_kline_opens_no_bucket_and_asks_for_no_backfill() -> None:
    """Before: a gap of 153,722,837,351,657 bars, and no bar closed for the rest of the
    session."""
    s = Session()
    s.frame(T0 + 1000, kline(T0 + 1000))
    records = s.frame(T0 + 2000, kline(2**63 - 1))
    assert records == []
    assert s.bad == 1
    closed = s.feed(Tick(next(s.seq), T0 + 62_500))
    assert [r["open_time"] for r in of_type(closed, "bar")] == [T0]
    assert [r for r in s.out if r.get("event") == "gap"] == []


def test_a_far_future_depth_frame_does_not_skew_the_clock() -> None:
    """Before: ``ts = 2**62`` moved the decoder's clock and closed the open bar early."""
    s = Session()
    s.frame(T0 + 1000, kline(T0 + 1000))
    s.frame(T0 + 2000, depth(2**62, "999.9", "1000"))
    assert s.bad == 1
    assert of_type(s.feed(Tick(next(s.seq), T0 + 3000)), "bar") == []


def test_an_exception_inside_the_door_halts_trading_and_the_session_goes_on() -> None:
    """With the ceiling lifted the 1e30 ask reaches the broker and raises there: the door
    journals it as a halt, keeps the position, refuses entries, and handles what follows."""
    s = Session(config(broker={"slippage_pct": D(0)}, instrument={"max_price_usdt": D("1e40")}))
    s.open(Side.SELL, "1010")
    records = s.frame(T0 + 2000, depth(T0 + 2000, "999.9", "1e30"))
    (halt,) = of_type(records, "risk")
    assert halt["event"] == "halt"
    assert "InvalidOperation" in halt["reason"]
    assert any("engine error" in notice for notice in s.core.notices)
    s.strategy.on_next_quote = [Enter(Side.BUY, stop=D("990"))]
    later = s.frame(T0 + 3000, depth(T0 + 3000, "999.9", "1000.0"))
    (reject,) = of_type(later, "reject")
    assert "halted" in reject["reason"]
    assert [r["seq"] for r in s.out] == list(range(1, len(s.out) + 1))


def test_a_rest_page_with_an_absurd_bar_is_refused_whole() -> None:
    s = Session()
    bars = [
        Bar("BTCUSDT", 60_000, T0 - 120_000, D(1000), D(1001), D(999), D(1000), D(1), D(0), "x"),
        Bar("BTCUSDT", 60_000, T0 - 60_000, D(1000), D("1e30"), D(999), D(1e3), D(1), D(0), "x"),
    ]
    body = klines_body(bars).decode()
    item = Backfill(next(s.seq), T0 + 1000, "warmup", T0 - 120_000, T0, body, None)
    (record,) = of_type(s.feed(item), "feed")
    assert record["bars"] == 0
    assert "outside" in record["error"]


def test_binance_events_pass_the_same_bounds() -> None:
    """Binance is not wired into the registry yet (issue 15): its parser's events go through
    the same ``Bounds`` the core applies to every venue."""
    bounds = sanity_bounds(config())
    ok = {"e": "bookTicker", "u": 1, "s": "BTCUSDT", "b": "999.9", "B": "1", "a": "1000.0",
          "A": "1", "T": T0 + 1000, "E": T0 + 1000}  # fmt: skip
    refused = 0
    for ask, when in (("1000.0", T0 + 1000), ("1e30", T0 + 1000), ("1000.0", 2**62)):
        frame = {**ok, "a": ask, "E": when, "T": when}
        parsed = binance_ws.parse_frame(dumps({"stream": "btcusdt@bookTicker", "data": frame}))
        try:
            bounds.check(parsed, T0 + 1000, "BTCUSDT")
        except MalformedMessage:
            refused += 1
    assert refused == 2


def test_an_absurd_announced_funding_rate_is_refused_like_a_settled_one() -> None:
    """``next_funding_rate`` (Binance's ``r``) is the rate the broker charges at the next
    settlement: it is held to ``instrument.max_funding_rate_pct`` by both the one-expression
    test and the field-by-field check."""
    bounds = sanity_bounds(config())
    sane = MarkPrice("BTCUSDT", T0, D("1000"), D("1000"), D("0.0001"), 0, 0, D("0.0001"))
    absurd = attrs.evolve(sane, next_funding_rate=D("-5"))
    assert bounds.sane(sane, T0)
    bounds.check(Parsed((sane,)), T0, "BTCUSDT")
    assert not bounds.sane(absurd, T0)
    with pytest.raises(MalformedMessage, match="funding rate -5 beyond") as refused:
        bounds.check(Parsed((absurd,)), T0, "BTCUSDT")
    assert refused.value.where.endswith(".next_funding_rate")


def test_a_resumed_session_start_is_in_the_outcome() -> None:
    """The records of a resuming ``session_start`` come from the engine ``_resume`` built, so
    the shell writes (and syncs) them before any checkpoint claims them. (At 6401a91 they were
    read off the replaced engine: the outcome was empty, the record lost after a kill -9.)"""
    first = Session()
    first.open(Side.SELL, "1010")
    data = first.core.snapshot()
    second = Core(config(broker={"slippage_pct": D(0)}), Scripted())
    outcome = second.on_item(SessionStart(1, T0 + 5000, "resumed", resume=data))
    (start,) = outcome.records
    assert start["type"] == "session_start"
    assert start["resumed"] is True
    assert start["seq"] == first.core.engine.state.seq + 1
    assert outcome.durable
    assert second.engine.state.seq == start["seq"]


def test_a_run_of_candle_bars_fails_safe_bar_by_bar() -> None:
    """An error on the second of three bars halts entries there, and the bars on either side
    are handled as the inputs they are: each journaled, the last one's seq remembered."""
    s = Session()
    s.open(Side.SELL, "1010")  # a NaN high (no candle file has one) breaks the stop check
    first = next(s.seq)
    o, low, c, v = D("1000"), D("999"), D("1000"), D(1)
    bars = tuple(
        Bar("BTCUSDT", 60_000, T0 + n * MINUTE, o, D(high), low, c, v, c * v, "csv")
        for n, high in ((1, "1001"), (2, "NaN"), (3, "1001"))
    )
    records = s.feed(ClosedBars(first, bars, ((), (), ())))
    (halt,) = of_type(records, "risk")
    assert "InvalidOperation" in halt["reason"]
    assert any(f"ClosedBars seq {first + 1}" in notice for notice in s.core.notices)
    assert [r["open_time"] for r in of_type(records, "bar")][-1] == T0 + 3 * MINUTE
    assert s.core.state.last_seq == first + 2
    assert [r["seq"] for r in s.out] == list(range(1, len(s.out) + 1))
