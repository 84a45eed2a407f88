"""Binance USD-M futures behind the ``Venue`` interface: ``VENUE`` is the one object to register.

``ws`` parses frames and runs a connection (sans-IO), ``rest`` builds and parses kline backfill,
``server`` builds what Binance sends (for the simulator and synthesized recordings). Since April
2026 market streams are routed by URL, so a session holds two sockets: ``/market`` for bars and
mark prices, ``/public`` for the best bid and ask.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...model import QUOTE_SOCKET, Bar, MarketEvent, Parsed
from ..sanity import Bounds
from ..venue import Client as ClientProtocol
from ..venue import KlineRequest, Socket
from . import rest, ws

MARKET = "market"
"""What the ``/market`` socket carries: bars and mark prices (funding)."""
QUOTES = QUOTE_SOCKET
"""What the ``/public`` socket carries: the best bid and ask. No fills while it is down."""


class BinanceUsdm:
    """Binance USD-M perpetuals, public market data (``venue.Venue``)."""

    name: str = ws.NAME
    ws_url: str = ws.WS_URL
    rest_url: str = rest.REST_URL
    intervals: Mapping[str, int] = ws.INTERVALS
    max_client_messages_per_s: float = ws.MAX_CLIENT_MESSAGES_PER_S
    max_kline_page: int = rest.MAX_KLINE_PAGE
    max_rest_requests_per_s: float = rest.MAX_REST_REQUESTS_PER_S

    def sockets(self, ws_url: str, symbol: str, interval: str) -> list[Socket]:
        """``<base>/market/stream?streams=<s>@kline_<i>/<s>@markPrice@1s`` and
        ``<base>/public/stream?streams=<s>@bookTicker`` (the legacy unrouted URL stays silent)."""
        market = (ws.kline_stream(symbol, interval), ws.mark_price_stream(symbol))
        quotes = (ws.book_ticker_stream(symbol),)
        return [
            Socket(ws.stream_url(ws_url, "market", list(market)), MARKET, market),
            Socket(ws.stream_url(ws_url, "public", list(quotes)), QUOTES, quotes),
        ]

    def client(self, socket: Socket, symbol: str) -> ClientProtocol:
        return ws.Client(symbol)

    def parse_frame(self, raw: str | bytes) -> Parsed:
        return ws.parse_frame(raw)

    def parse_sane(self, raw: str | bytes, received: int, bounds: Bounds) -> MarketEvent | None:
        return None  # no fast path: parse_frame and Bounds.check take every frame

    def split(self, raw: str | bytes) -> str | None:
        return None

    def parse_split(self, fields: str, received: int, bounds: Bounds) -> MarketEvent | None:
        return None

    def kline_request(
        self, symbol: str, interval: str, start: int, end: int, limit: int
    ) -> KlineRequest:
        return rest.kline_request(symbol, interval, start, end, limit)

    def parse_klines(self, body: str | bytes, symbol: str, interval_ms: int) -> list[Bar]:
        return rest.parse_klines(body, symbol, interval_ms)


VENUE = BinanceUsdm()
