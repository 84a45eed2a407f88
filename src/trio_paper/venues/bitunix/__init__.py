"""Bitunix USDT-M futures: public WebSocket (``ws``), REST klines (``rest``), and the frames its
server writes (``server``, for the simulator). ``VENUE`` is what the rest of trio-paper sees."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ...model import Bar
from ...times import INTERVAL_MS
from ..venue import KlineRequest, Socket
from . import rest, ws


@attrs.frozen
class Bitunix:
    """Bitunix behind the ``Venue`` interface: one socket carries bars, quotes and marks."""

    name: str = "bitunix"
    ws_url: str = ws.PUBLIC_WS_URL
    rest_url: str = rest.REST_URL
    intervals: Mapping[str, int] = attrs.field(
        factory=lambda: {k: v for k, v in INTERVAL_MS.items() if k in rest.REST_INTERVALS}
    )
    max_client_messages_per_s: float = ws.MAX_CLIENT_MESSAGES_PER_S
    max_kline_page: int = rest.MAX_KLINE_PAGE
    max_rest_requests_per_s: float = rest.MAX_REST_REQUESTS_PER_S

    def sockets(self, ws_url: str, symbol: str, interval: str) -> list[Socket]:
        channels = (ws.kline_channel(interval), *ws.MARKET_CHANNELS)
        return [Socket(ws_url, "bars, quotes, trades, marks", channels)]

    def client(self, socket: Socket, symbol: str) -> ws.Client:
        return ws.Client(symbol, socket.channels)

    parse_frame = staticmethod(ws.parse_frame)  # called per frame: no wrapper in between
    parse_sane = staticmethod(ws.parse_sane)
    split = staticmethod(ws.split)
    parse_split = staticmethod(ws.parse_split)

    def kline_request(
        self, symbol: str, interval: str, start: int, end: int, limit: int
    ) -> KlineRequest:
        return KlineRequest(rest.KLINE_PATH, rest.kline_query(symbol, interval, start, end, limit))

    def parse_klines(self, body: str | bytes, symbol: str, interval_ms: int) -> list[Bar]:
        return rest.parse_klines(body, symbol, interval_ms)


VENUE = Bitunix()
