"""The value types that flow from a venue decoder into the engine.

Every class here is small, frozen and venue-neutral: prices and sizes are ``Decimal``, times are
integer milliseconds since the epoch (UTC). A venue module turns its own frames into these; the
engine never sees a venue's field names.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs


class Side(enum.Enum):
    """The side of an order, a fill or a trade's taker."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for buy, -1 for sell: the direction a fill moves a position."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


# --- market data -----------------------------------------------------------------------------


@attrs.frozen
class BarUpdate:
    """The running OHLCV of a bar (a kline push).

    ``closed`` is true on the push a venue marks as the bar's last (Binance's ``k.x``); venues
    without such a flag leave it false and the bar closes on a later bucket or the timer.
    """

    symbol: str
    interval_ms: int
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    ts: int
    closed: bool = attrs.field(default=False, kw_only=True)


@attrs.frozen
class Bar:
    """A closed bar: its final OHLCV, emitted exactly once per bucket.

    ``source`` says where the final values came from: ``ws`` (the last push of the bucket),
    ``rest`` (a backfill) or ``csv`` (a candle file).
    """

    symbol: str
    interval_ms: int
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    source: str

    @property
    def close_time(self) -> int:
        return self.open_time + self.interval_ms


@attrs.frozen
class Quote:
    """Best bid and ask (top of the book)."""

    symbol: str
    ts: int
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal


QUOTE_SOCKET = "quotes"
"""The name (``Socket.carries``) of a socket that carries only quotes, where a venue gives the
book a socket of its own (Binance): while it is down or stale nothing fills, whatever prices the
other sockets bring; its quotes are what brings it back."""


@attrs.frozen
class Trade:
    """One public trade; ``side`` is the taker's."""

    symbol: str
    ts: int
    time: int
    price: Decimal
    qty: Decimal
    side: Side


@attrs.frozen
class MarkPrice:
    """Mark and index price with the funding settlement they imply.

    ``funding_rate`` is a fraction (0.0001 = 0.01 %), the rate settled at ``funding_time``;
    venues that quote percent convert at the boundary. ``next_funding_rate`` is the rate that
    will settle at ``next_funding_time``, where a venue announces that instead (Binance's ``r``):
    then the rate settled is the last one announced before the settlement, and
    ``funding_rate`` only the fallback when none was seen.
    """

    symbol: str
    ts: int
    mark: Decimal
    index: Decimal
    funding_rate: Decimal
    funding_time: int
    next_funding_time: int
    next_funding_rate: Decimal | None = None


@attrs.frozen
class Settlement:
    """A funding settlement from a file, for a bars-only replay (which has no mark events).

    ``rate`` is a fraction, ``mark`` the price it is charged at: the file's mark, or the close of
    the bar ending at ``time`` (its open when ``before_bar``: the settlement fell in a gap of the
    candles, before the bar it is charged with).
    """

    time: int
    rate: Decimal
    mark: Decimal
    before_bar: bool = False


@attrs.frozen
class Ticker:
    """24-hour rolling statistics; ``change`` is a percentage as the venue sends it."""

    symbol: str
    ts: int
    last: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    quote_volume: Decimal
    change: Decimal


@attrs.frozen
class BarGap:
    """Whole buckets ``[start, end)`` for which no bar was seen: the session backfills them."""

    symbol: str
    interval_ms: int
    start: int
    end: int

    @property
    def count(self) -> int:
        return (self.end - self.start) // self.interval_ms


MarketEvent = BarUpdate | Bar | Quote | Trade | MarkPrice | Ticker | BarGap


# --- venue control messages -----------------------------------------------------------------


@attrs.frozen
class Connected:
    """The venue's greeting on a new socket."""

    ok: bool


@attrs.frozen
class Pong:
    """The answer to our JSON ping; ``echo`` is the value we sent."""

    echo: int
    server: int


@attrs.frozen
class SubscribeResult:
    """An answer to (un)subscribe. Bitunix acknowledges only refusals and unsubscribes."""

    op: str
    ok: bool
    message: str


ControlMessage = Connected | Pong | SubscribeResult


@attrs.frozen
class Parsed:
    """What one inbound frame said: its events, and the unknown keys it carried (dotted paths)."""

    events: tuple[MarketEvent | ControlMessage, ...]
    unknown: tuple[str, ...] = ()
