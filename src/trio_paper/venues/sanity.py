"""Refusing absurd market data: schema-valid values no exchange can mean. No I/O.

A venue's parser checks that a frame has the right shape; this checks that what it says is
possible — a price of ``1e30`` or ``1e-20``, a high below the low, a negative size, a funding
rate of 500 %, a timestamp a century away from the time the frame arrived. Such a frame is a
bad frame like any other (counted, logged, skipped): it never reaches the decoder's clock or the
broker. Both venues' events pass through here, from ``Core`` (live, replay and recovery alike),
with the bounds from config (``instrument.max_price_usdt``, ``instrument.max_funding_rate_pct``,
``feed.max_clock_skew_s``) and the tick size as the floor.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from ..codec import MalformedMessage
from ..model import Bar, BarUpdate, MarkPrice, Parsed, Quote, Ticker, Trade

HUNDRED = Decimal(100)
ZERO = Decimal(0)
DAY_MS = 86_400_000
SETTLEMENT_HORIZON_MS = 2 * DAY_MS
"""How far a funding settlement time may lie from the frame's time: intervals run to 8 h."""


@attrs.frozen
class Bounds:
    """What a sane value is for one instrument: prices in ``[min_price, max_price]``, funding
    rates (fractions) within ``±max_funding_rate``, event times within ``max_skew_ms`` of the
    time the frame was received. A price at or above ``min_price`` is positive: the venues'
    fast paths rely on it."""

    min_price: Decimal = attrs.field(validator=attrs.validators.gt(ZERO))
    max_price: Decimal
    max_funding_rate: Decimal
    max_skew_ms: int = attrs.field(validator=attrs.validators.ge(0))

    def check(self, parsed: Parsed, received: int, symbol: str) -> None:
        """Raise ``MalformedMessage`` naming the first absurd value among ``symbol``'s events
        (other symbols' events are the decoder's to drop, not ours to judge)."""
        for index, event in enumerate(parsed.events):
            if not self.sane(event, received):
                self._explain(index, event, received, symbol)

    def sane(self, event: object, received: int) -> bool:
        """Whether ``event`` is plainly sane, in one expression: the events of nearly every
        frame (a replay asks 100,000 times a second, ``check`` and the venues' fast paths). False
        says nothing; ``check`` names what is wrong, if anything."""
        lo, hi, skew = self.min_price, self.max_price, self.max_skew_ms
        if type(event) is Quote:
            return (
                lo <= event.bid <= hi and lo <= event.ask <= hi and event.bid_qty >= ZERO
                and event.ask_qty >= ZERO and -skew <= event.ts - received <= skew
            )  # fmt: skip
        if type(event) is BarUpdate:
            low, high = event.low, event.high
            return (
                lo <= low <= high <= hi and low <= event.open <= high
                and low <= event.close <= high and event.volume >= ZERO
                and event.quote_volume >= ZERO and -skew <= event.ts - received <= skew
                and abs(event.open_time - event.ts) <= event.interval_ms + skew
            )  # fmt: skip
        if type(event) is MarkPrice:
            horizon = skew + SETTLEMENT_HORIZON_MS
            settled, due = event.funding_time, event.next_funding_time
            return (
                lo <= event.mark <= hi and lo <= event.index <= hi
                and abs(event.funding_rate) <= self.max_funding_rate
                and (event.next_funding_rate is None
                     or abs(event.next_funding_rate) <= self.max_funding_rate)
                and -skew <= event.ts - received <= skew
                and (not settled or abs(settled - received) <= horizon)
                and (not due or abs(due - received) <= horizon)
            )  # fmt: skip
        return False

    def _explain(self, index: int, event: object, received: int, symbol: str) -> None:
        """The slow path: raise naming the first absurd field of a ``symbol`` event."""
        if getattr(event, "symbol", None) != symbol:
            return
        where = f"$.events[{index}]"
        if isinstance(event, Quote):
            self._time(event.ts, received, where + ".ts")
            self._price(event.bid, where + ".bid")
            self._price(event.ask, where + ".ask")
            self._size(event.bid_qty, where + ".bid_qty")
            self._size(event.ask_qty, where + ".ask_qty")
        elif isinstance(event, BarUpdate):
            self._time(event.ts, received, where + ".ts")
            if abs(event.open_time - event.ts) > event.interval_ms + self.max_skew_ms:
                raise MalformedMessage(
                    f"open time {event.open_time} far from the push's time {event.ts}",
                    where + ".open_time",
                )
            self.check_bar(event, where)
        elif isinstance(event, Trade):
            self._time(event.ts, received, where + ".ts")
            self._time(event.time, received, where + ".time")
            self._price(event.price, where + ".price")
            self._size(event.qty, where + ".qty")
        elif isinstance(event, MarkPrice):
            self._time(event.ts, received, where + ".ts")
            self._price(event.mark, where + ".mark")
            self._price(event.index, where + ".index")
            for name in ("funding_rate", "next_funding_rate"):
                rate = getattr(event, name)
                if rate is not None and abs(rate) > self.max_funding_rate:
                    raise MalformedMessage(
                        f"funding rate {rate} beyond ±{self.max_funding_rate}", f"{where}.{name}"
                    )
            for name in ("funding_time", "next_funding_time"):
                value = getattr(event, name)
                horizon = self.max_skew_ms + SETTLEMENT_HORIZON_MS
                if value and abs(value - received) > horizon:  # 0: Binance's "none"
                    raise MalformedMessage(f"{name} {value} is absurd", f"{where}.{name}")
        elif isinstance(event, Ticker):
            self._time(event.ts, received, where + ".ts")
            for name in ("last", "open", "high", "low"):
                self._price(getattr(event, name), f"{where}.{name}")

    def check_bar(self, bar: Bar | BarUpdate, where: str) -> None:
        """OHLC within bounds and consistent, volumes not negative."""
        for name in ("open", "high", "low", "close"):
            self._price(getattr(bar, name), f"{where}.{name}")
        if bar.high < bar.low:
            raise MalformedMessage(f"high {bar.high} < low {bar.low}", where)
        for name in ("open", "close"):
            value = getattr(bar, name)
            if not bar.low <= value <= bar.high:
                raise MalformedMessage(
                    f"{name} {value} outside [low {bar.low}, high {bar.high}]", f"{where}.{name}"
                )
        self._size(bar.volume, where + ".volume")
        self._size(bar.quote_volume, where + ".quote_volume")

    def check_bars(self, bars: list[Bar], received: int) -> None:
        """A REST page: every bar sane, none opening in the future beyond the clock skew."""
        for index, bar in enumerate(bars):
            where = f"$.bars[{index}]"
            if bar.open_time - received > self.max_skew_ms:
                raise MalformedMessage(f"opens at {bar.open_time}, in the future", where)
            self.check_bar(bar, where)

    def _price(self, value: Decimal, where: str) -> None:
        if not self.min_price <= value <= self.max_price:
            raise MalformedMessage(
                f"price {value} outside [{self.min_price}, {self.max_price}]", where
            )

    @staticmethod
    def _size(value: Decimal, where: str) -> None:
        if value < ZERO:
            raise MalformedMessage(f"negative: {value}", where)

    def _time(self, value: int, received: int, where: str) -> None:
        if abs(value - received) > self.max_skew_ms:
            raise MalformedMessage(
                f"time {value} is {value - received} ms from the receive time {received}", where
            )
