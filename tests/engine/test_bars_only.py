"""Bars-only fidelity: liquidation on the bar's range, and the two fill timings (``fill_at``).

Default settings unless a test says otherwise: tick 0.1, leverage 10, maintenance margin 0.5 %
(0.005), taker fee 0.06 % (0.0006), slippage 0.01 % (0.0001), cash 10,000 USDT. A long at 100
has its liquidation price at 100 × (1 − 1/10 + 0.005) = 90.5; a short at 100 at
100 × (1 + 1/10 − 0.005) = 109.5.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.engine.enginekit import (
    MIN,
    T0,
    D,
    Recorder,
    Scripted,
    bar,
    broker,
    config,
    engine,
    market,
    of_type,
    quote,
)
from trio_paper.config import Config
from trio_paper.engine.broker import Broker
from trio_paper.engine.intents import Enter, Exit, Intent
from trio_paper.model import Settlement, Side

NO_SLIP = config(broker={"slippage_pct": D(0)})


def held(side: Side, stop: str | None = None) -> tuple[Broker, Recorder]:
    """A broker holding 1 at 100 (no slippage), bought or sold at the close of a candle."""
    b, rec = broker(NO_SLIP)
    b.on_bar(T0 + MIN, bar(T0, "100", "100", "100", "100", source="csv"))
    b.submit(T0 + MIN, market(side, "1", T0 + MIN, stop=None if stop is None else D(stop)))
    assert b.position.entry == D("100")
    return b, rec


# --- liquidation on the wick ------------------------------------------------------------------


def test_a_long_is_liquidated_when_the_low_reaches_its_price_though_the_close_does_not() -> None:
    """The issue's case: long at 10×, liquidation 90.5, a bar with low 85 and close 95.

    PnL 1 × (90.5 − 100) = −9.5. Fees: entry 1 × 100 × 0.0006 = 0.06, penalty 1 × 90.5 × 0.005
    = 0.4525, exit 1 × 90.5 × 0.0006 = 0.0543 → 0.5668. Net −10.0668; cash 9989.9332.
    """
    b, rec = held(Side.BUY)
    assert b.liquidation_price() == D("90.5")
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "95", "96", "85", "95", source="csv"))
    assert b.position.qty == 0
    assert rec.of("fee") == [{"reason": "liquidation", "amount": D("0.4525")}]
    (exit_,) = rec.of("exit")
    assert (exit_["reason"], exit_["price"], exit_["pnl"]) == ("liquidation", D("90.5"), D("-9.5"))
    assert exit_["fees"] == D("0.5668")
    assert exit_["net"] == D("-10.0668")
    assert b.state.account.cash == D("9989.9332")


def test_a_short_is_liquidated_when_the_high_reaches_its_price() -> None:
    """Short 1 at 100: liquidation 109.5; a bar with high 112 and close 105 liquidates it.

    PnL 1 × (100 − 109.5) = −9.5; penalty 109.5 × 0.005 = 0.5475."""
    b, rec = held(Side.SELL)
    assert b.liquidation_price() == D("109.5")
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "104", "112", "103", "105", source="csv"))
    assert b.position.qty == 0
    assert rec.of("fee") == [{"reason": "liquidation", "amount": D("0.5475")}]
    (exit_,) = rec.of("exit")
    assert (exit_["reason"], exit_["price"], exit_["pnl"]) == ("liquidation", D("109.5"), D("-9.5"))


def test_a_wick_that_stops_short_of_the_liquidation_price_leaves_the_position() -> None:
    """Low 90.6 is one tick above 90.5: nothing happens."""
    b, rec = held(Side.BUY)
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "95", "96", "90.6", "95", source="csv"))
    assert b.position.qty == 1
    assert rec.of("exit") == []


def test_a_stop_before_the_liquidation_price_fills_first() -> None:
    """Stop 92 > 90.5: the low 85 passes 92 on its way down, so the stop fills at 92 (no
    slippage here), PnL 1 × (92 − 100) = −8, and no liquidation penalty is charged."""
    b, rec = held(Side.BUY, stop="92")
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "95", "96", "85", "95", source="csv"))
    (exit_,) = rec.of("exit")
    assert (exit_["reason"], exit_["price"], exit_["pnl"]) == ("stop", D("92"), D("-8"))
    assert rec.of("fee") == []


@pytest.mark.parametrize("stop", ["88", "90.5"])
def test_a_stop_at_or_beyond_the_liquidation_price_never_saves_the_position(stop: str) -> None:
    """Stop 88 (or exactly 90.5): the price reaches 90.5 first (or at once): liquidation."""
    b, rec = held(Side.BUY, stop=stop)
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "95", "96", "85", "95", source="csv"))
    (exit_,) = rec.of("exit")
    assert (exit_["reason"], exit_["price"]) == ("liquidation", D("90.5"))


def test_a_bar_opening_beyond_both_stop_and_liquidation_liquidates_at_its_price() -> None:
    """Gap: the bar opens at 89, below the stop 92 and the liquidation price 90.5. The stop
    would have filled at the open (89), a loss beyond the isolated margin; the position is
    liquidated at 90.5 instead."""
    b, rec = held(Side.BUY, stop="92")
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "89", "93", "85", "92", source="csv"))
    (exit_,) = rec.of("exit")
    assert (exit_["reason"], exit_["price"]) == ("liquidation", D("90.5"))


def test_a_gap_past_the_stop_but_not_the_liquidation_price_fills_the_stop_at_the_open() -> None:
    """Open 91: below the stop 92 but above 90.5; the stop fills at the open, 91 (low 85)."""
    b, rec = held(Side.BUY, stop="92")
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "91", "93", "85", "92", source="csv"))
    (exit_,) = rec.of("exit")
    assert (exit_["reason"], exit_["price"]) == ("stop", D("91"))


def test_a_live_bar_never_liquidates_on_its_wick() -> None:
    """A kline from the feed (source ws) is not a bars-only bar: live, liquidation uses the mark
    or the last price, never the bar's low."""
    b, rec = held(Side.BUY)
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "95", "96", "85", "95", source="ws"))
    assert b.position.qty == 1
    assert rec.of("exit") == []


# --- fill timing ------------------------------------------------------------------------------

BARS = [
    (T0, "19900", "20100", "19800", "20000"),  # the signal bar: the entry is asked at its close
    (T0 + MIN, "20050", "20080", "20040", "20060"),  # the exit is asked at its close
    (T0 + 2 * MIN, "20100", "20120", "20090", "20110"),
]


def run_round_trip(
    cfg: Config, bars: list[tuple[int, str, str, str, str]] = BARS, stop: str = "19000"
) -> list[dict[str, Any]]:
    """Ask for 0.1 long at the first bar's close and an exit at the second's; all records."""
    s = Scripted()
    e = engine(cfg, s)
    asks: list[list[Intent]] = [[Enter(Side.BUY, stop=D(stop), qty=D("0.1"))], [Exit("signal")]]
    for i, (open_time, o, h, lo, c) in enumerate(bars):
        s.on_next_bar = asks[i] if i < len(asks) else []
        e.on_bar(open_time + MIN, bar(open_time, o, h, lo, c, source="csv"), live=True)
    return e.out


def test_fill_at_close_fills_at_the_signal_bars_close() -> None:
    """Entry: 20000 × 1.0001 = 20002.0 at the first bar's close (ts T0+1m), fee 0.1 × 20002 ×
    0.0006 = 1.20012. Exit at the second bar's close: 20060 × 0.9999 = 20057.994 → down to the
    tick 20057.9; PnL 0.1 × (20057.9 − 20002) = 5.59."""
    out = run_round_trip(config())
    entry, exit_fill = of_type(out, "fill")
    assert (entry["ts"], entry["price"], entry["fee"]) == (T0 + MIN, D("20002.0"), D("1.20012"))
    assert (exit_fill["ts"], exit_fill["price"]) == (T0 + 2 * MIN, D("20057.9"))
    assert of_type(out, "exit")[0]["pnl"] == D("5.59")


def test_fill_at_next_open_fills_at_the_next_bars_open() -> None:
    """The entry asked at the first bar's close waits; it fills at the second bar's open:
    20050 × 1.0001 = 20052.005 → up to the tick 20052.1, fee 0.1 × 20052.1 × 0.0006 = 1.203126.
    The exit asked at the second bar's close fills at the third's open: 20100 × 0.9999 =
    20097.99 → down to 20097.9; PnL 0.1 × (20097.9 − 20052.1) = 4.58. Fill records carry the
    engine's time, the close of the bar they were filled on; the trade opened at the open."""
    out = run_round_trip(config(broker={"fill_at": "next_open"}))
    (order, _) = of_type(out, "order")
    assert order["ts"] == T0 + MIN
    entry, exit_fill = of_type(out, "fill")
    assert (entry["ts"], entry["price"], entry["fee"]) == (
        T0 + 2 * MIN,
        D("20052.1"),
        D("1.203126"),
    )
    assert (exit_fill["ts"], exit_fill["price"]) == (T0 + 3 * MIN, D("20097.9"))
    (trade,) = of_type(out, "exit")
    assert (trade["pnl"], trade["opened"]) == (D("4.58"), T0 + MIN)


def test_with_next_open_the_entry_bars_range_can_stop_the_trade() -> None:
    """Entered at the second bar's open (20052.1), the whole bar comes after the fill: its low
    19950 reaches the stop 19990, which fills at 19990 × 0.9999 = 19988.001 → 19988.0."""
    bars = [BARS[0], (T0 + MIN, "20050", "20080", "19950", "20060"), BARS[2]]
    out = run_round_trip(config(broker={"fill_at": "next_open"}), bars, stop="19990")
    (trade,) = of_type(out, "exit")
    assert (trade["reason"], trade["price"]) == ("stop", D("19988.0"))


def test_next_open_leaves_live_fills_alone() -> None:
    """fill_at applies to bars-only replays: a live market order fills on the quote at once."""
    b, _ = broker(config(broker={"fill_at": "next_open", "slippage_pct": Decimal(0)}))
    b.on_bar(T0 + MIN, bar(T0, "100", "100", "100", "100", source="ws"))
    b.on_quote(T0 + MIN, quote("99.9", "100.0"))
    b.submit(T0 + MIN, market(Side.BUY, "1", T0 + MIN))
    assert (b.position.qty, b.position.entry) == (D("1"), D("100.0"))


# --- funding from a file ----------------------------------------------------------------------


@pytest.mark.parametrize(("before_bar", "charged"), [(True, True), (False, False)])
def test_a_settlement_in_a_gap_is_charged_before_the_next_bars_fills(
    before_bar: bool, charged: bool
) -> None:
    """Long 0.1 at 20002.0 (bar 0's close, slipped) with a stop at 19900. The candles then skip
    to 00:10, a bar that opens at 20100 and trades down to 19800: the stop fills. A settlement
    at 00:08 fell in the gap, when the position was held: charged first, at the bar's open
    (the mark the schedule gives): 0.1 × 20100 × 0.0001 = 0.201 paid. Due at the bar's close
    instead, it finds the position already stopped and charges nothing."""
    s = Scripted()
    e = engine(config(), s)
    s.on_next_bar = [Enter(Side.BUY, stop=D("19900"), qty=D("0.1"))]
    e.on_bar(T0 + MIN, bar(T0, "20000", "20000", "20000", "20000", source="csv"), live=True)
    settlement = Settlement(T0 + 8 * MIN, D("0.0001"), D("20100"), before_bar)
    gap_bar = bar(T0 + 10 * MIN, "20100", "20100", "19800", "19850", source="csv")
    e.on_bar(T0 + 11 * MIN, gap_bar, live=True, settlements=[settlement])
    funding = of_type(e.out, "funding")
    assert [(f["qty"], f["amount"]) for f in funding] == (
        [(D("0.1"), D("-0.201"))] if charged else []
    )
    assert of_type(e.out, "exit")[0]["reason"] == "stop"


def test_with_next_open_exit_then_enter_still_reverses() -> None:
    """[Exit, Enter(SELL)] on the second bar: both wait for the third bar's open, 20100, where
    the exit sells 0.1 at 20100 × 0.9999 = 20097.99 → 20097.9 and then the short sells 0.1 at
    the same price. (The long was bought at the second bar's open, 20052.1.)"""
    s = Scripted()
    e = engine(config(broker={"fill_at": "next_open"}), s)
    asks: list[list[Intent]] = [
        [Enter(Side.BUY, stop=D("19000"), qty=D("0.1"))],
        [Exit("cross"), Enter(Side.SELL, stop=D("21000"), qty=D("0.1"))],
        [],
    ]
    for (open_time, o, h, lo, c), intents in zip(BARS, asks, strict=True):
        s.on_next_bar = intents
        e.on_bar(open_time + MIN, bar(open_time, o, h, lo, c, source="csv"), live=True)
    assert of_type(e.out, "reject") == []
    fills = [(f["side"], f["price"], f["position"]) for f in of_type(e.out, "fill")]
    assert fills == [
        ("buy", D("20052.1"), D("0.1")),
        ("sell", D("20097.9"), D("0")),
        ("sell", D("20097.9"), D("-0.1")),
    ]
    assert e.broker.position.opened == T0 + 2 * MIN
