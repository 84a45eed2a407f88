"""Properties of the engine over random markets and a strategy issuing random intents.

After every input, from the journal alone (an independent bookkeeping of our own, never the
engine's numbers):

- cash = starting cash + realized PnL − fees − funding, exactly, and each fill's PnL and fee
  are what its quantity and prices say;
- a market fill lies within the fresh quote (or fresh last price) moved by the slippage, never
  on a stale one; a resting limit fills at its price only when the market traded through it; a
  stop fills within the range of what triggered it (plus slippage);
- an entry's notional stays within equity × max leverage and within max notional.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import attrs
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.engine.enginekit import MIN, SYMBOL, T0, D, Scripted, config, mark, quote
from trio_paper.codec import dumps
from trio_paper.config import Config
from trio_paper.core import engine_settings
from trio_paper.engine.engine import Engine, fresh_state
from trio_paper.engine.intents import CancelEntries, Enter, Exit, Intent
from trio_paper.engine.records import Record
from trio_paper.model import Bar, BarUpdate, Side, Trade

TICK = D("0.1")
START_CASH = D("10000")
ZERO = D(0)

# --- what hypothesis draws ------------------------------------------------------------------------


@st.composite
def configs(draw: st.DrawFn) -> Config:
    return config(
        account={"leverage": draw(st.sampled_from([2, 10, 50]))},
        broker={
            "slippage_pct": draw(st.sampled_from([D(0), D("0.01"), D("0.5")])),
            "participation_pct": draw(st.sampled_from([D(10), D(100)])),
            "limit_ttl_s": draw(st.sampled_from([30.0, 300.0])),
        },
        risk={
            "max_leverage": draw(st.sampled_from([D(1), D(5), D(20)])),
            "max_notional_usdt": draw(st.sampled_from([D(8000), D(50000)])),
            "min_entry_interval_s": draw(st.sampled_from([0.0, 60.0])),
            "max_orders_per_minute": draw(st.sampled_from([3, 100])),
            "breaker_losses": draw(st.sampled_from([2, 100])),
            "breaker_drawdown_pct": draw(st.sampled_from([D(3), D(100)])),
            "daily_loss_limit_pct": draw(st.sampled_from([D(2), D(100)])),
        },
    )


@attrs.frozen
class EnterSpec:
    """An entry relative to the price level when it is issued (offsets in ticks)."""

    side: Side
    limit_off: int | None  # > 0: a resting limit inside the market; < 0: marketable
    stop_off: int | None  # > 0: a proper stop; < 0: on the wrong side
    target_off: int | None
    trail_pct: Decimal | None
    risk_pct: Decimal | None
    client_id: str | None


enter_specs = st.builds(
    EnterSpec,
    st.sampled_from(Side),
    st.one_of(st.none(), st.sampled_from([-20, 2, 5, 10])),
    st.one_of(st.none(), st.sampled_from([-5, 5, 30, 300])),
    st.one_of(st.none(), st.sampled_from([10, 100])),
    st.one_of(st.none(), st.sampled_from([D("0.5"), D("2")])),
    st.sampled_from([None, None, None, D("0.5"), D("2"), D("3")]),
    st.sampled_from([None, None, None, None, "a", "b"]),
)
intent_specs = st.lists(st.one_of(enter_specs, st.just("exit"), st.just("cancel")), max_size=2)
dts = st.sampled_from([0, 1, 400, 400, 3000, 3000, 6000, 70_000, 8 * 3600_000])
moves = st.one_of(st.integers(-30, 30), st.sampled_from([-3000, -800, 800, 3000]))
quotes = st.tuples(st.just("quote"), dts, moves, st.integers(1, 5), intent_specs)
steps = st.one_of(
    quotes,
    quotes,
    st.tuples(
        st.just("bar"),
        dts,
        moves,
        st.integers(0, 40),
        st.integers(0, 40),
        st.sampled_from(["0", "2", "50", "500"]),
        st.sampled_from(["csv", "ws"]),
        intent_specs,
    ),
    st.tuples(st.just("trade"), dts, moves),
    st.tuples(st.just("update"), dts, moves, st.sampled_from(["0", "1.5", "30", "300"])),
    st.tuples(
        st.just("mark"), dts, st.sampled_from(["-0.001", "0", "0.0001", "0.003"]), st.booleans()
    ),
    st.tuples(st.just("down"), dts, st.sampled_from(["disconnected", "stale"])),
    st.tuples(st.just("clock"), dts),
)


# --- our own books, kept from the journal ---------------------------------------------------------


def up(x: Decimal) -> Decimal:
    return (x / TICK).to_integral_value(ROUND_CEILING) * TICK


def down(x: Decimal) -> Decimal:
    return (x / TICK).to_integral_value(ROUND_FLOOR) * TICK


@attrs.define
class Market:
    """What the test knows of prices: the last quote, last price and the last feed drop."""

    quote_t: int | None = None
    bid: Decimal = ZERO
    ask: Decimal = ZERO
    last_t: int | None = None
    last: Decimal = ZERO
    down_t: int = -1


@attrs.define
class Books:
    cfg: Config
    cash: Decimal = START_CASH
    qty: Decimal = ZERO
    entry: Decimal = ZERO
    trade_pnl: Decimal = ZERO
    trade_fees: Decimal = ZERO
    trade_funding: Decimal = ZERO
    orders: dict[str, Record] = attrs.Factory(dict)
    budget: dict[str, Decimal] = attrs.Factory(dict)
    """Entry order id → equity when it was accepted (flat then, so equity is cash)."""
    entered: dict[str, Decimal] = attrs.Factory(dict)
    """Entry order id → notional filled so far."""


def fresh_ranges(m: Market, t: int, max_age: int, slip: Decimal) -> list[tuple[Decimal, Decimal]]:
    """Where a market order may fill at ``t``: each fresh price source, moved by the slippage."""
    out = []
    if m.quote_t is not None and t - m.quote_t <= max_age and m.quote_t > m.down_t:
        out.append((down(m.bid * (1 - slip)), up(m.ask * (1 + slip))))
    if m.last_t is not None and t - m.last_t <= max_age and m.last_t > m.down_t:
        out.append((down(m.last * (1 - slip)), up(m.last * (1 + slip))))
    return out


def check_records(
    books: Books,
    records: Sequence[Record],
    market: Market,
    seen: tuple[str, Decimal, Decimal, Decimal, Decimal] | None,
) -> None:
    """Check one input's records. ``seen`` is what the input showed the broker, if anything:
    ``(kind, buy_lo, buy_hi, sell_lo, sell_hi)`` — the prices a buyer and a seller met."""
    cfg = books.cfg
    bs = engine_settings(cfg).broker
    for index, r in enumerate(records):
        dumps(r)  # every record can be journaled
        kind = r["type"]
        if kind == "order":
            books.orders[r["id"]] = r
            assert r["qty"] % cfg.instrument.lot_step == 0
            if not r["reduce_only"]:
                assert books.qty == 0, "an entry while a position is open"
                books.budget[r["id"]] = books.cash
        elif kind == "reject":
            event(
                "reject: " + " ".join(r["reason"].split()[: 2 if r["reason"][0].isupper() else 1])
            )
        elif kind == "funding":
            event("funding")
            books.cash += r["amount"]
            books.trade_funding -= r["amount"]
            assert r["amount"] == -(r["qty"] * r["mark"] * r["rate"])
        elif kind == "fee":
            assert r["reason"] == "liquidation"
            books.cash -= r["amount"]
            books.trade_fees += r["amount"]
        elif kind == "fill":
            check_fill(books, r, records[index + 1 :], market, seen, bs)
        elif kind == "exit":
            assert books.qty == 0
            assert r["pnl"] == books.trade_pnl
            assert r["fees"] == books.trade_fees
            assert r["funding"] == books.trade_funding
            assert r["net"] == r["pnl"] - r["fees"] - r["funding"]
            books.trade_pnl = books.trade_fees = books.trade_funding = D(0)


def check_fill(
    books: Books,
    r: Record,
    after: Sequence[Record],
    market: Market,
    seen: tuple[str, Decimal, Decimal, Decimal, Decimal] | None,
    bs: Any,
) -> None:
    cfg = books.cfg
    side = Side(r["side"])
    qty, price, t = r["qty"], r["price"], r["ts"]
    rate = bs.taker_fee if r["liquidity"] == "taker" else bs.maker_fee
    assert r["fee"] == qty * price * rate
    # the position and its PnL, by our own arithmetic
    signed = qty * side.sign
    pnl = D(0)
    if books.qty == 0 or (books.qty > 0) == (signed > 0):
        size = abs(books.qty) + qty
        books.entry = (abs(books.qty) * books.entry + qty * price) / size
    else:
        assert qty <= abs(books.qty), "a fill flipped the position"
        pnl = qty * (price - books.entry) * (1 if books.qty > 0 else -1)
    books.qty += signed
    assert r["pnl"] == pnl
    assert r["position"] == books.qty
    books.cash += pnl - r["fee"]
    books.trade_pnl += pnl
    books.trade_fees += r["fee"]
    assert r["cash"] == books.cash
    # where it filled
    order = books.orders.get(r["order"])
    slip = bs.slippage
    if order is None:  # a protective exit: stop, trailing stop, target or liquidation
        reason = next(x["reason"] for x in after if x["type"] == "exit")
        event(f"fill: {reason}")
        if reason == "liquidation":
            return
        assert seen is not None, f"a {reason} exit with no price to trigger it"
        _, buy_lo, buy_hi, sell_lo, sell_hi = seen
        if reason == "target":
            assert r["liquidity"] == "maker"
            assert sell_hi > price if side is Side.SELL else buy_lo < price
        else:
            assert reason in ("stop", "trailing_stop")
            lo, hi = (sell_lo, sell_hi) if side is Side.SELL else (buy_lo, buy_hi)
            assert down(lo * (1 - slip)) <= price <= up(hi * (1 + slip))
        return
    event(f"fill: {order['kind']} {r['liquidity']}" + (" exit" if order["reduce_only"] else ""))
    if order["kind"] == "limit" and r["liquidity"] == "maker":
        assert price == order["price"]
        assert seen is not None
        _, buy_lo, _, _, sell_hi = seen
        assert buy_lo < price if side is Side.BUY else sell_hi > price, "filled on a touch"
    else:  # market, or a limit that crossed on arrival: a fresh price, never a stale one
        ranges = fresh_ranges(market, t, bs.max_quote_age_ms, slip)
        assert ranges, "a fill on a stale price"
        assert any(lo <= price <= hi for lo, hi in ranges), (price, ranges)
        if order["kind"] == "limit":
            assert price <= order["price"] if side is Side.BUY else price >= order["price"]
    if not order["reduce_only"]:
        books.entered[order["id"]] = books.entered.get(order["id"], D(0)) + qty * price
        notional = books.entered[order["id"]]
        assert notional <= books.budget[order["id"]] * cfg.risk.max_leverage
        assert notional <= cfg.risk.max_notional_usdt


# --- the run --------------------------------------------------------------------------------------


def to_intents(specs: Sequence[Any], level: Decimal) -> list[Intent]:
    out: list[Intent] = []
    for spec in specs:
        if spec == "exit":
            out.append(Exit("random"))
        elif spec == "cancel":
            out.append(CancelEntries("random"))
        else:
            sign = spec.side.sign
            price = None if spec.limit_off is None else level - spec.limit_off * TICK * sign
            stop = None if spec.stop_off is None else level - spec.stop_off * TICK * sign
            target = None if spec.target_off is None else level + spec.target_off * TICK * sign
            out.append(
                Enter(
                    spec.side,
                    "market" if price is None else "limit",
                    price,
                    stop=stop,
                    target=target,
                    trail_pct=spec.trail_pct,
                    risk_pct=spec.risk_pct,
                    client_id=spec.client_id,
                )
            )
    return out


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cfg=configs(), script=st.lists(steps, min_size=20, max_size=80))
def test_books_balance_fills_stay_in_range_and_limits_hold(
    cfg: Config, script: list[tuple[Any, ...]]
) -> None:
    """Random quotes, bars, trades, marks, drops and intents: every invariant, after every input."""
    strategy = Scripted()
    e = Engine(engine_settings(cfg), strategy, fresh_state(engine_settings(cfg)))
    e.start(T0, "prop", False, "bitunix", SYMBOL, "1min")
    e.out.clear()
    books, mkt = Books(cfg), Market()
    t, level = T0, 10_000  # ticks: 1000.0
    settled = T0 - 1
    bucket, volume = T0, D(0)
    e.on_market(t, mark(t, "1000", "0", settled))
    for step in script:
        kind, dt = step[0], step[1]
        t += dt
        seen: tuple[str, Decimal, Decimal, Decimal, Decimal] | None = None
        if kind in ("quote", "bar", "trade", "update"):
            previous, level = level, max(1000, level + step[2])
        price = D(level) * TICK
        if kind == "quote":
            spread = step[3]
            bid, ask = price, price + spread * TICK
            strategy.on_next_quote = to_intents(step[4], price)
            mkt.quote_t, mkt.bid, mkt.ask = t, bid, ask
            seen = ("quote", ask, ask, bid, bid)
            e.on_market(t, quote(str(bid), str(ask)))
        elif kind == "bar":
            o = D(previous) * TICK
            hi = max(o, price) + step[3] * TICK
            lo = max(TICK, min(o, price) - step[4] * TICK)
            b = Bar(SYMBOL, MIN, t - MIN, o, hi, lo, price, D(step[5]), D(0), step[6])
            strategy.on_next_bar = to_intents(step[7], price)
            if b.source == "csv":
                mkt.last_t, mkt.last = t, price
            seen = ("bar", lo, hi, lo, hi)
            e.on_bar(t, b, live=True)
        elif kind == "trade":
            mkt.last_t, mkt.last = t, price
            seen = ("trade", price, price, price, price)
            e.on_market(t, Trade(SYMBOL, t, t, price, D(1), Side.BUY))
        elif kind == "update":  # a kline push: volume for resting limits, and a last price
            if t // MIN * MIN != bucket:
                bucket, volume = t // MIN * MIN, D(0)
            volume += D(step[3])
            mkt.last_t, mkt.last = t, price
            seen = ("update", price, price, price, price)
            e.on_market(
                t, BarUpdate(SYMBOL, MIN, bucket, price, price, price, price, volume, D(0), t)
            )
        elif kind == "mark":
            if step[3]:
                settled = t - 1
            e.on_market(t, mark(t, str(price), step[2], settled))
        elif kind == "down":
            mkt.down_t = t
            e.feed_event(t, step[2])
        else:
            e.on_clock(t)
        check_records(books, e.out, mkt, seen)
        e.out.clear()
        account = e.state.broker.account
        assert account.cash == books.cash
        assert account.cash == START_CASH + account.realized - account.fees - account.funding
        assert e.broker.position.qty == books.qty
