"""A venue with two sockets (Binance: ``market`` and ``quotes``), through ``Core`` with real frames.

The session is down while either socket is; ``recovered`` comes when both bring data again; and
nothing fills while the quotes' socket is down, however fresh the bars on the other one are.
"""

from __future__ import annotations

import orjson

from tests.engine.enginekit import MIN, SYMBOL, T0, D, FedCore, Scripted, config, of_type
from trio_paper.engine.intents import Enter
from trio_paper.engine.records import Record
from trio_paper.inputs import (
    FeedConnected,
    FeedDisconnected,
    FeedStale,
    KillSwitch,
    decode,
    encode,
)
from trio_paper.model import QUOTE_SOCKET, BarUpdate, Quote, Side
from trio_paper.venues.binance_usdm import server


def book(t: int, bid: str, ask: str) -> str:
    return server.book_ticker_frame(Quote(SYMBOL, t, D(bid), D("2"), D(ask), D("2")), t)


def kline(t: int, close: str) -> str:
    bucket = t // MIN * MIN
    update = BarUpdate(SYMBOL, MIN, bucket, D("1000"), D("1001"), D("990"), D(close), D("5"),
                       D("0"), t)  # fmt: skip
    return server.kline_frame(update)


class TwoSockets(FedCore):
    """A Binance USD-M core: two sockets, ``market`` and ``quotes``."""

    def __init__(self, strategy: Scripted) -> None:
        cfg = config(venue={"name": "binance_usdm"}, broker={"slippage_pct": D(0)})
        super().__init__(strategy, cfg, "two")

    def down(self, t: int, socket: str) -> list[Record]:
        return self.feed(FeedDisconnected(next(self.seq), t, "eof", socket))


def test_nothing_fills_while_the_quotes_socket_is_down_however_fresh_the_bars() -> None:
    strategy = Scripted()
    s = TwoSockets(strategy)
    strategy.on_next_quote = [Enter(Side.SELL, stop=D("1010"))]
    assert of_type(s.frame(T0 + 1000, book(T0 + 1000, "1000.0", "1000.1")), "fill")
    (record,) = s.down(T0 + 2000, QUOTE_SOCKET)
    assert record["socket"] == QUOTE_SOCKET
    s.feed(KillSwitch(next(s.seq), T0 + 2100, "file"))  # a market order to flatten, waiting
    for ms in range(2500, 9000, 500):  # the market socket's bars are fresh prices...
        records = s.frame(T0 + ms, kline(T0 + ms, "999.0"))
        assert not of_type(records, "fill"), records  # ...and still nothing fills on them
    assert not [r for r in s.out if r.get("event") == "recovered"]
    records = s.frame(T0 + 9500, book(T0 + 9500, "998.0", "998.1"))
    (fill,) = of_type(records, "fill")
    assert fill["price"] == D("998.1")  # the quote's ask, not a bar's close
    (recovered,) = [r for r in records if r.get("event") == "recovered"]
    assert recovered["down_ms"] == 7500


def test_the_session_is_down_until_every_socket_brings_data_again() -> None:
    s = TwoSockets(Scripted())
    s.frame(T0 + 1000, book(T0 + 1000, "1000.0", "1000.1"))
    s.down(T0 + 2000, "market")
    s.feed(FeedStale(next(s.seq), T0 + 2500, 2500, QUOTE_SOCKET))
    s.feed(FeedConnected(next(s.seq), T0 + 3000, "ws://x/market/stream", "market"))
    assert not [r for r in s.frame(T0 + 3500, kline(T0 + 3500, "1000.5")) if "down_ms" in r]
    recovered = [
        r for r in s.frame(T0 + 4000, book(T0 + 4000, "1000.4", "1000.6")) if "down_ms" in r
    ]
    assert [r["down_ms"] for r in recovered] == [2000]  # from the first socket down to the last up


def test_a_quote_socket_drop_keeps_the_forming_bar_a_market_socket_drop_abandons_it() -> None:
    s = TwoSockets(Scripted())
    s.frame(T0 + 1000, kline(T0 + 1000, "1000.5"))
    s.down(T0 + 2000, QUOTE_SOCKET)
    assert s.core.decoder.bars.current is not None  # its bars never came over that socket
    s.down(T0 + 3000, "market")
    assert s.core.decoder.bars.current is None  # fetched over REST with the gap instead


def test_feed_events_name_their_socket_in_the_recording_and_a_one_socket_venue_does_not() -> None:
    named = FeedDisconnected(3, T0, "eof", "market")
    line = encode(named)
    assert orjson.loads(line)["socket"] == "market"
    assert decode(orjson.loads(line), "here") == named
    plain = encode(FeedDisconnected(3, T0, "eof"))
    assert b"socket" not in plain
    assert decode(orjson.loads(plain), "here") == FeedDisconnected(3, T0, "eof")
