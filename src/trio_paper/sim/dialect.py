"""What differs between the venues the simulator speaks, as data and pure functions. No I/O.

The simulator's clock, tape, faults and socket pump are the same for every venue; a ``Dialect``
says how that venue's pushes are routed and timed (to load a recording), which request paths it
serves, which streams a path names, how to move a push in time, and which REST path answers
klines. ``connection`` and ``rest`` are the thin pumps that use it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

import attrs

from ..model import Bar
from ..venues.binance_usdm import routes as binance_routes
from ..venues.binance_usdm import server as binance_server
from ..venues.binance_usdm import ws as binance
from ..venues.bitunix import rest as bitunix_rest
from ..venues.bitunix import server as bitunix_server
from ..venues.bitunix import ws as bitunix

Route = tuple[str, str]
"""``(channel or stream, SYMBOL)``: what a client subscribes to, and what a push is routed on."""


@attrs.frozen
class Push:
    """What the tape keeps about one recorded push: route, exchange time, and for a kline the
    bucket it updates with the data that makes its bar."""

    route: Route
    ts: int
    kline_ms: int = 0
    bucket: int = 0
    data: Any = None


class Dialect(Protocol):
    """One venue's server side, as far as the simulator needs it."""

    @property
    def name(self) -> str: ...

    @property
    def ws_path(self) -> str:
        """What follows ``ws://host:port`` in the URL a session is given."""

    @property
    def kline_path(self) -> str: ...

    def accepts(self, target: str) -> bool:
        """Whether a WebSocket handshake for ``target`` (path and query) is answered (else 404)."""
        ...

    def url_routes(self, target: str) -> list[Route]:
        """The streams ``target`` subscribes to by naming them in its URL."""
        ...

    def delivers(self, target: str, route: Route) -> bool:
        """Whether a socket opened on ``target`` is sent ``route``'s pushes at all."""
        ...

    def push_of(self, frame: dict[str, Any]) -> Push | None:
        """A recorded frame as a push, or None if it is not a data push."""
        ...

    def bar_of(self, symbol: str, interval_ms: int, bucket: int, data: Any) -> Bar | None:
        """A kline push's data as a bar, or None if it is not well-formed."""
        ...

    def shift(self, frame: dict[str, Any], shift_ms: int) -> None:
        """Move a push ``shift_ms`` in time, in place."""
        ...

    def is_kline(self, route: Route) -> bool: ...

    def absurd_copy(self, push: dict[str, Any], variant: int) -> dict[str, Any]:
        """A copy of ``push`` with a schema-valid value no exchange can mean (fault ``absurd``)."""
        ...

    def future_copy(self, push: dict[str, Any], variant: int) -> dict[str, Any]:
        """A copy of ``push`` stamped far in the future (fault ``future``)."""
        ...


def _decimals(values: list[Any]) -> list[Decimal] | None:
    if not all(isinstance(v, str) for v in values):
        return None
    try:
        return [Decimal(v) for v in values]
    except ArithmeticError:
        return None


@attrs.frozen
class BitunixDialect:
    """One path, ``/public/``; subscriptions are frames; pushes are ``{"ch","symbol","ts"}``."""

    name: str = "bitunix"
    ws_path: str = "/public/"
    kline_path: str = bitunix_rest.KLINE_PATH

    def accepts(self, target: str) -> bool:
        return target.split("?", maxsplit=1)[0] == self.ws_path

    def url_routes(self, target: str) -> list[Route]:
        return []

    def delivers(self, target: str, route: Route) -> bool:
        return True

    def push_of(self, frame: dict[str, Any]) -> Push | None:
        ch, ts, symbol = frame.get("ch"), frame.get("ts"), frame.get("symbol", "")
        if type(ch) is not str or type(ts) is not int or type(symbol) is not str:
            return None
        route = (ch, symbol.upper())
        if ch.startswith("market_kline_"):
            kline_ms = bitunix.INTERVALS.get(ch.removeprefix("market_kline_"), 0)
            if kline_ms:
                return Push(route, ts, kline_ms, ts // kline_ms * kline_ms, frame.get("data"))
        return Push(route, ts)

    def bar_of(self, symbol: str, interval_ms: int, bucket: int, data: Any) -> Bar | None:
        if type(data) is not dict:
            return None
        values = _decimals([data.get(key) for key in ("o", "h", "l", "c", "b", "q")])
        if values is None:
            return None
        o, h, low, c, b, q = values
        return Bar(symbol, interval_ms, bucket, o, h, low, c, b, q, "ws")

    def shift(self, frame: dict[str, Any], shift_ms: int) -> None:
        bitunix_server.shift_push(frame, shift_ms)

    def is_kline(self, route: Route) -> bool:
        return route[0].startswith("market_kline_")

    def absurd_copy(self, push: dict[str, Any], variant: int) -> dict[str, Any]:
        return bitunix_server.absurd_copy(push, variant)

    def future_copy(self, push: dict[str, Any], variant: int) -> dict[str, Any]:
        return bitunix_server.future_copy(push, variant)


def stream_route(stream: str) -> Route:
    """``btcusdt@bookTicker`` → ``("btcusdt@bookTicker", "BTCUSDT")``."""
    return stream, stream.partition("@")[0].upper()


_BINANCE_MS = {b: binance.INTERVALS[name] for name, b in binance.BINANCE_INTERVALS.items()}


@attrs.frozen
class BinanceDialect:
    """Streams named in the URL (``/market/stream?streams=..``, ``/public/stream?streams=..``),
    each path delivering only its own; the legacy ``/stream`` and ``/ws`` deliver nothing.
    Pushes are combined-stream envelopes ``{"stream","data"}``."""

    name: str = "binance_usdm"
    ws_path: str = ""
    kline_path: str = "/fapi/v1/klines"

    def accepts(self, target: str) -> bool:
        try:
            binance_routes.parse_target(target)
        except ValueError:
            return False
        return True

    def url_routes(self, target: str) -> list[Route]:
        streams = binance_routes.parse_target(target).streams
        return [stream_route(stream) for stream in streams]

    def delivers(self, target: str, route: Route) -> bool:
        return binance_routes.delivers(binance_routes.parse_target(target), route[0])

    def push_of(self, frame: dict[str, Any]) -> Push | None:
        stream, data = frame.get("stream"), frame.get("data")
        if type(stream) is not str or type(data) is not dict:
            return None
        ts, symbol = data.get("E"), data.get("s")
        if type(ts) is not int or type(symbol) is not str:
            return None
        route = (stream, symbol.upper())
        k = data.get("k")
        if data.get("e") == "kline" and type(k) is dict and type(k.get("t")) is int:
            kline_ms = _BINANCE_MS.get(k.get("i"), 0)  # type: ignore[arg-type]
            if kline_ms:
                return Push(route, ts, kline_ms, k["t"], k)
        return Push(route, ts)

    def bar_of(self, symbol: str, interval_ms: int, bucket: int, data: Any) -> Bar | None:
        if type(data) is not dict:
            return None
        values = _decimals([data.get(key) for key in ("o", "h", "l", "c", "v", "q")])
        if values is None:
            return None
        o, h, low, c, v, q = values
        return Bar(symbol, interval_ms, bucket, o, h, low, c, v, q, "ws")

    def shift(self, frame: dict[str, Any], shift_ms: int) -> None:
        binance_server.shift_frame(frame, shift_ms)

    def is_kline(self, route: Route) -> bool:
        return "@kline_" in route[0]

    def absurd_copy(self, push: dict[str, Any], variant: int) -> dict[str, Any]:
        return binance_server.absurd_copy(push, variant)

    def future_copy(self, push: dict[str, Any], variant: int) -> dict[str, Any]:
        return binance_server.future_copy(push, variant)


DIALECTS: dict[str, Dialect] = {d.name: d for d in (BitunixDialect(), BinanceDialect())}


def dialect_of(venue: str) -> Dialect:
    """The dialect of the venue a recording's header names; a ``ValueError`` if none."""
    if venue not in DIALECTS:
        raise ValueError(f"the simulator does not speak {venue!r}; one of {', '.join(DIALECTS)}")
    return DIALECTS[venue]
