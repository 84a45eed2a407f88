"""Binance USD-M futures, public WebSocket: frames in, typed events out; frames to send. No I/O.

Follows ``shared/data/binance_usdm/PROTOCOL.md``. Streams are named in the URL, so nothing is
sent after the handshake; pushes come in combined-stream envelopes ``{"stream", "data"}`` (bare
payloads, as in Binance's docs, are read too), each read through its class in ``schema``.

What each payload becomes (``ts`` is always the event time ``E``):

- ``kline`` → ``BarUpdate`` opening at ``k.t``, ``closed`` when ``k.x`` is true.
- ``markPriceUpdate`` → ``MarkPrice``; see ``FUNDING_INTERVAL_MS`` for the funding mapping.
- ``bookTicker`` → ``Quote``; a zero bid or a crossed book is a bad frame.
- ``aggTrade`` → ``Trade`` (``m``, buyer is maker, means the taker sold); ``trade`` likewise,
  but only for ``X`` = ``MARKET`` (insurance-fund and ADL fills are not market trades).
- ``24hrTicker`` → ``Ticker`` (``change`` is ``P``, in percent).
- ``depthUpdate``, ``forceOrder`` and ``TRADE_LITE`` are decoded strictly and yield nothing.

Unknown keys inside a payload are tolerated and reported in ``Parsed.unknown`` (Binance adds
fields, such as ``st`` and ``ps`` in its docs' examples); a wrong type, a missing key, an
unknown stream or event, or a stream that disagrees with its payload is a ``MalformedMessage``.
"""

from __future__ import annotations

from typing import Any

import attrs

from ...codec import MalformedMessage, dumps, loads_object, structure, unknown_keys
from ...model import (
    BarUpdate,
    ControlMessage,
    MarketEvent,
    MarkPrice,
    Parsed,
    Quote,
    Side,
    SubscribeResult,
    Ticker,
    Trade,
)
from ...times import INTERVAL_MS
from ..venue import Received, market_or_pong
from .schema import (
    EVENTS,
    NESTED,
    STREAM,
    STREAM_EVENTS,
    AggTradeEvent,
    Answer,
    BookTickerEvent,
    Envelope,
    ErrorAnswer,
    KlineEvent,
    MarkPriceEvent,
    TickerEvent,
    TradeEvent,
)

NAME = "binance_usdm"
WS_URL = "wss://fstream.binance.com"
MAX_CLIENT_MESSAGES_PER_S = 10
"""More client messages (subscribes, pongs) than this in a second and Binance drops the socket."""

FUNDING_INTERVAL_MS = 8 * 3_600_000
"""How the engine charges funding from a ``MarkPrice``: once, when ``funding_time`` (the latest
settlement) moves forward, at that push's mark, on positions opened by then.

Bitunix sends the latest settlement time and its rate. Binance's ``markPriceUpdate`` sends ``T``,
the *next* settlement, and ``r``, the rate that will settle there. So ``next_funding_time = T``
and ``funding_time = T - 8 h`` (BTCUSDT settles every 8 h), and ``r`` is ``next_funding_rate``:
the first push after a settlement has a new ``T``, and the engine charges then, stamped with the
settlement time, at the last ``r`` announced for it — the rate Binance settles at. Only when no
push for that settlement was seen (the feed was down across it) does it take the new push's
``r``, the estimate for the following period (``funding_rate``'s fallback; REST
``/fapi/v1/fundingRate`` states the settled rate). ``T = 0`` (a delivery contract, no funding)
maps to ``0`` for both times."""

INTERVALS = INTERVAL_MS
"""Bar intervals by the config's name → length in ms (Binance's ``1M`` has no fixed length)."""

BINANCE_INTERVALS: dict[str, str] = {
    "1min": "1m", "3min": "3m", "5min": "5m", "15min": "15m", "30min": "30m", "60min": "1h",
    "2h": "2h", "4h": "4h", "6h": "6h", "8h": "8h", "12h": "12h", "1day": "1d", "3day": "3d",
    "1week": "1w",
}  # fmt: skip
"""The config's interval name → Binance's, for stream names and REST."""

_INTERVAL_MS = {binance: INTERVALS[name] for name, binance in BINANCE_INTERVALS.items()}


def binance_interval(interval: str) -> str:
    """``1min`` → ``1m``; a ``ValueError`` naming the choices for anything else."""
    if interval not in BINANCE_INTERVALS:
        raise ValueError(f"unknown interval {interval!r}; one of {', '.join(INTERVALS)}")
    return BINANCE_INTERVALS[interval]


# --- stream names and frames we send ---------------------------------------------------------


def kline_stream(symbol: str, interval: str) -> str:
    """``btcusdt@kline_1m``: stream names are lower-case."""
    return f"{symbol.lower()}@kline_{binance_interval(interval)}"


def mark_price_stream(symbol: str) -> str:
    """``btcusdt@markPrice@1s`` (every second; plain ``@markPrice`` is every 3 s)."""
    return f"{symbol.lower()}@markPrice@1s"


def book_ticker_stream(symbol: str) -> str:
    return f"{symbol.lower()}@bookTicker"


def stream_url(base: str, route: str, streams: list[str]) -> str:
    """``<base>/<route>/stream?streams=a/b``; ``route`` is ``market`` or ``public`` (2026 split)."""
    return f"{base.rstrip('/')}/{route}/stream?streams={'/'.join(streams)}"


def subscribe_frame(streams: list[str], request_id: int) -> str:
    """``{"method":"SUBSCRIBE","params":[..],"id":N}``, answered by ``{"result":null,"id":N}``.

    A session does not need it (its streams are in the URL); the simulator's legacy socket and
    tests do."""
    return dumps({"method": "SUBSCRIBE", "params": streams, "id": request_id}).decode()


# --- frames we receive: parsing --------------------------------------------------------------


def parse_frame(raw: str | bytes) -> Parsed:
    """One inbound text frame → what it means. Anything off-schema is a ``MalformedMessage``."""
    frame = loads_object(raw)
    if "stream" in frame or "data" in frame:
        envelope = structure(frame, Envelope)
        event, symbol, interval = _stream(envelope.stream)
        return _payload(envelope.data, "$.data", event, symbol, interval)
    if "id" in frame:
        return Parsed((_answer(frame),))
    if "e" in frame:
        return _payload(frame, "$", None, None, None)
    raise MalformedMessage("neither a stream push (stream, data), an event (e) nor an answer (id)")


def _stream(name: str) -> tuple[str, str, str | None]:
    """A stream name → (the event it carries, lower-case symbol, kline interval if any)."""
    match = STREAM.fullmatch(name)
    if match is None:
        raise MalformedMessage(f"unknown stream {name!r}", "$.stream")
    event = next(e for group, e in STREAM_EVENTS.items() if match[group] is not None)
    interval = match["interval"]
    if interval is not None and interval not in _INTERVAL_MS:
        raise MalformedMessage(f"unknown kline interval {interval!r}", "$.stream")
    return event, match["symbol"], interval


def _answer(frame: dict[str, Any]) -> ControlMessage:
    if "error" in frame:
        error = structure(frame, ErrorAnswer)
        return SubscribeResult("subscribe", False, f"{error.error.code}: {error.error.msg}")
    answer = structure(frame, Answer)
    return SubscribeResult("subscribe", True, f"id {answer.id}")


def _tolerant(data: dict[str, Any], cls: type, where: str) -> tuple[Any, list[str]]:
    """Structure ``data`` as ``cls`` with keys it does not name dropped; those are returned."""
    extra = [f"{where}.{key}" for key in unknown_keys(data, cls)]
    known = {k: v for k, v in data.items() if k in attrs.fields_dict(cls)}
    for key, inner in NESTED.get(cls, {}).items():
        if type(known.get(key)) is dict:
            extra += [f"{where}.{key}.{k}" for k in unknown_keys(known[key], inner)]
            known[key] = {k: v for k, v in known[key].items() if k in attrs.fields_dict(inner)}
    return structure(known, cls, where), extra


def _payload(
    data: dict[str, Any], where: str, event: str | None, symbol: str | None, interval: str | None
) -> Parsed:
    e = data.get("e")
    if type(e) is not str or e not in EVENTS:
        raise MalformedMessage(f"unknown event {e!r}", f"{where}.e")
    if event is not None and e != event:
        raise MalformedMessage(f"event {e!r} on a stream of {event!r}", f"{where}.e")
    parsed, unknown = _tolerant(data, EVENTS[e], where)
    payload_symbol = parsed.o.s if e == "forceOrder" else parsed.s
    if symbol is not None and payload_symbol.lower() != symbol:
        raise MalformedMessage(f"symbol {payload_symbol!r} on a stream of {symbol!r}", where)
    events = _events(parsed, where, interval)
    return Parsed(events, tuple(unknown))


def _events(p: Any, where: str, stream_interval: str | None) -> tuple[MarketEvent, ...]:
    if isinstance(p, KlineEvent):
        return (_bar_update(p, where, stream_interval),)
    if isinstance(p, MarkPriceEvent):
        return (_mark_price(p),)
    if isinstance(p, BookTickerEvent):
        return (_quote(p, where),)
    if isinstance(p, AggTradeEvent):
        return (Trade(p.s, p.E, p.T, p.p, p.q, Side.SELL if p.m else Side.BUY),)
    if isinstance(p, TradeEvent):
        if p.X != "MARKET":
            return ()
        return (Trade(p.s, p.E, p.T, p.p, p.q, Side.SELL if p.m else Side.BUY),)
    if isinstance(p, TickerEvent):
        return (Ticker(p.s, p.E, p.c, p.o, p.h, p.l, p.v, p.q, p.P),)
    return ()  # depthUpdate, forceOrder, TRADE_LITE: checked, not traded on


def _bar_update(p: KlineEvent, where: str, stream_interval: str | None) -> BarUpdate:
    k = p.k
    if k.s != p.s:
        raise MalformedMessage(f"kline of {k.s!r} in an event of {p.s!r}", f"{where}.k.s")
    if k.i not in _INTERVAL_MS:
        raise MalformedMessage(f"unknown kline interval {k.i!r}", f"{where}.k.i")
    if stream_interval is not None and k.i != stream_interval:
        raise MalformedMessage(f"interval {k.i!r} on a stream of {stream_interval!r}", where)
    interval_ms = _INTERVAL_MS[k.i]
    if k.T - k.t != interval_ms - 1:
        raise MalformedMessage(f"close time {k.T} is not open time {k.t} + {k.i} - 1", where)
    return BarUpdate(p.s, interval_ms, k.t, k.o, k.h, k.l, k.c, k.v, k.q, p.E, closed=k.x)


def _mark_price(p: MarkPriceEvent) -> MarkPrice:
    settled = p.T - FUNDING_INTERVAL_MS if p.T else 0
    index = p.p if p.i is None else p.i  # frames before 2020 carry no index price
    return MarkPrice(p.s, p.E, p.p, index, p.r, settled, p.T, p.r)


def _quote(p: BookTickerEvent, where: str) -> Quote:
    if p.b <= 0 or p.a <= 0:
        raise MalformedMessage(f"empty book: bid {p.b}, ask {p.a}", where)
    if p.b >= p.a:
        raise MalformedMessage(f"crossed book: bid {p.b} >= ask {p.a}", where)
    return Quote(p.s, p.E, p.b, p.B, p.a, p.A)


# --- the connection ----------------------------------------------------------------------------


@attrs.define
class Client:
    """The sans-IO side of one Binance connection (``venue.Client``).

    Streams are in the URL, so ``opening()`` sends nothing; Binance pings at the protocol level
    and trio-websocket answers by itself, so ``ping()`` sends nothing and no pong is awaited."""

    symbol: str

    def opening(self) -> list[str]:
        return []

    def receive(self, raw: str | bytes) -> Received:
        try:
            parsed = parse_frame(raw)
        except MalformedMessage as exc:
            return Received(None, exc, market=False, pong=False)
        market, _ = market_or_pong(parsed, self.symbol, None)
        return Received(parsed, None, market=market, pong=False)

    def ping(self, now_ms: int) -> str | None:
        return None
