"""Bitunix's REST klines, for backfill: the query to send and the response to parse. No I/O.

``GET /api/v1/futures/market/kline`` (PROTOCOL.md §6): at most 200 bars a page, 10 requests a
second; errors come back as HTTP 200 with a non-zero ``code``. REST names the volumes the other
way round from the WebSocket: ``quoteVol`` is the coin volume, ``baseVol`` the quote volume.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from ...codec import MalformedMessage, dumps, loads, structure
from ...model import Bar
from ..venue import RestError as VenueRestError

REST_URL = "https://fapi.bitunix.com"
KLINE_PATH = "/api/v1/futures/market/kline"
MAX_KLINE_PAGE = 200
MAX_REST_REQUESTS_PER_S = 10

REST_INTERVALS: dict[str, str] = {
    "1min": "1m", "5min": "5m", "15min": "15m", "30min": "30m", "60min": "1h", "2h": "2h",
    "4h": "4h", "6h": "6h", "8h": "8h", "12h": "12h", "1day": "1d", "3day": "3d", "1week": "1w",
}  # fmt: skip
"""The REST name of each WebSocket interval (REST has no 3-minute klines)."""


class RestError(VenueRestError):
    """Bitunix answered a REST call with a non-zero ``code`` (HTTP 200 all the same)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Bitunix REST error {code}: {message}")
        self.code = code
        self.message = message


@attrs.frozen
class _RestKline:
    """One REST kline; its numbers may be JSON strings or numbers, checked in ``parse_klines``."""

    open: Any
    high: Any
    low: Any
    close: Any
    time: Any
    quoteVol: Any  # the coin volume, despite the name
    baseVol: Any  # the quote-currency volume
    type: str = "LAST_PRICE"


@attrs.frozen
class _RestResponse:
    code: int
    msg: str
    data: list[_RestKline] | None


def kline_query(symbol: str, interval: str, start: int, end: int, limit: int) -> dict[str, str]:
    """Query parameters for one page of ``KLINE_PATH`` covering ``[start, end)``."""
    if interval not in REST_INTERVALS:
        raise ValueError(f"interval {interval!r} has no REST klines")
    return {
        "symbol": symbol, "interval": REST_INTERVALS[interval], "startTime": str(start),
        "endTime": str(end), "limit": str(min(limit, MAX_KLINE_PAGE)),
    }  # fmt: skip


def parse_klines(raw: str | bytes, symbol: str, interval_ms: int) -> list[Bar]:
    """A REST kline response body → closed bars, oldest first.

    REST names the volumes the other way round from the WebSocket: ``quoteVol`` is the coin
    volume and ``baseVol`` the quote-currency volume. Prices may come as JSON numbers; they are
    read through their shortest decimal text, which is what the server wrote.
    """
    response = structure(loads(raw), _RestResponse)
    if response.code != 0:
        raise RestError(response.code, response.msg)
    bars = []
    for index, k in enumerate(response.data or []):
        where = f"$.data[{index}]"
        open_time = _rest_int(k.time, where + ".time")
        if open_time % interval_ms:
            raise MalformedMessage(f"time {open_time} is not on a bar boundary", where + ".time")
        bars.append(Bar(
            symbol, interval_ms, open_time,
            _rest_price(k.open, where + ".open"), _rest_price(k.high, where + ".high"),
            _rest_price(k.low, where + ".low"), _rest_price(k.close, where + ".close"),
            _rest_decimal(k.quoteVol, where + ".quoteVol"),
            _rest_decimal(k.baseVol, where + ".baseVol"), "rest",
        ))  # fmt: skip
    bars.sort(key=lambda bar: bar.open_time)
    return bars


def _rest_decimal(value: object, where: str) -> Decimal:
    if type(value) in (int, float):
        value = repr(value)
    return structure(value, Decimal, where)


def _rest_price(value: object, where: str) -> Decimal:
    price = _rest_decimal(value, where)
    if price <= 0:
        raise MalformedMessage(f"must be > 0: {price}", where)
    return price


def _rest_int(value: object, where: str) -> int:
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit():  # "²".isdigit() is True
        return int(value)
    raise MalformedMessage(f"not a millisecond time: {value!r}", where)


def klines_body(bars: list[Bar]) -> bytes:
    """The REST response Bitunix would send for these bars (the simulator's and tests' side)."""
    return dumps({
        "code": 0,
        "data": [
            {"open": b.open, "high": b.high, "close": b.close, "low": b.low, "time": b.open_time,
             "quoteVol": b.volume, "baseVol": b.quote_volume, "type": "LAST_PRICE"}
            for b in bars
        ],
        "msg": "Success",
    })  # fmt: skip
