"""The paper broker's rules, each with numbers worked out by hand in the comments.

Default settings unless a test says otherwise: tick 0.1, lot 0.0001, leverage 10, taker fee
0.06 % (0.0006), maker fee 0.02 % (0.0002), slippage 0.01 % (0.0001), quotes stale after 5 s,
participation 10 %, entry TTL 300 s, maintenance margin 0.5 % (0.005), cash 10,000 USDT.
"""

from __future__ import annotations

from decimal import Decimal

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
    enter,
    limit,
    mark,
    market,
    of_type,
    quote,
)
from trio_paper.config import Config
from trio_paper.engine.broker import Broker
from trio_paper.engine.intents import Enter, Exit
from trio_paper.model import BarUpdate, Side

NO_SLIP = config(broker={"slippage_pct": D(0)})


def opened(
    side: Side, qty: str, price: str, cfg: Config = NO_SLIP, **protection: Decimal
) -> tuple[Broker, Recorder]:
    """A broker holding ``qty``, opened at T0 with the quote's near side at ``price`` (so exactly
    at ``price`` without slippage)."""
    b, rec = broker(cfg)
    tick = D("0.1")
    px = D(price)
    bid, ask = (px - tick, px) if side is Side.BUY else (px, px + tick)
    b.on_quote(T0, quote(str(bid), str(ask)))
    b.submit(T0, market(side, qty, T0, "m1", **protection))
    if cfg is NO_SLIP:
        assert b.position.entry == px
    return b, rec


# --- market orders --------------------------------------------------------------------------------


def test_market_buy_pays_the_ask_plus_slippage_rounded_up_and_the_taker_fee() -> None:
    """A market buy fills at ask × (1 + slippage), rounded up to the tick, as a taker."""
    b, rec = broker(config())
    b.on_quote(T0, quote("50000.0", "50000.3"))
    b.submit(T0, market(Side.BUY, "0.2", T0))
    (fill,) = rec.of("fill")
    # 50000.3 × 1.0001 = 50005.30003 → up to the tick: 50005.4
    assert fill["price"] == D("50005.4")
    # 0.2 × 50005.4 × 0.0006 = 6.000648
    assert fill["fee"] == D("6.000648")
    assert fill["liquidity"] == "taker"
    # 10000 − 6.000648
    assert b.state.account.cash == D("9993.999352")
    assert b.position.qty == D("0.2")


def test_market_sell_gets_the_bid_minus_slippage_rounded_down() -> None:
    """A market sell fills at bid × (1 − slippage), rounded down to the tick."""
    b, rec = broker(config())
    b.on_quote(T0, quote("50000.3", "50000.4"))
    b.submit(T0, market(Side.SELL, "0.2", T0))
    (fill,) = rec.of("fill")
    # 50000.3 × 0.9999 = 49995.29997 → down to the tick: 49995.2
    assert fill["price"] == D("49995.2")
    # 0.2 × 49995.2 × 0.0006 = 5.999424
    assert fill["fee"] == D("5.999424")
    assert b.position.qty == D("-0.2")


@pytest.mark.parametrize(
    ("side", "price"),
    [
        (Side.BUY, "40004.6"),  # 40000.5 × 1.0001 = 40004.50005 → up: 40004.6
        (Side.SELL, "39996.4"),  # 40000.5 × 0.9999 = 39996.49995 → down: 39996.4
    ],
)
def test_without_a_quote_a_market_order_fills_at_the_last_price_and_slippage(
    side: Side, price: str
) -> None:
    """No quote at all: the last traded price, moved against us by the slippage."""
    b, rec = broker(config())
    b.on_last(T0, D("40000.5"))
    b.submit(T0, market(side, "0.1", T0))
    assert rec.of("fill")[0]["price"] == D(price)


def test_a_quote_exactly_max_age_old_is_still_fresh() -> None:
    """The quote is usable while its age is at most ``max_quote_age`` (5 s)."""
    b, rec = broker(NO_SLIP)
    b.on_quote(T0, quote("100.0", "100.1"))
    b.submit(T0 + 5000, market(Side.BUY, "1", T0 + 5000))
    assert rec.of("fill")[0]["price"] == D("100.1")


def test_a_market_order_waits_on_a_quote_older_than_max_age() -> None:
    """5.001 s old: no fill; the wait is journaled, and the next quote fills it."""
    b, rec = broker(NO_SLIP)
    b.on_quote(T0, quote("100.0", "100.1"))
    b.submit(T0 + 5001, market(Side.BUY, "1", T0 + 5001))
    assert rec.of("fill") == []
    assert rec.of("feed") == [{"event": "quote_stale", "order": "m1", "quote_age_ms": 5001}]
    b.on_clock(T0 + 6000)
    assert rec.of("fill") == []
    b.on_quote(T0 + 7000, quote("101.0", "101.1"))
    # the span: from the wait at T0+5001 to the fresh quote at T0+7000
    assert rec.of("feed")[1] == {"event": "quote_fresh", "stale_ms": 1999}
    assert rec.of("fill")[0]["price"] == D("101.1")


def test_prices_from_before_a_feed_drop_never_fill() -> None:
    """A quote and a last price seen before a disconnect are unusable, however young."""
    b, rec = broker(NO_SLIP)
    b.on_quote(T0, quote("100.0", "100.1"))
    b.on_last(T0 + 50, D("100.05"))
    b.on_feed_down(T0 + 100)
    b.submit(T0 + 200, market(Side.SELL, "1", T0 + 200))
    assert rec.of("fill") == []
    b.on_quote(T0 + 300, quote("99.0", "99.1"))
    assert rec.of("fill")[0]["price"] == D("99.0")


def test_a_live_bar_closed_after_a_drop_is_not_a_fresh_price() -> None:
    """A ws bar's close is an old push: a bar closed by the timer after a drop fills nothing.

    (Regression: the bar's close used to be stamped with the closing time and filled a waiting
    order on a price from before the disconnect.)
    """
    b, rec = opened(Side.BUY, "1", "1000.0")
    b.on_feed_down(T0 + 1000)
    b.close_position(T0 + 1500, "exit")
    b.on_bar(T0 + 62_000, bar(T0, "1000", "1001", "999", "1000.5"))
    assert len(rec.of("fill")) == 1  # the entry only
    assert b.position.qty == 1
    b.on_quote(T0 + 63_000, quote("1002.0", "1002.1"))
    assert rec.of("fill")[1]["price"] == D("1002.0")
    assert b.position.qty == 0


def test_a_candle_close_is_a_price_of_its_own() -> None:
    """A bars-only replay has no quotes: a csv bar's close prices market orders."""
    b, rec = broker(NO_SLIP)
    b.on_bar(T0 + MIN, bar(T0, "100", "102", "99", "101.5", source="csv"))
    b.submit(T0 + MIN, market(Side.BUY, "1", T0 + MIN))
    assert rec.of("fill")[0]["price"] == D("101.5")


def test_the_stale_span_closes_even_when_its_order_is_gone() -> None:
    """A stop that flattens while the close waits ends the span; the next wait opens a new one.

    (Regression: the span stayed open, and a later fill reported it as 198 s long.)
    """
    b, rec = opened(Side.BUY, "1", "1000.0", stop=D("990"))
    b.on_feed_down(T0 + 1000)
    b.close_position(T0 + 2000, "exit")
    b.on_quote(T0 + 3000, quote("980.0", "980.1"))  # the stop fills on it; the close is moot
    assert [f["event"] for f in rec.of("feed")] == ["quote_stale", "quote_fresh"]
    assert rec.of("feed")[1]["stale_ms"] == 1000
    b.submit(T0 + 100_000, market(Side.BUY, "1", T0 + 100_000, oid="m2"))
    assert rec.of("feed")[2] == {"event": "quote_stale", "order": "m2", "quote_age_ms": 97_000}


def test_the_stale_span_closes_on_a_fresh_price_after_its_order_was_cancelled() -> None:
    """Flat, no order left, the span still open: the first fresh quote ends it."""
    b, rec = broker(config())
    b.on_quote(T0, quote("999.9", "1000.0"))
    b.on_feed_down(T0 + 1000)
    b.submit(T0 + 2000, market(Side.BUY, "1", T0 + 2000))
    b.cancel_all("strategy")
    assert not b.state.orders
    assert not b.state.position.qty
    b.on_quote(T0 + 3000, quote("999.9", "1000.0"))
    assert rec.of("feed") == [
        {"event": "quote_stale", "order": "m1", "quote_age_ms": 2000},
        {"event": "quote_fresh", "stale_ms": 1000},
    ]
    assert b.idle()


# --- fees and PnL ---------------------------------------------------------------------------------


def test_a_round_trip_pays_taker_in_and_maker_out_at_the_target() -> None:
    """Taker fee on the market entry, maker fee on the target; cash = start + PnL − fees."""
    b, rec = opened(Side.BUY, "1", "1000.0", stop=D("990"), target=D("1010"))
    b.on_quote(T0 + 1000, quote("1010.1", "1010.2"))  # the bid trades through 1010
    entry, out = rec.of("fill")
    assert entry["fee"] == D("0.6")  # 1 × 1000 × 0.0006
    assert out["price"] == D("1010")
    assert out["liquidity"] == "maker"
    assert out["fee"] == D("0.202")  # 1 × 1010 × 0.0002
    assert out["pnl"] == D("10")
    (exit_,) = rec.of("exit")
    assert exit_["reason"] == "target"
    assert exit_["net"] == D("9.198")  # 10 − 0.6 − 0.202
    assert b.state.account.cash == D("10009.198")


def test_a_target_is_not_filled_on_a_touch() -> None:
    """The target is a resting limit: the bid at the target exactly does not fill it."""
    b, rec = opened(Side.BUY, "1", "1000.0", target=D("1010"))
    b.on_quote(T0 + 1000, quote("1010.0", "1010.1"))
    assert b.position.qty == 1
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "1005", "1010", "1004", "1006"))  # high = target
    assert b.position.qty == 1
    assert rec.of("exit") == []


def test_a_target_gapped_through_fills_at_the_target_not_the_open() -> None:
    """A bar opening beyond the target fills it at its own price (never better).

    (Regression: it used to fill at the better gapped open, 1020.)
    """
    b, rec = opened(Side.BUY, "1", "1000.0", stop=D("990"), target=D("1010"))
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "1020", "1030", "1015", "1025"))
    assert rec.of("fill")[1]["price"] == D("1010")
    assert rec.of("exit")[0]["pnl"] == D("10")


# --- stops ----------------------------------------------------------------------------------------


def test_one_bar_touching_stop_and_target_fills_the_stop() -> None:
    """Stop first: a bar whose range holds both the stop and the target exits at the stop."""
    b, rec = opened(Side.BUY, "1", "1000.0", stop=D("990"), target=D("1010"))
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "1000", "1015", "985", "1000"))
    out = rec.of("fill")[1]
    assert out["price"] == D("990")
    assert out["liquidity"] == "taker"
    assert out["fee"] == D("0.594")  # 1 × 990 × 0.0006
    (exit_,) = rec.of("exit")
    assert exit_["reason"] == "stop"
    assert exit_["pnl"] == D("-10")
    assert exit_["net"] == D("-11.194")  # −10 − 0.6 − 0.594


def test_a_short_stop_first_too() -> None:
    """The mirror: a short's stop above and target below, both in one bar → the stop."""
    b, rec = opened(Side.SELL, "2", "1000.0", stop=D("1010"), target=D("990"))
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "1000", "1012", "985", "1000"))
    (exit_,) = rec.of("exit")
    assert exit_["reason"] == "stop"
    assert exit_["price"] == D("1010")
    assert exit_["pnl"] == D("-20")  # 2 × (1000 − 1010)


@pytest.mark.parametrize(
    ("side", "stop", "bar_ohlc", "fill"),
    [
        # long, stop 990: the bar opens at 980, below it → the open, less slippage:
        # 980 × 0.9999 = 979.902 → down: 979.9
        (Side.BUY, "990", ("980", "985", "975", "982"), "979.9"),
        # short, stop 1010: the bar opens at 1020 → 1020 × 1.0001 = 1020.102 → up: 1020.2
        (Side.SELL, "1010", ("1020", "1025", "1015", "1018"), "1020.2"),
    ],
)
def test_a_gap_through_the_stop_fills_at_the_open(
    side: Side, stop: str, bar_ohlc: tuple[str, str, str, str], fill: str
) -> None:
    """A bar that opens beyond the stop fills it at the open (with slippage), not at the stop."""
    b, rec = opened(side, "1", "1000.0", config(), stop=D(stop))
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, *bar_ohlc))
    assert rec.of("fill")[1]["price"] == D(fill)
    assert rec.of("exit")[0]["reason"] == "stop"


def test_a_stop_inside_the_bar_fills_at_the_stop_less_slippage() -> None:
    """Not gapped: the stop price, moved against us: 990 × 0.9999 = 989.901 → down: 989.9."""
    b, rec = opened(Side.BUY, "1", "1000.0", config(), stop=D("990"))
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "1000", "1001", "989", "995"))
    assert rec.of("fill")[1]["price"] == D("989.9")


def test_a_stop_on_a_quote_fills_at_the_bid_less_slippage() -> None:
    """On a quote the stop sells at the bid: 989.5 × 0.9999 = 989.40105 → down: 989.4."""
    b, rec = opened(Side.BUY, "1", "1000.0", config(), stop=D("990"))
    b.on_quote(T0 + 1000, quote("990.1", "990.2"))
    assert b.position.qty == 1
    b.on_quote(T0 + 2000, quote("989.5", "989.6"))
    assert rec.of("fill")[1]["price"] == D("989.4")


def test_a_bar_that_began_before_the_position_does_not_trip_its_stop() -> None:
    """The bar's low may have come before the entry, so it does not count."""
    b, rec = opened(Side.BUY, "1", "1000.0", stop=D("990"))
    b.on_bar(T0 + 30_000, bar(T0 - 30_000, "1000", "1001", "985", "1000"))
    assert b.position.qty == 1
    assert rec.of("exit") == []


def test_a_trailing_stop_follows_the_best_price_and_never_backs_off() -> None:
    """Long, 1 % trail: the stop rises with the bid, stays put when it falls, then fills."""
    b, rec = opened(Side.BUY, "1", "1000.0", trail_pct=D("1"))
    b.on_quote(T0 + 1000, quote("1010.0", "1010.1"))
    assert b.position.stop == D("999.9")  # 1010 − 1 % (10.1) = 999.9
    b.on_quote(T0 + 2000, quote("1005.0", "1005.1"))
    assert b.position.stop == D("999.9")  # the best is still 1010
    b.on_quote(T0 + 3000, quote("1020.0", "1020.1"))
    assert b.position.stop == D("1009.8")  # 1020 − 10.2
    b.on_quote(T0 + 4000, quote("1009.8", "1009.9"))
    (exit_,) = rec.of("exit")
    assert exit_["reason"] == "trailing_stop"
    assert exit_["price"] == D("1009.8")
    assert exit_["pnl"] == D("9.8")


def test_a_short_trailing_stop_follows_down_and_rounds_against_us() -> None:
    """Short, 1 % trail: 991.3 + 9.913 = 1001.213 → up to the tick: 1001.3."""
    b, _ = opened(Side.SELL, "1", "1000.0", trail_pct=D("1"))
    b.on_quote(T0 + 1000, quote("991.2", "991.3"))
    assert b.position.stop == D("1001.3")
    b.on_quote(T0 + 2000, quote("995.0", "995.1"))
    assert b.position.stop == D("1001.3")
    b.on_quote(T0 + 3000, quote("979.9", "980.0"))
    assert b.position.stop == D("989.8")  # 980 + 9.8


# --- limit orders ---------------------------------------------------------------------------------


def test_a_limit_buy_fills_only_when_the_market_trades_through_it() -> None:
    """A touch (ask = limit) does not fill; an ask below the limit fills at the limit, as maker."""
    b, rec = broker(NO_SLIP)
    b.on_quote(T0, quote("999.9", "1000.0"))
    b.submit(T0, limit(Side.BUY, "1", "995", T0))
    b.on_volume(D("100"))
    b.on_quote(T0 + 1000, quote("994.9", "995.0"))
    assert rec.of("fill") == []
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "996", "997", "995", "996"))  # low = limit: a touch
    assert rec.of("fill") == []
    b.on_quote(T0 + 2 * MIN + 1000, quote("994.8", "994.9"))
    (fill,) = rec.of("fill")
    assert fill["price"] == D("995")
    assert fill["liquidity"] == "maker"
    assert fill["fee"] == D("0.199")  # 995 × 0.0002


def test_a_limit_sell_fills_when_a_bar_trades_through_it() -> None:
    """A bar with high strictly above a sell limit fills it at the limit."""
    b, rec = broker(NO_SLIP)
    b.on_quote(T0, quote("999.9", "1000.0"))
    b.submit(T0, limit(Side.SELL, "1", "1005", T0))
    b.on_volume(D("100"))
    b.on_bar(T0 + 2 * MIN, bar(T0 + MIN, "1001", "1005", "1000", "1002"))
    assert rec.of("fill") == []
    b.on_bar(T0 + 3 * MIN, bar(T0 + 2 * MIN, "1002", "1005.1", "1001", "1003"))
    assert rec.of("fill")[0]["price"] == D("1005")


def test_a_limit_does_not_fill_on_a_bar_that_began_before_it() -> None:
    """The bar's low may have come before the order arrived."""
    b, rec = broker(NO_SLIP)
    b.on_quote(T0 + 30_000, quote("999.9", "1000.0"))
    b.submit(T0 + 30_000, limit(Side.BUY, "1", "995", T0 + 30_000))
    b.on_volume(D("100"))
    b.on_bar(T0 + MIN, bar(T0, "1000", "1001", "990", "1000"))
    assert rec.of("fill") == []


def test_a_limit_that_crosses_on_arrival_takes_the_ask_as_a_taker() -> None:
    """A buy limit above the ask is marketable: it fills at the ask (≤ its price), taker fee."""
    b, rec = broker(NO_SLIP)
    b.on_quote(T0, quote("999.9", "1000.0"))
    b.submit(T0, limit(Side.BUY, "1", "1001", T0))
    (fill,) = rec.of("fill")
    assert fill["price"] == D("1000.0")
    assert fill["liquidity"] == "taker"
    assert fill["fee"] == D("0.6")


def test_partial_fills_by_participation_and_the_remainder() -> None:
    """Fills are capped by 10 % of the volume since arrival, lot-rounded; the rest keeps working
    until the TTL expires it."""
    s = Scripted()
    e = engine(NO_SLIP, s)

    def update(t: int, open_time: int, close: str, volume: str) -> BarUpdate:
        return BarUpdate(
            "BTCUSDT", MIN, open_time, D("1000"), D("1001"), D("990"), D(close), D(volume),
            D(0), t,
        )  # fmt: skip

    e.on_market(T0 + 1000, update(T0 + 1000, T0, "1000", "50"))  # before the order: not counted
    enter(e, s, T0 + 3000, "999.9", "1000.0", Enter(Side.BUY, "limit", D("995"), stop=D("985")))
    (order,) = of_type(e.out, "order")
    assert order["qty"] == D("10")  # 10000 × 1 % ÷ (995 − 985)
    e.on_market(T0 + 4000, update(T0 + 4000, T0, "999", "54"))  # 4 traded since arrival
    e.on_market(T0 + 5000, quote("994.8", "994.9"))  # through the limit
    first = of_type(e.out, "fill")[0]
    assert first["qty"] == D("0.4")  # 4 × 10 %
    assert first["remaining"] == D("9.6")
    assert first["fee"] == D("0.0796")  # 0.4 × 995 × 0.0002
    e.on_market(T0 + 5500, quote("994.7", "994.8"))
    assert len(of_type(e.out, "fill")) == 1  # no new volume, no new fill
    # the next bucket: its volume counts from zero, 6.56789 more → seen 10.56789
    e.on_market(T0 + MIN + 1000, update(T0 + MIN + 1000, T0 + MIN, "996", "6.56789"))
    e.on_market(T0 + MIN + 2000, quote("994.8", "994.9"))
    second = of_type(e.out, "fill")[1]
    # 10.56789 × 10 % = 1.056789 → lot 0.0001: 1.0567, less the 0.4 already filled
    assert second["qty"] == D("0.6567")
    assert second["remaining"] == D("8.9433")
    assert e.broker.position.qty == D("1.0567")
    assert e.broker.position.entry == D("995")
    e.on_clock(T0 + 3000 + 300_000 - 1)
    assert of_type(e.out, "cancel") == []
    e.on_clock(T0 + 3000 + 300_000)  # the TTL
    (cancel,) = of_type(e.out, "cancel")
    assert cancel["reason"] == "expired"
    assert cancel["filled"] == D("1.0567")
    assert e.state.broker.orders == []
    assert e.broker.position.qty == D("1.0567")


def test_an_expired_limit_never_fills_even_without_a_tick() -> None:
    """A bars-only replay has no timer: expiry is checked before every fill.

    (Regression: the order used to fill 100 s past its TTL.)
    """
    b, rec = broker(NO_SLIP)
    b.on_last(T0, D("1000"))
    b.submit(T0, limit(Side.BUY, "1", "990", T0))
    b.on_volume(D("100"))
    b.on_bar(T0 + 400_000, bar(T0 + 340_000, "989", "991", "980", "985", source="csv"))
    assert rec.of("fill") == []
    assert rec.of("cancel") == [{"order": "l1", "reason": "expired", "filled": D(0)}]


def test_an_order_that_flattens_does_not_expire() -> None:
    """A close waiting out a long outage stays until it fills, and then it fills.

    (Regression: it expired after the TTL and left the position open, kill switch on.)
    """
    b, rec = opened(Side.BUY, "1", "1000.0")
    b.on_feed_down(T0 + 1000)
    b.close_position(T0 + 2000, "kill")
    b.on_clock(T0 + 2000 + 3_600_000)
    assert rec.of("cancel") == []
    b.on_quote(T0 + 3_700_000, quote("1003.0", "1003.1"))
    assert b.position.qty == 0
    assert rec.of("exit")[0]["reason"] == "kill"


# --- funding --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "rate", "cash_change"),
    [
        (Side.BUY, "0.0001", "-0.21"),  # long pays:     2 × 1050 × 0.0001 = 0.21
        (Side.SELL, "0.0001", "0.21"),  # short receives
        (Side.BUY, "-0.0002", "0.42"),  # negative rate: long receives 2 × 1050 × 0.0002
        (Side.SELL, "-0.0002", "-0.42"),  # and the short pays
    ],
)
def test_funding_is_charged_side_correctly_at_a_new_settlement(
    side: Side, rate: str, cash_change: str
) -> None:
    """qty × mark × rate: a long pays a positive rate, a short receives it; reversed if < 0."""
    b, rec = opened(side, "2", "1000.0")
    cash = b.state.account.cash
    b.on_mark(T0 + 1000, mark(T0 + 1000, "1000", rate, T0 - 3_600_000))  # first sight: no charge
    assert rec.of("funding") == []
    b.on_mark(T0 + 3_600_500, mark(T0 + 3_600_500, "1050", rate, T0 + 3_600_000))
    (funding,) = rec.of("funding")
    assert funding["amount"] == D(cash_change)
    assert funding["settled"] == T0 + 3_600_000
    assert b.state.account.cash == cash + D(cash_change)
    assert b.state.account.funding == -D(cash_change)
    b.on_mark(T0 + 3_601_000, mark(T0 + 3_601_000, "1060", rate, T0 + 3_600_000))
    assert len(rec.of("funding")) == 1  # the same settlement again: nothing more


def test_no_funding_for_a_position_opened_after_the_settlement() -> None:
    """The first mark after a settlement charges only positions held through it."""
    b, rec = broker(NO_SLIP)
    b.on_mark(T0, mark(T0, "1000", "0.0001", T0 - 3_600_000))
    b.on_quote(T0 + 7_200_000, quote("999.9", "1000.0"))
    b.submit(T0 + 7_200_000, market(Side.BUY, "1", T0 + 7_200_000))  # opened after T0 + 1 h
    b.on_mark(T0 + 7_201_000, mark(T0 + 7_201_000, "1000", "0.0001", T0 + 3_600_000))
    assert rec.of("funding") == []


# --- margin and liquidation -----------------------------------------------------------------------


def test_margin_is_notional_over_leverage() -> None:
    """0.1 × 100000 ÷ 10 = 1000 USDT of margin; available = equity − margin."""
    b, _ = opened(Side.BUY, "0.1", "100000.0")
    assert b.position.margin == D("1000")
    # equity = 10000 − fee 6 (0.1 × 100000 × 0.0006) + unrealized at the mid (99999.95 − 100000)
    assert b.equity() == D("9993.995")
    assert b.available() == D("8993.995")


@pytest.mark.parametrize(
    ("side", "entry", "liq"),
    [
        (Side.BUY, "100010.0", "90509.1"),  # 100010 × (1 − 0.1 + 0.005) = 90509.05 → up
        (Side.SELL, "100010.0", "109510.9"),  # 100010 × (1 + 0.1 − 0.005) = 109510.95 → down
    ],
)
def test_the_liquidation_price_rounds_against_us(side: Side, entry: str, liq: str) -> None:
    """Isolated margin at 10× with 0.5 % maintenance, rounded to the tick towards the entry."""
    b, _ = opened(side, "0.1", entry)
    assert b.liquidation_price() == D(liq)


@pytest.mark.parametrize(
    ("side", "liq", "safe"),
    [(Side.BUY, "90500.0", "90500.1"), (Side.SELL, "109500.0", "109499.9")],
)
def test_liquidation_closes_at_the_price_and_forfeits_the_maintenance_margin(
    side: Side, liq: str, safe: str
) -> None:
    """At the liquidation price the position is closed; the penalty is in the trade's exit.

    Long 0.1 at 100000: liq = 100000 × 0.905 = 90500. PnL 0.1 × (90500 − 100000) = −950; fees:
    entry 6 + exit 0.1 × 90500 × 0.0006 = 5.43 + penalty 0.1 × 90500 × 0.005 = 45.25 → 56.68.
    Short 0.1 at 100000: liq = 109500; PnL −950; exit fee 6.57, penalty 54.75 → fees 67.32.
    """
    b, rec = opened(side, "0.1", "100000.0")
    b.on_mark(T0 + 1000, mark(T0 + 1000, safe, "0", T0 - 1))
    assert b.position.qty != 0
    b.on_mark(T0 + 2000, mark(T0 + 2000, liq, "0", T0 - 1))
    assert b.position.qty == 0
    kinds = [k for k, _ in rec.records]
    assert kinds[-3:] == ["fee", "fill", "exit"]
    penalty, exit_fee, fees = (
        ("45.25", "5.43", "56.68") if side is Side.BUY else ("54.75", "6.57", "67.32")
    )
    assert rec.of("fee") == [{"reason": "liquidation", "amount": D(penalty)}]
    out = rec.of("fill")[1]
    assert out["price"] == D(liq)
    assert out["fee"] == D(exit_fee)
    (exit_,) = rec.of("exit")
    assert exit_["reason"] == "liquidation"
    assert exit_["pnl"] == D("-950")
    assert exit_["fees"] == D(fees)
    assert exit_["net"] == D("-950") - D(fees)
    assert b.state.account.cash == D("10000") - D("950") - D(fees)


def test_insufficient_margin_is_refused() -> None:
    """At 2× leverage, a 50,000 USDT entry needs 25,000 of margin that 10,000 cannot cover."""
    cfg = config(
        broker={"slippage_pct": D(0)}, account={"leverage": 2}, risk={"max_leverage": D("5")}
    )
    s = Scripted()
    e = engine(cfg, s)
    # risk 100 ÷ distance 1 = 100 BTC, capped by 10000 × 5 ÷ 1000 = 50 → margin 25000 > 10000
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("999")))
    (reject,) = of_type(e.out, "reject")
    assert reject["reason"] == "insufficient margin"
    assert of_type(e.out, "order") == []


# --- idempotency and stale quotes through the engine ----------------------------------------------


def test_a_duplicate_client_order_id_is_refused() -> None:
    """A client id names one order for good: the same id again is a journaled rejection."""
    cfg = config(broker={"slippage_pct": D(0)}, risk={"min_entry_interval_s": 0.0})
    s = Scripted()
    e = engine(cfg, s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990"), client_id="abc"))
    assert of_type(e.out, "order")[0]["id"] == "abc"
    enter(e, s, T0 + 2000, "999.9", "1000.0", Exit())
    assert e.broker.position.qty == 0
    enter(e, s, T0 + 3000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990"), client_id="abc"))
    (reject,) = of_type(e.out, "reject")
    assert reject["reason"] == "duplicate client order id 'abc'"
    assert len(of_type(e.out, "order")) == 2  # the entry and the exit, nothing more


@pytest.mark.parametrize("event", ["disconnected", "stale"])
def test_a_close_waits_out_a_feed_drop_and_fills_on_the_first_fresh_quote(event: str) -> None:
    """After a drop nothing fills on old prices; ``quote_stale`` and ``quote_fresh`` journal
    the wait."""
    s = Scripted()
    e = engine(NO_SLIP, s)
    enter(e, s, T0 + 2000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert e.broker.position.qty == D("10")  # 100 ÷ (1000 − 990)
    e.feed_event(T0 + 3000, event)
    s.on_next_bar = [Exit("signal")]
    # a bar closed by the timer after the drop: the strategy exits, nothing is fresh
    e.on_bar(T0 + 62_000, bar(T0, "1000", "1001", "999", "1000.5"), live=True)
    e.on_clock(T0 + 63_000)
    assert of_type(e.out, "fill")[1:] == []
    stale = [r for r in of_type(e.out, "feed") if r["event"] == "quote_stale"]
    assert len(stale) == 1
    assert stale[0]["quote_age_ms"] == 60_000  # the last quote came at T0 + 2000
    assert stale[0]["ts"] == T0 + 62_000
    e.out.clear()
    e.on_market(T0 + 64_000, quote("1001.0", "1001.1"))
    assert [(r["type"], r.get("event")) for r in e.out][:3] == [
        ("feed", "recovered"),
        ("feed", "quote_fresh"),
        ("fill", None),
    ]
    assert e.out[0]["down_ms"] == 61_000
    assert e.out[1]["stale_ms"] == 2000
    fill = e.out[2]
    assert fill["price"] == D("1001.0")
    assert fill["pnl"] == D("10")  # 10 × (1001 − 1000)
    assert e.broker.position.qty == 0


def test_no_entry_without_a_fresh_price() -> None:
    """A market entry is refused, with its reason, when the only quote is too old."""
    s = Scripted()
    e = engine(NO_SLIP, s)
    e.on_market(T0 + 1000, quote("999.9", "1000.0"))
    s.on_next_bar = [Enter(Side.BUY, stop=D("990"))]
    e.on_bar(T0 + 6001, bar(T0 - MIN, "1000", "1000", "1000", "1000"), live=True)
    (reject,) = of_type(e.out, "reject")
    assert reject["reason"] == "no fresh price to size against"
