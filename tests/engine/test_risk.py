"""Risk: sizing, gates, the breaker, the daily limit and the kill switch, numbers by hand.

Unless a test says otherwise: cash 10,000, risk 1 % (100 USDT), cap 2 %, max leverage 5,
max notional 50,000, lot 0.0001, no slippage, taker fee 0.06 %.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.enginekit import MIN, T0, D, Scripted, config, engine, enter, of_type, quote
from trio_paper.config import Config
from trio_paper.engine.engine import Engine
from trio_paper.engine.intents import Enter, Exit
from trio_paper.engine.records import Record
from trio_paper.model import Side
from trio_paper.times import DAY_MS


def cfg(**risk: Any) -> Config:
    """No slippage, and these risk settings."""
    return config(broker={"slippage_pct": D(0)}, risk=risk)


def first_order(risk: dict[str, Any], intent: Enter) -> Record:
    """The order (or reject) the first entry gets, at a quote of 999.9 / 1000.0."""
    s = Scripted()
    e = engine(cfg(**risk), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", intent)
    orders, rejects = of_type(e.out, "order"), of_type(e.out, "reject")
    return orders[0] if orders else rejects[0]


# --- size -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("risk", "intent", "qty"),
    [
        # 10000 × 1 % ÷ (1000 − 990) = 10
        ({}, Enter(Side.BUY, stop=D("990")), "10"),
        # 100 ÷ 1 = 100, capped by max leverage: 10000 × 5 ÷ 1000 = 50
        ({}, Enter(Side.BUY, stop=D("999")), "50"),
        # 100 ÷ 1 = 100, capped by max notional: 20000 ÷ 1000 = 20
        ({"max_notional_usdt": D("20000")}, Enter(Side.BUY, stop=D("999")), "20"),
        # 100 ÷ 3 = 33.333… → down to the lot: 33.3333
        ({}, Enter(Side.BUY, stop=D("997")), "33.3333"),
        # a short at the bid: 100 ÷ (1005 − 999.9) = 19.6078… → 19.6078
        ({}, Enter(Side.SELL, stop=D("1005")), "19.6078"),
        # risk_pct 2 on this trade (the cap): 200 ÷ 10 = 20
        ({}, Enter(Side.BUY, stop=D("990"), risk_pct=D("2")), "20"),
        # a limit is sized at its price: 100 ÷ (995 − 985) = 10
        ({}, Enter(Side.BUY, "limit", D("995"), stop=D("985")), "10"),
    ],
)
def test_size_is_equity_times_risk_over_the_stop_distance_capped_and_lot_rounded(
    risk: dict[str, Any], intent: Enter, qty: str
) -> None:
    """equity × risk% ÷ distance, capped by max leverage and max notional, rounded down."""
    order = first_order(risk, intent)
    assert order["type"] == "order"
    assert order["qty"] == D(qty)


def test_without_a_stop_the_default_stop_sizes_the_trade() -> None:
    """default_stop_pct 1: the stop is 1 % from the entry (1000 → 990), so 100 ÷ 10 = 10."""
    order = first_order({}, Enter(Side.BUY))
    assert order["stop"] == D("990.0")
    assert order["qty"] == D("10")


def test_a_market_entry_is_sized_at_its_fill_price_so_the_caps_hold_after_slippage() -> None:
    """Slippage 0.1 %: the buy fills at 1000 × 1.001 = 1001. Capped by leverage:
    10000 × 5 ÷ 1001 = 49.95004… → 49.9500, notional 49.95 × 1001 = 49999.95 ≤ 50000.

    (Regression: sized at the unslipped ask, 50 BTC filled at 1001 = 50,050 USDT, over the cap.)
    """
    s = Scripted()
    e = engine(config(broker={"slippage_pct": D("0.1")}), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("1000")))
    (fill,) = of_type(e.out, "fill")
    assert fill["price"] == D("1001.0")
    assert fill["qty"] == D("49.95")
    assert fill["qty"] * fill["price"] <= 10000 * 5


def test_the_stop_distance_is_measured_from_the_fill_price() -> None:
    """Slippage 0.1 %: entry 1001, stop 991 → 100 ÷ 10 = 10 (not 100 ÷ 9 from the ask)."""
    s = Scripted()
    e = engine(config(broker={"slippage_pct": D("0.1")}), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("991")))
    assert of_type(e.out, "fill")[0]["qty"] == D("10")


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("risk", "intent", "reason"),
    [
        (
            {"risk_per_trade_pct": D("1")},
            Enter(Side.BUY, stop=D("990"), risk_pct=D("3")),
            "risk 3% is over the per-trade cap of 2%",
        ),
        ({}, Enter(Side.BUY, stop=D("1001")), "stop 1001 is on the wrong side of entry 1000.0"),
        (
            {},
            Enter(Side.BUY, stop=D("990"), target=D("999")),
            "target 999 is on the wrong side of entry 1000.0",
        ),
        (
            {},
            Enter(Side.SELL, stop=D("999")),
            "stop 999 is on the wrong side of entry 999.9",
        ),
    ],
)
def test_bad_entries_are_refused_with_their_reason(
    risk: dict[str, Any], intent: Enter, reason: str
) -> None:
    """Over the per-trade cap, or a stop/target on the wrong side: a reject, no order."""
    reject = first_order(risk, intent)
    assert reject["type"] == "reject"
    assert reject["reason"] == reason
    assert reject["side"] == intent.side.value
    assert reject["stop"] == intent.stop


def test_an_entry_under_the_minimum_notional_is_refused() -> None:
    """10 BTC × 1000 = 10,000 USDT is under a 20,000 minimum."""
    cfg = config(broker={"slippage_pct": D(0)}, instrument={"min_notional_usdt": D("20000")})
    s = Scripted()
    e = engine(cfg, s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    (reject,) = of_type(e.out, "reject")
    assert reject["reason"] == ("size 10.0000 (10000.00 USDT) is under the minimum notional 20000")


def test_one_position_and_one_working_entry_at_a_time() -> None:
    """A second entry while a limit rests, or while a position is open, is refused."""
    s = Scripted()
    e = engine(cfg(min_entry_interval_s=0.0), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, "limit", D("990"), stop=D("980")))
    enter(e, s, T0 + 2000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert of_type(e.out, "reject")[0]["reason"] == "an entry order is already working"
    enter(e, s, T0 + 3000, "999.9", "1000.0", Exit())  # cancels the working entry
    enter(e, s, T0 + 4000, "999.9", "1000.0", Enter(Side.SELL, stop=D("1010")))
    enter(e, s, T0 + 5000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert of_type(e.out, "reject")[1]["reason"] == "already short: exit first"


AFTER_ONE_TICK_LOSS = D("9.987")
"""Long 10 at 1000, out at the bid 999.9: cash 10000 − 6 − 1 − 5.9994 = 9987.0006, so the next
entry is 99.870006 ÷ 10 = 9.9870006 → 9.9870."""


def test_orders_per_minute_gate() -> None:
    """At most 2 orders (entries and exits) in any rolling minute."""
    s = Scripted()
    e = engine(cfg(max_orders_per_minute=2, min_entry_interval_s=0.0), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    enter(e, s, T0 + 2000, "999.9", "1000.0", Exit())
    enter(e, s, T0 + 3000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert of_type(e.out, "reject")[0]["reason"] == "2 orders in the last minute"
    # at T0 + 61001 the entry at T0 + 1000 has left the window: one order in it
    enter(e, s, T0 + 61_001, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert len(of_type(e.out, "reject")) == 1
    assert e.broker.position.qty == AFTER_ONE_TICK_LOSS


def test_the_default_gap_lets_a_reversal_on_the_next_bar_through_feed_jitter() -> None:
    """Bars close a few ms late or early: an entry on the next 1-minute bar came 59.949 s after
    the last and the old default (60 s) refused it."""
    s = Scripted()
    e = engine(cfg(), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    enter(e, s, T0 + 60_949, "999.9", "1000.0", Exit(), Enter(Side.SELL, stop=D("1010")))
    assert not of_type(e.out, "reject")
    assert e.broker.position.qty < 0


def test_minimum_time_between_entries() -> None:
    """60 s between entries: an entry 30 s after the last is refused; at 60 s it goes."""
    s = Scripted()
    e = engine(cfg(min_entry_interval_s=60.0), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    enter(e, s, T0 + 2000, "999.9", "1000.0", Exit())
    enter(e, s, T0 + 31_000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert of_type(e.out, "reject")[0]["reason"] == "last entry 30 s ago, minimum 60 s"
    enter(e, s, T0 + 61_000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert e.broker.position.qty == AFTER_ONE_TICK_LOSS


# --- breaker, daily limit, kill -------------------------------------------------------------------


def losing_trade(e: Engine, s: Scripted, t: int, exit_bid: str) -> None:
    """Long 10 at 1000 (stop 990), closed by the strategy at ``exit_bid``."""
    enter(e, s, t, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    enter(e, s, t + 1000, exit_bid, str(D(exit_bid) + D("0.1")), Exit())


def test_the_breaker_trips_on_consecutive_losses_until_the_next_utc_day() -> None:
    """2 losing trades in a row → halt; entries refused; the next UTC day lifts it."""
    s = Scripted()
    e = engine(cfg(breaker_losses=2, min_entry_interval_s=0.0), s)
    losing_trade(e, s, T0 + 1000, "999.0")  # −10 − 6 − 5.994
    assert of_type(e.out, "risk") == []
    losing_trade(e, s, T0 + 3000, "999.0")
    (halt,) = of_type(e.out, "risk")
    assert halt["event"] == "halt"
    assert halt["reason"] == "breaker: 2 losing trades in a row"
    assert halt["until"] == T0 + DAY_MS
    # trade 1: 10 BTC, −10 − 6 − 5.994 → cash 9978.006
    # trade 2: 99.78006 ÷ 10 → 9.978 BTC: −9.978 − 5.9868 − 5.9808132 → cash 9956.0603868
    assert halt["equity"] == D("9956.0603868")
    enter(e, s, T0 + 3 * 3_600_000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert of_type(e.out, "reject")[0]["reason"] == (
        "entries halted (breaker: 2 losing trades in a row) until the next UTC day"
    )
    e.out.clear()
    enter(e, s, T0 + DAY_MS + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert [r.get("event") for r in of_type(e.out, "risk")] == ["resumed", "new_day"]
    assert e.broker.position.qty == D("9.956")  # 99.560603868 ÷ 10


def test_a_win_resets_the_loss_count() -> None:
    """Loss, win, loss: never 2 in a row, so no halt."""
    s = Scripted()
    e = engine(cfg(breaker_losses=2, min_entry_interval_s=0.0), s)
    losing_trade(e, s, T0 + 1000, "999.0")
    losing_trade(e, s, T0 + 3000, "1010.0")  # +100 − 6 − 6.06: a win
    losing_trade(e, s, T0 + 5000, "999.0")
    assert of_type(e.out, "risk") == []


def test_the_breaker_trips_on_drawdown_from_the_days_start_and_flattens() -> None:
    """Risk 2 %: long 20 at 1000 (stop 990), fee 12. Drawdown limit 1 % of 10,000.

    Mid 996 → equity 10000 − 12 − 20 × 4 = 9908: 0.92 %, no halt.
    Mid 995 → equity 10000 − 12 − 20 × 5 = 9888: 1.12 % → halt, close at the bid 994.9:
    PnL 20 × (994.9 − 1000) = −102, fee 20 × 994.9 × 0.0006 = 11.9388.
    """
    s = Scripted()
    e = engine(cfg(risk_per_trade_pct=D("2"), breaker_drawdown_pct=D("1")), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert e.broker.position.qty == D("20")
    enter(e, s, T0 + 2000, "995.9", "996.1")
    assert of_type(e.out, "risk") == []
    enter(e, s, T0 + 3000, "994.9", "995.1")
    (halt,) = of_type(e.out, "risk")
    assert halt["reason"] == "breaker: equity 1.12% below the day's start"
    assert halt["equity"] == D("9888")
    (exit_,) = of_type(e.out, "exit")
    assert exit_["reason"] == "risk_halt"
    assert exit_["pnl"] == D("-102")
    assert e.state.broker.account.cash == D("9874.0612")  # 10000 − 12 − 102 − 11.9388
    enter(e, s, T0 + 4000, "994.9", "995.1", Enter(Side.BUY, stop=D("990")))
    assert of_type(e.out, "reject")[0]["reason"].startswith("entries halted (breaker: equity")


def test_the_daily_loss_limit_counts_the_days_realized_loss() -> None:
    """Limit 1 % of 10,000 = 100 USDT realized today.

    Trade 1: 10 BTC out at 996: −40 − 6 − 5.976 = −51.976 (0.52 %): trading goes on.
    Trade 2: 99.48024 ÷ 10 → 9.948 BTC: −39.792 − 5.9688 − 5.9449248 = −51.7057248;
    −103.6817248 today (1.04 %) → halt, until the next UTC day.
    """
    s = Scripted()
    e = engine(cfg(daily_loss_limit_pct=D("1"), breaker_losses=100, min_entry_interval_s=0.0), s)
    losing_trade(e, s, T0 + 1000, "996.0")
    assert of_type(e.out, "risk") == []
    assert of_type(e.out, "exit")[0]["net"] == D("-51.976")
    losing_trade(e, s, T0 + 3000, "996.0")
    (halt,) = of_type(e.out, "risk")
    assert halt["reason"] == "daily loss limit: 103.68 USDT realized loss today"
    e.out.clear()
    enter(e, s, T0 + DAY_MS, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert [r.get("event") for r in of_type(e.out, "risk")] == ["resumed", "new_day"]
    assert e.risk.state.day_realized == 0
    assert e.broker.position.qty == D("9.8963")  # (10000 − 103.6817248) × 1 % ÷ 10


def test_a_stop_loss_counts_towards_the_daily_limit() -> None:
    """Stopped out at the bid 989: −110 − 6 − 5.934 = −121.934 ≥ 100 → halt."""
    s = Scripted()
    e = engine(cfg(daily_loss_limit_pct=D("1"), breaker_losses=100), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    enter(e, s, T0 + 2000, "989.0", "989.1")
    assert of_type(e.out, "exit")[0]["reason"] == "stop"
    (halt,) = of_type(e.out, "risk")
    assert halt["reason"] == "daily loss limit: 121.93 USDT realized loss today"


def test_the_kill_switch_flattens_and_stops_entries_for_good() -> None:
    """Kill: the position closes at market; entries are refused today, tomorrow, after a reset."""
    s = Scripted()
    e = engine(cfg(), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    e.kill(T0 + 2000, "signal")
    assert of_type(e.out, "risk") == [
        {"seq": of_type(e.out, "risk")[0]["seq"], "ts": T0 + 2000, "type": "risk",
         "event": "kill", "source": "signal"},
    ]  # fmt: skip
    (exit_,) = of_type(e.out, "exit")
    assert exit_["reason"] == "kill"
    assert exit_["price"] == D("999.9")
    for t in (T0 + 3000, T0 + DAY_MS + 1000):
        enter(e, s, t, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    e.risk.reset()
    enter(e, s, T0 + DAY_MS + 2000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert [r["reason"] for r in of_type(e.out, "reject")] == ["kill switch is on"] * 3
    assert e.broker.position.qty == 0


def test_the_kill_switch_cancels_working_orders() -> None:
    """A resting entry is cancelled by the kill switch, with the reason."""
    s = Scripted()
    e = engine(cfg(), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, "limit", D("990"), stop=D("980")))
    e.kill(T0 + 2000, "file")
    (cancel,) = of_type(e.out, "cancel")
    assert cancel["reason"] == "kill switch"
    assert e.state.broker.orders == []


def test_a_halt_cancels_the_rest_of_a_working_entry_and_flattens() -> None:
    """A partly filled limit entry: the breaker cancels its remainder and closes the part.

    Limit buy 10 at 995; 50 traded since → 10 % = 5 filled, fee 5 × 995 × 0.0002 = 0.995.
    Mid 986.05: equity 10000 − 0.995 + 5 × (986.05 − 995) = 9954.255, 0.46 % down ≥ 0.4 %.
    """
    s = Scripted()
    e = engine(cfg(breaker_drawdown_pct=D("0.4")), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, "limit", D("995"), stop=D("985")))
    e.broker.on_volume(D("50"))
    e.on_market(T0 + 2000, quote("994.8", "994.9"))
    assert e.broker.position.qty == D("5")
    e.on_market(T0 + 3000, quote("986.0", "986.1"))
    (halt,) = of_type(e.out, "risk")
    assert halt["reason"] == "breaker: equity 0.46% below the day's start"
    assert halt["equity"] == D("9954.255")
    (cancel,) = of_type(e.out, "cancel")
    assert cancel["reason"] == "risk halt"
    assert cancel["filled"] == D("5")
    assert of_type(e.out, "exit")[0]["reason"] == "risk_halt"
    assert e.broker.position.qty == 0
    assert e.state.broker.orders == []


def test_reset_lifts_a_halt_by_hand() -> None:
    """``reset`` (``trio-paper risk reset``) lifts a breaker before the day ends."""
    s = Scripted()
    e = engine(cfg(breaker_losses=1, min_entry_interval_s=0.0), s)
    losing_trade(e, s, T0 + 1000, "999.0")
    assert e.risk.state.halted_until == T0 + DAY_MS
    e.risk.reset()
    enter(e, s, T0 + 5000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    assert e.broker.position.qty == D("9.978")  # 9978.006 × 1 % ÷ 10


def test_equity_at_the_days_start_is_taken_at_the_first_event_of_the_day() -> None:
    """The new day's start is the equity when its first event arrives (open PnL included)."""
    s = Scripted()
    e = engine(cfg(), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    e.on_clock(T0 + DAY_MS + 5 * MIN)
    # cash 10000 − 6, unrealized at the mid 999.95: 10 × −0.05 = −0.5
    assert e.risk.state.day_start_equity == Decimal("9993.5")
    assert of_type(e.out, "risk")[-1] == {
        "seq": e.state.seq, "ts": T0 + DAY_MS + 5 * MIN, "type": "risk", "event": "new_day",
        "equity": Decimal("9993.5"),
    }  # fmt: skip


def test_the_drawdown_breaker_trips_at_exactly_its_percentage() -> None:
    """Long 20 at 1000, fee 12, limit 1 %: mid 995.65 → equity 9901 (0.99 %), no halt; mid
    995.6 → equity 9900, exactly 1.00 % → halt (the limit is ``≥``)."""
    s = Scripted()
    e = engine(cfg(risk_per_trade_pct=D("2"), breaker_drawdown_pct=D("1")), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    enter(e, s, T0 + 2000, "995.6", "995.7")
    assert of_type(e.out, "risk") == []
    enter(e, s, T0 + 3000, "995.5", "995.7")
    (halt,) = of_type(e.out, "risk")
    assert halt["equity"] == D("9900")
    assert halt["reason"] == "breaker: equity 1.00% below the day's start"


amounts = st.decimals(min_value=-1, max_value=10**9, places=12, allow_nan=False)
percents = st.decimals(min_value=D("0.000001"), max_value=100, places=6)


@settings(max_examples=500, deadline=None)
@given(amounts, amounts, percents, percents, st.integers(-3, 3), st.integers(0, 20))
def test_an_equity_above_the_calm_level_trips_neither_limit(
    start: Decimal, realized: Decimal, drawdown_pct: Decimal, loss_pct: Decimal,
    sign: int, scale: int,
) -> None:  # fmt: skip
    """``Risk._calm_above``, which lets ``check_limits`` skip its divisions, is sound: for an
    equity above it, ``check_limits``' own expressions say neither limit holds. The equities
    tried sit on the breaker's exact level and a hair either side of it (down to 10⁻²⁰ of it)."""
    config = cfg(breaker_drawdown_pct=drawdown_pct, daily_loss_limit_pct=loss_pct)
    risk = engine(config).risk
    risk.state.day_start_equity, risk.state.day_realized = start, -realized
    calm = risk._calm_above()
    daily = bool(start) and realized / start * 100 >= loss_pct
    if start <= 0 or daily:
        assert calm is None
        return
    assert calm is not None
    level = start * (1 - drawdown_pct / 100)
    for equity in (level, level + sign * start.scaleb(-scale), calm, calm.next_plus()):
        if equity > calm:
            assert (start - equity) / start * 100 < drawdown_pct


def test_the_calm_level_is_remade_when_the_days_numbers_move() -> None:
    risk = engine(cfg(breaker_drawdown_pct=D("1"))).risk
    risk.state.day_start_equity = D("10000")
    assert risk._calm_above() == D("9900.0000000000000001")
    risk.state.day_realized = D("-200")  # over the default 3 % daily limit? no: 2 %
    assert risk._calm_above() == D("9900.0000000000000001")
    risk.state.day_realized = D("-300")  # 3 %: the daily limit holds, nothing is calm
    assert risk._calm_above() is None
    risk.state.day_start_equity = D("20000")
    assert risk._calm_above() == D("19800.0000000000000002")
