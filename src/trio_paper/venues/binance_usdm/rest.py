"""Binance USD-M REST klines, for backfill: the request to send and the response to parse. No I/O.

``GET /fapi/v1/klines?symbol=&interval=&startTime=&endTime=&limit=`` (PROTOCOL.md §4): rows
ascending, each ``[openTime, "o", "h", "l", "c", "volume", closeTime, "quoteVolume", trades,
"takerBuyBase", "takerBuyQuote", "ignore"]``; ``startTime`` and ``endTime`` both bound the open
time, inclusively. An error is a JSON object ``{"code": -1121, "msg": "Invalid symbol."}``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from ...codec import MalformedMessage, loads, structure
from ...model import Bar
from ..venue import KlineRequest, RestError
from .ws import binance_interval

REST_URL = "https://fapi.binance.com"
KLINE_PATH = "/fapi/v1/klines"
MAX_KLINE_LIMIT = 1500
"""The most rows Binance returns for one request."""
MAX_KLINE_PAGE = 1000
"""The most a session asks for: up to 1000 rows a request weighs 5, above it 10."""
MAX_REST_REQUESTS_PER_S = 5
"""Well inside Binance's 2400 request weight a minute (8 requests of weight 5 a second)."""


class BinanceRestError(RestError):
    """Binance answered with an error object (``code`` negative, ``msg`` its reason)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Binance REST error {code}: {message}")
        self.code = code
        self.message = message


@attrs.frozen
class _ErrorBody:
    code: int
    msg: str


_Row = tuple[
    int, Decimal, Decimal, Decimal, Decimal, Decimal, int, Decimal, int, Decimal, Decimal, str
]
"""One kline row, every position typed: numbers of money are strings, times and counts ints."""
_ROW_TYPE: Any = _Row  # a type form, which ``structure``'s ``type[T]`` does not spell


def kline_request(symbol: str, interval: str, start: int, end: int, limit: int) -> KlineRequest:
    """One page of closed bars opening in ``[start, end)``, at most ``limit`` (≤ 1500) of them."""
    if end <= start:
        raise ValueError(f"empty range: start {start} >= end {end}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    query = {
        "symbol": symbol.upper(), "interval": binance_interval(interval),
        "startTime": str(start), "endTime": str(end - 1), "limit": str(min(limit, MAX_KLINE_LIMIT)),
    }  # fmt: skip
    return KlineRequest(KLINE_PATH, query)


def parse_klines(
    body: str | bytes, symbol: str, interval_ms: int, *, now_ms: int | None = None
) -> list[Bar]:
    """A kline response body → closed bars, oldest first.

    Rows must be ascending and each exactly one interval long (``closeTime = openTime +
    interval - 1``). With ``now_ms``, a row still forming at that time (the newest may be) is
    dropped; without it ``MarketDecoder.on_backfill`` drops it by the exchange's clock.
    """
    data = loads(body)
    if type(data) is dict:
        error = structure(data, _ErrorBody)
        raise BinanceRestError(error.code, error.msg)
    rows: list[Any] = structure(data, list[Any])
    bars: list[Bar] = []
    for index, raw_row in enumerate(rows):
        where = f"$[{index}]"
        row: _Row = structure(raw_row, _ROW_TYPE, where)
        open_time, o, h, low, c, volume, close_time, quote_volume = row[:8]
        for position, price in ((1, o), (2, h), (3, low), (4, c)):
            if price <= 0:
                raise MalformedMessage(f"must be > 0: {price}", f"{where}[{position}]")
        if close_time != open_time + interval_ms - 1:
            raise MalformedMessage(
                f"close time {close_time} is not open time {open_time} + {interval_ms} - 1",
                f"{where}[6]",
            )
        if bars and open_time <= bars[-1].open_time:
            raise MalformedMessage(f"rows not ascending at open time {open_time}", f"{where}[0]")
        if now_ms is not None and close_time >= now_ms:
            continue
        bars.append(Bar(symbol, interval_ms, open_time, o, h, low, c, volume, quote_volume, "rest"))
    return bars
