"""What a venue is: the one interface every exchange module implements. No I/O.

A venue turns its own frames into the venue-neutral events of ``model`` and builds the frames
and requests a session sends. The Trio shell (``runtime.feed``, ``runtime.backfill``) only pumps
bytes and timers through it; the simulator (``sim``) speaks the venue's server side.

A session holds one or more sockets (``Venue.sockets``): Bitunix carries everything on one,
Binance USD-M splits klines and mark prices from the book. Each connection gets a fresh sans-IO
``Client`` that owns that connection's state the way h11 does: ``opening()`` says what to send
once connected, ``receive(text)`` parses a frame once and says whether it was market data (the
watchdog's business) or the answer to our ping, ``ping(now)`` builds the keepalive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import attrs

from ..codec import MalformedMessage
from ..errors import TrioPaperError
from ..model import Bar, MarketEvent, Parsed, Pong
from .sanity import Bounds


@attrs.frozen
class Socket:
    """One WebSocket a session keeps open: where, and what it carries (for logs and health)."""

    url: str
    carries: str
    channels: tuple[str, ...]


@attrs.frozen
class Received:
    """One frame as the feed needs it: parsed once, or why it could not be.

    ``parsed`` travels on to the core with the raw text, so a live frame is parsed exactly
    once; a replay parses the recorded text with ``Venue.parse_frame`` and gets the same.
    """

    parsed: Parsed | None
    error: MalformedMessage | None
    market: bool
    pong: bool


@attrs.frozen
class KlineRequest:
    """One REST page of closed bars: ``GET base + path ? query``."""

    path: str
    query: dict[str, str]


class Client(Protocol):
    """The sans-IO side of one connection; a new one per connection."""

    def opening(self) -> list[str]:
        """Frames to send right after the handshake (subscriptions)."""
        ...

    def receive(self, raw: str | bytes) -> Received:
        """Parse one inbound frame and update the connection's state."""
        ...

    def ping(self, now_ms: int) -> str | None:
        """The keepalive to send now, or None where the server pings and the WebSocket layer
        answers (then the feed waits for no pong)."""
        ...


class Venue(Protocol):
    """An exchange's public market data, as a session, a replay and the simulator use it."""

    @property
    def name(self) -> str:
        """The registry name, ``venue.name`` in config."""

    @property
    def ws_url(self) -> str:
        """Default WebSocket URL (``venue.ws_url`` in config and ``--venue-url`` override it)."""

    @property
    def rest_url(self) -> str:
        """Default REST base for kline backfill."""

    @property
    def intervals(self) -> Mapping[str, int]:
        """Bar intervals this venue serves over both WebSocket and REST, by the config's name
        (``1min``, ``5min``, ...) → length in ms."""

    @property
    def max_client_messages_per_s(self) -> float:
        """More client messages per second than this and the venue drops the socket."""

    @property
    def max_kline_page(self) -> int:
        """Most bars one REST response holds (the venue's cap); ``runtime.backfill`` asks for
        one bucket fewer per page, so an inclusive ``endTime`` still fits."""

    @property
    def max_rest_requests_per_s(self) -> float:
        """REST requests per second we allow ourselves."""

    def sockets(self, ws_url: str, symbol: str, interval: str) -> list[Socket]:
        """The sockets a trading session on ``symbol`` opens, from the WebSocket base URL."""
        ...

    def client(self, socket: Socket, symbol: str) -> Client:
        """A fresh sans-IO client for one connection of ``socket``."""
        ...

    def parse_frame(self, raw: str | bytes) -> Parsed:
        """One recorded frame → its events; anything off-schema is a ``MalformedMessage``."""
        ...

    def parse_sane(self, raw: str | bytes, received: int, bounds: Bounds) -> MarketEvent | None:
        """``parse_frame`` and ``bounds.check`` in one go, for a frame that is plainly both
        well-formed and sane and carries one event: that event, which they would give and pass.
        For anything else None (then those two say what is wrong, or accept it): a fast path
        may decline, never differ.
        """
        ...

    def split(self, raw: str | bytes) -> str | None:
        """The first half of ``parse_sane``, which a replay may do in another process: the
        fields its fast path reads, cut from the frame's text and joined by commas (none empty,
        none with a comma or a line break: they travel as a line of text), or None where it
        would decline."""
        ...

    def parse_split(self, fields: str, received: int, bounds: Bounds) -> MarketEvent | None:
        """The second half: ``parse_sane`` of the frame whose ``split`` is ``fields``."""
        ...

    def kline_request(
        self, symbol: str, interval: str, start: int, end: int, limit: int
    ) -> KlineRequest:
        """The request for closed bars opening in ``[start, end)``, at most ``limit`` of them."""
        ...

    def parse_klines(self, body: str | bytes, symbol: str, interval_ms: int) -> list[Bar]:
        """A REST kline response → closed bars, oldest first (``MalformedMessage`` if off-schema,
        ``RestError`` if the venue answered with an error)."""
        ...


class RestError(TrioPaperError):
    """The venue answered a REST call with an error of its own (in the body, not HTTP)."""


def market_or_pong(parsed: Parsed, symbol: str, expected_pong: int | None) -> tuple[bool, bool]:
    """Whether ``parsed`` carries market data for ``symbol`` (what keeps the watchdog quiet),
    and whether it answers the ping we sent."""
    market = pong = False
    for event in parsed.events:
        if isinstance(event, Pong):
            pong = pong or event.echo == expected_pong
        elif getattr(event, "symbol", None) == symbol:
            market = True
    return market, pong
