"""The paper broker for a linear USDT perpetual: fills, fees, funding, margin, liquidation.

Rules (each has a test with numbers checked by hand):

- A market order fills at the best ask (buy) or bid (sell) of the last quote, moved against us
  by the slippage; with no fresh quote, at the last price so moved. With no fresh price at all
  it waits: nothing fills against a price older than ``max_quote_age_ms``, nor against one from
  before a disconnect. The wait is journaled as a stale span.
- A limit order rests and fills at its price only when the market trades *through* it (a touch
  is not enough), for at most ``participation`` of the volume traded since it arrived; the rest
  keeps working until filled, cancelled or expired.
- Stop and target ride on the position and are checked on every quote, price and bar. A bar that
  touches both fills the stop. A gap through the stop fills at the gapped price (the bar's open);
  the target, a resting limit, fills at its own price. A trailing stop follows the best price by
  ``trail_pct`` percent, and only ever in our favour.
- Entry orders expire ``order_ttl_ms`` after they arrive; an order that flattens never expires.
- Fees: taker on market fills and stops, maker on resting limits and targets. Funding at each
  settlement: a long pays ``qty × mark × rate``, a short receives it (and the reverse when the
  rate is negative). Isolated margin ``notional ÷ leverage``; at the liquidation price the
  position is closed and its maintenance margin forfeited.
- Liquidation is checked against the mark while it is fresh (``max_quote_age_ms``, and not from
  before a disconnect), else against the last fresh price; never against stale data.
- Bars-only (candle-file bars, ``source == "csv"``): no mark exists, so liquidation is checked
  against the bar's range — a long when the low reaches the liquidation price, a short when the
  high does. A bar opening beyond it liquidates at it; otherwise a stop strictly before it fills
  first (the price passes it on the way) and a stop at or beyond it never fills. Liquidation
  comes before the target, as the stop does. With ``fill_at_next_open`` market orders sent on a
  bar wait for the next bar and fill at its open (± slippage), not at the signal bar's close.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import attrs

from ..model import Bar, MarkPrice, Quote, Side
from .records import RecordType
from .state import ZERO, BrokerState, Order, Position
from .steps import on_step

Emit = Callable[..., None]
HUNDRED = Decimal(100)


@attrs.frozen
class BrokerSettings:
    tick_size: Decimal
    lot_step: Decimal
    leverage: int
    taker_fee: Decimal  # fractions, not percent: 0.0006
    maker_fee: Decimal
    slippage: Decimal
    max_quote_age_ms: int
    participation: Decimal
    order_ttl_ms: int
    maintenance_margin: Decimal
    fill_at_next_open: bool = False  # bars-only replays only; live fills are unaffected


@attrs.define
class _Price:
    """One market observation as ranges: what a seller could get, what a buyer could pay.

    A quote is the points bid and ask, a last price one point for both, a bar its low–high.
    """

    sell_lo: Decimal
    sell_hi: Decimal
    buy_lo: Decimal
    buy_hi: Decimal
    since: int  # only orders and positions from no later than this may fill on it
    open: Decimal | None = None  # bars only: where a gap fills
    wick: bool = False  # a candle-file bar: liquidation is checked on its range

    @classmethod
    def point(cls, bid: Decimal, ask: Decimal, t: int) -> _Price:
        return cls(bid, bid, ask, ask, t)


class Broker:
    """Owns ``BrokerState``; every change is journaled through ``emit(type, **fields)``."""

    def __init__(
        self,
        settings: BrokerSettings,
        state: BrokerState,
        emit: Emit,
        on_trade_closed: Callable[[Decimal], None] | None = None,
    ) -> None:
        self.settings = settings
        self.state = state
        self.emit = emit
        self.on_trade_closed = on_trade_closed
        """Told each closed trade's net PnL (the risk manager counts losses with it)."""
        self._liquidation: tuple[Decimal, bool, Decimal] | None = None
        """The last ``liquidation_price`` with the entry and side it is for: it is checked on
        every price while a position is open, and changes only with them."""
        self._hold_market = False
        """Set once a candle-file bar is seen with ``fill_at_next_open``: market orders then
        wait for the next bar's open."""

    # --- what the rest of the engine may ask ---------------------------------------------

    @property
    def position(self) -> Position:
        return self.state.position

    def last_price(self) -> Decimal | None:
        m = self.state.market
        if m.quote is not None and m.quote_t >= m.last_t:
            return (m.quote.bid + m.quote.ask) / 2
        return m.last

    def unrealized(self) -> Decimal:
        p = self.state.position
        if not p.qty:
            return ZERO
        price = self.last_price()
        if price is None:
            return ZERO
        return p.qty * (price - p.entry)

    def equity(self) -> Decimal:
        return self.state.account.cash + self.unrealized()

    def closed_trades(self) -> int:
        """Round trips closed by the account: an entry to the exit that flattens it. (The
        account numbers a trade when it opens, so an open position is not one yet.)"""
        return self.state.account.trades - (1 if self.state.position.qty else 0)

    def available(self) -> Decimal:
        """Equity not tied up as margin of the position or of working entry orders."""
        s = self.state
        pending = sum(
            (
                o.remaining * (o.price or self.last_price() or ZERO)
                for o in s.orders
                if not o.reduce_only
            ),
            ZERO,
        )
        return self.equity() - s.position.margin - pending / self.settings.leverage

    def reference(self, side: Side, t: int) -> Decimal | None:
        """The price a market order of ``side`` would fill at now, before slippage, if fresh."""
        m = self.state.market
        if m.quotes_down:
            return None
        oldest = t - self.settings.max_quote_age_ms
        valid_after = m.valid_after if m.valid_after is not None else -1
        if m.quote is not None and m.quote_t >= oldest and m.quote_t > valid_after:
            return m.quote.ask if side is Side.BUY else m.quote.bid
        if m.last is not None and m.last_t >= oldest and m.last_t > valid_after:
            return m.last
        return None

    def entry_price(self, side: Side, t: int, limit: Decimal | None = None) -> Decimal | None:
        """The price an order sent now would fill at: a market order (``limit`` None) at the
        fresh reference moved by the slippage; a limit at the reference if it crosses it (it
        takes liquidity, see ``_fill_marketable_limit``), else at its own price."""
        ref = self.reference(side, t)
        if limit is None:
            return None if ref is None else self._slipped(side, ref)
        if ref is not None and (ref <= limit if side is Side.BUY else ref >= limit):
            return ref
        return limit

    def closing_at_next_open(self) -> bool:
        """Whether a market order waiting for the next bar's open will flatten the position
        (``fill_at_next_open``): an entry sent now fills right after it."""
        return (
            self._hold_market
            and bool(self.state.position.qty)
            and any(o.reduce_only and o.kind == "market" for o in self.state.orders)
        )

    def new_order_id(self) -> str:
        """``o1``, ``o2``…, skipping any a strategy already used as its own client id."""
        while True:
            oid = f"o{self.state.next_order}"
            self.state.next_order += 1
            if oid not in self.state.used_ids:
                return oid

    def knows_id(self, order_id: str) -> bool:
        return order_id in self.state.used_ids or self._issued(order_id)

    def _issued(self, order_id: str) -> bool:
        """Whether ``order_id`` is one of ours, ``o1`` … below ``next_order``: those need no
        list (``used_ids`` holds only the ids strategies chose, so it stops growing with every
        fill, as it did in every checkpoint)."""
        digits = order_id[1:]
        return (
            order_id[:1] == "o"
            and digits.isascii()
            and digits.isdigit()
            and not digits.startswith("0")
            and int(digits) < self.state.next_order
        )

    def _note_id(self, order_id: str) -> None:
        if not self._issued(order_id):
            self.state.used_ids.append(order_id)

    # --- market observations -------------------------------------------------------------

    def on_quote(self, t: int, quote: Quote) -> None:
        m = self.state.market
        m.quote, m.quote_t = quote, t
        if not self.idle():
            self._observe(t, _Price.point(quote.bid, quote.ask, t))

    def on_last(self, t: int, price: Decimal) -> None:
        m = self.state.market
        m.last, m.last_t = price, t
        if not self.idle():
            self._observe(t, _Price.point(price, price, t))

    def on_volume(self, qty: Decimal) -> None:
        for order in self.state.orders:
            if order.kind == "limit":
                order.volume_seen += qty

    def on_bar(self, t: int, bar: Bar) -> None:
        """A closed bar from the live feed or a candle file (never a backfilled one)."""
        m = self.state.market
        csv = bar.source == "csv"
        if csv:
            # A candle's close is a price of its own; a live bar's close was already seen, with
            # its receive time, as a kline push. Stamping it with ``t`` would make a bar the timer
            # closes after the pushes stopped look fresh, and fill market orders on an old price.
            if self.state.orders:
                self.on_volume(bar.volume)
            if self.settings.fill_at_next_open:
                self._hold_market = True
                self._fill_at_open(t, bar)
            m.last, m.last_t = bar.close, t
        if not self.idle():
            self._observe(
                t, _Price(bar.low, bar.high, bar.low, bar.high, bar.open_time, bar.open, csv)
            )

    def on_mark(self, t: int, event: MarkPrice) -> None:
        m = self.state.market
        m.mark, m.mark_t = event.mark, t
        settled = event.funding_time
        if m.funding_time is not None and settled > m.funding_time:
            self._charge(self._settled_rate(event), event.mark, settled)
        m.funding_time = settled if m.funding_time is None else max(m.funding_time, settled)
        if event.next_funding_rate is not None:
            m.next_funding_time, m.next_funding_rate = (
                event.next_funding_time, event.next_funding_rate
            )  # fmt: skip
        self._check_liquidation(t, event.mark)

    def on_feed_down(self, t: int) -> None:
        """Prices received up to now are from before a disconnect or stall: never fill on them."""
        self.state.market.valid_after = t

    def on_clock(self, t: int) -> None:
        """Expire old orders and retry waiting market orders (a tick, or any input)."""
        self._expire(t)
        self._work_market_orders(t)

    # --- orders ----------------------------------------------------------------------------

    def submit(self, t: int, order: Order) -> None:
        """Accept a sized, checked order and try to fill it now.

        Entries expire after the TTL; an order that flattens the position never does.
        """
        order.expires = None if order.reduce_only else t + self.settings.order_ttl_ms
        self._note_id(order.id)
        self.state.orders.append(order)
        self.emit(RecordType.ORDER, **_order_fields(order))
        if order.kind == "market":
            self._work_market_orders(t)
        else:
            self._fill_marketable_limit(t, order)

    def cancel_all(self, reason: str, entries_only: bool = False) -> None:
        for order in list(self.state.orders):
            if not (entries_only and order.reduce_only):
                self._cancel(order, reason)

    def close_position(self, t: int, reason: str) -> None:
        """Send a market order for the whole position (at most one is working at a time)."""
        p = self.state.position
        if not p.qty or any(o.reduce_only and o.kind == "market" for o in self.state.orders):
            return
        side = Side.SELL if p.qty > 0 else Side.BUY
        self.submit(
            t, Order(self.new_order_id(), side, "market", abs(p.qty), t, reason, reduce_only=True)
        )

    # --- the rules ---------------------------------------------------------------------------

    def idle(self) -> bool:
        """Whether no price can change anything: no position to protect, no order to work or
        expire, no stale span to end. ``_observe`` would then do nothing, so it is not called
        (nor its ``_Price`` built): that is most prices, most of the time."""
        s = self.state
        return not s.orders and not s.position.qty and s.market.stale_since is None

    def _observe(self, t: int, price: _Price) -> None:
        s = self.state
        if s.orders:
            self._expire(t)  # an expired order must not fill, tick or no tick (bars only)
        if s.position.qty and not (price.wick and self._liquidated_on_range(t, price)):
            self._protect(t, price)
        self._check_liquidation(t, None)
        if not s.orders and s.market.stale_since is None:
            return  # most prices, a position open: no order to work, no stale span to end
        for order in list(s.orders):
            if order.kind == "limit" and order.created <= price.since:
                self._work_limit(t, order, price)
        self._work_market_orders(t)

    def _expire(self, t: int) -> None:
        for order in list(self.state.orders):
            if order.expires is not None and t >= order.expires:
                self._cancel(order, "expired")

    def _fill_at_open(self, t: int, bar: Bar) -> None:
        """Fill the market orders sent on earlier bars at this bar's open (± slippage), as of
        its open time: the whole bar is then after the fill, so its range can stop the trade."""
        m = self.state.market
        m.last, m.last_t = bar.open, t
        self._hold_market = False
        self._work_market_orders(t, bar.open_time)
        self._hold_market = True

    def _work_market_orders(self, t: int, fill_t: int | None = None) -> None:
        if self._hold_market:
            return
        m = self.state.market
        if m.stale_since is not None and self.reference(Side.BUY, t) is not None:
            # The span ends when prices are fresh again, even if the order that waited is gone.
            self.emit(RecordType.FEED, event="quote_fresh", stale_ms=t - m.stale_since)
            m.stale_since = None
        for order in [o for o in self.state.orders if o.kind == "market"]:
            if order.reduce_only and not self.state.position.qty:
                self._cancel(order, "position already flat")
                continue
            ref = self.reference(order.side, t)
            if ref is None:
                if m.stale_since is None:
                    m.stale_since = t
                    self.emit(
                        RecordType.FEED,
                        event="quote_stale",
                        order=order.id,
                        quote_age_ms=(t - m.quote_t) if m.quote is not None else None,
                    )
                continue
            qty = order.remaining
            if order.reduce_only:
                qty = min(qty, abs(self.state.position.qty))
            at = t if fill_t is None else fill_t
            self._fill(at, order, qty, self._slipped(order.side, ref), "taker")

    def _fill_marketable_limit(self, t: int, order: Order) -> None:
        assert order.price is not None
        ref = self.reference(order.side, t)
        if ref is None:
            return
        crosses = ref <= order.price if order.side is Side.BUY else ref >= order.price
        if crosses:
            self._fill(t, order, order.remaining, ref, "taker")

    def _work_limit(self, t: int, order: Order, price: _Price) -> None:
        limit = order.price
        assert limit is not None
        through = price.buy_lo < limit if order.side is Side.BUY else price.sell_hi > limit
        if not through:
            return
        allowed = self._floor_lot(order.volume_seen * self.settings.participation) - order.filled
        qty = min(order.remaining, allowed)
        if qty > 0:
            self._fill(t, order, qty, limit, "maker")

    def _protect(self, t: int, price: _Price) -> None:
        p = self.state.position
        if p.opened > price.since:
            return
        long = p.qty > 0
        worst, best = (price.sell_lo, price.sell_hi) if long else (price.buy_hi, price.buy_lo)
        exit_side = Side.SELL if long else Side.BUY
        if p.stop is not None and (worst <= p.stop if long else worst >= p.stop):
            gapped = price.open is not None and (
                price.open <= p.stop if long else price.open >= p.stop
            )
            if price.open is None:
                at = worst  # a quote or a last price: the stop fills where the market is
            elif gapped:
                at = price.open
            else:
                at = p.stop
            reason = "trailing_stop" if p.trail_pct is not None else "stop"
            self._exit(t, exit_side, self._slipped(exit_side, at), "taker", reason)
            return
        if p.target is not None and (best > p.target if long else best < p.target):
            # A resting take-profit fills at its price, even when a bar opens beyond it.
            self._exit(t, exit_side, p.target, "maker", "target")
            return
        if p.trail_pct is not None:
            p.best = best if p.best is None else (max(p.best, best) if long else min(p.best, best))
            offset = p.best * p.trail_pct / HUNDRED
            trail = self._round_tick(p.best - offset if long else p.best + offset, down=long)
            if p.stop is None or (trail > p.stop if long else trail < p.stop):
                p.stop = trail

    def _exit(self, t: int, side: Side, price: Decimal, liquidity: str, reason: str) -> None:
        p = self.state.position
        order = Order(
            self.new_order_id(),
            side,
            "market" if liquidity == "taker" else "limit",
            abs(p.qty),
            t,
            reason,
            price=price,
            reduce_only=True,
        )
        self._note_id(order.id)
        self._fill(t, order, order.qty, price, liquidity, reason)

    def liquidation_price(self) -> Decimal | None:
        p = self.state.position
        if not p.qty:
            return None
        long = p.qty > 0
        cached = self._liquidation
        if cached is not None and cached[0] == p.entry and cached[1] == long:
            return cached[2]
        lev = Decimal(1) / self.settings.leverage
        mm = self.settings.maintenance_margin
        if long:
            price = self._round_tick(p.entry * (1 - lev + mm), down=False)
        else:
            price = self._round_tick(p.entry * (1 + lev - mm), down=True)
        self._liquidation = (p.entry, long, price)
        return price

    def _check_liquidation(self, t: int, mark: Decimal | None) -> None:
        p = self.state.position
        if not p.qty:
            return
        price = mark if mark is not None else self._liquidation_reference(t)
        liq = self.liquidation_price()
        if price is None or liq is None:
            return
        if (p.qty > 0 and price <= liq) or (p.qty < 0 and price >= liq):
            self._liquidate(t, liq)

    def _liquidation_reference(self, t: int) -> Decimal | None:
        """The mark while it is fresh, else the last fresh price; None when both are stale."""
        m = self.state.market
        oldest = t - self.settings.max_quote_age_ms
        valid_after = m.valid_after if m.valid_after is not None else -1
        if m.mark is not None and m.mark_t >= oldest and m.mark_t > valid_after:
            return m.mark
        seen = m.quote_t if m.quote is not None and m.quote_t >= m.last_t else m.last_t
        return self.last_price() if oldest <= seen and seen > valid_after else None

    def _liquidated_on_range(self, t: int, price: _Price) -> bool:
        """Bars-only: liquidate if the bar's range reached the liquidation price before any stop
        could save the position (see the module's rules). True if it did."""
        p = self.state.position
        liq = self.liquidation_price()
        if liq is None or p.opened > price.since or price.open is None:
            return False
        long = p.qty > 0
        if not (price.sell_lo <= liq if long else price.buy_hi >= liq):
            return False
        gapped = price.open <= liq if long else price.open >= liq
        stop_first = p.stop is not None and (p.stop > liq if long else p.stop < liq)
        if stop_first and not gapped:
            return False  # the price passes the stop on its way to the liquidation price
        self._liquidate(t, liq)
        return True

    def _liquidate(self, t: int, liq: Decimal) -> None:
        p = self.state.position
        side = Side.SELL if p.qty > 0 else Side.BUY
        # Charged before the exit, so the trade's exit record (fees, net) and the day's
        # realized loss include it.
        penalty = abs(p.qty) * liq * self.settings.maintenance_margin
        account = self.state.account
        account.cash -= penalty
        account.fees += penalty
        p.fees += penalty
        self.emit(RecordType.FEE, reason="liquidation", amount=penalty)
        self._exit(t, side, liq, "taker", "liquidation")

    def settle_funding(self, rate: Decimal, mark: Decimal, settled: int) -> None:
        """One funding settlement without a mark-price event (a candle replay's funding file):
        charged on the position held at ``settled``, at ``mark``."""
        self._charge(rate, mark, settled)

    def _settled_rate(self, event: MarkPrice) -> Decimal:
        """The rate settled at ``event.funding_time``: the event's own where the venue sends the
        settled rate (Bitunix); where it announces the next one instead (Binance), the last rate
        announced for this settlement, or the event's if none was (the feed was down across it)."""
        m = self.state.market
        if (
            event.next_funding_rate is not None
            and m.next_funding_rate is not None
            and m.next_funding_time == event.funding_time
        ):
            return m.next_funding_rate
        return event.funding_rate

    def _charge(self, rate: Decimal, mark: Decimal, settled: int) -> None:
        p = self.state.position
        if not p.qty or p.opened > settled:
            return
        amount = p.qty * mark * rate  # > 0: we pay
        account = self.state.account
        account.cash -= amount
        account.funding += amount
        p.funding += amount
        self.emit(
            RecordType.FUNDING, rate=rate, mark=mark, qty=p.qty, amount=-amount, settled=settled
        )

    def _fill(
        self, t: int, order: Order, qty: Decimal, price: Decimal, liquidity: str, reason: str = ""
    ) -> None:
        s = self.settings
        account, p = self.state.account, self.state.position
        fee = qty * price * (s.taker_fee if liquidity == "taker" else s.maker_fee)
        signed = qty * order.side.sign
        pnl = ZERO
        if not p.qty:
            account.trades += 1
            self.state.position = p = Position(
                qty=signed,
                entry=price,
                opened=t,
                trade=account.trades,
                margin=qty * price / s.leverage,
                stop=order.stop,
                target=order.target,
                trail_pct=order.trail_pct,
                best=price,
            )
        elif (p.qty > 0) == (signed > 0):
            size = abs(p.qty) + qty
            p.entry = (abs(p.qty) * p.entry + qty * price) / size
            p.qty += signed
            p.margin += qty * price / s.leverage
        else:
            if qty > abs(p.qty):
                raise AssertionError(f"order {order.id} would flip the position")
            pnl = qty * (price - p.entry) * (1 if p.qty > 0 else -1)
            p.margin -= p.margin * qty / abs(p.qty)
            p.qty += signed
            p.realized += pnl
        account.cash += pnl - fee
        account.realized += pnl
        account.fees += fee
        p.fees += fee
        order.filled += qty
        if order.filled >= order.qty or order.reduce_only:
            self.state.orders = [o for o in self.state.orders if o is not order]
        self.emit(
            RecordType.FILL,
            order=order.id,
            side=order.side.value,
            qty=qty,
            price=price,
            fee=fee,
            liquidity=liquidity,
            remaining=order.qty - order.filled,
            position=p.qty,
            pnl=pnl,
            cash=account.cash,
        )
        if not p.qty:
            self._close_trade(t, price, reason or order.tag)

    def _close_trade(self, t: int, price: Decimal, reason: str) -> None:
        p = self.state.position
        net = p.realized - p.fees - p.funding
        self.emit(
            RecordType.EXIT,
            trade=p.trade,
            reason=reason,
            price=price,
            entry=p.entry,
            pnl=p.realized,
            fees=p.fees,
            funding=p.funding,
            net=net,
            opened=p.opened,
            held_ms=t - p.opened,
        )
        if self.on_trade_closed is not None:
            self.on_trade_closed(net)
        self.state.position = Position(trade=p.trade)
        for order in list(self.state.orders):
            if not order.reduce_only and order.filled > 0:  # the rest of this trade's entry
                self._cancel(order, "its trade closed")

    def _cancel(self, order: Order, reason: str) -> None:
        self.state.orders = [o for o in self.state.orders if o is not order]
        self.emit(RecordType.CANCEL, order=order.id, reason=reason, filled=order.filled)

    # --- rounding ----------------------------------------------------------------------------

    def _slipped(self, side: Side, price: Decimal) -> Decimal:
        moved = price * (1 + self.settings.slippage * side.sign)
        return self._round_tick(moved, down=side is Side.SELL)

    def _round_tick(self, price: Decimal, down: bool) -> Decimal:
        return on_step(price, self.settings.tick_size, ROUND_FLOOR if down else ROUND_CEILING)

    def _floor_lot(self, qty: Decimal) -> Decimal:
        return on_step(qty, self.settings.lot_step, ROUND_FLOOR)


def _order_fields(order: Order) -> dict[str, Any]:
    return {
        "id": order.id, "side": order.side.value, "kind": order.kind, "qty": order.qty,
        "price": order.price, "stop": order.stop, "target": order.target,
        "trail_pct": order.trail_pct, "reduce_only": order.reduce_only, "tag": order.tag,
    }  # fmt: skip
