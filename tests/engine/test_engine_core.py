"""The engine behind ``Core``: raw Bitunix frames and session items in, journal records out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.engine.enginekit import T0, D, FedCore, Scripted, of_type
from trio_paper.codec import dumps
from trio_paper.engine.intents import Enter, Exit
from trio_paper.inputs import FeedDisconnected, KillSwitch, Tick
from trio_paper.model import Side
from trio_paper.times import HOUR_MS, ms_to_iso


def depth(t: int, bid: str, ask: str) -> str:
    data = {"b": [[bid, "1.5"]], "a": [[ask, "2"]]}
    return dumps({"ch": "depth_book1", "symbol": "BTCUSDT", "ts": t, "data": data}).decode()


def price(t: int, mark: str, fr: str, settled: int) -> str:
    """A ``price`` push: ``fr`` is the last settled rate in percent, as Bitunix sends it."""
    data = {
        "ip": mark, "mp": mark, "fr": fr, "ft": ms_to_iso(settled)[:-5] + "Z",
        "nft": ms_to_iso(settled + 8 * HOUR_MS)[:-5] + "Z",
    }  # fmt: skip
    return dumps({"ch": "price", "symbol": "BTCUSDT", "ts": t, "data": data}).decode()


def kline(t: int, close: str, volume: str) -> str:
    data = {"o": "1000", "c": close, "h": "1001", "l": "999", "b": volume, "q": "0"}
    return dumps({"ch": "market_kline_1min", "symbol": "BTCUSDT", "ts": t, "data": data}).decode()


class Session(FedCore):
    def __init__(self, strategy: Scripted) -> None:
        super().__init__(strategy, run_id="e2e")


@pytest.mark.parametrize(
    ("side", "bid", "ask", "stop", "fr", "cash_change"),
    [
        # 10 × 1000 × 0.0001 (0.01 %) = 1: a long pays it
        (Side.BUY, "999.9", "1000.0", "990", "0.01", "-1"),
        (Side.SELL, "1000.0", "1000.1", "1010", "0.01", "1"),
        # 10 × 1000 × −0.00005 (−0.005 %) = −0.5: a long receives it, a short pays
        (Side.BUY, "999.9", "1000.0", "990", "-0.005", "0.5"),
        (Side.SELL, "1000.0", "1000.1", "1010", "-0.005", "-0.5"),
    ],
)
def test_bitunix_funding_in_percent_is_charged_side_correctly(
    side: Side, bid: str, ask: str, stop: str, fr: str, cash_change: str
) -> None:
    """``fr`` arrives in percent: 0.01 means 0.0001 of the notional at the mark."""
    s = Scripted()
    session = Session(s)
    session.frame(T0 + 1000, price(T0 + 1000, "1000", fr, T0))  # the settlement before: seen
    s.on_next_quote = [Enter(side, stop=D(stop))]
    session.frame(T0 + 2000, depth(T0 + 2000, bid, ask))
    assert session.core.engine.broker.position.qty == D("10") * side.sign  # 100 ÷ 10
    cash = session.core.engine.state.broker.account.cash
    later = T0 + 8 * HOUR_MS + 1000
    records = session.frame(later, price(later, "1000", fr, T0 + 8 * HOUR_MS))
    (funding,) = of_type(records, "funding")
    assert funding["rate"] == Decimal(fr) / 100
    assert funding["amount"] == D(cash_change)
    assert funding["settled"] == T0 + 8 * HOUR_MS
    assert session.core.engine.state.broker.account.cash == cash + D(cash_change)
    again = session.frame(later + 500, price(later + 500, "1001", fr, T0 + 8 * HOUR_MS))
    assert of_type(again, "funding") == []


def test_a_bar_closed_by_the_timer_after_the_pushes_went_quiet_is_not_a_fresh_price() -> None:
    """The last push came 61 s before the timer closed its bar: the strategy exits on that bar,
    and the close waits for a fresh quote rather than fill on the bar's old close.

    (Regression: the broker stamped the bar's close with the closing time, and filled on it.)
    """
    s = Scripted()
    session = Session(s)
    s.on_next_quote = [Enter(Side.BUY, stop=D("990"))]
    session.frame(T0 + 1000, depth(T0 + 1000, "999.9", "1000.0"))
    session.frame(T0 + 1500, kline(T0 + 1500, "1000.5", "12"))
    s.on_next_bar = [Exit("signal")]
    closed = session.feed(Tick(next(session.seq), T0 + 62_500))  # bucket end + 2 s grace
    assert [r["close"] for r in of_type(closed, "bar")] == [D("1000.5")]
    assert of_type(closed, "fill") == []
    (stale,) = of_type(closed, "feed")
    assert stale["event"] == "quote_stale"
    assert stale["quote_age_ms"] == 61_500
    records = session.frame(T0 + 64_000, depth(T0 + 64_000, "1001.0", "1001.1"))
    assert [r["event"] for r in of_type(records, "feed")] == ["quote_fresh"]
    (fill,) = of_type(records, "fill")
    assert fill["price"] == D("1001.0")
    assert fill["pnl"] == D("10")  # 10 × (1001 − 1000)


def test_a_kill_during_a_disconnect_flattens_on_the_first_quote_after_it() -> None:
    """Session items end to end: the kill's close waits out the drop, however long, then fills."""
    s = Scripted()
    session = Session(s)
    s.on_next_quote = [Enter(Side.SELL, stop=D("1010"))]
    session.frame(T0 + 1000, depth(T0 + 1000, "1000.0", "1000.1"))
    session.feed(FeedDisconnected(next(session.seq), T0 + 2000, "eof"))
    killed = session.feed(KillSwitch(next(session.seq), T0 + 2500, "file"))
    assert [r["type"] for r in killed] == ["risk", "order", "feed"]
    for minute in range(1, 20):  # longer than the order TTL: a flattening order never expires
        assert of_type(session.feed(Tick(next(session.seq), T0 + minute * 60_000)), "cancel") == []
    records = session.frame(T0 + 20 * 60_000, depth(T0 + 20 * 60_000, "995.0", "995.1"))
    (exit_,) = of_type(records, "exit")
    assert exit_["reason"] == "kill"
    assert exit_["price"] == D("995.1")
    assert exit_["pnl"] == D("49")  # 10 × (1000 − 995.1)
