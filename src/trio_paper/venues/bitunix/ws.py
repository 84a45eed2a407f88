"""Bitunix USDT-M futures, public WebSocket: frames in, typed events out; frames to send. No I/O.

Everything here follows ``shared/data/bitunix/PROTOCOL.md``: the envelope
``{"ch", "symbol", "ts", "data"}`` for pushes, ``{"op", ...}`` for control frames, prices and
sizes as strings, ``fr`` on the ``price`` channel in percent, kline pushes with no open time and
no closed flag (the bucket is ``ts // interval``; ``MarketDecoder`` closes bars).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from ...codec import (
    MalformedMessage,
    PriceLevels,
    dumps,
    loads_object,
    structure,
    unknown_keys,
)
from ...model import (
    BarUpdate,
    Connected,
    ControlMessage,
    MarketEvent,
    MarkPrice,
    Parsed,
    Pong,
    Quote,
    Side,
    SubscribeResult,
    Ticker,
    Trade,
)
from ...times import INTERVAL_MS, datetime_to_ms
from ..venue import Received, market_or_pong
from . import fastpath

PUBLIC_WS_URL = "wss://fapi.bitunix.com/public/"
MAX_CLIENT_MESSAGES_PER_S = 5
"""More client messages than this in a second and Bitunix drops the socket."""
IDLE_TIMEOUT_S = 60.0
"""Bitunix closes a socket that has sent nothing for about this long."""

INTERVALS = INTERVAL_MS
"""WebSocket kline intervals and their length. ``1month`` exists but has no fixed length."""

MARKET_CHANNELS = ("depth_book1", "trade", "price")
"""What a trading session subscribes besides the kline channel."""


def kline_channel(interval: str) -> str:
    """``1min`` → ``market_kline_1min`` (the short form ``market_kline_1m`` does not exist)."""
    if interval not in INTERVALS:
        raise ValueError(f"unknown interval {interval!r}; one of {', '.join(INTERVALS)}")
    return f"market_kline_{interval}"


class Client:
    """One connection's sans-IO state: what to subscribe, the JSON ping and its pong."""

    def __init__(self, symbol: str, channels: tuple[str, ...]) -> None:
        self.symbol = symbol
        self.channels = channels
        self.expected_pong: int | None = None

    def opening(self) -> list[str]:
        return [subscribe_frame(self.symbol, list(self.channels))]

    def receive(self, raw: str | bytes) -> Received:
        try:
            parsed = parse_frame(raw)
        except MalformedMessage as exc:
            return Received(None, exc, market=False, pong=False)
        market, pong = market_or_pong(parsed, self.symbol, self.expected_pong)
        return Received(parsed, None, market, pong)

    def ping(self, now_ms: int) -> str:
        """Bitunix's JSON keepalive; the pong echoes the seconds we send."""
        self.expected_pong = now_ms // 1000
        return ping_frame(self.expected_pong)


# --- frames we send --------------------------------------------------------------------------


def subscribe_frame(symbol: str, channels: list[str]) -> str:
    """``{"op":"subscribe","args":[{"symbol":..,"ch":..},..]}``; a valid one gets no ack."""
    return _op_frame("subscribe", symbol, channels)


def unsubscribe_frame(symbol: str, channels: list[str]) -> str:
    return _op_frame("unsubscribe", symbol, channels)


def ping_frame(unix_seconds: int) -> str:
    """The JSON keepalive; Bitunix closes sockets that send protocol pings instead."""
    return dumps({"op": "ping", "ping": unix_seconds}).decode()


def _op_frame(op: str, symbol: str, channels: list[str]) -> str:
    return dumps({"op": op, "args": [{"symbol": symbol, "ch": ch} for ch in channels]}).decode()


# --- frames we receive: schemas ----------------------------------------------------------------


_POSITIVE = attrs.validators.gt(Decimal(0))
"""For prices: a zero or negative price is a bad frame, not a price to fill orders at."""


@attrs.frozen
class _Kline:
    o: Decimal = attrs.field(validator=_POSITIVE)
    c: Decimal = attrs.field(validator=_POSITIVE)
    h: Decimal = attrs.field(validator=_POSITIVE)
    l: Decimal = attrs.field(validator=_POSITIVE)  # noqa: E741 - the exchange's name
    b: Decimal
    q: Decimal


@attrs.frozen
class _KlineFrame:
    ch: str
    symbol: str
    ts: int
    data: _Kline


@attrs.frozen
class _Depth:
    b: PriceLevels
    a: PriceLevels


@attrs.frozen
class _DepthFrame:
    ch: str
    symbol: str
    ts: int
    data: _Depth


@attrs.frozen
class _Trade:
    t: datetime
    p: Decimal = attrs.field(validator=_POSITIVE)
    v: Decimal
    s: Side


@attrs.frozen
class _TradeFrame:
    ch: str
    symbol: str
    ts: int
    data: list[_Trade]


@attrs.frozen
class _Price:
    ip: Decimal = attrs.field(validator=_POSITIVE)
    mp: Decimal = attrs.field(validator=_POSITIVE)
    fr: Decimal
    ft: datetime
    nft: datetime


@attrs.frozen
class _PriceFrame:
    ch: str
    symbol: str
    ts: int
    data: _Price


@attrs.frozen
class _Ticker:
    """Ticker data; Bitunix added ``s`` once already, so unknown keys are tolerated and counted."""

    la: Decimal = attrs.field(validator=_POSITIVE)
    o: Decimal = attrs.field(validator=_POSITIVE)
    h: Decimal = attrs.field(validator=_POSITIVE)
    l: Decimal = attrs.field(validator=_POSITIVE)  # noqa: E741
    b: Decimal
    q: Decimal
    r: Decimal
    s: str | None = None


@attrs.frozen
class _Tickers(_Ticker):
    bd: Decimal | None = None
    ak: Decimal | None = None
    bv: Decimal | None = None
    av: Decimal | None = None


@attrs.frozen
class _Envelope:
    ch: str
    symbol: str
    ts: int
    data: Any


@attrs.frozen
class _TickersEnvelope:
    ch: str
    ts: int
    data: list[Any]


@attrs.frozen
class _ConnectData:
    result: bool


@attrs.frozen
class _Connect:
    op: str
    data: _ConnectData


@attrs.frozen
class _Pong:
    op: str
    pong: int
    ping: int


@attrs.frozen
class _Refusal:
    msg: str
    result: bool
    nonce: str = ""


@attrs.frozen
class _OpResult:
    op: str
    data: _Refusal


@attrs.frozen
class _UnsubscribeAck:
    op: str
    data: str
    ts: int


_NOTHING = Parsed(())


# --- frames we receive: parsing --------------------------------------------------------------


def parse_frame(raw: str | bytes) -> Parsed:
    """One inbound text frame → what it means. Anything off-schema is a ``MalformedMessage``."""
    event = fastpath.push(raw)  # nearly every frame: a push read from its text, no JSON parse
    if event is not None:
        return Parsed((event,))
    frame = loads_object(raw)
    if "op" in frame:
        return _parse_control(frame)
    ch = frame.get("ch")
    if type(ch) is not str:
        raise MalformedMessage("neither a push (ch) nor a control frame (op)")
    # The common pushes try the fast path first; it declines (None) anything not plainly
    # well-formed, and the strict path then accepts it or says why it is refused.
    if ch.startswith("market_kline_"):
        interval_ms = INTERVALS.get(ch.rpartition("_")[2])
        update = fastpath.kline(frame, interval_ms) if interval_ms else None
        if update is None:
            update = _bar_update(structure(frame, _KlineFrame), _interval_ms(ch))
        return Parsed((update,))
    if ch.startswith("mark_kline_"):
        structure(frame, _KlineFrame)
        _interval_ms(ch)
        return _NOTHING
    if ch.startswith("depth_book"):
        quote = fastpath.quote(frame)
        if quote is None:
            quote = _quote(structure(frame, _DepthFrame))
        return Parsed((quote,))
    if ch == "trade":
        return Parsed(_trades(structure(frame, _TradeFrame)))
    if ch == "price":
        mark = fastpath.mark_price(frame)
        if mark is None:
            mark = _mark_price(structure(frame, _PriceFrame))
        return Parsed((mark,))
    if ch == "ticker":
        return _parse_ticker(frame)
    if ch == "tickers":
        return _parse_tickers(frame)
    raise MalformedMessage(f"unknown channel {ch!r}", "$.ch")


parse_sane = fastpath.push
"""A push read from its text and found sane, or None: see ``Venue.parse_sane``."""
split, parse_split = fastpath.split, fastpath.parse_split
"""``parse_sane`` in two halves: see ``Venue.split``."""


def _interval_ms(ch: str) -> int:
    interval = ch.rpartition("_")[2]
    if interval not in INTERVALS:
        raise MalformedMessage(f"unknown kline interval {interval!r}", "$.ch")
    return INTERVALS[interval]


def _bar_update(f: _KlineFrame, interval_ms: int) -> BarUpdate:
    d = f.data
    return BarUpdate(
        f.symbol,
        interval_ms,
        f.ts // interval_ms * interval_ms,
        d.o,
        d.h,
        d.l,
        d.c,
        d.b,
        d.q,
        f.ts,
    )


def _level(levels: list[tuple[Decimal, Decimal]], side: str) -> tuple[Decimal, Decimal]:
    if not levels:
        raise MalformedMessage("empty book side", f"$.data.{side}")
    return levels[0]


def _quote(f: _DepthFrame) -> Quote:
    bid, bid_qty = _level(f.data.b, "b")
    ask, ask_qty = _level(f.data.a, "a")
    if bid <= 0:
        raise MalformedMessage(f"must be > 0: {bid}", "$.data.b[0]")
    if bid >= ask:
        raise MalformedMessage(f"crossed book: bid {bid} >= ask {ask}", "$.data")
    return Quote(f.symbol, f.ts, bid, bid_qty, ask, ask_qty)


def _trades(f: _TradeFrame) -> tuple[Trade, ...]:
    return tuple(Trade(f.symbol, f.ts, datetime_to_ms(t.t), t.p, t.v, t.s) for t in f.data)


def _mark_price(f: _PriceFrame) -> MarkPrice:
    d = f.data
    return MarkPrice(
        f.symbol, f.ts, d.mp, d.ip, d.fr.scaleb(-2), datetime_to_ms(d.ft), datetime_to_ms(d.nft)
    )


def _tolerant(data: object, cls: type, where: str) -> tuple[Any, list[str]]:
    """Structure an object whose schema the exchange extends; extra keys are dropped, returned."""
    if type(data) is not dict:
        raise MalformedMessage(f"expected an object, got {type(data).__name__}", where)
    extra = unknown_keys(data, cls)
    known = {k: v for k, v in data.items() if k not in extra} if extra else data
    return structure(known, cls, where), [f"{where}.{key}" for key in extra]


def _ticker(symbol: str, ts: int, t: _Ticker) -> Ticker:
    return Ticker(symbol, ts, t.la, t.o, t.h, t.l, t.b, t.q, t.r)


def _parse_ticker(frame: dict[str, Any]) -> Parsed:
    env = structure(frame, _Envelope)
    data, extra = _tolerant(env.data, _Ticker, "$.data")
    return Parsed((_ticker(env.symbol, env.ts, data),), tuple(extra))


def _parse_tickers(frame: dict[str, Any]) -> Parsed:
    env = structure(frame, _TickersEnvelope)
    events: list[MarketEvent] = []
    unknown: list[str] = []
    for index, item in enumerate(env.data):
        where = f"$.data[{index}]"
        data, extra = _tolerant(item, _Tickers, where)
        unknown += extra
        if data.s is None:
            raise MalformedMessage("required key missing", where + ".s")
        events.append(_ticker(data.s, env.ts, data))
        if None not in (data.bd, data.ak, data.bv, data.av):
            if not 0 < data.bd < data.ak:  # as for depth frames: no fills on a broken book
                raise MalformedMessage(f"not a book: bid {data.bd}, ask {data.ak}", where)
            events.append(Quote(data.s, env.ts, data.bd, data.bv, data.ak, data.av))
    return Parsed(tuple(events), tuple(unknown))


def _parse_control(frame: dict[str, Any]) -> Parsed:
    op = frame["op"]
    message: ControlMessage
    if op == "connect":
        message = Connected(structure(frame, _Connect).data.result)
    elif op == "ping":
        pong = structure(frame, _Pong)
        message = Pong(pong.pong, pong.ping)
    elif op in ("subscribe", "unsubscribe") and type(frame.get("data")) is dict:
        result = structure(frame, _OpResult)
        message = SubscribeResult(op, result.data.result, result.data.msg)
    elif op == "unsubscribe":
        ack = structure(frame, _UnsubscribeAck)
        message = SubscribeResult(op, ack.data == "success", ack.data)
    else:
        raise MalformedMessage(f"unknown op {op!r}", "$.op")
    return Parsed((message,))
